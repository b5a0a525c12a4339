"""How the app's sentences say numbers: "3rd in the queue", "in about 1 min 40 s" (the queue's sentence and the class
board share them)."""

from __future__ import annotations


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def duration(seconds: float) -> str:
    """`seconds` as a person says it: "40 s", "1 min 40 s" (to 5 s), "12 min", "1 h 5 min"."""
    if seconds < 60:
        return f"{max(round(seconds), 1)} s"
    if seconds < 600:
        m, s = divmod(int(5 * round(seconds / 5)), 60)
        return f"{m} min {s} s" if s else f"{m} min"
    h, m = divmod(round(seconds / 60), 60)
    return (f"{h} h {m} min" if m else f"{h} h") if h else f"{m} min"

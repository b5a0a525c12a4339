"""Checks of one setting each, raising a ValueError that names the setting, the accepted values and what was given.

Every settings dataclass of a run (`core.config`, `core.forecast.model`, `core.forecast.series`) checks its fields
with these, so a bad value reads the same wherever it comes from.
"""

from __future__ import annotations

from typing import Any


def check_int(name: str, value: Any, low: int, high: int, fix: str = "") -> None:
    """Raise ValueError naming `name`, its range and `fix` unless `value` is a whole number from low to high."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(
            f"Received an invalid value for `{name}`: expected a whole number from {low} to {high}, "
            f"got {value!r}.{(' ' + fix) if fix else ''}"
        )


def check_float(name: str, value: Any, low: float, high: float, *, low_open: bool = False) -> None:
    """Raise ValueError naming `name` and its range unless `value` is a number in it (above `low` when `low_open`)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    ok = ok and (low < value if low_open else low <= value) and value <= high
    if not ok:
        bound = f"above {low}" if low_open else f"from {low}"
        raise ValueError(
            f"Received an invalid value for `{name}`: expected a number {bound} to {high}, got {value!r}."
        )


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    """Raise ValueError naming `name` and the choices unless `value` is one of them."""
    if value not in choices:
        raise ValueError(
            f"Received an invalid value for `{name}`: expected one of {', '.join(choices)}, got {value!r}."
        )

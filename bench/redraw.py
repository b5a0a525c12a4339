"""What one live redraw of the Train page's charts costs the server, at 1,500 steps of history.

Each redraw builds the two figures from a progress snapshot and hands them to `st.plotly_chart` (run bare,
without a server, the call still validates, serialises and hashes the figure; only the sending is skipped).
Compared, alternating, medians of 21 rounds:
  - before: validated `go.Figure`s, as the Train page drew until the workers issue;
  - now: plain figure dicts with NumPy arrays (`core.figures`), rebuilt for a new snapshot;
  - now, unchanged snapshot: the dicts of the last redraw reused (the page keys them on the snapshot's version).

    .venv/bin/python bench/redraw.py
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
logging.disable(logging.WARNING)  # bare-mode Streamlit warns on every call

import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from core.figures import layer_norms_figure, loss_figure  # noqa: E402

STEPS = 1500


def snapshot(n: int = STEPS) -> dict:
    rng = np.random.default_rng(0)
    steps = np.arange(1, n + 1, dtype=float)
    return dict(steps=steps, loss=4 * np.exp(-steps / 400) + rng.random(n) * 0.1, accuracy=rng.random(n),
                norms=rng.random((n, 3)) + 0.1, val_steps=list(range(100, n + 1, 100)), val_loss=list(np.linspace(3, 1, n // 100)))


def figures(s: dict) -> tuple[dict, dict]:
    return (loss_figure(s["steps"], s["loss"], s["accuracy"], s["val_steps"], s["val_loss"]),
            layer_norms_figure(s["steps"], s["norms"], ("embedding", "rnn_1", "logits")))


def before(s: dict) -> None:
    a, b = figures(s)
    st.plotly_chart(go.Figure(a), key="a")  # validation of every trace, as building a go.Figure always did
    st.plotly_chart(go.Figure(b), key="b")


def now(s: dict) -> None:
    a, b = figures(s)
    st.plotly_chart(a, key="a")
    st.plotly_chart(b, key="b")


def now_unchanged(s: dict, cached=[]) -> None:  # noqa: B006  (the page's one-entry cache)
    if not cached:
        cached.extend(figures(s))
    st.plotly_chart(cached[0], key="a")
    st.plotly_chart(cached[1], key="b")


def main() -> None:
    s = snapshot()
    cases = {"before (validated go.Figure)": before, "now (figure dicts)": now, "now, snapshot unchanged": now_unchanged}
    times = {name: [] for name in cases}
    for fn in cases.values():
        fn(s)  # warm up
    for _ in range(21):
        for name, fn in cases.items():
            t = time.perf_counter()
            fn(s)
            times[name].append(time.perf_counter() - t)
    base = statistics.median(times["before (validated go.Figure)"])
    print(f"One redraw of the Train page's two charts at {STEPS:,} steps (bare st.plotly_chart, medians of 21 alternating rounds)")
    print("| path | ms | × before |")
    print("|---|---|---|")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"| {name} | {m * 1000:.1f} | {m / base:.2f} |")


if __name__ == "__main__":
    main()

"""What one live redraw of the Train page's charts costs the server, at 1,500 steps of history.

Each redraw builds the two figures from a progress snapshot and hands them to `st.plotly_chart` (run bare,
without a server, the call still validates, serialises and hashes the figure; only the sending is skipped).
Compared, alternating, medians of 21 rounds:
  - before: the Train page until the workers issue: tuples in the snapshot, validated `go.Figure`s with plotly's
    default template (the builders are copied below);
  - now: plain figure dicts with NumPy arrays (`core.figures.training`), rebuilt for a new snapshot;
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

from core.figures.training import layer_norms_figure, loss_figure  # noqa: E402

STEPS = 1500


def snapshot(n: int = STEPS) -> dict:
    rng = np.random.default_rng(0)
    steps = np.arange(1, n + 1, dtype=float)
    return dict(steps=steps, loss=4 * np.exp(-steps / 400) + rng.random(n) * 0.1, accuracy=rng.random(n),
                norms=rng.random((n, 3)) + 0.1, val_steps=list(range(100, n + 1, 100)), val_loss=list(np.linspace(3, 1, n // 100)))


def figures(s: dict) -> tuple[dict, dict]:
    return (loss_figure(s["steps"], s["loss"], s["accuracy"], s["val_steps"], s["val_loss"]),
            layer_norms_figure(s["steps"], s["norms"], ("embedding", "rnn_1", "logits")))


# ---- the Train page's charts as they were before the workers issue (core/figures/training.py at b4dffc7), for comparison:
# the snapshot held tuples of Python floats, and each redraw built validated figures with the default template.
_LAYOUT = dict(template="plotly_white", margin=dict(l=10, r=10, t=40, b=10), font=dict(size=15), hovermode="x unified")


def _before_loss(p: dict) -> go.Figure:
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    k = slice(None, None, max(1, -(-len(p["steps"]) // 600)))
    steps = p["steps"][k]
    fig.add_trace(go.Scatter(x=steps, y=p["loss"][k], name="train loss"))
    fig.add_trace(go.Scatter(x=p["val_steps"], y=p["val_loss"], name="validation loss", mode="lines+markers"))
    fig.add_trace(go.Scatter(x=steps, y=p["accuracy"][k], name="train accuracy"), secondary_y=True)
    fig.update_layout(title="Loss and accuracy", legend=dict(orientation="h", y=-0.2), height=380, **_LAYOUT)
    fig.update_xaxes(title_text="step (batch)", rangemode="tozero")
    fig.update_yaxes(title_text="cross-entropy loss", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title_text="accuracy", range=[0, 1], tickformat=".0%", dtick=0.25, secondary_y=True, showgrid=False)
    return fig


def _before_norms(p: dict) -> go.Figure:
    fig = go.Figure()
    k = slice(None, None, max(1, -(-len(p["norms"]) // 600)))
    rows, steps = p["norms"][k], p["steps"][k]
    for j, name in enumerate(("embedding", "rnn_1", "logits")):
        fig.add_trace(go.Scatter(x=steps, y=[r[j] for r in rows], name=name, mode="lines"))
    fig.update_layout(title="Gradient norm per layer (before clipping)", height=320, legend=dict(orientation="h", y=-0.25), **_LAYOUT)
    fig.update_yaxes(title_text="‖∂L/∂W‖", type="log", dtick="D2", tickformat="~g")
    return fig


def as_tuples(s: dict) -> dict:
    """The snapshot as the old trainer published it: tuples of Python floats (made by the trainer, not the redraw)."""
    return {k: tuple(map(tuple, v)) if k == "norms" else tuple(float(x) for x in v) for k, v in s.items()}


def before(p: dict) -> None:
    st.plotly_chart(_before_loss(p), key="a")
    st.plotly_chart(_before_norms(p), key="b")


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
    old = as_tuples(s)
    cases = {"before (validated go.Figure)": (before, old), "now (figure dicts)": (now, s),
             "now, snapshot unchanged": (now_unchanged, s)}
    times = {name: [] for name in cases}
    for fn, arg in cases.values():
        fn(arg)  # warm up
    for _ in range(21):
        for name, (fn, arg) in cases.items():
            t = time.perf_counter()
            fn(arg)
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

"""Plotly figure builders for training and generation: arrays in, `go.Figure` out, no Streamlit."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures.style import COLORS, LAYOUT, axis, layout, log_marks, thin, token_label


def loss_figure(steps: np.ndarray, loss: np.ndarray, accuracy: np.ndarray,
                val_steps: Sequence[int] = (), val_loss: Sequence[float] = ()) -> dict:
    """Training and validation loss (left axis) and accuracy (right axis) against the step.

    A plain figure dict (NumPy arrays inside), not a validated `go.Figure`: a live chart is rebuilt twice a
    second, and plotly's validation of 1,500 points costs ~30 ms where this costs well under one.

    Args:
        steps, loss, accuracy: one entry per recorded training step (equal lengths).
        val_steps, val_loss: the validation points, one per epoch end.
    """
    n = min(len(steps), len(loss), len(accuracy))
    k = thin(n)
    x = np.asarray(steps[:n][k])
    data = [dict(type="scatter", x=x, y=np.asarray(loss[:n][k]), name="train loss", line=dict(color=COLORS["train"]))]
    if len(val_steps):
        data.append(dict(type="scatter", x=list(val_steps), y=list(val_loss), name="validation loss", mode="lines+markers",
                         line=dict(color=COLORS["val"], dash="dash"), marker=dict(size=9)))
    data.append(dict(type="scatter", x=x, y=np.asarray(accuracy[:n][k]), name="train accuracy", yaxis="y2",
                     line=dict(color=COLORS["acc"], width=1.5)))
    return dict(data=data, layout=layout(
        "Loss and accuracy", 380,
        xaxis=axis("step (batch)", rangemode="tozero"),
        yaxis=axis("cross-entropy loss", rangemode="tozero"),
        yaxis2=axis("accuracy", range=[0, 1], tickformat=".0%", dtick=0.25, overlaying="y", side="right", showgrid=False),
    ))


def layer_norms_figure(steps: np.ndarray, layer_norms: np.ndarray, layer_names: Sequence[str]) -> dict:
    """Gradient norm of each weighted layer against the step, on a log axis (a plain figure dict).

    Args:
        steps: (n,) step of each row.
        layer_norms: (n, layers) gradient norms.
        layer_names: one name per column.
    """
    n = min(len(steps), len(layer_norms)) if len(layer_names) else 0  # no names yet: the model is still being prepared
    k = thin(n)
    x = np.asarray(steps[:n][k])
    rows = np.asarray(layer_norms[:n][k]).reshape(len(x), len(layer_names))  # (points, layers)
    data = [dict(type="scatter", x=x, y=rows[:, j], name=name, mode="lines") for j, name in enumerate(layer_names)]
    if not data:  # st.plotly_chart refuses a figure dict with no traces
        data = [dict(type="scatter", x=[], y=[], showlegend=False)]
    return dict(data=data, layout=layout(
        "Gradient norm per layer (before clipping)", 320,
        xaxis=axis("step (batch)"), yaxis=axis("‖∂L/∂W‖", type="log", **log_marks(rows)),
    ))


def topk_figure(steps: Sequence, last: int = 5) -> go.Figure:
    """Bars of the top-k next-token probabilities for the last `last` generated steps.

    Args:
        steps: `core.nn.generate.StepGuess` items, oldest first.
        last: how many of the final steps to show, one panel each.
    """
    shown = list(steps)[-last:]
    fig = make_subplots(rows=1, cols=max(len(shown), 1), subplot_titles=[f"chose “{token_label(s.token)}”" for s in shown])
    for i, s in enumerate(shown, start=1):
        labels = [token_label(c) for c in s.candidates][::-1]
        colors = [COLORS["train"] if c == s.token else "#8d99ae" for c in s.candidates][::-1]
        fig.add_trace(
            go.Bar(x=list(s.probs)[::-1], y=labels, orientation="h", marker_color=colors, showlegend=False,
                   hovertemplate="%{y}: %{x:.1%}<extra></extra>"),
            row=1, col=i,
        )
        fig.update_xaxes(range=[0, 1], tickformat=".0%", row=1, col=i)
        fig.update_yaxes(type="category", row=1, col=i)
    fig.update_layout(height=320, title="Next-token probabilities of the last steps",
                      **{**LAYOUT, "hovermode": "closest", "margin": dict(l=10, r=10, t=90, b=10)})
    return fig


def params_figure(rows: Sequence) -> go.Figure:
    """A horizontal bar per layer: where the parameters are."""
    fig = go.Figure(go.Bar(
        x=[r.count for r in rows], y=[r.layer for r in rows], orientation="h", marker_color=COLORS["val"],
        text=[f"{r.count:,}" for r in rows], textposition="auto", hovertemplate="%{y}: %{x:,}<extra></extra>",
    ))
    fig.update_layout(title="Parameters per layer", height=60 + 45 * len(rows), **{**LAYOUT, "hovermode": "closest"})
    fig.update_yaxes(autorange="reversed")
    return fig


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def unrolled_svg(inputs: str = "hell", guesses: str = "ello") -> str:
    """The RNN loop unrolled over `inputs` as a self-contained SVG: token in (yellow) -> hidden state (red)
    -> guess of the next token (teal), with U on the memory arrows and W on the input arrows.
    The text is sized against the drawing's own viewBox, so it stays readable however wide it is shown."""
    import html

    n, gap, box_w, box_h = len(inputs), 92, 62, 46
    width, rows = 110 + n * gap, {"out": 38, "h": 128, "in": 218}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} 262" width="100%" role="img" '
             'aria-label="An RNN unrolled over time" font-family="Helvetica, Arial, sans-serif" text-anchor="middle">',
             '<defs><marker id="a" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="4" markerHeight="4" orient="auto">'
             '<path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>']

    def box(x: float, y: float, label: str, fill: str, ink: str = "white") -> None:
        parts.append(f'<rect x="{x - box_w / 2}" y="{y - box_h / 2}" width="{box_w}" height="{box_h}" rx="9" fill="{fill}" stroke="#444"/>'
                     f'<text x="{x}" y="{y + 8}" font-size="28" fill="{ink}">{html.escape(label)}</text>')

    def arrow(x1: float, y1: float, x2: float, y2: float, colour: str, label: str, dx: float, dy: float) -> None:
        parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" stroke-width="3" marker-end="url(#a)"/>'
                     f'<text x="{(x1 + x2) / 2 + dx}" y="{(y1 + y2) / 2 + dy}" font-size="24" font-style="italic" fill="{colour}">{label}</text>')

    box(44, rows["h"], "h₀", "#eeeeee", "#222")
    for i, (x_tok, y_tok) in enumerate(zip(inputs, guesses)):
        x = 110 + gap * i + gap / 2
        prev = 44 if i == 0 else x - gap
        arrow(prev + box_w / 2, rows["h"], x - box_w / 2 - 2, rows["h"], "#d1495b", "U", 0, -10)
        arrow(x, rows["in"] - box_h / 2, x, rows["h"] + box_h / 2 + 2, "#555", "W", 18, 7)
        arrow(x, rows["h"] - box_h / 2, x, rows["out"] + box_h / 2 + 2, "#555", "", 0, 0)
        box(x, rows["in"], f"'{x_tok}'", "#edae49", "#222")
        box(x, rows["h"], "h" + str(i + 1).translate(_SUBSCRIPTS), "#d1495b")
        box(x, rows["out"], f"'{y_tok}'?", "#00798c")
    parts.append("</svg>")
    return "".join(parts)

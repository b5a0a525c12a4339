"""Plotly figure builders for training and generation: arrays in, `go.Figure` out, no Streamlit."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.text import display_token

COLORS = {"train": "#d1495b", "val": "#00798c", "acc": "#edae49", "grid": "#e5e5e5"}
_LAYOUT = dict(template="plotly_white", margin=dict(l=10, r=10, t=40, b=10), font=dict(size=15), hovermode="x unified")


def _thin(n: int, most: int = 600) -> slice:
    """A stride that keeps at most about `most` of n points, so long runs redraw as fast as short ones."""
    return slice(None, None, max(1, -(-n // most)))


def loss_figure(progress) -> go.Figure:
    """Training and validation loss (left axis) and accuracy (right axis) against the step.

    Args:
        progress: a `core.trainer.Progress` snapshot.
    """
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    k = _thin(len(progress.steps))
    steps = progress.steps[k]
    fig.add_trace(go.Scatter(x=steps, y=progress.loss[k], name="train loss", line=dict(color=COLORS["train"])))
    if progress.val_steps:
        fig.add_trace(go.Scatter(
            x=progress.val_steps, y=progress.val_loss, name="validation loss", mode="lines+markers",
            line=dict(color=COLORS["val"], dash="dash"), marker=dict(size=9),
        ))
    fig.add_trace(
        go.Scatter(x=steps, y=progress.accuracy[k], name="train accuracy", line=dict(color=COLORS["acc"], width=1.5)),
        secondary_y=True,
    )
    fig.update_layout(title="Loss and accuracy", legend=dict(orientation="h", y=-0.2), height=380, **_LAYOUT)
    fig.update_xaxes(title_text="step (batch)", rangemode="tozero")
    fig.update_yaxes(title_text="cross-entropy loss", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title_text="accuracy", range=[0, 1], tickformat=".0%", dtick=0.25, secondary_y=True, showgrid=False)
    return fig


def layer_norms_figure(progress) -> go.Figure:
    """Gradient norm of each weighted layer against the step, on a log axis."""
    fig = go.Figure()
    k = _thin(len(progress.layer_norms))
    rows, steps = progress.layer_norms[k], progress.steps[: len(progress.layer_norms)][k]
    for j, name in enumerate(progress.layer_names):
        fig.add_trace(go.Scatter(x=steps, y=[r[j] for r in rows], name=name, mode="lines"))
    fig.update_layout(title="Gradient norm per layer (before clipping)", height=320, legend=dict(orientation="h", y=-0.25), **_LAYOUT)
    fig.update_xaxes(title_text="step (batch)")
    fig.update_yaxes(title_text="‖∂L/∂W‖", type="log", dtick="D2", tickformat="~g")
    return fig


def topk_figure(steps: Sequence, last: int = 5) -> go.Figure:
    """Bars of the top-k next-token probabilities for the last `last` generated steps.

    Args:
        steps: `core.generate.StepGuess` items, oldest first.
        last: how many of the final steps to show, one panel each.
    """
    shown = list(steps)[-last:]
    fig = make_subplots(rows=1, cols=max(len(shown), 1), subplot_titles=[f"chose “{display_token(s.token)}”" for s in shown])
    for i, s in enumerate(shown, start=1):
        labels = [display_token(c) for c in s.candidates][::-1]
        colors = [COLORS["train"] if c == s.token else "#8d99ae" for c in s.candidates][::-1]
        fig.add_trace(
            go.Bar(x=list(s.probs)[::-1], y=labels, orientation="h", marker_color=colors, showlegend=False,
                   hovertemplate="%{y}: %{x:.1%}<extra></extra>"),
            row=1, col=i,
        )
        fig.update_xaxes(range=[0, 1], tickformat=".0%", row=1, col=i)
        fig.update_yaxes(type="category", row=1, col=i)
    fig.update_layout(height=320, title="Next-token probabilities of the last steps",
                      **{**_LAYOUT, "hovermode": "closest", "margin": dict(l=10, r=10, t=90, b=10)})
    return fig


def params_figure(rows: Sequence) -> go.Figure:
    """A horizontal bar per layer: where the parameters are."""
    fig = go.Figure(go.Bar(
        x=[r.count for r in rows], y=[r.layer for r in rows], orientation="h", marker_color=COLORS["val"],
        text=[f"{r.count:,}" for r in rows], textposition="auto", hovertemplate="%{y}: %{x:,}<extra></extra>",
    ))
    fig.update_layout(title="Parameters per layer", height=60 + 45 * len(rows), **{**_LAYOUT, "hovermode": "closest"})
    fig.update_yaxes(autorange="reversed")
    return fig


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
        box(x, rows["h"], f"h{'₁₂₃₄₅₆₇₈₉'[i]}", "#d1495b")
        box(x, rows["out"], f"'{y_tok}'?", "#00798c")
    parts.append("</svg>")
    return "".join(parts)

"""Figures of the Connectivity page: the text coloured by how much each earlier token counted for one prediction, and
the whole matrix as a heatmap. Rows are normalised to their own largest value, as Distill's article does."""

from __future__ import annotations

import html
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from core.figures.style import layout, token_label


DECADES = 4  # a log scale shows four powers of ten below a row's largest value


def normalised(rows: np.ndarray, log: bool = False) -> np.ndarray:
    """Each row divided by its largest value, in [0, 1]; on a log scale, 4 decades below it map to 0."""
    rows = np.asarray(rows, np.float64)
    top = rows.max(axis=-1, keepdims=True)
    out = np.divide(rows, top, out=np.zeros_like(rows), where=top > 0)
    if log:
        out = np.clip((np.log10(np.maximum(out, 10.0 ** -DECADES)) + DECADES) / DECADES, 0.0, 1.0) * (out > 0)
    return out


def connectivity_html(tokens: Sequence[str], row: np.ndarray, picked: int, log: bool = False, words: bool = False) -> str:
    """The text read, each token's background as strong as its connectivity to the prediction after token `picked`.

    Args:
        tokens: the tokens read; every one is HTML-escaped.
        row: (len(tokens),) connectivity of the prediction after position `picked` to each position (0 after it).
        picked: the position whose next-token prediction is explained; it is outlined, and the token it had to
            guess (tokens[picked + 1], when there is one) is underlined.
        log: colour on a log scale (see `normalised`).
        words: put a space between two word tokens on a line.

    Returns:
        Safe HTML: no raw user text.
    """
    strength = normalised(np.asarray(row)[None, :], log)[0]
    parts = ['<div style="font-family:monospace;white-space:pre-wrap;line-height:1.9;font-size:1.05rem">']
    for t, tok in enumerate(tokens):
        if words and t and tok != "\n" and tokens[t - 1] != "\n":
            parts.append(" ")
        text = "<br>".join(html.escape(piece, quote=True) for piece in str(tok).split("\n")) or "&nbsp;"
        style = f"background:rgba(209,73,91,{strength[t]:.3f})" if t <= picked else "color:#999"
        if t == picked:
            style += ";outline:2px solid #30638e;outline-offset:1px"
        if t == picked + 1:
            style += ";text-decoration:underline 3px #30638e"
        parts.append(f'<span style="{style}" title="{row[t]:.3g}">{text}</span>')
    parts.append("</div>")
    return "".join(parts)


def connectivity_heatmap(matrix: np.ndarray, tokens: Sequence[str], log: bool = False, title: str = "") -> go.Figure:
    """Prediction position (rows) against source position (columns), each row normalised; the upper triangle is empty."""
    z = normalised(matrix, log)
    z[np.triu_indices_from(z, 1)] = np.nan
    labels = [f"{i}:{token_label(t)}" for i, t in enumerate(tokens)]
    fig = go.Figure(go.Heatmap(z=z, x=labels, y=labels, colorscale="Reds", zmin=0, zmax=1,
                               colorbar=dict(title=dict(text="log share" if log else "share of row max")),
                               hovertemplate="predicting after %{y}<br>from %{x}: %{z:.2f}<extra></extra>"))
    fig.update_layout(**layout(title or "Connectivity: prediction position against source position", 560))
    fig.update_xaxes(title_text="source position t", showticklabels=len(tokens) <= 60)
    fig.update_yaxes(title_text="prediction after position s", autorange="reversed", showticklabels=len(tokens) <= 60)
    return fig

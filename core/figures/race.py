"""Figures of the Long-range race page: accuracy on the remembered character by lag, and while training."""

from __future__ import annotations

import html
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go


def lag_accuracy_figure(bins: Sequence[tuple[int, int]], accuracies: Mapping[str, np.ndarray], chance: float,
                        title: str = "Accuracy on the remembered character, by lag", colors: Mapping[str, str] | None = None) -> go.Figure:
    """Grouped bars: how often each model got the long-range character right, per lag range.

    Args:
        bins: inclusive (low, high) lag ranges.
        accuracies: model name -> (len(bins),) accuracies from 0 to 1 (nan for an empty range).
        chance: the accuracy of guessing, drawn as a dashed line.
        title: the figure title.
        colors: optional model name -> colour.
    """
    labels = [f"{lo}–{hi}" for lo, hi in bins]
    fig = go.Figure([go.Bar(x=labels, y=np.asarray(acc, float), name=name, marker_color=(colors or {}).get(name), hovertemplate="lag %{x}<br>%{y:.0%}<extra>" + html.escape(str(name)) + "</extra>")
                     for name, acc in accuracies.items()])
    fig.add_trace(go.Scatter(x=labels, y=[chance] * len(labels), mode="lines", name=f"chance ({chance:.0%})",
                             line=dict(color="gray", dash="dash"), hoverinfo="skip"))
    fig.update_yaxes(title="accuracy", range=[0, 1.05], tickformat=".0%")
    fig.update_xaxes(title="lag: characters between the key and its copy")
    fig.update_layout(title=title, barmode="group", height=380, margin=dict(l=60, r=20, t=50, b=40))
    return fig


def accuracy_curve_figure(steps: Sequence[int], curves: Mapping[str, Sequence[float]], chance: float,
                          title: str = "Accuracy while training", colors: Mapping[str, str] | None = None) -> go.Figure:
    """Lines of accuracy against training step, one per model, with chance as a dashed line.

    Args:
        steps: the step of each measurement.
        curves: model name -> one accuracy (0 to 1) per step.
        chance: the accuracy of guessing.
        title: the figure title.
        colors: optional model name -> colour.
    """
    fig = go.Figure([go.Scatter(x=list(steps), y=list(ys), mode="lines+markers", name=name, line=dict(color=(colors or {}).get(name)))
                     for name, ys in curves.items()])
    fig.add_hline(y=chance, line=dict(color="gray", dash="dash"))
    fig.update_yaxes(title="accuracy", range=[0, 1.05], tickformat=".0%")
    fig.update_xaxes(title="training step (each model)", rangemode="tozero")
    fig.update_layout(title=title, height=380, margin=dict(l=60, r=20, t=50, b=40))
    return fig

"""Figures of the Time series page: the series and its split, the training loss, the forecasts and their residuals."""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from core.figures.style import COLORS, axis as _axis, log_marks, layout as _layout, thin as _thin

PART_COLORS = {"validation": "rgba(0,121,140,0.08)", "test": "rgba(209,73,91,0.10)"}


def _parts(fig: go.Figure, time: np.ndarray, bounds: tuple[int, int]) -> None:
    """Shade the validation and test periods."""
    a, b = bounds
    for name, lo, hi in (("validation", a, b - 1), ("test", b, len(time) - 1)):
        fig.add_vrect(x0=time[lo], x1=time[hi], fillcolor=PART_COLORS[name], line_width=0, layer="below",
                      annotation_text=name, annotation_position="top left")


def series_figure(time: np.ndarray, values: np.ndarray, bounds: tuple[int, int] | None, title: str, unit: str) -> go.Figure:
    """The whole series, with its validation and test periods shaded when `bounds` is given (`title`, a series name
    that may come from a user's file, is escaped: Plotly renders the tags in a title)."""
    keep = _thin(len(values), 3000)
    fig = go.Figure(go.Scatter(x=time[keep], y=values[keep], mode="lines", name="series", line=dict(color="#30638e", width=1.5)))
    if bounds is not None:
        _parts(fig, time, bounds)
    fig.update_layout(**_layout(html.escape(title), 320), xaxis=_axis("time"), yaxis=_axis(html.escape(unit) or "value"),
                      showlegend=False)
    return fig


def series_loss_figure(steps: np.ndarray, loss: np.ndarray, val_steps, val_loss) -> dict:
    """Training and validation mean squared error (scaled units) against the step, log scale."""
    keep = _thin(len(steps))
    data = [dict(type="scatter", mode="lines", x=steps[keep], y=loss[keep], name="train MSE", line=dict(color=COLORS["train"], width=1.5)),
            dict(type="scatter", mode="lines+markers", x=list(val_steps), y=list(val_loss), name="validation MSE",
                 line=dict(color=COLORS["val"], width=2), marker=dict(size=7))]
    layout = _layout("Mean squared error (scaled values)", 340, xaxis=_axis("step (batch)"), yaxis=_axis("MSE", type="log", **log_marks(loss[keep], val_loss)))
    return dict(data=data, layout=layout)


def forecast_figure(time: np.ndarray, values: np.ndarray, start: int, one_step: tuple[np.ndarray, np.ndarray],
                    rolled: tuple[np.ndarray, np.ndarray], unit: str, name: str) -> go.Figure:
    """The test period (with some context before it) and two forecasts: one step ahead from the real past, and many
    steps fed back on themselves from the test period's start.

    Args:
        time, values: the whole series.
        start: index from which to draw (context before the test period).
        one_step, rolled: (indices, forecasts) in the series' units.
    """
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=time[start:], y=values[start:], mode="lines", name="actual", line=dict(color="#444", width=1.5)))
    fig.add_trace(go.Scatter(x=time[one_step[0]], y=one_step[1], mode="lines", name=f"{name}: one step ahead",
                             line=dict(color=COLORS["train"], width=1.5)))
    fig.add_trace(go.Scatter(x=time[rolled[0]], y=rolled[1], mode="lines", name=f"{name}: fed its own forecasts",
                             line=dict(color=COLORS["acc"], width=2, dash="dot")))
    fig.update_layout(**_layout("Test period: actual and forecast", 380), xaxis=_axis("time"), yaxis=_axis(unit or "value"))
    return fig


def residuals_figure(time: np.ndarray, residuals: dict[str, tuple[np.ndarray, np.ndarray]], unit: str) -> go.Figure:
    """Forecast minus actual over the test period, one step ahead, for the network and each baseline."""
    palette = ("#d1495b", "#8d6a9f", "#66a182", "#30638e")
    fig = go.Figure()
    for (name, (idx, r)), color in zip(residuals.items(), palette):
        fig.add_trace(go.Scatter(x=time[idx], y=r, mode="lines", name=name, line=dict(color=color, width=1.2)))
    fig.add_hline(y=0, line_color="#999", line_width=1)
    fig.update_layout(**_layout("Residuals one step ahead (forecast − actual)", 320), xaxis=_axis("time"), yaxis=_axis(unit or "value"))
    return fig


def series_states_figure(time: np.ndarray, values: np.ndarray, states: np.ndarray, unit: str) -> go.Figure:
    """The series on top and, under it on the same time axis, each unit of h_t as a row of a heatmap."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.3, 0.7], vertical_spacing=0.04)
    fig.add_trace(go.Scatter(x=time, y=values, mode="lines", line=dict(color="#30638e", width=1.5), name="series"), 1, 1)
    fig.add_trace(go.Heatmap(x=time, y=[f"unit {u}" for u in range(states.shape[1])], z=states.T, zmin=-1, zmax=1,
                             colorscale="RdBu_r", colorbar=dict(title=dict(text="h"), len=0.7, y=0.35),
                             hovertemplate="%{x}<br>%{y}: %{z:.2f}<extra></extra>"), 2, 1)
    fig.update_layout(**_layout("The forecaster's hidden state h_t under the series it reads", 620), showlegend=False)
    fig.update_yaxes(title_text=unit or "value", row=1, col=1)
    fig.update_yaxes(autorange="reversed", showticklabels=states.shape[1] <= 40, row=2, col=1)
    return fig

"""Figures of the Runs page: several runs' loss curves on one chart, and their settings in parallel coordinates."""

from __future__ import annotations

import html
from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.figures.style import axis as _axis, layout as _layout, thin as _thin

PALETTE = ("#d1495b", "#00798c", "#edae49", "#30638e", "#66a182", "#8d6a9f", "#e07a5f", "#3d405b")
NUMERIC = {"E": "embedding E", "U": "units U", "B": "batch B", "S": "sequence S", "layers": "layers",
           "learning rate": "log10 learning rate", "epochs done": "epochs done"}
SERIES_NUMERIC = {"U": "units U", "B": "batch B", "lookback": "lookback", "horizon": "horizon", "layers": "layers",
                  "learning rate": "log10 learning rate", "epochs done": "epochs done"}
# room for the labels Plotly writes above the parallel axes: the first one, centred on the left edge, and the title
PARALLEL_MARGIN = dict(l=90, r=40, t=110, b=30)


def overlay_figure(runs: Sequence[dict], x_title: str, y_title: str = "loss (cross-entropy)") -> go.Figure:
    """Training loss (lines) and validation loss (dots) of several runs, one colour and legend entry per run.

    Args:
        runs: dicts with name, x, loss, val_x and val_loss arrays (as `core.runs.reopen.curves` gives them).
        x_title: the x axis' title.
        y_title: the y axis' title: the loss the runs were trained on.
    """
    fig = go.Figure()
    for i, run in enumerate(runs):
        color, keep = PALETTE[i % len(PALETTE)], _thin(len(run["x"]))
        name = html.escape(run["name"])  # a user's text: Plotly would render its <a href> and <b> tags
        fig.add_trace(go.Scatter(x=np.asarray(run["x"])[keep], y=np.asarray(run["loss"])[keep], name=name,
                                 legendgroup=str(i), mode="lines", line=dict(color=color, width=2)))
        if len(run["val_x"]):
            fig.add_trace(go.Scatter(x=run["val_x"], y=run["val_loss"], name=f"{name} (validation)", legendgroup=str(i),
                                     mode="markers", marker=dict(color=color, size=9, symbol="diamond"), showlegend=False))
    fig.update_layout(**_layout("Loss of each run (lines: training; diamonds: validation)", 430),
                      xaxis=_axis(x_title), yaxis=_axis(y_title))
    return fig


def varying(table: pd.DataFrame, numeric: dict[str, str]) -> dict[str, str]:
    """The columns of `numeric` (column -> axis label) whose values differ between the table's runs: a setting that
    every run shares drew an axis with every line through one point ("layers" from 0.9 to 1.1)."""
    return {column: label for column, label in numeric.items()
            if column in table and table[column].astype(float).nunique(dropna=True) > 1}


def parallel_figure(table: pd.DataFrame, numeric: dict[str, str] = NUMERIC) -> go.Figure:
    """The numeric settings of each run on parallel axes (`numeric`: column -> axis label), each line coloured by its
    best validation loss."""
    best = table["best val. loss"].astype(float)
    dims = []
    for column, label in numeric.items():
        values = table[column].astype(float)
        if column == "learning rate":
            values = np.log10(values)
        dims.append(dict(label=label, values=values))
    line = dict(color=best.fillna(best.max() if best.notna().any() else 0.0), colorscale="Viridis", showscale=True,
                colorbar=dict(title=dict(text="best val. loss")))
    fig = go.Figure(go.Parcoords(line=line, dimensions=dims))
    # Plotly writes each axis' label and top value above the axis, centred on it: the shared margins cut the first
    # label at the left and put the labels under the chart's title (seen on the Sweeps and Runs pages)
    fig.update_layout({**_layout("Settings of each run, coloured by best validation loss (darker is better)", 420),
                       "margin": PARALLEL_MARGIN})
    return fig

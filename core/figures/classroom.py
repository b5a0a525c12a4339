"""Figures of a teacher's class board, made to be read on a projector: every student's loss curve on one chart, and
the students' settings in parallel coordinates. Plain figure dicts (see `core.figures.training.loss_figure`)."""

from __future__ import annotations

import html
import math
from typing import Sequence

import numpy as np

from core.cells import NAMES as CELL_NAMES
from core.figures.runs import PALETTE
from core.figures.style import axis, layout

MOST_POINTS = 400  # points kept of each curve: thirty students' curves still redraw at once
FONT = dict(size=18)  # large enough to read from the back of a classroom
HIGHLIGHT = "#d1495b"  # the best student's curve
# The settings the parallel chart may show, in order: field -> axis label (numbers; the cell and optimizer by name).
PARALLEL = {"learning_rate": "learning rate", "rnn_units": "units", "embedding_dim": "embedding", "num_layers": "layers",
            "batch_size": "batch", "seq_len": "sequence length", "cell": "cell", "optimizer": "optimizer",
            "dropout": "dropout", "clip_norm": "clipping", "epochs": "epochs"}


def _plain(text: str) -> str:
    """A user's text as a Plotly label: HTML-escaped, since Plotly renders `<b>` and `<a href>` in legends."""
    return html.escape(str(text), quote=False)


def decimate(n: int, most: int = MOST_POINTS) -> np.ndarray:
    """Indices of at most `most` of n points, evenly spread, always keeping the first and the last."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, most).round().astype(int))


def _message(title: str, height: int) -> dict:
    """A figure that is only a sentence (st.plotly_chart refuses a figure dict with no traces)."""
    return dict(data=[dict(type="scatter", x=[], y=[], showlegend=False)],
                layout={**layout(title, height), "font": FONT,
                        "xaxis": dict(visible=False), "yaxis": dict(visible=False)})


def class_curves(names: list[str], steps: list[np.ndarray], losses: list[np.ndarray], best: str | None = None) -> dict:
    """Every student's training loss against the step, overlaid, the best student's curve thick and on top.

    Args:
        names: one student name per curve, as typed (escaped here for Plotly).
        steps, losses: one array per student (equal lengths within a student); each is thinned to at most
            `MOST_POINTS` points, keeping its first and last.
        best: the name of the student to highlight (None: no highlight).

    Returns:
        A plain Plotly figure dict; a sentence as its title when there is no curve.
    """
    if not names:
        return _message("No student has a training curve yet.", 480)
    data, top = [], []
    for i, (name, x, y) in enumerate(zip(names, steps, losses)):
        n = min(len(x), len(y))
        keep = decimate(n)
        trace = dict(type="scatter", mode="lines", name=_plain(name), x=np.asarray(x)[:n][keep],
                     y=np.asarray(y)[:n][keep], line=dict(color=PALETTE[i % len(PALETTE)], width=3), opacity=0.75)
        if best is not None and name == best:
            trace |= dict(line=dict(color=HIGHLIGHT, width=7), opacity=1.0, legendrank=1)
            top.append(trace)
        else:
            data.append(trace)
    return dict(data=data + top, layout={
        **layout("Training loss of every student" + (f" · thick: {_plain(best)}, the best" if top else ""), 560),
        "font": FONT, "hovermode": "closest", "legend": dict(orientation="h", y=-0.2, font=FONT),
        "xaxis": axis("step (batch)", rangemode="tozero"), "yaxis": axis("cross-entropy loss")})


def _numeric(values: list, field: str) -> dict | None:
    """One parallel axis (None when every student has the same value): learning rate as log10, names as ticks."""
    if len(set(values)) < 2:
        return None
    label = PARALLEL.get(field, field)
    if field in ("cell", "optimizer"):
        kinds = sorted(set(values))
        return dict(label=label, values=[kinds.index(v) for v in values], tickvals=list(range(len(kinds))),
                    ticktext=[_plain(CELL_NAMES.get(k, k)) for k in kinds])
    if field == "learning_rate":
        logs = np.log10(np.asarray(values, float))
        ticks = sorted(set(values)) if len(set(values)) <= 8 else [10 ** t for t in np.linspace(logs.min(), logs.max(), 5)]
        return dict(label="learning rate (log scale)", values=logs, tickvals=[math.log10(t) for t in ticks],
                    ticktext=[f"{t:.2g}" for t in ticks])
    return dict(label=label, values=np.asarray(values, float))


def class_parallel(rows: Sequence) -> dict:
    """The settings that vary in the class, one line per student, coloured by their best validation loss.

    Args:
        rows: `core.classroom.board.StudentRow`s (anything with `best_val` and `best_settings`, the settings of the
            run behind that loss); students without a best validation loss are left out.

    Returns:
        A plain Plotly figure dict (a "parcoords" trace); a sentence as its title while fewer than two students have
        a validation loss.
    """
    scored = [r for r in rows if r.best_val is not None and math.isfinite(r.best_val)]
    if len(scored) < 2:
        return _message("The settings chart appears once two students have a validation loss.", 420)
    dims = []
    for name in PARALLEL:
        if all(name in r.best_settings for r in scored):
            dim = _numeric([r.best_settings[name] for r in scored], name)
            dims += [dim] if dim else []
    if not dims:  # one axis of losses, no line to follow (seen on a board where everyone kept the class's settings)
        return _message("The settings chart appears once students train with settings of their own: so far everyone "
                        "kept the class's.", 420)
    best = np.asarray([r.best_val for r in scored], float)
    dims.append(dict(label="best val. loss", values=best))
    line = dict(color=best, colorscale="Viridis", showscale=True, colorbar=dict(title=dict(text="best val. loss")))
    trace = dict(type="parcoords", line=line, dimensions=dims, labelfont=dict(size=20), tickfont=dict(size=16),
                 rangefont=dict(size=16))
    return dict(data=[trace], layout={
        **layout("Settings of each student, coloured by best validation loss (darker is better)", 480),
        "font": FONT, "margin": dict(l=140, r=60, t=100, b=30)})  # room for the first axis title (20 px type)

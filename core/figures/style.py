"""The look shared by every figure: colours, the layout of a chart, its axes, and thinning of long series."""

from __future__ import annotations

import functools
import html

from core.text.vocabulary import display_token

COLORS = {
    "train": "#d1495b", "val": "#00798c", "acc": "#edae49", "grid": "#e5e5e5",  # a training run's curves
    "SimpleRNN": "#1f77b4", "LSTM": "#ff7f0e", "GRU": "#2ca02c", "your trained model": "#7f7f7f",  # cells side by side
}
LAYOUT = dict(template="plotly_white", margin=dict(l=10, r=10, t=40, b=10), font=dict(size=15), hovermode="x unified")

# A log axis' labels written in full (0.05, 0.1, 0.2), at the spacing Plotly picks for the range. Its default labels
# of the 2 and 5 marks are bare digits, so 0.5 read as a "5" under the "1"; a fixed "D2" spacing stacked 27 labels
# over the nine decades of a diverged training's gradient norms (both seen in Chromium). `log_marks` picks by range.
LOG_MARKS = dict(tickformat="~g")


def log_marks(*values) -> dict:
    """A log axis' marks for the plotted `values` (arrays; only their positive finite numbers count).

    Over more than 2 decades, whole decades only, about six of them, as 10^n (minor labels crowd on a projector).
    Over less, the 1, 2 and 5 of each decade, written in full: Plotly's own spacing there is every digit, and over
    1.5 decades of gradient norms its "0.08", "0.09" and "0.1" were drawn over each other. A range holding fewer
    than two of those marks (or nothing yet) keeps Plotly's spacing, written in full (LOG_MARKS).
    """
    import numpy as np

    flat = np.concatenate([np.asarray(v, dtype=float).ravel() for v in values] or [np.zeros(0)])
    flat = flat[np.isfinite(flat) & (flat > 0)]
    if not flat.size:
        return dict(LOG_MARKS)
    lo, hi = float(flat.min()), float(flat.max())
    decades = np.log10(hi / lo)
    if decades > 2:
        return dict(dtick=max(1, int(np.ceil(decades / 6))), exponentformat="power")
    first, last = int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi)))
    marks = [m * 10.0**e for e in range(first, last + 1) for m in (1, 2, 5)]
    shown = [v for v in marks if lo <= v * (1 + 1e-9) and v <= hi * (1 + 1e-9)]
    if len(shown) < 2:
        return dict(LOG_MARKS)
    return dict(tickvals=shown, ticktext=[f"{v:g}" for v in shown])

# The live charts carry no plotly template: Streamlit's theme styles them in the browser, and the default template
# is a large dict that plotly validates and deep-copies on every redraw (about half of a redraw's cost).
NO_TEMPLATE = {"layout": {}}


@functools.cache
def _default_template() -> dict:
    """What plotly puts in place of NO_TEMPLATE when it validates a figure."""
    import plotly.graph_objects as go

    return go.Figure(layout=dict(template=NO_TEMPLATE)).to_dict()["layout"]["template"]


def unchecked(figure: dict):
    """A live chart's figure dict as a `go.Figure` that is not validated again.

    `st.plotly_chart` validates a figure dict on every call (it builds a `go.Figure` of it: ~5 ms for a chart of 500
    points, and a training page draws two twice a second, the class board two every second), but takes a `go.Figure`
    as it is. The builders' dicts are validated by the tests instead (tests/unit/test_figures.py), which also check
    that the browser gets exactly the same JSON either way: validating fills an empty template with plotly's
    default one, and so does this.
    """
    import plotly.graph_objects as go

    layout = figure.get("layout", {})
    if layout.get("template") == NO_TEMPLATE:
        figure = {**figure, "layout": {**layout, "template": _default_template()}}
    return go.Figure(figure, _validate=False)


def token_label(token: str) -> str:
    """A token as a Plotly label: shown as `display_token` shows it, and HTML-escaped, since Plotly renders `<b>`,
    `<a href>` and the like in tick labels, titles and legends (a word-level text can hold any of them)."""
    return html.escape(display_token(token), quote=False)


def thin(n: int, most: int = 500) -> slice:
    """A stride that keeps at most about `most` of n points, so long runs redraw as fast as short ones."""
    return slice(None, None, max(1, -(-n // most)))


def axis(title: str, **extra) -> dict:
    """An axis with its title, light grid lines and no zero line; `extra` adds or overrides plotly axis settings."""
    return dict(title=dict(text=title), gridcolor=COLORS["grid"], zeroline=False, **extra)


def layout(title: str, height: int, **extra) -> dict:
    """A chart layout without a template (see NO_TEMPLATE), its legend in a row under the plot."""
    return dict(title=dict(text=title), height=height, margin=LAYOUT["margin"], template=NO_TEMPLATE,
                font=LAYOUT["font"], hovermode="x unified", legend=dict(orientation="h", y=-0.22), **extra)

"""core.figures: builders that take arrays (and fits) and draw them, with the one style."""

import xml.etree.ElementTree as ET

import numpy as np

from core.figures.inspection import gradient_decay_figure
from core.figures.style import COLORS
from core.figures.training import unrolled_svg
from core.inspection.vanishing import fit_decays

SVG = "{http://www.w3.org/2000/svg}"


def test_the_unrolled_diagram_numbers_every_step_of_a_long_input():
    root = ET.fromstring(unrolled_svg("hello, world", "ello, world!"))  # 12 steps: h₁ to h₁₂
    texts = [t.text for t in root.iter(SVG + "text")]
    assert [t for t in texts if t and t.startswith("h")] == ["h₀", "h₁", "h₂", "h₃", "h₄", "h₅", "h₆", "h₇", "h₈", "h₉", "h₁₀", "h₁₁", "h₁₂"]


def test_the_decay_figure_draws_the_fits_it_is_given():
    curves = {"SimpleRNN": 0.5 ** np.arange(8)[::-1], "LSTM": np.ones(8)}
    fits = fit_decays(curves)
    fig = gradient_decay_figure(curves, fits, colors=COLORS)
    lines = {t.name: t for t in fig.data}
    assert set(lines) == {"SimpleRNN (×0.5 per step)", "SimpleRNN fit", "LSTM (×1 per step)", "LSTM fit"}
    np.testing.assert_allclose(lines["SimpleRNN fit"].y, 0.5 ** np.arange(8)[::-1])
    assert lines["LSTM (×1 per step)"].line.color == COLORS["LSTM"]


def test_log_axes_write_their_marks_in_full_and_never_crowd_them():
    """Plotly labels a log axis' 2 and 5 marks with bare digits (0.5 read as a "5" under the "1"), and over 1.5
    decades it marks every digit: the Train page's "0.08", "0.09" and "0.1" were drawn over each other. Every log
    axis now marks 1, 2 and 5 per decade in full over up to 2 decades, and whole decades, as 10^n, over more."""
    from core.figures.forecast import series_loss_figure
    from core.figures.style import LOG_MARKS, log_marks
    from core.figures.training import layer_norms_figure

    def y_axis(norms):
        curves = {"SimpleRNN": np.asarray(norms, float)}
        return gradient_decay_figure(curves, fit_decays(curves)).layout.yaxis.to_plotly_json()

    one_and_a_half = np.geomspace(0.0035, 0.11, 50)  # the Train page's crowded range
    assert log_marks(one_and_a_half) == dict(tickvals=[0.005, 0.01, 0.02, 0.05, 0.1],
                                             ticktext=["0.005", "0.01", "0.02", "0.05", "0.1"])
    for axis in (y_axis(one_and_a_half), layer_norms_figure(np.arange(50), one_and_a_half[:, None], ["rnn"])["layout"]["yaxis"],
                 series_loss_figure(np.arange(50), one_and_a_half, [], [])["layout"]["yaxis"]):
        assert axis["type"] == "log" and axis["ticktext"] == ["0.005", "0.01", "0.02", "0.05", "0.1"], axis
    assert log_marks([1.2, 0.45], [np.nan, -1.0, 0.0]) == dict(tickvals=[0.5, 1.0], ticktext=["0.5", "1"])
    assert log_marks(np.geomspace(0.9, 0.011, 9)) == dict(tickvals=[0.02, 0.05, 0.1, 0.2, 0.5],
                                                          ticktext=["0.02", "0.05", "0.1", "0.2", "0.5"])
    # fewer than two such marks in range, or nothing plotted yet: Plotly's spacing, written in full
    assert log_marks([0.11, 0.13]) == log_marks([]) == log_marks([np.nan]) == LOG_MARKS == dict(tickformat="~g")
    assert layer_norms_figure(np.arange(1, 3), np.ones((2, 1)), ["rnn"])["layout"]["yaxis"]["tickformat"] == "~g"
    # nine decades (a diverged training): whole decades, every second one
    long = y_axis(np.geomspace(1.0, 1e-9, 100))
    assert (long["dtick"], long["exponentformat"], long.get("tickvals")) == (2, "power", None)
    assert log_marks(np.geomspace(1e-3, 10, 5)) == dict(dtick=1, exponentformat="power")


def test_tokens_reach_plotly_labels_escaped():
    """N15: Plotly renders <b> and <a href> in tick labels and titles; a word-level text can hold them."""
    import numpy as np

    from core.figures.connectivity import connectivity_heatmap
    from core.figures.inspection import state_heatmap
    from core.figures.training import topk_figure
    from core.nn.generate import StepGuess

    tokens = ["<a href='x'>", "<b>", "a&b"]
    heat = state_heatmap(np.zeros((3, 2)), tokens)
    assert list(heat.data[0].x) == ["step 0: &lt;a href='x'&gt;", "step 1: &lt;b&gt;", "step 2: a&amp;b"]
    conn = connectivity_heatmap(np.ones((3, 3)), tokens)
    assert conn.data[0].x[1] == "1:&lt;b&gt;"
    top = topk_figure([StepGuess("<b>", ("<b>", "x"), (0.6, 0.4))])
    assert "&lt;b&gt;" in top.layout.annotations[0].text and "&lt;b&gt;" in list(top.data[0].y)


def _live_figures() -> dict:
    """Every figure dict a live chart draws unchecked, at the sizes a class makes (2,000 steps, 30 students)."""
    from core.figures.classroom import class_curves
    from core.figures.forecast import series_loss_figure
    from core.figures.training import layer_norms_figure, loss_figure

    rng = np.random.default_rng(0)
    steps = np.arange(1, 2001)
    loss, acc = rng.random(2000) * 4, rng.random(2000)
    names = [f"<b>s{i}</b>" for i in range(30)]
    return {
        "loss": loss_figure(steps, loss, acc, [100, 200], [3.0, 2.5]),
        "loss, before any step": loss_figure(steps[:0], loss[:0], acc[:0]),
        "layer norms": layer_norms_figure(steps, rng.random((2000, 3)), ["embedding", "simple_rnn", "dense"]),
        "layer norms, model still being prepared": layer_norms_figure(steps[:0], np.zeros((0, 0)), ()),
        "class curves": class_curves(names, [steps] * 30, [loss] * 30, names[1]),
        "series loss": series_loss_figure(steps, loss, [100], [0.5]),
    }


def test_a_live_chart_sent_unchecked_reaches_the_browser_exactly_as_plotly_would_validate_it():
    """`unchecked` skips plotly's validation in st.plotly_chart; the figures stay valid plotly (validating them here
    raises on any unknown property) and the JSON the browser gets holds the same figure (its keys in another order)."""
    import json

    import plotly.graph_objects as go
    import plotly.io
    import plotly.tools

    from core.figures.style import unchecked

    def sent(figure) -> str:  # what st.plotly_chart puts in its message
        return plotly.io.to_json(plotly.tools.return_figure_from_figure_or_data(figure, validate_figure=True),
                                 validate=False)

    for name, figure in _live_figures().items():
        go.Figure(figure)  # valid
        assert json.loads(sent(unchecked(figure))) == json.loads(sent(figure)), name


def test_parallel_axes_are_the_settings_that_differ_between_the_runs():
    """Runs that share a setting drew an axis with every line through one point ("layers" from 0.9 to 1.1)."""
    import pandas as pd

    from core.figures.runs import NUMERIC, varying

    table = pd.DataFrame({"U": [16, 64], "layers": [1, 1], "learning rate": [0.003, 0.003], "B": [8, None],
                          "best val. loss": [2.0, 1.5]})
    assert varying(table, NUMERIC) == {"U": "units U"}  # B: one value and a gap; E, S: not in the table
    assert varying(table.iloc[:1], NUMERIC) == {}


def test_the_eigenvalue_legend_sits_under_the_plot():
    """Beside the plot, the legend took half of each of the Gradients page's three narrow eigenvalue charts."""
    from core.figures.inspection import eigenvalue_figure

    legend = eigenvalue_figure({"i": np.array([0.5 + 0.1j]), "f": np.array([0.4])}, "LSTM").layout.legend
    assert legend.orientation == "h" and legend.y < 0

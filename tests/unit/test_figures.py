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

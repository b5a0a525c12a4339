"""User text never reaches Markdown or Plotly as markup: file names, CSV columns, run names and tokens arrive escaped."""

import numpy as np

from core.figures.forecast import series_figure
from core.figures.runs import overlay_figure
from ui.controls import plain

NASTY = "<a href=x>**bold**</a><script>alert(1)</script>"


def test_plain_escapes_every_markdown_and_html_character():
    out = plain(NASTY)
    assert "<" not in out.replace("\\<", "") and ">" not in out.replace("\\>", "")
    assert "**" not in out and "\\*\\*bold\\*\\*" in out
    assert plain("[a link](http://x)") == "\\[a link\\]\\(http://x\\)"
    assert plain("under_score") == "under\\_score"


def test_plain_keeps_a_code_span_whose_inside_markdown_never_reads():
    assert plain("Received an invalid value for `rnn_units`: got 'lots'.") == \
        "Received an invalid value for `rnn_units`: got 'lots'\\."
    assert plain("one ` backtick <b>") == "one \\` backtick \\<b\\>"


def test_run_names_in_the_overlay_legend_are_escaped():
    run = dict(name=NASTY, x=np.arange(3), loss=np.ones(3), val_x=[2], val_loss=[1.0])
    fig = overlay_figure([run], "steps")
    assert [t.name for t in fig.data] == ["&lt;a href=x&gt;**bold**&lt;/a&gt;&lt;script&gt;alert(1)&lt;/script&gt;",
                                          "&lt;a href=x&gt;**bold**&lt;/a&gt;&lt;script&gt;alert(1)&lt;/script&gt; (validation)"]


def test_a_series_name_in_a_chart_title_is_escaped():
    fig = series_figure(np.arange(10), np.arange(10.0), None, "upload.csv: <b>value</b>", "<i>°C</i>")
    assert fig.layout.title.text == "upload.csv: &lt;b&gt;value&lt;/b&gt;"
    assert fig.layout.yaxis.title.text == "&lt;i&gt;°C&lt;/i&gt;"

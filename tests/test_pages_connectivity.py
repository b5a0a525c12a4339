"""AppTest for the Connectivity page: fresh cells and the trained model, a picked position, escaped user text."""

import numpy as np

from tests.test_pages import open_page, train_tiny


def test_connectivity_colours_the_text_for_a_picked_position_and_escapes_it():
    at = open_page("pages/connectivity.py")
    assert at.title[0].value == "Connectivity" and not at.exception
    assert [o for o in at.radio(key="cn_model").options] == ["fresh SimpleRNN", "fresh LSTM", "fresh GRU"]
    at.text_area(key="cn_text").input('<b>"Hello," she said.</b>').run()
    assert not at.exception, [e.value for e in at.exception]
    page = [h for h in at.get("html")][0].proto.body
    assert '">&quot;</span>' in page and "<b>" not in page  # the user's text is escaped; < is not in the vocabulary
    assert any("skipped" in w.value and "<" in w.value for w in at.warning)
    matrix = at.session_state["cn_memo"]["matrix"][1]
    vocab = at.session_state["encoded_value"][0]
    n = sum(c in vocab.tokens for c in '<b>"Hello," she said.</b>') - 1  # tokens kept, less the last (only a target)
    assert matrix.shape == (n, n) and np.all(np.triu(matrix, 1) == 0) and np.isfinite(matrix).all()
    at.slider(key="cn_pos").set_value(5).run()
    at.toggle(key="cn_log").set_value(True).run()
    at.radio(key="cn_model").set_value("lstm").run()
    assert not at.exception and any("fresh, untrained LSTM" in m.value for m in at.markdown)
    assert not np.array_equal(at.session_state["cn_memo"]["matrix"][1], matrix)  # another cell, other numbers


def test_connectivity_of_the_trained_model():
    at = open_page()
    train_tiny(at)
    at.switch_page("pages/connectivity.py").run()
    assert at.radio(key="cn_model").value == "trained" and not at.exception
    assert any("trained" in m.value for m in at.markdown) and len(at.get("plotly_chart")) == 1

"""AppTest for the Connectivity page: fresh cells and the trained model, a picked position, escaped user text."""

import numpy as np

from tests.helpers import open_page, train_tiny, wait_for_status


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


def test_step_trains_one_batch_at_a_time_and_restart_gives_the_same_initial_weights():
    from core.nn.language_model import build_model

    at = open_page("pages/model.py")
    at.number_input(key="m_units").set_value(16).run()
    at.number_input(key="m_batch").set_value(8).run()
    at.switch_page("pages/train.py").run()
    at.button(key="tr_step").click().run()
    run = at.session_state["run"]
    initial = [w.copy() for w in build_model(run.config).get_weights()]  # what the seed builds
    wait_for_status(run.trainer, "paused", step=1)
    at.run()
    assert at.button(key="tr_step").disabled is False and at.button(key="tr_resume") is not None
    at.button(key="tr_step").click().run()
    wait_for_status(run.trainer, "paused", step=2)
    assert len(run.trainer.progress().loss) == 2 and run.trainer.checkpoint.step == 2
    with run.trainer.holding_model(latest=False) as model:  # the server's copy has the weights of step 2
        assert any((a != b).any() for a, b in zip(model.get_weights(), initial))
    run.trainer.stop()
    run.trainer.join(60)
    at.run()
    at.button(key="tr_restart").click().run()
    again = at.session_state["run"]
    assert again is not run and again.trainer is None
    assert [w.tobytes() for w in again.model.get_weights()] == [w.tobytes() for w in initial]  # bit for bit

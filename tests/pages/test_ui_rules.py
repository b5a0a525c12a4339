"""Rules every page keeps: a workspace only for a session with something to save (N19), user text escaped before it
reaches Markdown (N15), and a status sentence coloured by the status, never by its words (N22)."""

from streamlit.testing.v1 import AppTest

from tests.helpers import TIMEOUT, open_page
from ui import workspace


def test_a_session_that_only_looks_makes_no_workspace_and_the_first_change_makes_one(monkeypatch):
    store, made = workspace.store(), []
    create = store.create_workspace
    monkeypatch.setattr(store, "create_workspace", lambda: made.append(1) or create())
    at = open_page()
    for page in ("pages/text.py", "pages/model.py", "pages/train.py", "pages/runs.py", "pages/series.py"):
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        if page == "pages/runs.py":  # Runs says there are none yet, not that nothing is saved on this server
            assert any("No runs yet" in i.value for i in at.info), [i.value for i in at.info]
    assert made == [] and at.session_state["ws_token"] is None and "ws" not in at.query_params
    at.switch_page("pages/model.py").run()
    at.number_input(key="m_units").set_value(64).run()
    token = at.session_state["ws_token"]
    assert made == [1] and token and at.query_params["ws"] == token
    assert store.workspace_state(token)["model"]["rnn_units"] == 64


def test_pasted_text_in_an_error_arrives_escaped():
    at = open_page("pages/text.py")
    at.radio(key="t_source").set_value("Paste").run()
    at.text_area(key="t_paste").input("<<<<<<").run()
    at.button(key="t_use_paste").click().run()
    error = next(e.value for e in at.error if "one character" in e.value)
    assert "“\\<”" in error and "“<”" not in error


def test_tokens_and_patterns_on_hidden_states_arrive_escaped():
    at = open_page("pages/hidden_states.py")
    at.text_area(key="hs_text").input('the <script>alert("x")</script> of **it**').run()
    at.selectbox(key="hs_order").set_value("correlation").run()
    at.text_input(key="hs_pattern").input("[a](http://x)").run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = " ".join(w.value for w in at.warning)
    assert "\\[a\\]\\(http://x\\)" in warnings and "[a](" not in warnings  # the pattern, never a link
    skipped = next(w.value for w in at.warning if "skipped" in w.value)  # characters the prose sample never has
    assert "<" not in skipped.replace("\\<", "") and "*" not in skipped.replace("\\*", "")


def _message(status: str, message: str) -> None:
    from types import SimpleNamespace

    from ui.controls import training_message

    training_message(SimpleNamespace(status=status, message=message))


def test_the_status_sentence_is_coloured_by_the_status_alone():
    lost = AppTest.from_function(_message, args=("lost", "The training worker stopped unexpectedly (gone)."),
                                 default_timeout=TIMEOUT).run()
    assert [w.value for w in lost.warning] == ["The training worker stopped unexpectedly \\(gone\\)\\."]
    stopped = AppTest.from_function(_message, args=("stopped", "Stopped unexpectedly, said the words."),
                                    default_timeout=TIMEOUT).run()
    assert not stopped.warning and [i.value for i in stopped.info] == ["Stopped unexpectedly, said the words\\."]

"""AppTest for the workspace and the Runs page: a reload brings everything back, links carry settings, bad tokens
get a fresh workspace, and the Runs page lists, overlays, opens, renames and deletes runs."""

import numpy as np
from streamlit.testing.v1 import AppTest

from core import settings

from tests.helpers import APP, TIMEOUT, chart, open_page, reopened, train_tiny, wait_for_training
from ui import workspace


def test_a_reload_brings_back_the_text_the_settings_and_the_trained_run():
    at = open_page()
    train_tiny(at)
    run, token = at.session_state["run"], at.session_state["ws_token"]
    assert at.query_params["ws"] == token and at.query_params["rnn_units"] == "16"
    again = reopened(token)
    back = again.session_state["run"]
    assert back is not run and back.run_id == run.run_id and back.trained_steps == 5
    assert [w.tobytes() for w in back.model.get_weights()] == [w.tobytes() for w in run.model.get_weights()]
    assert again.session_state["model_config"] == at.session_state["model_config"]
    assert again.session_state["text"] == at.session_state["text"]
    again.switch_page("pages/train.py").run()
    assert any("Training finished" in s.value for s in again.success)
    assert np.array_equal(back.trainer.progress().loss, run.trainer.progress().loss)


def test_a_malformed_or_unknown_token_gives_a_fresh_workspace_and_a_sentence():
    for bad in ("../../etc/passwd", "A" * 32):
        at = reopened(bad)
        token = at.session_state["ws_token"]
        assert token != bad and workspace.store().workspace_exists(token)
        assert any("was not found" in w.value for w in at.warning)
        assert at.query_params["ws"] == token


def test_a_link_carries_the_settings_and_a_bad_one_is_a_sentence():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(rnn_units="64", epochs="7", cell="gru")
    at.run()
    assert at.session_state["model_config"].rnn_units == 64 and at.session_state["model_config"].cell == "gru"
    assert at.session_state["train_config"].epochs == 7
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(rnn_units="lots")
    at.run()
    assert not at.exception and any("`rnn_units`" in w.value for w in at.warning)
    assert at.session_state["model_config"].rnn_units == 128


def test_runs_lists_overlays_opens_renames_and_deletes():
    at = open_page()
    train_tiny(at)
    first = at.session_state["run"]
    at.switch_page("pages/model.py").run()
    at.number_input(key="m_units").set_value(24).run()
    at.switch_page("pages/train.py").run()
    at.button(key="tr_start").click().run()  # a second run; the first stays
    wait_for_training(at)
    second = at.session_state["run"]
    at.switch_page("pages/runs.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["U"]) == [24, 16] and list(table["status"]) == ["finished", "finished"]
    assert at.dataframe[0].proto.placeholder == "–"  # a run without a value (no validation yet) shows a dash
    assert chart(at, "runs_overlay")["layout"]["yaxis"]["title"]["text"] == "loss (cross-entropy)"
    assert len(at.get("plotly_chart")) == 2  # the overlay and the parallel coordinates
    at.radio(key="runs_x").set_value("seconds").run()
    assert not at.exception

    at.selectbox(key="runs_pick").set_value(first.run_id).run()
    at.text_input(key=f"runs_name_{first.run_id}").input("baseline").run()
    at.button(key="runs_save").click().run()
    assert list(at.dataframe[0].value["name"]) == [second_name(at, second), "baseline"]

    at.button(key="runs_open").click().run()
    opened = at.session_state["run"]
    assert opened.run_id == first.run_id and opened.config.rnn_units == 16 and opened.trained_steps == 5
    assert [w.tobytes() for w in opened.model.get_weights()] == [w.tobytes() for w in first.model.get_weights()]

    at.switch_page("pages/runs.py").run()
    at.selectbox(key="runs_pick").set_value(second.run_id).run()
    at.button(key="runs_delete").click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    at.button(key="runs_delete_yes").click().run()
    assert list(at.dataframe[0].value["name"]) == ["baseline"]
    assert workspace.store().weights(at.session_state["ws_token"], second.run_id) == []

    at.button(key="runs_again").click().run()  # a new run with the baseline's text and settings
    again = at.session_state["run"]
    assert again.run_id not in (first.run_id, second.run_id) and again.config == first.config
    again.trainer.stop()
    again.trainer.join(60)
    assert again.model is not first.model


def second_name(at: AppTest, run) -> str:
    return workspace.store().run(at.session_state["ws_token"], run.run_id)["name"]


def test_a_workspace_at_its_limit_says_what_to_delete_and_starts_nothing(monkeypatch):
    from core.runs.sqlite_store import Limits

    at = open_page()
    train_tiny(at)
    first = at.session_state["run"]
    monkeypatch.setattr(workspace.store(), "limits", Limits(runs=1))
    at.switch_page("pages/model.py").run()
    at.number_input(key="m_units").set_value(20).run()
    at.switch_page("pages/train.py").run()
    at.button(key="tr_start").click().run()
    assert any("the most it may keep (1" in e.value and "Delete runs" in e.value for e in at.error)
    run = at.session_state["run"]
    assert run.trainer is None and len(workspace.store().runs(at.session_state["ws_token"])) == 1
    assert first.run_id is not None


def test_a_data_folder_that_cannot_be_written_is_a_sentence_and_training_still_works(monkeypatch, tmp_path):
    (tmp_path / "a file").write_text("not a folder")
    monkeypatch.setenv("RNN_PLAYGROUND_DATA", str(tmp_path / "a file" / "data"))
    settings.reload()
    at = open_page()
    assert any("Runs cannot be saved" in w.value and "RNN_PLAYGROUND_DATA" in w.value for w in at.warning)
    assert at.session_state["ws_token"] is None and "ws" not in at.query_params
    train_tiny(at)
    assert at.session_state["run"].trained_steps == 5 and at.session_state["run"].run_id is None
    at.switch_page("pages/runs.py").run()
    assert not at.exception and any("not being saved" in i.value for i in at.info)


def test_a_blank_name_is_not_saved_without_a_word_and_generate_points_to_the_runs_left():
    """Save with an empty name kept the old one without a word; after the open run was deleted, Generate said "no
    trained model yet" while a trained run was still in the workspace."""
    at = open_page()
    train_tiny(at)
    first = at.session_state["run"]
    at.switch_page("pages/runs.py").run()
    at.selectbox(key="runs_pick").set_value(first.run_id).run()
    at.text_input(key=f"runs_name_{first.run_id}").input("   ").run()
    assert at.button(key="runs_save").disabled
    assert any("A run needs a name" in c.value for c in at.caption)
    at.session_state["run"] = None  # as after deleting the open run: nothing open, the trained run still stored
    at.switch_page("pages/generate.py").run()
    assert any("Open one of this workspace's 1 trained run on the Runs page" in i.value for i in at.info), \
        [i.value for i in at.info]

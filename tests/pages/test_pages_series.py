"""AppTest for the Time series page: a real series, a tiny forecaster trained in a worker, the metrics table against the
baselines, and settings that cannot make windows."""

import numpy as np

from tests.helpers import chart, described, open_page, reopened, until
from ui import workspace


def test_seattle_temperature_trains_and_is_measured_against_the_baselines():
    at = open_page("pages/series.py")
    assert at.title[0].value == "Time series" and not at.exception
    assert at.selectbox(key="ts_builtin").value == "Seattle: daily maximum temperature"
    at.number_input(key="ts_lookback").set_value(14).run()
    at.number_input(key="ts_units").set_value(8).run()
    at.number_input(key="ts_epochs").set_value(1).run()
    at.button(key="ts_start").click().run()
    run = at.session_state["ts_run"]
    until(lambda: not run.trainer.active(), 180, lambda: f"the forecaster's training to end; it is {described(run.trainer)()}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Training finished" in s.value for s in at.success)
    table = at.table[0].value
    assert list(table.index) == ["persistence", "seasonal naive", "linear AR", "SimpleRNN"]
    assert list(table.columns) == ["MAE", "RMSE"] and all(float(v) > 0 for v in table["RMSE"])
    def stored() -> dict:
        return workspace.store().run(at.session_state["ws_token"], run.run_id)

    # the recorder writes what changed once a second: the store has the last step within about that
    until(lambda: stored()["step"] == run.trainer.progress().step, 30,
          lambda: f"the store's step to reach the trainer's; it is {stored()['step']}")
    assert stored()["kind"] == "series" and stored()["step"] > 0
    at.switch_page("pages/runs.py").run()
    assert not at.exception
    assert "lookback" in at.dataframe[0].value.columns  # this workspace has forecasters only: their own columns
    assert list(at.dataframe[0].value["status"]) == ["finished"]
    assert chart(at, "runs_overlay")["layout"]["yaxis"]["title"]["text"] == "loss (MSE, scaled values)"  # not entropy


def test_a_lookback_too_long_for_the_series_is_a_sentence():
    at = open_page("pages/series.py")
    at.radio(key="ts_source").set_value("Real data").run()
    at.selectbox(key="ts_builtin").set_value("Stock: GOOG monthly price").run()
    at.number_input(key="ts_lookback").set_value(60).run()
    assert not at.exception and any("Lower the lookback" in e.value for e in at.error)


def test_hidden_states_shows_a_trained_forecaster_under_its_curve():
    at = open_page("pages/series.py")
    at.radio(key="ts_source").set_value("Synthetic").run()
    at.button(key="ts_use_synthetic").click().run()
    at.number_input(key="ts_units").set_value(6).run()
    at.number_input(key="ts_epochs").set_value(1).run()
    at.button(key="ts_start").click().run()
    run = at.session_state["ts_run"]
    assert run.series.name == "synthetic"
    run.trainer.join(120)
    at.switch_page("pages/hidden_states.py").run()
    at.radio(key="hs_what").set_value("the forecaster").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("the forecaster" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) == 1


def test_the_verdict_says_why_a_network_loses_to_persistence():
    from core.forecast.verdict import verdict

    table = {"persistence": (1.0, 1.2), "linear AR": (0.9, 1.1), "LSTM": (2.0, 2.5)}
    kind, sentence = verdict(table, "LSTM", outside=True)
    assert kind == "warning" and "lost to persistence" in sentence and "random walk" in sentence
    assert "beyond every value" in sentence and "Differencing" in sentence
    assert verdict(table | {"LSTM": (0.95, 1.15)}, "LSTM")[0] == "info"
    assert verdict(table | {"LSTM": (0.5, 0.6)}, "LSTM")[0] == "success"


def test_a_reload_brings_back_the_forecaster_and_runs_opens_it():
    at = open_page("pages/series.py")
    at.number_input(key="ts_lookback").set_value(10).run()
    at.number_input(key="ts_units").set_value(5).run()
    at.number_input(key="ts_epochs").set_value(1).run()
    at.button(key="ts_start").click().run()
    run = at.session_state["ts_run"]
    run.trainer.join(120)
    at.run()
    again = reopened(at.session_state["ws_token"])
    again.switch_page("pages/series.py").run()
    back = again.session_state["ts_run"]
    assert back is not run and back.run_id == run.run_id and back.config == run.config
    assert [w.tobytes() for w in back.model.get_weights()] == [w.tobytes() for w in run.model.get_weights()]
    assert np.array_equal(back.series.values, run.series.values) and back.series.unit == "°C"
    assert again.number_input(key="ts_lookback").value == 10 and list(again.table[0].value.index)[-1] == "SimpleRNN"
    assert again.table[0].value.equals(at.table[0].value)  # the same forecasts, so the same errors
    again.session_state["ts_run"] = None
    again.switch_page("pages/runs.py").run()
    again.button(key="runs_open").click().run()
    assert not again.exception and again.session_state["ts_run"].run_id == run.run_id

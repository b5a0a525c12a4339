"""N1: a session's trainings are never orphaned. Opening another forecaster from Runs, or training one again, stops
the forecaster this session is training (its Pause and Stop buttons would otherwise be gone, and the training would
keep its slot and its worker until it ends)."""

from tests.helpers import open_page, until


def forecaster(at, units: int, epochs: int):
    """Start a forecaster of `units` units for `epochs` epochs from the Time series page; its SeriesRun."""
    at.switch_page("pages/series.py").run()
    at.number_input(key="ts_lookback").set_value(10).run()
    at.number_input(key="ts_units").set_value(units).run()
    at.number_input(key="ts_epochs").set_value(epochs).run()
    at.button(key="ts_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run = at.session_state["ts_run"]
    assert run.trainer.active()
    return run


def on_runs_page(at, run_id: int, button: str) -> None:
    """Pick stored run `run_id` on the Runs page and press `button` (Open or Train again)."""
    at.switch_page("pages/runs.py").run()
    at.selectbox(key="runs_pick").set_value(run_id).run()
    at.button(key=button).click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_opening_or_training_again_a_forecaster_stops_the_one_this_session_trains():
    at = open_page()
    b = forecaster(at, units=4, epochs=1)
    b.trainer.join(120)
    a = forecaster(at, units=5, epochs=1000)  # A trains for long
    on_runs_page(at, b.run_id, "runs_open")  # open B while A trains
    assert at.session_state["ts_run"].run_id == b.run_id
    until(lambda: not a.trainer.active(), 60, lambda: f"A to stop; it is {a.trainer.progress().status}")
    assert "another forecaster was opened" in a.trainer.progress().message

    a2 = forecaster(at, units=5, epochs=1000)
    on_runs_page(at, b.run_id, "runs_again")  # a new run with B's settings while A2 trains
    again = at.session_state["ts_run"]
    assert again.run_id not in (a.run_id, a2.run_id, b.run_id) and again.config == b.config
    until(lambda: not a2.trainer.active(), 60, lambda: f"A2 to stop; it is {a2.trainer.progress().status}")
    again.trainer.stop()
    again.trainer.join(60)

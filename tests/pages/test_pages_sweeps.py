"""AppTest for the Sweeps page's panel: the plan's numbers before anything starts, and a sentence for each bad input."""

import dataclasses
import re

from core import settings
from core.config import QUICK_DEMO
from tests.helpers import APP, open_page


def errors(at) -> str:
    return " ".join(e.value for e in at.error)


def test_the_panel_says_what_a_sweep_costs_and_refuses_bad_input_with_a_sentence(monkeypatch):
    monkeypatch.setenv("RNN_PLAYGROUND_MAX_TRIALS", "10")
    monkeypatch.setenv("RNN_PLAYGROUND_MAX_MODEL_GB", "0.05")
    settings.reload()
    at = open_page("pages/sweeps.py", config=QUICK_DEMO)
    assert not at.exception
    at.multiselect(key="sw_vary").set_value(["learning_rate", "units"]).run()
    at.text_input(key="sw_learning_rate").set_value("0.001..0.03:3").run()
    at.text_input(key="sw_units").set_value("64, 128").run()
    info = " ".join(i.value for i in at.info)
    assert "**6 trials**" in info and "can run at once" in info and "), at most " in info, info
    assert re.search(r"at most [\d,]+ MB of training memory each", info), info
    assert not at.button(key="sw_start").disabled

    at.text_input(key="sw_units").set_value("").run()  # missing
    assert "Give the units a list of values" in errors(at) and at.button(key="sw_start").disabled
    at.text_input(key="sw_units").set_value("64, lots").run()  # malformed
    assert 'The units value "lots" is not a number' in errors(at)
    at.text_input(key="sw_units").set_value("64, 9999").run()  # out of range
    assert "The units value 9999 is out of range" in errors(at)
    at.text_input(key="sw_units").set_value("8..512:4").run()  # 3 × 4 = 12 trials, over the limit of 10
    assert "This sweep has 12 trials, more than this server allows (10" in errors(at)
    at.text_input(key="sw_units").set_value("64, 4096").run()  # the second would not fit 0.05 GB
    assert "Trial 2 (learning rate 0.001, units 4096) is refused" in errors(at), errors(at)
    assert at.button(key="sw_start").disabled
    assert len(at.text_input(key="sw_learning_rate").value) and not at.exception


def test_a_tiny_sweep_is_said_in_whole_units_never_zero():
    """The panel's estimate for the smallest setups: at least "about 1 s", and "under 1 MB" rather than "0 MB"."""
    at = open_page("pages/sweeps.py", rnn_units="4", embedding_dim="2", batch_size="1", seq_len="2",
                   max_steps_per_epoch="1")
    at.number_input(key="sw_epochs").set_value(1).run()
    info = " ".join(i.value for i in at.info)
    assert "about 1 s if every trial" in info and "), under 1 MB of training memory" in info, info
    assert " 0 s" not in info and " 0 MB" not in info


def test_the_sweeps_page_is_listed_after_runs():
    source = open(APP).read()
    assert source.index('"pages/runs.py"') < source.index('"pages/sweeps.py"') < source.index('"pages/generate.py"')


class _Ending:
    """A sweep runner whose sweep ends after `live` readings of `active()`: the moment the page reads it in between."""

    status, message = "finished", ""

    def __init__(self, live: int):
        self.live = live

    def active(self) -> bool:
        self.live -= 1
        return self.live >= 0

    def paused(self) -> bool:
        return False

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def stop(self) -> None: ...

    keep_alive = set()


def test_open_the_best_is_drawn_only_on_a_page_that_saw_the_sweep_ended(monkeypatch):
    """A click on **Open the best** is lost when the button sits in the board that still ticks: the tick that carries
    the click reruns the whole page instead. Whenever the sweep ends between the page's readings, the button must be
    drawn only where the page as a whole has it ended (its Start sweep enabled again); a sweep still going draws the
    board's live buttons and no Open the best."""
    from core.sweeps.plan import make_spec
    from tests.helpers import FOX, SHORT, SMALL
    from ui import sweep_state, workspace

    s = workspace.store()
    ws = s.create_workspace()
    spec = make_spec({"learning_rate": "0.001, 0.01"}, epochs=2, asha=False)
    sweep_id = s.create_sweep(ws, spec.to_json())
    text = s.put_text(FOX)
    for i, (lr, val) in enumerate([(0.001, 2.5), (0.01, 1.75)]):
        run_id = s.create_run(ws, f"sweep {sweep_id} · trial {i + 1}", text, "fox", SMALL,
                              dataclasses.replace(SHORT, learning_rate=lr), None)
        s.update_run(ws, run_id, sweep_id=sweep_id, status="finished", epoch=2, best_val=val)
    seen, sentence = [], r"The best settings were learning rate 0\.01 \(trial 2\)"
    for live in range(8):
        monkeypatch.setitem(sweep_state._LIVE, sweep_id, _Ending(live))
        at = open_page("pages/sweeps.py", ws=ws)
        best, start = at.button(key="sw_open_best") if _has(at, "sw_open_best") else None, at.button(key="sw_start")
        assert (best is not None) == (not start.disabled), (live, best, start.disabled)
        assert (best is not None) != _has(at, "sw_stop"), live
        assert (best is not None) == any(sentence in x.value for x in at.success), live
        seen.append(best is not None)
    assert seen[0] and not seen[-1], seen  # both boards were drawn: the ended one and the live one


def _has(at, key: str) -> bool:
    return any(b.key == key for b in at.button)


def test_a_live_board_draws_no_empty_chart_before_the_first_steps(monkeypatch):
    """While Ray Tune starts, every trial waits with no steps: the board drew a loss chart with empty axes from -1 to 6,
    and parallel axes coloured by a loss no trial had. It says when the curves come instead, draws the loss chart from a
    trial's first steps on, and the parallel axes once two trials have a validation loss to compare."""
    from core.sweeps.plan import make_spec
    from tests.helpers import FOX, SHORT, SMALL
    from ui import sweep_state, workspace

    s = workspace.store()
    ws = s.create_workspace()
    sweep_id = s.create_sweep(ws, make_spec({"learning_rate": "0.001, 0.01"}, epochs=2, asha=False).to_json())
    text = s.put_text(FOX)
    runs = [s.create_run(ws, f"sweep {sweep_id} · trial {i + 1}", text, "fox", SMALL,
                         dataclasses.replace(SHORT, learning_rate=lr), None) for i, lr in enumerate((0.001, 0.01))]
    for run_id in runs:
        s.update_run(ws, run_id, sweep_id=sweep_id, status="waiting")
    monkeypatch.setitem(sweep_state._LIVE, sweep_id, _Ending(10**6))  # live all through
    at = open_page("pages/sweeps.py", ws=ws)
    assert not at.exception and _has(at, "sw_stop")
    assert _charts(at) == [] and _said_when_curves_come(at)

    s.append_rows(ws, runs[1], 0, dict(steps=[1, 2], loss=[2.0, 1.5], accuracy=[0.1, 0.2], seconds=[0.1, 0.2],
                                        norms=[[1.0], [1.0]]))
    at.run()
    assert _charts(at) == ["sw_overlay"] and not _said_when_curves_come(at)
    for run_id, val in zip(runs, (2.5, 1.75)):  # both trials validated: their settings, coloured by that loss
        s.update_run(ws, run_id, best_val=val)
    at.run()
    assert _charts(at) == ["sw_overlay", "sw_parallel"]


def _charts(at) -> list[str]:
    return [c.key for c in at.get("plotly_chart")]


def _said_when_curves_come(at) -> bool:
    return any("loss curve is drawn here from its first steps" in c.value for c in at.caption)

"""AppTest for the Sweeps page's panel: the plan's numbers before anything starts, and a sentence for each bad input."""

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

"""A sweep in a real browser: three learning rates on Ray Tune, live and overlaid, then the best opened and used."""

import re

import pytest

from tests.browser.servers import goto, no_exception

pytestmark = pytest.mark.browser
TINY = "rnn_units=16&embedding_dim=8&batch_size=8&seq_len=16&max_steps_per_epoch=6"


def test_a_learning_rate_sweep_runs_live_and_its_best_trial_generates(page, server):
    pg = page
    pg.goto(f"{server}/?{TINY}")
    pg.get_by_role("heading", name="RNN Playground").wait_for()
    goto(pg, "Sweeps")
    pg.get_by_text("Learning rate values").wait_for()  # the panel starts with the learning rate, 0.001..0.03
    epochs = pg.get_by_label("Epochs per trial")
    epochs.fill("3")
    epochs.press("Enter")
    pg.get_by_text(re.compile(r"3 trials")).first.wait_for()
    no_exception(pg)

    pg.get_by_role("button", name="Start sweep").click()
    pg.get_by_role("button", name="Stop this trial").wait_for()  # live: the board's buttons
    legend = pg.locator("[data-testid='stPlotlyChart'] .legendtext")
    pg.wait_for_function("document.querySelectorAll(\"[data-testid='stPlotlyChart'] .legendtext\").length >= 3",
                         timeout=240_000)  # three trials, one curve each, on one chart while the sweep runs
    names = legend.evaluate_all("els => els.map(e => e.textContent)")  # at once: the chart redraws while it runs
    assert sum("learning rate" in n for n in names) == 3, names
    no_exception(pg)

    pg.get_by_role("button", name="Open the best").wait_for(timeout=300_000)
    assert pg.get_by_text("The best settings were learning rate").count() == 1
    pg.get_by_role("button", name="Open the best").click()
    pg.get_by_role("heading", name="Generate", exact=True).first.wait_for()
    pg.get_by_role("button", name="Generate", exact=True).click()
    pg.get_by_text("Next-token probabilities").wait_for()
    assert len(pg.locator("[data-testid='stCode']").first.inner_text()) > 50
    no_exception(pg)

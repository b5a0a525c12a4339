"""The run store's story in a real browser: a run survives a reload and a server restart, and Runs overlays the next one."""

import re

import pytest

from tests.browser.servers import goto, no_exception, start_server

pytestmark = pytest.mark.browser


def test_a_run_survives_a_reload_and_a_restart_and_runs_overlays_the_next_one(tmp_path, browser):
    """The run store's story: train the Quick demo and reload; restart the server on the same data folder and open the
    same address; change the units and train again: the Runs page overlays both runs."""
    env = {"RNN_PLAYGROUND_DATA": str(tmp_path / "data"), "RNN_PLAYGROUND_WARM_WORKERS": "1"}
    proc, url = start_server(tmp_path / "first.log", env=env)
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(120_000)
    try:
        pg.goto(url)
        pg.get_by_role("button", name="Quick demo").click()
        pg.get_by_text("Sample after epoch 2").wait_for()
        pg.get_by_role("button", name="Stop").click()
        pg.get_by_text("Stopped by you").first.wait_for()
        where = pg.get_by_text(re.compile(r"^step [\d,]+ of [\d,]+")).first.inner_text()
        address = pg.url
        assert re.search(r"[?&]ws=[A-Za-z0-9_-]{32}", address) and "epochs=20" in address

        pg.reload()
        pg.get_by_text("Stopped by you").first.wait_for()
        assert pg.get_by_text(re.compile(r"^step [\d,]+ of [\d,]+")).first.inner_text() == where
        assert pg.get_by_text("Sample after epoch 2").count() == 1
        no_exception(pg)

        proc.terminate()
        proc.wait(60)
        proc, url = start_server(tmp_path / "second.log", env=env)
        pg.goto(url + address[address.index("/", len("http://")):])
        pg.get_by_role("heading", name="Train", exact=True).wait_for()
        pg.get_by_text("Stopped by you").first.wait_for()
        assert pg.get_by_text(re.compile(r"^step [\d,]+ of [\d,]+")).first.inner_text() == where
        pg.locator(".js-plotly-plot").first.wait_for()
        no_exception(pg)

        goto(pg, "Model")
        units = pg.get_by_label("RNN units U")
        units.fill("64")
        units.press("Enter")
        pg.wait_for_function("() => location.search.includes('rnn_units=64')")
        goto(pg, "Train")
        pg.get_by_role("button", name="Start training").click()
        pg.get_by_text("Sample after epoch 2").wait_for(state="detached")  # the new run's page, without the old samples
        pg.get_by_text("Sample after epoch 1").wait_for()
        pg.get_by_role("button", name="Stop").click()
        pg.get_by_text("Stopped by you").first.wait_for()

        goto(pg, "Runs")
        chart = pg.locator(".js-plotly-plot").first
        chart.wait_for()
        legend = chart.locator(".legendtext")
        legend.first.wait_for()
        names = legend.evaluate_all("els => els.map(e => e.textContent)")
        assert sorted(names) == ["run 1 · SimpleRNN 128u", "run 2 · SimpleRNN 64u"]
        assert chart.locator(".scatterlayer .trace").count() >= 2
        no_exception(pg)
        pg.screenshot(path=str(tmp_path / "runs.png"))
    finally:
        pg.close()
        proc.terminate()
        proc.wait(30)

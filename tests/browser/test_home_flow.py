"""The whole flow, the forecaster and a sweep in a real browser: Playwright drives Debian's Chromium against `streamlit run app.py`.

AppTest does not fire `run_every` fragments; these tests do, so they see the live training page."""

import json
import re
import zipfile
from pathlib import Path

import pytest

from tests.browser.servers import POLL_MS, goto, no_exception

pytestmark = pytest.mark.browser


def test_home_to_generate(page, server, tmp_path):
    pg = page
    pg.goto(server)
    pg.get_by_role("heading", name="RNN Playground").wait_for()
    pg.get_by_role("button", name="Quick demo").wait_for()
    assert pg.get_by_role("button", name="Article's model").count() == 1
    no_exception(pg)

    goto(pg, "Text")
    pg.get_by_text("Upload a file").click()
    upload = tmp_path / "rhymes.txt"
    upload.write_text("Twinkle, twinkle, little star,\nHow I wonder what you are.\n" * 400, encoding="utf-8")
    pg.locator("input[type=file]").set_input_files(str(upload))
    pg.get_by_text("rhymes.txt", exact=False).first.wait_for()
    pg.locator("[data-testid='stMetricValue']").filter(has_text="rhymes").wait_for()
    no_exception(pg)

    goto(pg, "Model")
    pg.get_by_role("button", name="Quick demo").click()
    pg.get_by_text("Total params").wait_for()
    no_exception(pg)

    goto(pg, "Train")
    epochs = pg.get_by_label("Epochs")  # one of the Quick demo's 20: the flow, not the rhymes, is under test
    epochs.fill("1")
    epochs.press("Enter")
    pg.wait_for_function("() => /[?&]epochs=1(&|$)/.test(location.search)", polling=POLL_MS)
    batches = pg.get_by_label("Batches per epoch (0 = all)")  # 40 of its 100: enough to generate rhymes-like text
    batches.fill("40")
    batches.press("Enter")
    pg.wait_for_function("() => /[?&]max_steps_per_epoch=40(&|$)/.test(location.search)", polling=POLL_MS)
    pg.get_by_role("button", name="Start training").click()
    pg.locator(".js-plotly-plot").first.wait_for()
    pg.get_by_role("button", name="Pause").click()  # the worker says it paused; the page then offers Resume
    pg.get_by_role("button", name="Resume").wait_for()
    pg.get_by_text("Paused. Resume to continue").first.wait_for()
    pg.get_by_role("button", name="Resume").click()
    pg.get_by_text("Training finished").first.wait_for(timeout=240_000)
    assert pg.locator("[data-testid='stMetricValue']").first.inner_text() != "–"
    no_exception(pg)

    goto(pg, "Generate")
    pg.get_by_role("button", name="Generate", exact=True).click()
    pg.get_by_text("Next-token probabilities").wait_for()
    written = pg.locator("[data-testid='stCode']").first.inner_text()
    assert written.startswith("Twinkle") and len(written) > 200  # the prompt, then what the model wrote
    with pg.expect_download() as download:
        pg.get_by_role("button", name="Download model (.keras)").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    with pg.expect_download() as download:
        pg.get_by_role("button", name="Download vocabulary (.json)").click()
    vocab = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert saved.name == "rnn_playground.keras" and "T" in vocab["tokens"]
    with zipfile.ZipFile(saved) as archive:  # a Keras archive of this model (test_export_runs loads one in plain Keras)
        layers = json.loads(archive.read("config.json"))["config"]["layers"]
    assert [layer["class_name"] for layer in layers][-2:] == ["SimpleRNN", "Dense"]
    assert layers[-1]["config"]["units"] == len(vocab["tokens"]) and "model.weights.h5" in archive.namelist()
    no_exception(pg)

    goto(pg, "Hidden states")
    pg.locator(".js-plotly-plot").first.wait_for()
    pg.get_by_text("trained model", exact=False).first.wait_for()
    no_exception(pg)

    goto(pg, "Connectivity")  # the trained model: which earlier letters it used for the last prediction
    pg.locator(".js-plotly-plot").first.wait_for()
    pg.get_by_text("your trained model").wait_for()
    assert pg.locator("[data-testid='stHtml'] span").count() > 100  # the text, one coloured span per character
    no_exception(pg)

    goto(pg, "Gradients")  # gradient decay and eigenvalues at least (the second can draw a moment after the first)
    pg.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", polling=POLL_MS)
    no_exception(pg)

    goto(pg, "Long-range race")
    pg.get_by_role("button", name="Race them").click()  # the long-range race redraws itself while it trains
    pg.get_by_text("Right last letter while training", exact=False).first.wait_for()
    pg.get_by_text(re.compile(r"running · step [1-9]")).wait_for()
    pg.get_by_role("button", name="Stop").click()
    pg.get_by_text(re.compile(r"stopped · step")).wait_for()
    assert pg.get_by_role("button", name="Race them").is_enabled()
    no_exception(pg)


def test_forecast_seattles_temperature(page, server):
    """The Time series page: choose Seattle's daily maximum, train an epoch, see the forecast chart and the metrics table."""
    pg = page
    pg.goto(f"{server}/series")
    pg.get_by_role("heading", name="Time series", exact=True).wait_for()
    pg.get_by_text("Real data").click()
    pg.get_by_label("Real series (shipped in the vega_datasets package)").click()
    pg.get_by_role("option", name="Seattle: daily maximum temperature").click()
    epochs = pg.get_by_label("Epochs")
    epochs.fill("1")
    epochs.press("Enter")
    pg.wait_for_timeout(500)
    pg.get_by_role("button", name="Start training").click()
    pg.get_by_text("Training finished").first.wait_for(timeout=180_000)
    pg.get_by_text("Test period: actual and forecast").wait_for()
    table = pg.locator("[data-testid='stTable']").first
    table.wait_for()
    text = table.inner_text()
    for row in ("persistence", "seasonal naive", "linear AR", "SimpleRNN", "MAE", "RMSE"):
        assert row in text, text
    no_exception(pg)


# A sweep in the same server (one server for the flows): three learning rates on Ray Tune, live and overlaid, then
# the best opened and used.
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
    pg.wait_for_function("new Set([...document.querySelectorAll(\"[data-testid='stPlotlyChart'] .legendtext\")]"
                         ".map(e => e.textContent.replace('★ ', ''))).size >= 3",
                         timeout=240_000, polling=POLL_MS)  # three trials, one curve each, on one chart, while it runs
    names = legend.evaluate_all("els => els.map(e => e.textContent)")  # at once: the chart redraws while it runs
    # three distinct trials (a chart being replaced by the live fragment can sit in the page twice for a moment)
    assert len({n.removeprefix("★ ") for n in names if "learning rate" in n}) == 3, names
    no_exception(pg)

    pg.get_by_role("button", name="Open the best").wait_for(timeout=300_000)
    assert pg.get_by_text("The best settings were learning rate").count() == 1
    pg.locator("[data-testid='stPlotlyChart'] .parcoords .axis-title").first.wait_for()
    # the parallel axes' labels lie inside their chart and under its title (the first was cut at the left, and all
    # were drawn over the title)
    box = pg.evaluate("""() => { const chart = document.querySelector('.parcoords').closest('.js-plotly-plot');
        const plot = chart.getBoundingClientRect(), title = chart.querySelector('.gtitle').getBoundingClientRect();
        return {left: plot.left, right: plot.right, title: title.bottom, labels: [...chart.querySelectorAll(
            '.axis-title')].map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right, r.top]; })}; }""")
    assert len(box["labels"]) == 2, box  # log10 learning rate and best val. loss
    assert all(box["left"] <= a and b <= box["right"] and top >= box["title"] for a, b, top in box["labels"]), box
    pg.get_by_role("button", name="Open the best").click()
    pg.get_by_role("heading", name="Generate", exact=True).first.wait_for()
    pg.get_by_role("button", name="Generate", exact=True).click()
    pg.get_by_text("Next-token probabilities").wait_for()
    assert len(pg.locator("[data-testid='stCode']").first.inner_text()) > 50
    no_exception(pg)


def _student(browser, join_link: str, name: str, learning_rate: str):
    """A student in a browser of their own: join as `name`, set the learning rate, train the class's tiny setup."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(120_000)
    pg = context.new_page()
    pg.goto(join_link)
    pg.get_by_label("Your name").fill(name)
    pg.get_by_role("button", name="Join").click()
    pg.get_by_text(f"Welcome, {name}").wait_for()
    goto(pg, "Train")
    lr = pg.get_by_label("Learning rate")
    lr.fill(learning_rate)
    lr.press("Enter")
    pg.wait_for_function(f"() => location.search.includes('learning_rate={learning_rate}')", polling=POLL_MS)
    pg.get_by_role("button", name="Start training").click()
    return context, pg


def test_a_class_two_students_join_train_and_the_board_shows_them(page, server, browser):
    """A teacher starts a class; two students join in browsers of their own and train the tiny setup with their own
    learning rates; the board shows both names in its table and its legend. Each student has a workspace of their own,
    and a student's Runs page lists only their runs."""
    pg = page
    pg.goto(f"{server}/?{TINY}&epochs=2")
    pg.get_by_role("heading", name="RNN Playground").wait_for()
    goto(pg, "Class")
    pg.get_by_role("button", name="Start a class").click()
    pg.get_by_text("Scan to join").wait_for()
    join_link, board_link = (pg.locator("[data-testid='stCode'] code").nth(i).inner_text().strip() for i in (0, 1))
    assert "/class?join=" in join_link and "/class?board=" in board_link, (join_link, board_link)
    teacher_ws = re.search(r"[?&]ws=([\w-]+)", pg.url).group(1)
    no_exception(pg)

    students = [_student(browser, join_link, name, lr) for name, lr in (("Ada", "0.02"), ("Grace", "0.005"))]
    try:
        tokens = []
        for context, spg in students:
            spg.get_by_text("Training finished").first.wait_for(timeout=240_000)
            tokens.append(re.search(r"[?&]ws=([\w-]+)", spg.url).group(1))
            no_exception(spg)
        assert len({teacher_ws, *tokens}) == 3, "each student's address carries a workspace of their own"
        spg = students[0][1]
        goto(spg, "Runs")
        spg.get_by_text("1 run in this workspace").wait_for()  # Ada's own run, not Grace's nor the teacher's

        pg.goto(board_link)
        pg.get_by_role("heading", name=re.compile("the board")).wait_for()
        legend = pg.locator("[data-testid='stPlotlyChart'] .legendtext")
        pg.wait_for_function("document.querySelectorAll(\"[data-testid='stPlotlyChart'] .legendtext\").length >= 2",
                             polling=POLL_MS)
        names = legend.evaluate_all("els => els.map(e => e.textContent)")
        assert {"Ada", "Grace"} <= {n.strip("★ ") for n in names}, names
        grid = pg.locator("[data-testid='stDataFrame']").first
        grid.wait_for()
        pg.wait_for_function("() => ['Ada', 'Grace'].every(name => [...document.querySelectorAll("
                             "\"[data-testid='stDataFrame'] [role='gridcell']\")].some(c => c.textContent === name))",
                             polling=POLL_MS)
        assert not any(t in pg.content() for t in tokens), "the board never shows a student's workspace token"
        no_exception(pg)
    finally:
        for context, _ in students:
            context.close()

"""The whole flow in a real browser: Playwright drives Debian's Chromium against `streamlit run app.py`.

AppTest does not fire `run_every` fragments; this test does, so it sees the live training page.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import ROOT, free_port, until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.browser


def launch_server(log: Path, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on a free loopback port, its output in `log`; returns (process, url) at once."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    return proc, f"http://127.0.0.1:{port}"


def wait_healthy(proc: subprocess.Popen, url: str, log: Path) -> None:
    def healthy() -> bool:
        assert proc.poll() is None, "streamlit exited: " + log.read_text(errors="replace")[-2000:]
        try:
            return urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok"
        except OSError:
            return False

    try:
        until(healthy, 60, lambda: "streamlit to answer: " + log.read_text(errors="replace")[-2000:], every=0.3)
    except AssertionError:
        proc.kill()
        raise


def start_server(log: Path, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """`launch_server`, then wait until it answers."""
    proc, url = launch_server(log, env)
    wait_healthy(proc, url, log)
    return proc, url


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server that the page-flow tests share; no test may stop it."""
    proc, url = start_server(tmp_path_factory.mktemp("server") / "streamlit.log")
    yield url
    proc.terminate()
    proc.wait(30)


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "Chromium is missing: run `make test` (it installs Debian's chromium)."
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(server, browser):
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(60_000)
    yield pg
    pg.close()


def no_exception(pg) -> None:
    pg.wait_for_timeout(300)
    count = pg.locator("[data-testid='stException']").count()
    assert count == 0, pg.locator("[data-testid='stException']").first.inner_text()


def goto(pg, title: str) -> None:
    pg.get_by_role("link", name=title, exact=True).click()
    pg.get_by_role("heading", name=title, exact=True).first.wait_for()


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
    load = ("import keras; m = keras.saving.load_model(%r); "
            "print(type(m.get_layer('rnn_1')).__name__, m.output_shape[-1])" % str(saved))
    out = subprocess.run([sys.executable, "-I", "-c", load], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["SimpleRNN", str(len(vocab["tokens"]))], out.stderr[-2000:]
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

    goto(pg, "Gradients")
    pg.locator(".js-plotly-plot").first.wait_for()
    assert pg.locator(".js-plotly-plot").count() >= 2  # gradient decay and eigenvalues at least
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


def test_stopping_the_server_leaves_no_process_behind(browser, tmp_path):
    """SIGTERM (as Ctrl-C or a service manager sends) ends Ray and every worker the server started. A server of its
    own: the signal would otherwise end the one the other tests share."""
    import signal

    import psutil

    proc, url = start_server(tmp_path / "streamlit.log")
    pg = browser.new_page()
    try:
        pg.set_default_timeout(60_000)
        pg.goto(url)  # the first page run starts Ray and its warm training workers
        pg.get_by_role("heading", name="RNN Playground").wait_for()

        def workers_up() -> bool:  # a training worker runs once Ray has started
            return any(p.name() == "ray::TrainWorker" for p in psutil.Process(proc.pid).children(recursive=True))

        until(workers_up, 90, "the server to start its Ray training workers", every=0.5)
    finally:
        pg.close()
    started = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    _, alive = psutil.wait_procs(started, timeout=15)
    assert alive == [], [(p.pid, p.name()) for p in alive]


PAGES = {"": "RNN Playground", "text": "Text", "model": "Model", "train": "Train", "runs": "Runs", "generate": "Generate",
         "hidden_states": "Hidden states", "connectivity": "Connectivity", "gradients": "Gradients",
         "race": "Long-range race", "series": "Time series"}


LINK_SETTING = "epochs=7"


def routed(pg, heading: str) -> None:
    """The page came through the router: its heading, the router's menu with titles, no traceback, no file names, and
    app.py's address sync ran."""
    pg.get_by_role("heading", name=heading, exact=True).first.wait_for()
    pg.get_by_role("link", name="Long-range race", exact=True).wait_for()
    no_exception(pg)
    assert pg.get_by_role("link", name="hidden states", exact=True).count() == 0
    # app.py mirrored the session into the address: the link's setting is kept and the unknown key dropped (a fresh
    # session with nothing to save has no workspace token yet, N19)
    pg.wait_for_function(f"() => /[?&]{LINK_SETTING}(&|$)/.test(location.search) && !/stale=/.test(location.search)")


def test_every_page_works_as_a_fresh_servers_first_request(tmp_path, browser):
    """A bookmark, or every tab reconnecting after a restart: the first request of a new server opens a page directly.
    Each page is the first request of a fresh server of its own (the servers start side by side), and the first server
    also gets five other pages at the same moment. Streamlit's old pages/ mode ran such a page without app.py: a
    traceback, and raw file names as the menu; with several tabs at once, all but the first still did after the
    first fix."""
    servers = [launch_server(tmp_path / f"{i}.log", {"RNN_PLAYGROUND_WARM_WORKERS": "0"}) for i in range(len(PAGES))]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        context.set_default_timeout(90_000)
        for i, (proc, url) in enumerate(servers):
            wait_healthy(proc, url, tmp_path / f"{i}.log")
        tabs = []
        for i, (path, heading) in enumerate(PAGES.items()):  # opened one right after the other: first runs overlap
            together = path in ("text", "model", "train", "runs", "generate")  # the light pages: five at once is enough
            for url in {servers[i][1], servers[0][1] if together else servers[i][1]}:
                tabs.append((context.new_page(), heading))
                tabs[-1][0].goto(f"{url}/{path}?{LINK_SETTING}&stale=1")  # a saved link
        for pg, heading in tabs:
            routed(pg, heading)
    finally:
        context.close()
        for proc, _ in servers:
            proc.terminate()
        for proc, _ in servers:
            proc.wait(30)


def test_a_run_survives_a_reload_and_a_restart_and_runs_overlays_the_next_one(tmp_path, browser):
    """The run store's story: train the Quick demo and reload; restart the server on the same data folder and open the
    same address; change the units and train again: the Runs page overlays both runs."""
    env = {"RNN_PLAYGROUND_DATA": str(tmp_path / "data")}
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

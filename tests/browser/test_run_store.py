"""The run store's story in a real browser, and the server's crash: a run trained on Ray survives a reload and a crash
of the server (`kill -9`, after which nothing the server started runs 15 s later); the server started again on the same
data folder, with its trainings inline (`RNN_PLAYGROUND_WORKERS=inline`: the store is the same whichever trains, and no
other browser test runs the app without Ray), answers every page as its first requests (the tabs reconnecting at once),
and Runs overlays the next run. One story, so that the suite starts two servers, not six. (That SIGTERM ends a server's
Ray and every worker it started is checked when the home flow's server stops, tests/browser/conftest.py.)"""

import re
import signal
import time

import psutil
import pytest
from playwright.sync_api import expect

from tests.browser.servers import POLL_MS, goto, names, no_exception, ray_is_up, sigterm_ends, start_server
from tests.helpers import until

pytestmark = pytest.mark.browser
# 20 epochs of 1,000 steps of a 16-unit model: epoch 1 comes within seconds even with the suite's other servers busy,
# and Stop comes long before epoch 20 (with 40 steps and Stop after epoch 2, all 20 ended once before Stop took effect;
# with 200, a less busy suite reached epoch 13 before Stop took effect)
SMALL = "rnn_units=16&embedding_dim=8&batch_size=8&seq_len=16&max_steps_per_epoch=1000&epochs=20"
# Every page by its address (app.py's url_path) and heading; tests/unit/test_pages_route.py checks it lists them all
PAGES = {"": "RNN Playground", "text": "Text", "model": "Model", "train": "Train", "runs": "Runs",
         "generate": "Generate", "hidden_states": "Hidden states", "connectivity": "Connectivity",
         "gradients": "Gradients", "race": "Long-range race", "series": "Time series", "sweeps": "Sweeps",
         "class": "Class"}


def _stopped_at(pg) -> str:
    """The "step N of M" a stopped run's Train page shows once it has settled. The page gets a rerun's elements one by
    one: "Stopped by you" can be on screen a moment before the progress bar below it has its final step (CI read step
    4,180 there, and 4,208 after the reload). So the text is read until it has stayed the same for a second."""
    pg.get_by_text("Stopped by you").first.wait_for()
    step = pg.get_by_text(re.compile(r"^step [\d,]+ of [\d,]+")).first
    seen = [step.inner_text()]

    def settled() -> bool:
        seen.append(step.inner_text())
        return seen[-1] == seen[-2]

    time.sleep(1.0)
    until(settled, 30, "the stopped run's step to stay the same for a second", every=1.0)
    return seen[-1]


def _kill_9_leaves_nothing(proc, log) -> None:
    """Issue 17 item 7: Ray's raylet and GCS die with the server, its agents and workers did not; the server's watchdog
    (`core.workers.watchdog`) ends them and says so in the log."""
    ray_is_up(proc)
    time.sleep(2)  # the watchdog notes the descendants once a second
    started = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    _, alive = psutil.wait_procs(started, timeout=15)
    assert alive == [], f"still running 15 s after kill -9 of the server: {names(alive)}"
    assert "ended without stopping Ray" in log.read_text(errors="replace")


def _routed(pg, heading: str, address: str) -> None:
    """The page came through the router: its heading, the router's menu with titles, no traceback, no file names, and
    app.py's address sync ran: the address matches the regular expression `address` (the link's setting, and the
    workspace or none) and the unknown key is dropped."""
    pg.get_by_role("heading", name=heading, exact=True).first.wait_for()
    pg.get_by_role("link", name="Long-range race", exact=True).wait_for()
    no_exception(pg)
    assert pg.get_by_text("Page not found").count() == 0, f"{heading}: Streamlit's Page not found dialog"
    assert pg.get_by_role("link", name="hidden states", exact=True).count() == 0
    pg.wait_for_function(f"() => /{address}/.test(location.search) && !/stale=/.test(location.search)", polling=POLL_MS)


SAVED = r"^(?=.*[?&]epochs=20(&|$))(?=.*[?&]ws=)"  # the saved link's setting and its workspace
FRESH = r"^(?=.*[?&]epochs=7(&|$))(?!.*[?&]ws=)"  # a new visitor's link: its setting, and no workspace yet (N19)


# The tabs that reconnect at once when the server comes back; every other page is then opened from the menu in the
# first of them. Each tab loads Streamlit's whole frontend: fourteen at once cost Chromium 93 CPU-s and took 79 s alone
# (one third of this story's CPU); five still race each other to the new server.
AT_ONCE = ("class", "runs", "generate")


def _tabs_reconnect(browser, url: str, query: str) -> tuple:
    """The Class page, two more pages and a new visitor's link open as the restarted server's first requests, all at
    once, as open tabs reconnect (with an unknown key a saved link may carry; the Train tab reconnects beside them). The
    Class page comes first: opened as a fresh server's very first request, Streamlit's frontend looked its address up
    among the pages/ files before the router answered, and showed "Page not found" over the page while the file was
    pages/classroom.py (its address is /class: the join and board links). Streamlit's old pages/ mode ran such pages
    without app.py: a traceback, and raw file names as the menu; with several tabs at once, all but the first still
    did after the first fix. Returns (context, [(tab, heading, what its address must show)])."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(120_000)
    tabs = []
    for path in AT_ONCE:
        tabs.append((context.new_page(), PAGES[path], SAVED))
        tabs[-1][0].goto(f"{url}/{path}?{query}&stale=1")
    tabs.append((context.new_page(), "Model", FRESH))
    tabs[-1][0].goto(f"{url}/model?epochs=7&stale=1")
    return context, tabs


def _every_other_page(tab) -> None:
    """Every page not opened at once, from the menu of a reconnected tab: each routed, with the saved link's setting
    and workspace in its address."""
    for path in [p for p in PAGES if p not in (*AT_ONCE, "train")]:
        tab.locator("[data-testid='stSidebarNav']").get_by_role("link", name=PAGES[path] if path else "Home",
                                                                 exact=True).click()
        _routed(tab, PAGES[path], SAVED)


def test_a_run_survives_a_reload_and_a_crash_and_runs_overlays_the_next_one_and_no_server_leaves_a_process(tmp_path,
                                                                                                           browser):
    """Train a small model and reload; kill -9 the server (nothing it started survives); start it again on the same
    data folder, inline: every page opens as one of its first requests, and the same address shows the run; change the
    units and train again: the Runs page overlays both runs; that server started no Ray, and SIGTERM ends it."""
    # one training at a time here: one slot and one warm worker (each server imports TensorFlow twice, not 3 times)
    env = {"RNN_PLAYGROUND_DATA": str(tmp_path / "data"), "RNN_PLAYGROUND_MAX_TRAININGS": "1",
           "RNN_PLAYGROUND_WARM_WORKERS": "1"}
    proc, url = start_server(tmp_path / "first.log", env=env)
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(120_000)
    told = False
    try:
        pg.goto(f"{url}/train?{SMALL}")  # a saved link with a small model: the store, not the training, is under test
        pg.get_by_role("button", name="Start training").click()
        pg.get_by_text("Sample after epoch 1", exact=True).wait_for(timeout=240_000)  # a cold server: Ray starts
        pg.get_by_role("button", name="Stop").click()
        where = _stopped_at(pg)
        address = pg.url
        assert re.search(r"[?&]ws=[A-Za-z0-9_-]{32}", address) and "epochs=20" in address

        pg.reload()
        assert _stopped_at(pg) == where
        # once (exact: "Sample after epoch 1" is also the start of "... epoch 10"); a rerun's page settles first
        expect(pg.get_by_text("Sample after epoch 1", exact=True)).to_have_count(1, timeout=15_000)
        no_exception(pg)

        _kill_9_leaves_nothing(proc, tmp_path / "first.log")
        proc, url = start_server(tmp_path / "second.log", env={**env, "RNN_PLAYGROUND_WORKERS": "inline"})
        context, tabs = _tabs_reconnect(browser, url, address.split("?", 1)[1])
        pg.goto(url + address[address.index("/", len("http://")):] + "&stale=1")  # Train: this tab, reconnecting too
        try:
            for tab, heading, shows in tabs:
                _routed(tab, heading, shows)
            _every_other_page(tabs[0][0])
        finally:
            context.close()
        _routed(pg, "Train", SAVED)
        assert _stopped_at(pg) == where
        pg.locator(".js-plotly-plot").first.wait_for()
        no_exception(pg)

        goto(pg, "Model")
        units = pg.get_by_label("RNN units U")
        units.fill("64")
        units.press("Enter")
        pg.wait_for_function("() => location.search.includes('rnn_units=64')", polling=POLL_MS)
        goto(pg, "Train")
        pg.get_by_role("button", name="Start training").click()
        # the new run's page, without the old samples
        pg.get_by_text("Sample after epoch 1", exact=True).wait_for(state="detached")
        pg.get_by_text("Sample after epoch 1", exact=True).wait_for()
        pg.get_by_role("button", name="Stop").click()
        pg.get_by_text("Stopped by you").first.wait_for()

        goto(pg, "Runs")
        chart = pg.locator(".js-plotly-plot").first
        chart.wait_for()
        legend = chart.locator(".legendtext")
        legend.first.wait_for()
        shown = legend.evaluate_all("els => els.map(e => e.textContent)")
        assert sorted(shown) == ["run 1 · SimpleRNN 16u", "run 2 · SimpleRNN 64u"]  # Ray's run, then the inline one
        assert chart.locator(".scatterlayer .trace").count() >= 2
        no_exception(pg)
        told = True
    finally:
        pg.close()
        if not told:  # the story broke: stop whichever server runs, and show what the servers logged
            proc.terminate()
            proc.wait(30)
            for name in ("first.log", "second.log"):
                if (tmp_path / name).exists():
                    print(f"--- the end of {name}:\n{(tmp_path / name).read_text(errors='replace')[-4000:]}")
    started = psutil.Process(proc.pid).children(recursive=True)
    assert not any("ray" in name.lower() for name in names(started)), names(started)  # inline: no Ray at all
    sigterm_ends(proc, started)

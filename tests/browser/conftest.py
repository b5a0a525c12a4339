"""Fixtures of the browser tests: one server and one page per file, one Chromium per file (Debian's, through
Playwright; `playwright install` cannot download browsers here)."""

from pathlib import Path

import pytest

from tests.browser.servers import CHROMIUM, sigterm_leaves_nothing, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server that the page-flow tests share; no test may stop it. At the end, SIGTERM (as Ctrl-C or a service
    manager sends) ends it, its Ray and every worker it started (checked here, after its flows trained on Ray). Its
    Ray's token stays in its processes' environment, never in the (here empty) home folder."""
    # the default two warm workers: the flows take turns on them, and no training starts another
    home = tmp_path_factory.mktemp("home")
    proc, url = start_server(tmp_path_factory.mktemp("server") / "streamlit.log", {"HOME": str(home)})
    yield url
    sigterm_leaves_nothing(proc)
    assert not (home / ".ray").exists(), "the embedded Ray wrote its token into the home folder"


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "Chromium is missing: run `make test` (it installs Debian's chromium)."
    from playwright.sync_api import sync_playwright

    # --disable-gpu: software compositing instead of a GPU process that emulates one (WebGL, which the sweep's parallel
    # axes use, still has a context); the home flow's Chromium took 59 and 54 CPU-s against 66 and 60, alternating
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage",
                                                                     "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(server, browser):
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(120_000)  # generous: on 2 cores the suite runs two files at once
    yield pg
    pg.close()

"""Stopping the server (SIGTERM) stops Ray and every process it started."""

import pytest

from tests.browser.servers import start_server
from tests.helpers import until

pytestmark = pytest.mark.browser


def test_stopping_the_server_leaves_no_process_behind(browser, tmp_path):
    """SIGTERM (as Ctrl-C or a service manager sends) ends Ray and every worker the server started. A server of its
    own: the signal would otherwise end the one the other tests share."""
    import signal

    import psutil

    proc, url = start_server(tmp_path / "streamlit.log", {"RNN_PLAYGROUND_WARM_WORKERS": "1"})
    pg = browser.new_page()
    try:
        pg.set_default_timeout(120_000)  # generous: on 2 cores the suite runs two files at once
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

"""What the browser tests share: a real `streamlit run app.py` on a loopback port, and a few page helpers."""

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil

from tests.helpers import ROOT, free_port, until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# wait_for_function checks every POLL_MS: its default checks every animation frame, which kept Chromium drawing
# frames at 0.1 core for as long as a wait lasted (a locator's wait costs 0.02, a 500 ms poll 0.002)
POLL_MS = 200


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


def names(procs) -> list[str]:
    """Each process as "pid name command line" (cut), for a failure's message; processes already gone are left out."""
    out = []
    for p in procs:
        try:
            out.append(f"{p.pid} {p.name()} {' '.join(p.cmdline())[:80]}")
        except psutil.Error:
            pass
    return out


def ray_is_up(proc) -> list[psutil.Process]:
    """Wait until the server runs Ray's raylet, its agents and a training worker; every process it started."""
    def up() -> bool:
        found = " ".join(names(psutil.Process(proc.pid).children(recursive=True)))
        return "ray::TrainWorker" in found and "raylet" in found and "agent" in found.lower()

    until(up, 120, "the server to run Ray's raylet, agents and a training worker", every=0.5)
    return psutil.Process(proc.pid).children(recursive=True)


def sigterm_ends(proc, started: list[psutil.Process]) -> None:
    """SIGTERM (as Ctrl-C or a service manager sends) ends the server and every process in `started`."""
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    _, alive = psutil.wait_procs(started, timeout=15)
    assert alive == [], f"still running after SIGTERM of the server: {names(alive)}"


def sigterm_leaves_nothing(proc) -> None:
    """SIGTERM ends a server that runs Ray, its Ray and every worker it started."""
    sigterm_ends(proc, ray_is_up(proc))


def no_exception(pg) -> None:
    pg.wait_for_timeout(300)
    count = pg.locator("[data-testid='stException']").count()
    assert count == 0, pg.locator("[data-testid='stException']").first.inner_text()


def goto(pg, title: str) -> None:
    pg.get_by_role("link", name=title, exact=True).click()
    pg.get_by_role("heading", name=title, exact=True).first.wait_for()

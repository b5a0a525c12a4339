"""Many browser sessions training at once on one server: does every session finish, and how fast?

Starts `streamlit run app.py`, then in headless Chromium (one browser, one context per session) presses
**Quick demo** on Home in each session and waits for "Training finished". First one session alone, then N
together, on the same server. Prints the wall time of N against N × the single run, the server process's CPU
seconds, tokens/s per session, and the largest memory (RSS) of the server and of each training worker.

    .venv/bin/python bench/load.py --sessions 6

Numbers only: nothing passes or fails on time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from core.config import QUICK_DEMO, QUICK_DEMO_TRAIN  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TOKENS = QUICK_DEMO_TRAIN.epochs * QUICK_DEMO_TRAIN.max_steps_per_epoch * QUICK_DEMO.batch_size * QUICK_DEMO.seq_len


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Memory:
    """Samples the RSS of the server and of its Ray workers once a second; keeps the largest of each."""

    def __init__(self, server: psutil.Process):
        self.server, self.server_mb, self.worker_mb = server, 0.0, {}
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.server_mb = max(self.server_mb, self.server.memory_info().rss / 2**20)
                for p in self.server.children(recursive=True):
                    if p.name().startswith("ray::") and "Agent" not in p.name():
                        self.worker_mb[p.pid] = max(self.worker_mb.get(p.pid, 0.0), p.memory_info().rss / 2**20)
            except psutil.Error:
                pass

    def stop(self) -> None:
        self._stop.set()


def run_sessions(browser, url: str, n: int, timeout_s: float) -> list[float]:
    """Open n sessions, press Quick demo in each, and return each one's seconds from its press to "Training finished"."""
    pages = []
    for _ in range(n):
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(120_000)
        page.goto(url)
        page.get_by_role("button", name="Quick demo").wait_for()
        pages.append(page)
    started = []
    for page in pages:  # press them one after another, as a class would
        page.get_by_role("button", name="Quick demo").click()
        started.append(time.monotonic())
    took = [None] * n
    deadline = time.monotonic() + timeout_s
    while None in took and time.monotonic() < deadline:
        for i, page in enumerate(pages):
            if took[i] is None and page.get_by_text("Training finished").count():
                took[i] = time.monotonic() - started[i]
        pages[0].wait_for_timeout(250)
    for page in pages:
        page.context.close()
    return [t if t is not None else float("nan") for t in took]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=6)
    ap.add_argument("--timeout", type=float, default=900, help="seconds to wait for the N sessions")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    log = open(ROOT / "bench" / ".load-server.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                               "--server.headless", "true", "--server.address", "127.0.0.1"],
                              cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        proc = psutil.Process(server.pid)
        memory = Memory(proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
            page = browser.new_page()
            page.goto(url)  # the first visit starts Ray and its warm workers; let them get ready
            page.get_by_role("button", name="Quick demo").wait_for()
            page.wait_for_timeout(15_000)
            page.close()
            cpu0 = sum(proc.cpu_times()[:2])
            one = run_sessions(browser, url, 1, args.timeout)[0]
            cpu1 = sum(proc.cpu_times()[:2])
            t0 = time.monotonic()
            many = run_sessions(browser, url, args.sessions, args.timeout)
            wall = time.monotonic() - t0
            cpu2 = sum(proc.cpu_times()[:2])
            browser.close()
        memory.stop()
        n, done = args.sessions, sum(t == t for t in many)
        print(f"Quick demo ({TOKENS:,} tokens each) on {os.cpu_count()} cores, server and Chromium on the same machine")
        print(f"| sessions | finished | wall time | {n} × one alone | ratio | server CPU | tokens/s per session (median, min) |")
        print("|---|---|---|---|---|---|---|")
        print(f"| 1 | 1 | {one:.1f} s | | | {cpu1 - cpu0:.1f} s | {TOKENS / one:,.0f} |")
        rates = [TOKENS / t for t in many if t == t]
        print(f"| {n} | {done} | {wall:.1f} s | {n * one:.1f} s | {wall / (n * one):.2f} | {cpu2 - cpu1:.1f} s | "
              f"{statistics.median(rates):,.0f}, {min(rates):,.0f} |" if rates else "| none finished |")
        print(f"Each session's seconds from its press to 'Training finished': {', '.join(f'{t:.1f}' for t in many)}")
        workers = sorted(memory.worker_mb.values())
        print(f"Largest RSS: server {memory.server_mb:,.0f} MB; {len(workers)} workers "
              f"{', '.join(f'{w:,.0f}' for w in workers)} MB")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()

"""Measure the app as a user meets it, in headless Chromium against `streamlit run app.py`.

Prints: time for Home to be interactive after the server is ready, time from **Start training** to the
first chart point, redraws per second of the live page, and the server's peak memory while one
session trains the Quick demo and (with --article) the Article's model. Never passes or fails.

    .venv/bin/python bench/app_timing.py [--article]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server() -> tuple[subprocess.Popen, str, float]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return proc, url, time.monotonic()
        except OSError:
            time.sleep(0.1)


def train_and_watch(pg, preset: str, pid: int) -> dict:
    pg.get_by_role("link", name="Model", exact=True).click()
    # Wait for the Model page before pressing its preset: pressed at once, the click could land on Home's own
    # "Quick demo", which starts a training and opens Train (REVIEW defect 9).
    pg.get_by_role("heading", name="Model", exact=True).first.wait_for(timeout=60_000)
    pg.get_by_role("button", name=preset).click()
    pg.wait_for_timeout(1000)
    replace = pg.get_by_role("button", name="Go ahead")  # asked only while a training runs (runs are kept since issue 11)
    if replace.count():
        replace.click()
    try:
        pg.get_by_text("Total params").wait_for(timeout=120_000)
    except Exception:
        pg.screenshot(path="/tmp/app_timing_fail.png")
        raise
    pg.get_by_role("link", name="Train", exact=True).click()
    before = rss_mib(pid)
    pg.get_by_role("button", name="Start training").click()
    t0 = time.monotonic()
    # Plotly keeps the figure's NumPy arrays as base64 in `data`; `_fullData` holds them decoded.
    pg.wait_for_function(  # the new run's chart starts empty
        "() => { const p = document.querySelector('.js-plotly-plot'); return !p || !p._fullData || !p._fullData[0] || !p._fullData[0].x || p._fullData[0].x.length == 0; }",
        timeout=60_000,
    )
    # The first chart point: the loss trace has at least one x value.
    pg.wait_for_function(
        "() => { const p = document.querySelector('.js-plotly-plot'); return p && p._fullData && p._fullData[0] && p._fullData[0].x && p._fullData[0].x.length > 0; }",
        timeout=300_000,
    )
    first_point = time.monotonic() - t0
    texts, t1 = [], time.monotonic()
    while time.monotonic() - t1 < 10:
        bar = pg.locator("[data-testid='stProgress']").last
        texts.append(bar.inner_text() if bar.count() else "")
        pg.wait_for_timeout(50)
    changes = sum(1 for a, b in zip(texts, texts[1:]) if a != b)
    stop = pg.get_by_role("button", name="Stop")
    if stop.is_enabled():
        stop.click()
    pg.wait_for_timeout(2000)
    return {"first_point_s": first_point, "redraws_per_s": changes / 10, "rss_before_mib": before,
            "rss_peak_mib": rss_mib(pid, "VmHWM")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--article", action="store_true", help="also train the Article's model")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    proc, url, ready = start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            pg = browser.new_page(viewport={"width": 1400, "height": 1000})
            pg.goto(url)
            pg.get_by_role("button", name="Quick demo").wait_for(timeout=60_000)
            print(f"Home interactive {time.monotonic() - ready:.2f} s after the server was ready")
            print(f"server memory before training: {rss_mib(proc.pid):.0f} MiB")
            presets = ["Quick demo"] + (["Article's model"] if args.article else [])
            for preset in presets:
                r = train_and_watch(pg, preset, proc.pid)
                print(f"{preset}: first chart point {r['first_point_s']:.2f} s after Start training; "
                      f"{r['redraws_per_s']:.1f} redraws/s; server RSS {r['rss_before_mib']:.0f} MiB before, "
                      f"peak {r['rss_peak_mib']:.0f} MiB")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()

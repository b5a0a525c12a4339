"""Issue 17 item 7: after `kill -9` of the Streamlit server, no process it started runs 15 s later.

Ray's raylet and GCS die with the server (parent-death signal), but its agents (DashboardAgent, RuntimeEnvAgent)
and workers did not. The server's watchdog (`core.workers.watchdog`) ends them and says so in the log."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
STREAMLIT = Path(sys.executable).with_name("streamlit")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _open_a_session(port: int):
    """What a browser tab does first: open the websocket and ask for a run of the app (it draws Home, then warms up)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from websockets.sync.client import connect

    ws = connect(f"ws://127.0.0.1:{port}/_stcore/stream", open_timeout=30)
    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_script_hash = ""
    ws.send(msg.SerializeToString())
    return ws


def _names(procs) -> list[str]:
    out = []
    for p in procs:
        try:
            out.append(f"{p.pid} {p.name()} {' '.join(p.cmdline())[:80]}")
        except psutil.Error:
            pass
    return out


def test_a_killed_server_leaves_no_process_behind(tmp_path):
    port = _free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "RNN_PLAYGROUND_WARM_WORKERS": "1",
           "RNN_PLAYGROUND_DATA": str(tmp_path / "data")}
    proc = subprocess.Popen([str(STREAMLIT), "run", "app.py", "--server.headless", "true", "--server.port", str(port),
                             "--server.address", "127.0.0.1"], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT)
    started: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
        ws = _open_a_session(port)
        deadline = time.monotonic() + 240
        while True:  # until Ray's agents and a warm worker run
            names = " ".join(_names(psutil.Process(proc.pid).children(recursive=True)))
            if "ray::TrainWorker" in names and "raylet" in names and ("agent" in names.lower()):
                break
            assert time.monotonic() < deadline, f"Ray never came up: {names}\n{log.read_text()[-3000:]}"
            time.sleep(1)
        time.sleep(2)  # the watchdog notes the descendants once a second
        started = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        ws.close()
        _, alive = psutil.wait_procs(started, timeout=15)
        assert alive == [], _names(alive)
        assert "ended without stopping Ray" in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in started:
            try:
                p.kill()
            except psutil.Error:
                pass

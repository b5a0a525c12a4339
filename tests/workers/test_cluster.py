"""With RAY_ADDRESS the app trains on an existing Ray cluster and starts no Ray of its own.

The head is `ray start --head --block` on a free loopback port, as a process of this test's own, stopped at the end
by ending that process (it stops what it started). Not `ray stop`: that stops every Ray on the machine, this test
session's own included.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.helpers import ROOT, free_port, until

RAY = Path(sys.executable).with_name("ray")


TOKEN = secrets.token_hex(32)  # this test's own token: head and app both get it, ~/.ray is not touched


@pytest.fixture
def head(tmp_path):
    port = free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": TOKEN, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    proc = subprocess.Popen([str(RAY), "start", "--head", "--block", f"--port={port}", "--node-ip-address=127.0.0.1",
                             "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"],
                            env=env, stdout=(tmp_path / "head.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True)

    def answers() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            assert proc.poll() is None, "the head exited: " + (tmp_path / "head.log").read_text()[-3000:]
            return False

    until(answers, 90, lambda: "the head to listen: " + (tmp_path / "head.log").read_text()[-3000:], every=0.5)
    yield f"127.0.0.1:{port}", proc
    started = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    _, alive = psutil.wait_procs(started, timeout=20)
    for p in alive:
        p.kill()
    assert alive == [], f"the head left {[p.name() for p in alive]}"


def test_the_app_trains_on_the_cluster_named_by_ray_address(head, tmp_path):
    address, head_proc = head
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    # one warm worker and one slot: it trains one model (with two slots, taking the warm worker starts another, and a
    # second worker would import TensorFlow for nothing)
    env |= {"RAY_ADDRESS": address, "RAY_AUTH_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1",
            "RNN_PLAYGROUND_WARM_WORKERS": "1", "RNN_PLAYGROUND_MAX_TRAININGS": "1"}
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "workers" / "cluster_client.py")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=400)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == "finished" and result["step"] == 6, result
    assert result["embedded"] is False and address in result["peers"]  # it joined the head...
    assert result["own_ray_processes"] == []  # ...and started no GCS, raylet or worker of its own

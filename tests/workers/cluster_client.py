"""Run by tests/workers/test_cluster.py in a process of its own, with RAY_ADDRESS set: the app trains a tiny model on that
cluster through its pages (AppTest), then this prints what the test checks as one JSON line."""

import json
import sys
from pathlib import Path

import psutil
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.helpers import APP, TIMEOUT, train_tiny  # noqa: E402  (the same tiny training the page tests use)

at = AppTest.from_file(APP, default_timeout=TIMEOUT)
at.run()
train_tiny(at, steps=6)  # 16 units, batch 8, one epoch of 6 batches; waits until it ends
trainer = at.session_state["run"].trainer

from core.workers import cluster  # noqa: E402

me = psutil.Process()
mine = [p.name() for p in me.children(recursive=True)]
print(json.dumps({
    "status": trainer.progress().status, "message": trainer.progress().message, "step": trainer.progress().step,
    "embedded": cluster.embedded(),
    "peers": sorted({f"{c.raddr.ip.removeprefix('::ffff:')}:{c.raddr.port}" for c in me.net_connections("tcp") if c.raddr}),  # whom it talks to
    "own_ray_processes": [n for n in mine if n in ("gcs_server", "raylet") or n.startswith("ray::")],
}))

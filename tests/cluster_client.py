"""Run by tests/test_cluster.py in a process of its own, with RAY_ADDRESS set: the app trains a tiny model on that
cluster through its pages (AppTest), then this prints what the test checks as one JSON line."""

import json
import sys
import time
from pathlib import Path

import psutil
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
at.run()
at.switch_page("pages/model.py").run()
at.number_input(key="m_units").set_value(16).run()
at.number_input(key="m_batch").set_value(8).run()
at.switch_page("pages/train.py").run()
at.number_input(key="tr_epochs").set_value(1).run()
at.number_input(key="tr_steps").set_value(6).run()
at.button(key="tr_start").click().run()
trainer = at.session_state["run"].trainer
deadline = time.monotonic() + 240
while trainer.active() and time.monotonic() < deadline:
    time.sleep(0.2)

import ray  # noqa: E402  (after the app connected)

from core import cluster  # noqa: E402

mine = [p.name() for p in psutil.Process().children(recursive=True)]
print(json.dumps({
    "status": trainer.progress().status, "message": trainer.progress().message, "step": trainer.progress().step,
    "embedded": cluster.embedded(), "gcs": ray.get_runtime_context().gcs_address,
    "own_ray_processes": [n for n in mine if n in ("gcs_server", "raylet") or n.startswith("ray::")],
}))

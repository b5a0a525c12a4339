"""What AutoGraph costs a fresh process: a training worker's warm-up and its first real step, with and without it.

Every graph in core is compiled with `core.nn.tf.graph`, `tf.function` without AutoGraph (see core/nn/tf.py). This starts fresh processes, alternating
the code as it is and the code with AutoGraph forced back on, and in each times (process CPU) the worker's warm-up
(`core.workers.actor._warm_up`) and then the first step of a 16-unit model; it prints the medians and their ratio, and
checks that both give the same loss. The import of TensorFlow is not counted.

    .venv/bin/python bench/autograph.py [rounds]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
import core.nn.tf
from core.nn.tf import tf
if sys.argv[2] == "on":  # the code as it was: tf.function's default AutoGraph (before the modules below take `graph`)
    core.nn.tf.graph = tf.function
from core.config import ModelConfig, TrainConfig
from core.nn.language_model import build_model
from core.nn.train_step import make_train_step
from core.workers.actor import _warm_up
t = time.process_time()
_warm_up()
warm = time.process_time() - t
config = ModelConfig(vocab_size=40, embedding_dim=8, rnn_units=16, batch_size=8, seq_len=16)
step, _ = make_train_step(build_model(config), config, TrainConfig())
x = tf.zeros((8, 16), tf.int32)
loss = float(step(x, x)["loss"])
print(json.dumps({"warm_up": warm, "first_step": time.process_time() - t - warm, "loss": loss}))
"""


def run(mode: str) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), mode], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(rounds: int) -> None:
    got: dict[str, list[dict]] = {"on": [], "off": []}
    for _ in range(rounds):
        for mode in ("on", "off"):  # alternating, so a machine that slows down slows both
            got[mode].append(run(mode))
    assert len({r["loss"] for rows in got.values() for r in rows}) == 1, "AutoGraph changed the loss"
    for what in ("warm_up", "first_step"):
        on, off = (statistics.median(r[what] for r in got[m]) for m in ("on", "off"))
        print(f"{what:10}  AutoGraph on {on:5.2f} CPU-s   off {off:5.2f} CPU-s   off/on {off / on:.2f}x")
    total = [statistics.median(r["warm_up"] + r["first_step"] for r in got[m]) for m in ("on", "off")]
    print(f"{'both':10}  AutoGraph on {total[0]:5.2f} CPU-s   off {total[1]:5.2f} CPU-s   off/on {total[1] / total[0]:.2f}x"
          f"   ({rounds} rounds, medians)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)

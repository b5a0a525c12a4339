"""What a training's first step costs (tracing its graph, then TensorFlow preparing it), with the unrolled
recurrence's steps read from one Unpack op, against a strided slice per step as before.

Up to RNN_PLAYGROUND_UNROLL_MAX steps of a chunk are unrolled in the graph (core/nn/fused_rnn.py). Each step reads
its input row p_t, and going back its state h_t and incoming gradient dy_t. `p[t]` is a strided slice plus three
constants per step; `core.nn.fused_rnn._per_step` reads all steps of a tensor with one Unpack. This starts fresh
processes, alternating the code as it is and the code with `_per_step` returning the tensor itself (so that `p[t]`
slices again), and times (process CPU) the trace and the first call of a training step at the app's default
sequence length (64), then 100 more steps; it prints medians and ratios, and checks both give the same loss.

    .venv/bin/python bench/first_step.py [rounds] [units]
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
import json, sys, time
sys.path.insert(0, sys.argv[1])
import core.nn.fused_rnn
if sys.argv[2] == "slices":  # the code as it was: a strided slice per unrolled step
    core.nn.fused_rnn._per_step = lambda a, static: a
from core.config import ModelConfig, TrainConfig
from core.nn.language_model import build_model
from core.nn.tf import tf
from core.nn.train_step import make_train_step
from core.workers.actor import _warm_up
_warm_up()
units = int(sys.argv[3])
config = ModelConfig(vocab_size=65, embedding_dim=32, rnn_units=units, batch_size=32, seq_len=64)
x = tf.constant(tf.random.uniform((32, 64), 0, 65, tf.int32, seed=1))
step, _ = make_train_step(build_model(config), config, TrainConfig())
t = time.process_time()
step.get_concrete_function(x, x)
trace = time.process_time() - t
step(x, x)
first = time.process_time() - t - trace
t = time.process_time()
for _ in range(100):
    loss = step(x, x)["loss"]
print(json.dumps({"trace": trace, "first_call": first, "100_steps": time.process_time() - t, "loss": float(loss)}))
"""


def run(mode: str, units: int) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), mode, str(units)], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(rounds: int, units: int) -> None:
    got: dict[str, list[dict]] = {"slices": [], "unpack": []}
    for _ in range(rounds):
        for mode in got:  # alternating, so a machine that slows down slows both
            got[mode].append(run(mode, units))
    assert len({r["loss"] for rows in got.values() for r in rows}) == 1, "the two ways trained differently"
    print(f"{units} units, batch 32, 64 steps ({rounds} rounds, medians of process CPU)")
    for what in ("trace", "first_call", "100_steps"):
        old, new = (statistics.median(r[what] for r in got[m]) for m in got)
        print(f"{what:10}  slice per step {old:5.2f} CPU-s   one Unpack {new:5.2f} CPU-s   Unpack/slices {new / old:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5, int(sys.argv[2]) if len(sys.argv) > 2 else 128)

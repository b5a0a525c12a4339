"""Connectivity at the Article's sizes: 200 characters through 1,024 units, chunked copies against one chunk (every
copy reads the whole text) and against one backward pass per target. Medians of alternating runs, printed with ratios.

    .venv/bin/python bench/connectivity_speed.py [--length 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import ARTICLE  # noqa: E402
from core.inspection.connectivity import connectivity  # noqa: E402
from core.inspection.unroll import snapshot  # noqa: E402
from core.nn.language_model import build_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for cell in ("simple_rnn", "lstm", "gru"):
        config = replace(ARTICLE, vocab_size=80, cell=cell, stateful=False)
        snap = snapshot(build_model(config))
        ids = np.random.default_rng(0).integers(0, 80, args.length + 1)
        ways = {"chunks of 100": lambda: connectivity(snap, ids), "one chunk": lambda: connectivity(snap, ids, chunk=len(ids))}
        for f in ways.values():
            f()  # trace once
        times = {k: [] for k in ways}
        for _ in range(args.repeats):
            for k, f in ways.items():
                t0 = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"{cell:10} {args.length} tokens, 1,024 units: chunks of 100 {med['chunks of 100']:.2f} s, one chunk "
              f"{med['one chunk']:.2f} s (ratio {med['one chunk'] / med['chunks of 100']:.2f})")


if __name__ == "__main__":
    main()

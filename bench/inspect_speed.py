"""How long the inspection views take at the Article's size (vocab 65, embedding 256, 1024 units).

Prints cold times (the first call per cell type, which traces the tf.function) and warm medians.
Run: .venv/bin/python bench/inspect_speed.py [--cells simple_rnn lstm gru] [--repeats 5] [--eig]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from core import inspect as I  # noqa: E402
from core import lab as L  # noqa: E402
from core.config import ARTICLE, CELLS  # noqa: E402
from core.nn.language_model import build_model  # noqa: E402


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=CELLS)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--eig", action="store_true", help="also time the recurrent-kernel eigenvalues")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    ids_h = rng.integers(0, ARTICLE.vocab_size, 200)  # 200 characters
    ids_g = rng.integers(0, ARTICLE.vocab_size, 101)  # 100 input steps + 1 target
    print(f"vocab {ARTICLE.vocab_size}, embedding {ARTICLE.embedding_dim}, units {ARTICLE.rnn_units}, "
          f"stateful batch {ARTICLE.batch_size}; medians of {args.repeats} warm runs")
    print(f"{'cell':<11}{'what':<26}{'cold s':>8}{'warm s':>8}")
    for cell in args.cells:
        model = build_model(replace(ARTICLE, cell=cell))
        jobs = [("hidden_states 200 chars", I.hidden_states, ids_h), ("gradient_norms 100 steps", I.gradient_norms, ids_g),
                ("snapshot (weight copy)", lambda m, _: I.snapshot(m), None)]
        for name, fn, ids in jobs:
            cold = timed(fn, model, ids)
            warm = statistics.median(timed(fn, model, ids) for _ in range(args.repeats))
            print(f"{cell:<11}{name:<26}{cold:>8.3f}{warm:>8.3f}")
        if args.eig:
            cold = timed(L.recurrent_eigenvalues, model)
            warm = timed(L.recurrent_eigenvalues, model)  # cached by the kernel's bytes
            print(f"{cell:<11}{'eigenvalues (cached 2nd)':<26}{cold:>8.3f}{warm:>8.3f}")


if __name__ == "__main__":
    main()

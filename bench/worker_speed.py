"""Training speed in a Ray worker against the same trainer in this process, and what moving weights costs.

Runs the Article preset's model (embedding 256, 1,024 units, batch 64, sequence 100) on the prose sample for a
fixed number of steps, alternating in-process and in a warm worker, and prints the medians of the trainer's
own tokens/s and their ratio. Then times fetching the worker's weights (what Generate and the inspection
pages ask for while a model trains) at that size.

    .venv/bin/python bench/worker_speed.py
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.workers import cluster, pool  # noqa: E402
from core.config import ARTICLE, ARTICLE_TRAIN  # noqa: E402
from core.nn.language_model import build_model  # noqa: E402
from core.workers.remote_trainer import RemoteTrainer  # noqa: E402
from core.text.samples import load_sample  # noqa: E402
from core.text.vocabulary import Vocabulary  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

STEPS = 40


def rate(trainer) -> float:
    """Start, wait for STEPS steps, and return the trainer's own tokens/s (last 30 steps, as the page shows)."""
    trainer.start()
    deadline = time.monotonic() + 600
    while trainer.progress().step < STEPS and time.monotonic() < deadline:
        time.sleep(0.05)
    r = trainer.progress().tokens_per_s
    trainer.stop()
    trainer.join(60)
    return r


def main() -> None:
    text = load_sample("prose.txt").text
    vocab = Vocabulary.build(text)
    ids = vocab.encode(text)
    config = replace(ARTICLE, vocab_size=len(vocab))
    train = replace(ARTICLE_TRAIN, sample_length=0, grad_curve_len=0)
    pool.workers()
    time.sleep(20)  # let the warm workers finish starting
    here, there = [], []
    for _ in range(3):
        here.append(rate(Trainer(build_model(config), config, train, ids, vocab)))
        there.append(rate(RemoteTrainer(build_model(config), config, train, ids, vocab)))
    h, t = statistics.median(here), statistics.median(there)
    print(f"Article model (E256 U1024 B64 S100), {STEPS} steps, medians of 3 alternating runs")
    print(f"| where | tokens/s | × in-process |\n|---|---|---|\n| in this process | {h:,.0f} | 1.00 |\n| Ray worker | {t:,.0f} | {t / h:.2f} |")

    far = RemoteTrainer(build_model(config), config, replace(train, epochs=1000), ids, vocab)
    far.start()
    while far.progress().step < 3:
        time.sleep(0.05)
    fetches = []
    for _ in range(5):
        t0 = time.perf_counter()
        with far.holding_model():
            pass
        fetches.append(time.perf_counter() - t0)
    far.stop()
    far.join(60)
    mb = sum(w.nbytes for w in far.model.get_weights()) / 2**20
    print(f"Fetching the training worker's weights ({mb:.0f} MB) into the server's model: median {statistics.median(fetches) * 1000:.0f} ms")
    cluster.shutdown()


if __name__ == "__main__":
    main()

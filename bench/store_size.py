"""How much disk one run takes in the run store, at the reference sizes and at the Quick demo's.

Records a run of each model through the real recorder (the checkpoints a training keeps, and its history rows)
into a fresh data folder, then prints the bytes on disk by part. Sizes only: nothing here is timed.

    .venv/bin/python bench/store_size.py [--steps 1480]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import ARTICLE, ARTICLE_TRAIN, QUICK_DEMO, QUICK_DEMO_TRAIN  # noqa: E402
from core.nn.language_model import build_model, count_params  # noqa: E402
from core.training.progress import History  # noqa: E402
from core.runs.recorder import Recorder  # noqa: E402
from core.workers.remote_trainer import RemoteTrainer  # noqa: E402
from core.runs.reopen import vocab_json  # noqa: E402
from core.text.samples import load_sample  # noqa: E402
from core.runs.sqlite_store import Limits, RunStore  # noqa: E402
from core.text.vocabulary import Vocabulary  # noqa: E402
from core.training.checkpoint import Checkpoint  # noqa: E402


def folder_bytes(folder: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in folder.glob(pattern) if p.is_file())


def record(name: str, config, train, steps: int, epochs: int, text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(tmp, Limits(runs=10, megabytes=10**6, keep=Limits.keep))
        ws = store.create_workspace()
        base = folder_bytes(Path(tmp), "store.sqlite*")
        vocab = Vocabulary(tuple(f"t{i}" for i in range(config.vocab_size)), "word", (1,) * config.vocab_size)
        run = store.create_run(ws, name, store.put_text(text), "sample", config, train, vocab_json(vocab))
        model = build_model(config)
        trainer = RemoteTrainer(model, config, train, np.zeros(20_000, np.int32), vocab)
        trainer.active = lambda: True  # a training under way, as far as the recorder can tell
        rec = Recorder(store, every_s=3600)
        rec.track(run, trainer, ws)
        h, rng = History(), np.random.default_rng(0)
        per_epoch = steps // epochs
        for epoch in range(1, epochs + 1):  # an epoch's rows, its validation point and sample, then its checkpoint
            for s in range((epoch - 1) * per_epoch + 1, epoch * per_epoch + 1):
                h.add_step(s, rng.random() * 4, rng.random(), rng.random(3), s * 0.05)
            h.val_steps.append(epoch * per_epoch), h.val_loss.append(1.0), h.val_accuracy.append(0.5)
            h.samples.append((epoch, "x" * train.sample_length)), h.grad_curves.append((epoch, rng.random(100)))
            trainer.restore(h, None, "running", "")
            trainer.checkpoint = Checkpoint(tuple(model.get_weights()), (epoch, 0), epoch * per_epoch, epoch * 5.0)
            rec.flush()
            assert rec.error is None, rec.error
        store._sql("PRAGMA wal_checkpoint(TRUNCATE)")  # the write-ahead log is reused, not kept: count the database itself
        weights = folder_bytes(Path(tmp) / "weights" / str(run), "*.keras")
        one = weights / len(store.weights(ws, run))
        db = folder_bytes(Path(tmp), "store.sqlite*") - base
        print(f"{name}: {count_params(config):,} parameters, {steps:,} steps over {epochs} epochs")
        print(f"  one .keras checkpoint   {one / 2**20:9.2f} MiB  (float32 weights: {count_params(config) * 4 / 2**20:.2f} MiB)")
        print(f"  {len(store.weights(ws, run))} kept checkpoints     {weights / 2**20:9.2f} MiB")
        print(f"  database (history, text, settings) {db / 2**20:6.2f} MiB  ({db / steps:.0f} bytes per step, text {len(text.encode()) / 2**10:.0f} KiB)")
        print(f"  whole run               {(weights + db) / 2**20:9.2f} MiB;  store.usage() says {store.usage(ws) / 2**20:.2f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1480, help="training steps recorded per run (the Quick demo's 1,480)")
    args = parser.parse_args()
    text = load_sample("prose.txt").text
    record("Reference (article) sizes", replace(ARTICLE, vocab_size=10_000), replace(ARTICLE_TRAIN, epochs=20), args.steps, 20, text)
    record("Quick demo", replace(QUICK_DEMO, vocab_size=65), QUICK_DEMO_TRAIN, args.steps, 20, text)


if __name__ == "__main__":
    main()

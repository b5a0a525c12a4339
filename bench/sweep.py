"""A sweep of 16 trials of the Quick demo (learning rate × units) on Ray Tune, with ASHA and without.

Prints the wall time of each sweep and the best validation loss each found, on the app's default sample text, with
the app's own embedded Ray (two training slots on this 2-core machine). Each trial trains the Quick demo's 20 epochs
of 100 batches (both sweeps take about three minutes on 2 cores; `--epochs` and `--steps` make them shorter).

    .venv/bin/python bench/sweep.py [--epochs 20] [--steps 100]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import QUICK_DEMO, QUICK_DEMO_TRAIN  # noqa: E402
from core.sweeps.plan import make_spec, plan  # noqa: E402
from core.text.samples import load_sample  # noqa: E402
from core.text.vocabulary import Vocabulary  # noqa: E402
from core.workers import cluster  # noqa: E402
from core.workers.sweep import Asha, SweepRunner, TrialTrainer  # noqa: E402

SPACE = {"learning_rate": "0.0003..0.03:4", "units": "32, 64, 128, 256"}


def run(trials, ids, vocab, asha) -> tuple[float, float, int, int]:
    """(wall seconds, best validation loss, trials stopped early, epochs trained in all) of one sweep."""
    trainers = [TrialTrainer(t.index, t.label(), t.model, t.train, ids, vocab) for t in trials]
    runner = SweepRunner(trainers, ids, vocab, asha=asha)
    started = time.monotonic()
    runner.start()
    runner.join()
    wall = time.monotonic() - started
    assert runner.status == "finished", runner.message
    best = min(min(t.progress().val_loss) for t in trainers if t.progress().val_loss)
    early = sum(t.progress().message.startswith("Stopped early") for t in trainers)
    return wall, best, early, sum(len(t.progress().val_loss) for t in trainers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=QUICK_DEMO_TRAIN.epochs)
    parser.add_argument("--steps", type=int, default=QUICK_DEMO_TRAIN.max_steps_per_epoch)
    args = parser.parse_args()
    text = load_sample("prose.txt").text  # the app's default sample (ui.session.DEFAULT_SAMPLE)
    vocab = Vocabulary.build(text)
    ids = vocab.encode(text)
    spec = make_spec(SPACE, epochs=args.epochs)
    trials = plan(spec, replace(QUICK_DEMO, vocab_size=len(vocab)),
                  replace(QUICK_DEMO_TRAIN, max_steps_per_epoch=args.steps), 32)
    print(f"{len(trials)} trials of the Quick demo ({', '.join(SPACE)}), {args.epochs} epochs of {args.steps} batches each")
    cluster.connect()
    rows = []
    for name, asha in (("ASHA", Asha()), ("every trial to the end", None)):
        wall, best, early, epochs = run(trials, ids, vocab, asha)
        rows.append((name, wall, best, early, epochs))
        print(f"{name}: {wall:.1f} s, best validation loss {best:.4f}, {early} stopped early, {epochs} epochs trained")
    (_, wa, ba, *_), (_, wf, bf, *_) = rows
    print(f"\n| sweep | wall time | best val. loss | stopped early | epochs trained |\n|---|---|---|---|---|")
    for name, wall, best, early, epochs in rows:
        print(f"| {name} | {wall:.1f} s | {best:.4f} | {early} of {len(trials)} | {epochs} |")
    print(f"\nASHA took {wa / wf:.0%} of the time; its best is {100 * (ba - bf) / bf:+.2f}% from the exhaustive best.")
    cluster.shutdown()


if __name__ == "__main__":
    main()

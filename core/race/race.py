"""The long-range race: a SimpleRNN and an LSTM of the same size learn to copy a key seen 10 to 60 steps back.

The text is sample_texts/long_range.txt, one task per line, `K:FILLER>K` (see make_samples.py): only the
key K at the start of a line predicts the character after ">". Each model reads whole lines from a zero
state and its loss is the cross-entropy of that one character: with the usual next-character loss the
key is 1 character in ~38 and its gradient drowns in the unpredictable filler, so a minute teaches
neither model anything. Both models train in ONE background thread of a worker process (`core.workers.actor`;
the server's side is `core.workers.client.RemoteRace`), one step each in turn on the same lines, so they get the
same number of steps; the thread publishes immutable `RaceProgress` snapshots and never touches Streamlit. Scoring asks for the copied key on held-out lines, grouped by lag; the
task itself (keys, batches, scoring, the key-only train step) is in `core.race.task`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

import numpy as np

from core.config import ModelConfig
from core.race.task import GRAD_MIN_LAG, key_accuracy, key_targets, line_batch, make_key_step, mean_gradient_curve
from core.text.vocabulary import Vocabulary
from core.training.background import BackgroundJob
from core.training.pace import ALIVE_EVERY_S

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RaceConfig:
    """Settings of the race; both models share them, so only the cell differs."""

    cells: tuple[str, ...] = ("simple_rnn", "lstm")  # the contestants
    units: int = 64  # hidden units of each model
    embedding_dim: int = 16  # embedding size of each model
    batch_size: int = 32  # lines per step
    learning_rate: float = 0.005  # Adam's step size
    clip_norm: float = 1.0  # gradient clipping, so an exploding SimpleRNN does not blow up
    steps: int = 1500  # steps per model (about 30 s for both on 2 cores)
    budget_s: float = 75.0  # but stop after this many seconds of training, whatever the step
    eval_every: int = 100  # steps between measurements of the key accuracy
    eval_lines: int = 400  # held-out lines scored (taken from the end of the text)
    grad_lines: int = 16  # held-out lines with lag >= GRAD_MIN_LAG averaged for the gradient-vs-lag curve
    seed: int = 42  # initializers and the order of the training lines


@dataclass(frozen=True)
class RaceProgress:
    """One snapshot of the race for the page."""

    status: str = "idle"  # idle, waiting, running, finished, stopped, failed
    message: str = ""
    elapsed_s: float = 0.0  # training seconds so far (scoring excluded)
    budget_s: float = 0.0  # the most training seconds
    steps: int = 0  # the planned steps per model
    step: int = 0  # steps per model so far
    evals: tuple[tuple[int, Mapping[str, np.ndarray]], ...] = ()  # (step, cell -> accuracy per LAG_BINS entry)
    grads: Mapping[str, Mapping[str, np.ndarray]] = field(default_factory=dict)  # "before"/"after" -> cell -> mean ||dL/dh_t||, time order

    @property
    def active(self) -> bool:
        return self.status in ("waiting", "running")

    def accuracy_curves(self) -> tuple[list[int], dict[str, list[float]]]:
        """(steps, cell -> mean key accuracy over the lag ranges at each step), for a line chart."""
        cells = self.evals[0][1] if self.evals else {}
        return [s for s, _ in self.evals], {c: [float(np.nanmean(a[c])) for _, a in self.evals] for c in cells}


class Race(BackgroundJob):
    """Trains the cells of `config` side by side on `text` in one background thread.

    Args:
        text: the long-range sample text.
        config: sizes, budget and seed.
        keep_alive: called every few seconds; returning False stops the race (the session is gone).
    """

    def __init__(self, text: str, config: RaceConfig = RaceConfig(), keep_alive: Callable[[], bool] | None = None):
        super().__init__(keep_alive)
        self.config = config
        self.vocab = Vocabulary.build(text, "char")
        self.ids = self.vocab.encode(text)
        positions, lags = key_targets(text)
        if len(positions) < 8:
            raise ValueError("This text has fewer than 8 `K:FILLER>K` lines; use sample_texts/long_range.txt.")
        n_eval = min(config.eval_lines, len(positions) // 4)
        self.train_pos, self.train_lags = positions[:-n_eval], lags[:-n_eval]
        self.eval_pos, self.eval_lags = positions[-n_eval:], lags[-n_eval:]
        self._progress = RaceProgress(budget_s=config.budget_s, steps=config.steps)

    def progress(self) -> RaceProgress:
        return self._progress

    def start(self) -> None:
        """Run the race in a daemon thread (once)."""
        if self._thread is None:
            self._progress = replace(self._progress, status="running", message="Building the models…")
            self._launch(self.run, "rnn-race")

    def run(self) -> None:
        """The race itself; `start` runs it in a thread, tests may call it directly."""
        self._guarded(self._race, self._failed)

    def _failed(self, err: Exception) -> None:
        self._progress = replace(self._progress, status="failed", message=f"The race failed: {type(err).__name__}: {err}")

    def _score(self, models: dict, step: int, grads: str | None = None) -> None:
        accs = {c: key_accuracy(m, self.ids, self.eval_pos, self.eval_lags) for c, m in models.items()}
        p = self._progress
        earlier = p.evals[:-1] if p.evals and p.evals[-1][0] == step else p.evals  # one point per step
        changes = dict(evals=earlier + ((step, accs),))
        if grads:
            long = np.flatnonzero(self.eval_lags >= min(GRAD_MIN_LAG, self.eval_lags.max()))[: self.config.grad_lines]
            curves = {c: mean_gradient_curve(m, self.ids, self.eval_pos[long], self.eval_lags[long]) for c, m in models.items()}
            changes["grads"] = {**p.grads, grads: curves}
        self._progress = replace(p, **changes)

    def _race(self) -> None:
        from core.nn.language_model import build_model
        from core.nn.tf import tf

        cfg = self.config
        self._progress = replace(self._progress, status="running", message="Building the models…")
        base = ModelConfig(vocab_size=len(self.vocab), embedding_dim=cfg.embedding_dim, rnn_units=cfg.units,
                           stateful=False, seed=cfg.seed)
        models = {cell: build_model(replace(base, cell=cell)) for cell in cfg.cells}
        steps = {c: make_key_step(m, cfg.learning_rate, cfg.clip_norm) for c, m in models.items()}
        self._score(models, 0, grads="before")
        self._progress = replace(self._progress, message="")
        rng = np.random.default_rng(cfg.seed)
        elapsed, step, last_alive = 0.0, 0, time.monotonic()
        while elapsed < cfg.budget_s and step < cfg.steps and not self._stop.is_set():
            if time.monotonic() - last_alive > ALIVE_EVERY_S:
                last_alive = time.monotonic()
                if self._stop_if_unwatched():
                    break
            pick = rng.integers(0, len(self.train_pos), cfg.batch_size)
            batch = [tf.constant(a) for a in line_batch(self.ids, self.train_pos[pick], self.train_lags[pick])]
            started = time.monotonic()
            for fn in steps.values():
                float(fn(*batch))  # waits for the step, so `elapsed` is its time
            elapsed += time.monotonic() - started
            step += 1
            if step % cfg.eval_every == 0 and step < cfg.steps:
                self._score(models, step)
            self._progress = replace(self._progress, step=step, elapsed_s=elapsed)
        stopped = self._stop.is_set() or self._stop_if_unwatched()
        if not stopped:
            self._progress = replace(self._progress, message="Scoring the held-out lines…")
            self._score(models, step, grads="after")
        message = "Stopped." if stopped else "" if step >= cfg.steps else f"(stopped at the {cfg.budget_s:.0f} s limit)"
        self._progress = replace(self._progress, status="stopped" if stopped else "finished", message=message)

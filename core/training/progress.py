"""What a training run reports: one immutable snapshot for the pages, built from an append-only history.

Publishing a snapshot costs the same at step 10 and at step 100,000: the history's columns are NumPy
buffers that only ever grow at the end, and a snapshot holds read-only views of their first n rows.
Rows below n are never written again, so a view stays true after the worker appends more; when a
buffer is full it is copied once into one twice as large, and older views keep the old buffer alive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

STOPPED_BY_YOU = "Stopped by you. The weights so far are kept; Start continues from here."
TAB_CLOSED = "Stopped because the browser tab was closed."
DIVERGE_AFTER = 30  # steps a training has to bring its loss below guessing before `Progress.divergence` speaks
STATUSES = ("idle", "waiting", "running", "paused", "finished", "stopped", "failed", "lost")  # `lost`: the worker died

_EMPTY = np.zeros(0)
_EMPTY.flags.writeable = False


def _empty(width: int = 0):
    return field(default_factory=lambda: _EMPTY.reshape(0, width) if width else _EMPTY)


@dataclass(frozen=True, eq=False)
class Progress:
    """One immutable snapshot of a training run; pages draw from it and never change it."""

    status: str = "idle"  # one of STATUSES
    message: str = ""  # a sentence for the page (why it stopped, what to try)
    step: int = 0  # batches trained so far
    total_steps: int = 0  # batches in the whole run
    epoch: int = 0  # the current epoch, from 1
    epochs: int = 0
    steps_per_epoch: int = 0
    tokens_per_s: float = 0.0
    eta_s: float | None = None
    elapsed_s: float = 0.0
    steps: np.ndarray = _empty()  # (n,) step number of each recorded training point
    loss: np.ndarray = _empty()  # (n,)
    accuracy: np.ndarray = _empty()  # (n,)
    seconds: np.ndarray = _empty()  # (n,) training seconds (pauses excluded) when each point was recorded
    layer_norms: np.ndarray = _empty()  # (n, layers) gradient norm per layer at each recorded step
    val_steps: tuple[int, ...] = ()  # step at which each validation point was taken (epoch ends)
    val_loss: tuple[float, ...] = ()
    val_accuracy: tuple[float, ...] = ()
    layer_names: tuple[str, ...] = ()
    samples: tuple[tuple[int, str], ...] = ()  # (epoch, generated text) at each epoch end
    grad_curves: tuple[tuple[int, np.ndarray], ...] = ()  # (epoch, ||dL/dh_t|| by step) at each epoch end
    fast_path: bool = False  # whether the fused SimpleRNN path trains this model
    version: int = 0  # grows with every publish; equal versions mean equal snapshots

    @property
    def perplexity(self) -> float | None:
        """exp(last training loss): how many tokens the model is choosing between, on average."""
        return math.exp(min(float(self.loss[-1]), 700)) if len(self.loss) else None  # 700: exp() overflows past 709

    def average_rate(self, per_step: int) -> float:
        """The run's average speed so far: `per_step` (tokens, or a forecaster's values) times the steps trained, per
        second of training (pauses and epoch ends left out); 0 before any training time."""
        return self.step * per_step / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def divergence(self, vocab_size: int) -> str | None:
        """A sentence while the training loss, over its last points, is above what guessing scores (ln V: every token
        equally likely), once it has had DIVERGE_AFTER steps to fall: the learning rate is too high for the model (a
        loss of 83 ended with "Training finished." and nothing more). None while it is below."""
        guess = math.log(max(vocab_size, 2))
        recent = self.loss[-20:]
        if self.step < DIVERGE_AFTER or not len(recent) or not np.all(np.isfinite(recent)):
            return None
        now = float(np.mean(recent))
        if now <= guess + 0.5:
            return None
        return (f"Over its last steps the loss averaged {now:,.1f}, above the {guess:.2f} that guessing scores (every one "
                f"of the {vocab_size:,} tokens equally likely): the training diverged. Lower the learning rate (0.003 "
                "suits most models here) or clip the gradient norm (5 is the default), then train again.")


class Column:
    """An append-only float64 column (rows of `width` numbers, or scalars when width is 0)."""

    def __init__(self, width: int = 0, capacity: int = 256):
        self._buf = np.zeros((capacity, width) if width else capacity)
        self.n = 0

    def append(self, value) -> None:
        if self.n == len(self._buf):
            grown = np.zeros((2 * len(self._buf), *self._buf.shape[1:]))
            grown[: self.n] = self._buf
            self._buf = grown
        self._buf[self.n] = value
        self.n += 1

    def view(self, n: int | None = None) -> np.ndarray:
        """A read-only view of the first `n` rows (all by default); later appends never change it."""
        v = self._buf[: self.n if n is None else n]
        v.flags.writeable = False
        return v

    def truncate(self, n: int) -> None:
        """Forget the rows from `n` on (only before any view of them is handed out again)."""
        self._buf = self._buf.copy()  # views already handed out keep the old rows
        self.n = min(self.n, n)


@dataclass
class History:
    """What a run records; one thread appends, and snapshots share its rows (see the module docstring)."""

    steps: Column = field(default_factory=Column)
    loss: Column = field(default_factory=Column)
    accuracy: Column = field(default_factory=Column)
    seconds: Column = field(default_factory=Column)
    layer_norms: Column | None = None  # made on the first row, when the number of layers is known
    val_steps: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    samples: list = field(default_factory=list)
    grad_curves: list = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.steps.n

    def add_step(self, step: int, loss: float, accuracy: float, norms, seconds: float) -> None:
        """Record one training step (`steps` last: a reader takes n from it first)."""
        if self.layer_norms is None:
            self.layer_norms = Column(width=len(norms))
        self.layer_norms.append(norms)
        self.loss.append(loss)
        self.accuracy.append(accuracy)
        self.seconds.append(seconds)
        self.steps.append(step)

    def add_rows(self, rows: dict) -> None:
        """Append rows as `rows_since` gives them (from a worker, or from the run store)."""
        for row in zip(rows["steps"], rows["loss"], rows["accuracy"], rows["norms"], rows["seconds"]):
            self.add_step(*row)

    def rows_since(self, start: int, n: int) -> dict:
        """Copies of rows start..n, to send across a process boundary."""
        norms = self.layer_norms.view(n)[start:] if self.layer_norms is not None else np.zeros((0, 0))
        return dict(steps=self.steps.view(n)[start:].copy(), loss=self.loss.view(n)[start:].copy(),
                    accuracy=self.accuracy.view(n)[start:].copy(), seconds=self.seconds.view(n)[start:].copy(),
                    norms=norms.copy())

    def truncate(self, step: int) -> None:
        """Forget every record after `step` (a lost worker's steps past its last saved epoch end)."""
        keep = int(np.searchsorted(self.steps.view(), step, side="right"))
        for col in (self.steps, self.loss, self.accuracy, self.seconds, self.layer_norms):
            if col is not None:
                col.truncate(keep)
        kept = sum(1 for s in self.val_steps if s <= step)
        del self.val_steps[kept:], self.val_loss[kept:], self.val_accuracy[kept:]

    def snapshot_fields(self) -> dict:
        """The history part of a `Progress`: views of the rows so far, and copies of the short lists."""
        n = self.rows
        return dict(
            steps=self.steps.view(n), loss=self.loss.view(n), accuracy=self.accuracy.view(n), seconds=self.seconds.view(n),
            layer_norms=self.layer_norms.view(n) if self.layer_norms is not None else _EMPTY,
            val_steps=tuple(self.val_steps), val_loss=tuple(self.val_loss), val_accuracy=tuple(self.val_accuracy),
            samples=tuple(self.samples), grad_curves=tuple(self.grad_curves),
        )

"""The training loop every trainer shares, in a background thread, publishing immutable progress snapshots.

Only the training thread publishes: `pause`, `resume`, `step` and `stop` record a request, and the thread says
what became of it. A subclass says what it learns from (`_make_step`, `_batches`, `_epoch_start`); the work at
each epoch end comes in as callbacks (`core.training.epoch_end`), so the loop knows neither sampling nor inspection.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import replace
from typing import Callable, Sequence

import numpy as np

from core.config import TrainConfig
from core.nn.language_model import reset_states
from core.training.background import BackgroundJob
from core.training.checkpoint import Checkpoint, capture, restore
from core.training.pace import PUBLISH_EVERY_S, Pace
from core.training.progress import STOPPED_BY_YOU, History, Progress

SNAPSHOT_EVERY_STEPS = 25  # how often the last good weights are copied, for recovery from a NaN loss
__all__ = ["PUBLISH_EVERY_S", "SNAPSHOT_EVERY_STEPS", "TrainingLoop"]


class TrainingLoop(BackgroundJob):
    """The thread that steps a model through its epochs (see the module docstring); subclasses build it."""

    def _begin(self, model, config, train: TrainConfig, keep_alive, resume: Checkpoint | None, per_epoch: int,
               epoch_end: Sequence[Callable]) -> None:
        """The state every training has, whatever it learns from."""
        super().__init__(keep_alive)
        self.model, self.config, self.train = model, config, train
        self._lock = threading.Lock()  # held during each step and epoch end: the model is not thread-safe
        self.steps_per_epoch = per_epoch
        self._epoch_work = tuple(epoch_end)
        self._resume_from = resume
        self._position = resume.position if resume else (0, 0)  # (epoch, batch) where the next step starts
        self._elapsed = resume.elapsed_s if resume else 0.0  # seconds spent training, pauses excluded
        self._step = resume.step if resume else 0
        self._progress = Progress(epochs=train.epochs, steps_per_epoch=per_epoch, total_steps=per_epoch * train.epochs,
                                  step=self._step, epoch=self._position[0])
        self.history = History()  # appended by the training thread only
        self.checkpoint: Checkpoint | None = None  # the latest epoch end (or the final state once stopped)
        self._step_fn = self._optimizer = self._good_weights = None
        self._steps_left = 0  # batches asked for one at a time (`step`) and not trained yet: pause when none is left
        self._steps_lock = threading.Lock()
        # called by the training thread after each epoch's end (its work, checkpoint and snapshot), outside the model
        # lock; training goes on when it returns (a sweep's trial waits there for Ray Tune's judgement)
        self.between_epochs: Callable[[int, History], None] | None = None
        self._pace = Pace()

    # ---- requests (any thread): they record what is wanted; the training thread publishes the result ----

    def progress(self) -> Progress:
        """The latest snapshot."""
        return self._progress

    def start(self) -> None:
        """Start training in a background thread (once)."""
        if self._thread is None:
            self._launch(self._run, "rnn-trainer")

    def step(self) -> None:
        """Train exactly one more batch, then pause again (asked while paused; each call is one batch more)."""
        with self._steps_lock:
            self._steps_left += 1
            self._resume.set()

    def stop(self, message: str = STOPPED_BY_YOU) -> None:
        """Ask the thread to stop after the current step (a paused one too); the weights are kept."""
        super().stop(message)
        self._resume.set()

    def weights(self) -> list[np.ndarray]:
        """The model's weights now, never halfway through an optimizer step."""
        with self._lock:
            return self.model.get_weights()

    # ---- the training thread ----
    def _publish(self, **changes) -> None:
        changes = dict(step=self._step, elapsed_s=self._elapsed) | changes
        self._progress = replace(self._progress, **self.history.snapshot_fields(), version=self._progress.version + 1, **changes)

    def _run(self) -> None:
        try:
            self._guarded(self._train, lambda err: self._publish(status="failed", message=f"Training failed: {type(err).__name__}: {err}"))
        finally:
            self._save(final=True)

    def _save(self, final: bool = False) -> None:
        """Record a checkpoint of the weights and position (with the optimizer's state when `final`)."""
        if self._step_fn is None:
            return
        version = self.checkpoint.version + 1 if self.checkpoint else 1
        with self._lock:  # after a NaN the weights are the restored good ones
            self.checkpoint = capture(self.model, self._optimizer, self._position, self._step, self._elapsed, version, final)

    def _setup(self) -> None:
        from core.nn.train_step import layer_groups

        self._step_fn, self._optimizer, fast = self._make_step()
        if self._resume_from is not None:
            restore(self.model, self._optimizer, self._resume_from)
        names, _ = layer_groups(self.model)
        self._publish(layer_names=tuple(names), fast_path=fast)
        self._good_weights = self.model.get_weights()

    def _wait_while_paused(self) -> bool:
        """Block while a pause is requested, saying so; True when training went on after a pause."""
        if self._resume.is_set():
            return False
        self._save(final=True)  # a paused run's weights and moments are ready to be fetched
        self._publish(status="paused", message="Paused. Resume to continue from this step.", tokens_per_s=0.0)
        self._resume.wait()
        if not self._stop.is_set():
            self._publish(status="running", message="")
        return True

    def _train(self) -> None:
        self._publish(status="running", message="Preparing the compiled train step…")
        self._setup()
        start_epoch, start_batch = self._position
        self._pace = self._clock()
        self._publish(status="running", message="")
        for epoch in range(start_epoch, self.train.epochs):
            if not self._train_epoch(epoch, start_batch):
                return
            start_batch = 0
            self._end_epoch(epoch)
            if self.between_epochs is not None:
                self.between_epochs(epoch + 1, self.history)
        self._publish(status="finished", message="Training finished.", eta_s=0.0, tokens_per_s=0.0)

    def _train_epoch(self, epoch: int, start_batch: int) -> bool:
        """The batches of one epoch from `start_batch`; False when the training ended inside it (a stop, a NaN)."""
        if start_batch == 0:
            self._epoch_start()
        for b, (x, y) in enumerate(self._batches(epoch)):
            if b >= self.steps_per_epoch:
                break
            if b < start_batch:
                continue
            self._position = (epoch, b)
            if self._wait_while_paused():
                self._pace.interrupted()
            if self._stopping():
                self._publish(status="stopped", message=self._stop_message, tokens_per_s=0.0)
                return False
            if not self._train_step(epoch, b, x, y):
                return False
            self._report(epoch, b)
        return True

    def _stopping(self) -> bool:
        """True once a stop was asked for (asking `keep_alive` every 2 s whether anyone still watches)."""
        if self._pace.alive_check_due():
            self._stop_if_unwatched()
        return self._stop.is_set()

    def _train_step(self, epoch: int, b: int, x, y) -> bool:
        """Train batch `b` and record it; False when the loss is not finite (the last good weights are then back)."""
        from core.nn.tf import tf

        started = time.monotonic()
        with self._lock:
            out = self._step_fn(tf.constant(x), tf.constant(y))
            loss, acc = float(out["loss"]), float(out["accuracy"])
            norms = out["layer_norms"].numpy()
        if not (math.isfinite(loss) and np.all(np.isfinite(norms))):
            self._recover_from_nan(epoch, b, loss)
            return False
        self._step += 1
        self._position = (epoch, b + 1)
        now = time.monotonic()
        self._elapsed += now - started
        self._pace.stepped(started, now)
        self.history.add_step(self._step, loss, acc, norms, self._elapsed)
        with self._steps_lock:
            if self._steps_left:  # asked for one at a time: pause after the last (the page redraws everything)
                self._steps_left -= 1
                if not self._steps_left:
                    self._resume.clear()
        if self._step % SNAPSHOT_EVERY_STEPS == 0:
            with self._lock:
                self._good_weights = self.model.get_weights()
        return True

    def _report(self, epoch: int, b: int) -> None:
        """Publish the speed and the time left, every PUBLISH_EVERY_S and at the epoch's last batch."""
        if not self._pace.publish_due(b + 1 == self.steps_per_epoch):
            return
        per_step = self._pace.per_step_s()  # None until measured: no speed and no time left rather than a wrong one
        ends_left = self.train.epochs - epoch  # this epoch's end included
        left = (self._progress.total_steps - self._step) * per_step + ends_left * self._pace.epoch_end_s if per_step else None
        self._publish(status="running", epoch=epoch + 1, tokens_per_s=self.tokens_per_step / per_step if per_step else 0.0,
                      eta_s=left)

    def _end_epoch(self, epoch: int) -> None:
        """After epoch `epoch`'s last batch (from 0): the epoch-end work, then a checkpoint."""
        self._position = (epoch + 1, 0)
        with self._lock:
            self._good_weights = self.model.get_weights()
        ended = time.monotonic()
        self._epoch_end(epoch + 1)
        self._save()
        self._pace.epoch_end_s = time.monotonic() - ended
        self._pace.interrupted()

    def _epoch_end(self, epoch: int) -> None:
        """The epoch-end callbacks, under the model lock, then a snapshot for the page."""
        with self._lock:
            for work in self._epoch_work:
                work(self.model, epoch, self._step, self.history)
        self._publish(epoch=epoch)

    def _recover_from_nan(self, epoch: int, batch: int, loss: float) -> None:
        """Put back the last good weights and explain what to change."""
        with self._lock:
            self.model.set_weights(self._good_weights)
            reset_states(self.model)
        self._publish(
            status="failed",
            message=(
                f"Training stopped at epoch {epoch + 1}, batch {batch + 1}: the loss became {loss} (not a finite number). "
                f"The last good weights were restored. Try a learning rate 10× lower than {self.train.learning_rate:g}, "
                "turn gradient clipping on (e.g. 1.0), or use tanh instead of relu."
            ),
        )

    # ---- what a subclass says: the compiled step, the batches, what an epoch's start resets ----
    def _make_step(self):
        """(step, optimizer, fast): the compiled train step, its optimizer, and whether the fused path runs it."""
        raise NotImplementedError

    def _batches(self, epoch: int):
        """The (inputs, targets) batches of one epoch."""
        raise NotImplementedError

    def _epoch_start(self) -> None:
        """Before an epoch's first batch (nothing by default)."""

    def _clock(self) -> Pace:
        return Pace(PUBLISH_EVERY_S)

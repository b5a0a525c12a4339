"""Training in a background thread that publishes immutable progress snapshots.

The trainer reports; the page decides how to show it. It never touches Streamlit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import replace
from typing import Callable

import numpy as np

from core.config import ModelConfig, TrainConfig
from core.data import num_batches, split, stateful_batches
from core.model import reset_states
from core.progress import Progress, History
from core.slots import max_trainings, training_slot, trainings_running
from core.text import Vocabulary


SNAPSHOT_EVERY_STEPS = 25  # how often the last good weights are copied, for recovery from a NaN loss
PUBLISH_EVERY_S = 0.2


class Trainer:
    """Trains a model from `build_model` in a background thread.

    Args:
        model: the Keras model to train (its weights change in place).
        config: the model's settings.
        train: optimizer, epochs, clipping and the rest.
        ids: the token ids of the whole text; validation comes from its end.
        vocab: the vocabulary, for the samples generated at each epoch end.
        keep_alive: called every few seconds; returning False stops training (the session is gone).
    """

    def __init__(
        self,
        model,
        config: ModelConfig,
        train: TrainConfig,
        ids: np.ndarray,
        vocab: Vocabulary,
        keep_alive: Callable[[], bool] | None = None,
    ):
        self.model, self.config, self.train, self.vocab = model, config, train, vocab
        self.train_ids, self.val_ids = split(np.asarray(ids, np.int32), train.val_fraction, config.batch_size, config.seq_len)
        self.keep_alive = keep_alive
        self.lock = threading.Lock()  # held during each step; take it to use the model from another thread
        per_epoch = num_batches(len(self.train_ids), config.batch_size, config.seq_len)
        self.steps_per_epoch = min(per_epoch, train.max_steps_per_epoch) if train.max_steps_per_epoch else per_epoch
        self._progress = Progress(epochs=train.epochs, steps_per_epoch=self.steps_per_epoch, total_steps=self.steps_per_epoch * train.epochs)
        self._history = History()
        self._thread: threading.Thread | None = None
        self._resume = threading.Event()
        self._resume.set()
        self._stop = threading.Event()
        self._position = (0, 0)  # (epoch, batch) where the next step starts
        self._step_fn = None
        self._evaluator = None
        self._good_weights = None
        self._elapsed = 0.0  # seconds spent training, pauses excluded
        self._stop_message = "Stopped."

    # ---- control (any thread) ----
    def progress(self) -> Progress:
        """The latest snapshot."""
        return self._progress

    def start(self) -> None:
        """Start training, or continue after `stop` from where it stopped."""
        if self._thread is not None and self._thread.is_alive():
            return
        if self._progress.status in ("finished", "failed"):
            return
        self._stop.clear()
        self._resume.set()
        self._publish(status="waiting", message="Waiting for a free training slot…")
        self._thread = threading.Thread(target=self._run, name="rnn-trainer", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        if self._progress.status in ("running", "waiting"):
            self._resume.clear()
            self._publish(status="paused", message="Paused. Resume to continue from this step.")

    def resume(self) -> None:
        if self._progress.status == "paused":
            self._publish(status="running", message="")
            self._resume.set()

    def stop(self, message: str = "Stopped by you. The weights so far are kept; Start continues from here.") -> None:
        """Ask the thread to stop after the current step; the weights are kept."""
        self._stop_message = message
        self._stop.set()
        self._resume.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    # ---- the worker ----
    def _publish(self, **changes) -> None:
        h = self._history
        self._progress = replace(
            self._progress,
            steps=tuple(h.steps), loss=tuple(h.loss), accuracy=tuple(h.accuracy),
            val_steps=tuple(h.val_steps), val_loss=tuple(h.val_loss), val_accuracy=tuple(h.val_accuracy),
            layer_norms=tuple(h.layer_norms), samples=tuple(h.samples), grad_curves=tuple(h.grad_curves),
            **changes,
        )

    def _alive(self) -> bool:
        try:
            return self.keep_alive is None or bool(self.keep_alive())
        except Exception:  # a broken callback must not keep a thread alive forever
            return False

    def _run(self) -> None:
        def keep_waiting() -> bool:
            return not self._stop.is_set() and self._alive()

        def on_wait() -> None:
            self._publish(
                status="waiting",
                message=f"The server is busy: {trainings_running()} of {max_trainings()} trainings are running. "
                "Yours starts as soon as one finishes.",
            )

        with training_slot(keep_waiting, on_wait) as holding:
            if not holding:
                self._publish(status="stopped", message=self._stop_message)
                return
            try:
                self._train()
            except Exception as err:  # report, never crash the server
                self._publish(status="failed", message=f"Training failed: {type(err).__name__}: {err}")

    def _setup(self) -> None:
        from core.step import Evaluator, fast_path_available, layer_groups, make_train_step

        if self._step_fn is None:
            fast = fast_path_available(self.config)
            self._step_fn, _ = make_train_step(self.model, self.config, self.train, fast=fast)
            names, _ = layer_groups(self.model)
            self._publish(layer_names=tuple(names), fast_path=fast)
        if self._evaluator is None and len(self.val_ids) > 1:
            self._evaluator = Evaluator(self.config, self.val_ids)
        if self._good_weights is None:
            self._good_weights = self.model.get_weights()

    def _train(self) -> None:
        from core.tf import tf

        self._publish(status="running", message="Preparing the compiled train step…")
        self._setup()
        cfg, tr = self.config, self.train
        tokens_per_step = cfg.batch_size * cfg.seq_len
        start_epoch, start_batch = self._position
        last_publish = last_alive = time.monotonic()
        recent: deque[float] = deque(maxlen=30)  # wall time of each of the last steps, pauses and epoch ends left out
        prev_end = None  # when the previous step finished; None after a pause or an epoch end
        epoch_end_s = 0.0  # how long the last epoch end (validation, sample, gradient curve) took
        step = start_epoch * self.steps_per_epoch + start_batch
        self._publish(status="running", message="")
        for epoch in range(start_epoch, tr.epochs):
            if start_batch == 0 and cfg.stateful:
                reset_states(self.model)  # each epoch reads the lanes from their start
            batches = stateful_batches(self.train_ids, cfg.batch_size, cfg.seq_len, cfg.stateful, cfg.seed + epoch)
            for b, (x, y) in enumerate(batches):
                if b >= self.steps_per_epoch:
                    break
                if b < start_batch:
                    continue
                if not self._resume.is_set():
                    self._resume.wait()
                    prev_end = None
                now = time.monotonic()
                if now - last_alive > 2:
                    last_alive = now
                    if not self._alive():
                        self.stop("Stopped because the browser tab was closed.")
                if self._stop.is_set():
                    self._position = (epoch, b)
                    self._publish(status="stopped", message=self._stop_message, step=step, elapsed_s=self._elapsed)
                    return
                started = time.monotonic()
                with self.lock:
                    out = self._step_fn(tf.constant(x), tf.constant(y))
                    loss, acc = float(out["loss"]), float(out["accuracy"])
                    norms = out["layer_norms"].numpy()
                if not (math.isfinite(loss) and np.all(np.isfinite(norms))):
                    self._recover_from_nan(epoch, b, loss)
                    return
                step += 1
                now = time.monotonic()
                self._elapsed += now - started
                recent.append(now - (started if prev_end is None else prev_end))
                prev_end = now
                h = self._history
                h.steps.append(step), h.loss.append(loss), h.accuracy.append(acc)
                h.layer_norms.append(tuple(float(n) for n in norms))
                if step % SNAPSHOT_EVERY_STEPS == 0:
                    self._good_weights = self.model.get_weights()
                if now - last_publish >= PUBLISH_EVERY_S or b + 1 == self.steps_per_epoch:
                    last_publish = now
                    per_step = sum(recent) / len(recent)
                    ends_left = tr.epochs - epoch  # this epoch's end included
                    self._publish(
                        status="running" if self._resume.is_set() else "paused",
                        step=step, epoch=epoch + 1, tokens_per_s=tokens_per_step / per_step, elapsed_s=self._elapsed,
                        eta_s=(self._progress.total_steps - step) * per_step + ends_left * epoch_end_s,
                    )
            start_batch = 0
            self._position = (epoch + 1, 0)
            self._good_weights = self.model.get_weights()
            ended = time.monotonic()
            self._epoch_end(epoch + 1, step)
            epoch_end_s, prev_end = time.monotonic() - ended, None
        self._publish(status="finished", message="Training finished.", step=step, eta_s=0.0)

    def _epoch_end(self, epoch: int, step: int) -> None:
        """Validation loss, a generated sample and the gradient-vs-lag curve, recorded for the page."""
        h, tr = self._history, self.train
        with self.lock:
            if self._evaluator is not None:
                vl, va = self._evaluator(self.model)
                h.val_steps.append(step), h.val_loss.append(vl), h.val_accuracy.append(va)
            if tr.sample_length:
                from core.generate import generate

                prompt = self.vocab.decode(self.train_ids[:1])
                sample = generate(self.model, self.vocab, prompt, tr.sample_length, tr.sample_temperature, seed=self.config.seed + epoch)
                h.samples.append((epoch, sample.prompt + sample.text))
            if tr.grad_curve_len:
                try:
                    from core.inspect import gradient_norms
                except ImportError:
                    gradient_norms = None
                if gradient_norms is not None:
                    ids = self.train_ids[: tr.grad_curve_len + 1]
                    h.grad_curves.append((epoch, gradient_norms(self.model, ids)))
        self._publish(epoch=epoch, step=step)

    def _recover_from_nan(self, epoch: int, batch: int, loss: float) -> None:
        """Put back the last good weights and explain what to change."""
        if self._good_weights is not None:
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

"""Training in a background thread of a worker process, publishing immutable progress snapshots.

The trainer reports; the page decides how to show it. It never touches Streamlit. In the app it runs
inside a Ray worker (`core.workers.actor`); tests also run it in-process. Only the training thread publishes:
`pause`, `resume` and `stop` record a request, and the thread says what became of it.
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
from core.text.batches import contiguous_batches, shuffled_batches, split
from core.nn.language_model import reset_states, rnn_layers
from core.training.checkpoint import Checkpoint
from core.training.plan import steps_per_epoch
from core.training.progress import STOPPED_BY_YOU, TAB_CLOSED, History, Progress
from core.text.vocabulary import Vocabulary

SNAPSHOT_EVERY_STEPS = 25  # how often the last good weights are copied, for recovery from a NaN loss
PUBLISH_EVERY_S = 0.2


def _carried_states(model) -> list:
    """The state variables of the model's stateful recurrent layers, bottom first."""
    return [v for layer in rnn_layers(model) if getattr(layer, "stateful", False) for v in layer.states]


class Trainer:
    """Trains a model from `build_model` in a background thread.

    Args:
        model: the Keras model to train (its weights change in place).
        config: the model's settings.
        train: optimizer, epochs, clipping and the rest.
        ids: the token ids of the whole text; validation comes from its end.
        vocab: the vocabulary, for the samples generated at each epoch end.
        keep_alive: called every few seconds; returning False stops training (the session is gone).
        resume: a `Checkpoint` to continue from (weights, optimizer state, position); None starts afresh.
    """

    def __init__(self, model, config: ModelConfig, train: TrainConfig, ids: np.ndarray, vocab: Vocabulary,
                 keep_alive: Callable[[], bool] | None = None, resume: Checkpoint | None = None):
        self.vocab = vocab
        self.train_ids, self.val_ids = split(np.asarray(ids, np.int32), train.val_fraction, config.batch_size, config.seq_len)
        self._begin(model, config, train, keep_alive, resume, steps_per_epoch(self.train_ids, config, train))
        self.tokens_per_step = config.batch_size * config.seq_len

    def _begin(self, model, config, train: TrainConfig, keep_alive, resume: Checkpoint | None, per_epoch: int) -> None:
        """The state every training has, whatever it learns from."""
        self.model, self.config, self.train = model, config, train
        self.keep_alive = keep_alive
        self._lock = threading.Lock()  # held during each step and epoch end: the model is not thread-safe
        self.steps_per_epoch = per_epoch
        self._resume_from = resume
        step = resume.step if resume else 0
        self._position = resume.position if resume else (0, 0)  # (epoch, batch) where the next step starts
        self._elapsed = resume.elapsed_s if resume else 0.0  # seconds spent training, pauses excluded
        self._step = step
        self._progress = Progress(epochs=train.epochs, steps_per_epoch=per_epoch, total_steps=per_epoch * train.epochs,
                                  step=step, epoch=self._position[0])
        self.history = History()  # appended by the training thread only
        self.checkpoint: Checkpoint | None = None  # the latest epoch end (or the final state once stopped)
        self._thread: threading.Thread | None = None
        self._resume = threading.Event()
        self._resume.set()
        self._stop = threading.Event()
        self._step_fn = self._optimizer = self._evaluator = self._good_weights = None
        self._steps_left = 0  # batches asked for one at a time (`step`) and not trained yet: pause when none is left
        self._steps_lock = threading.Lock()
        self._stop_message = STOPPED_BY_YOU

    # ---- requests (any thread): they record what is wanted; the training thread publishes the result ----
    def progress(self) -> Progress:
        """The latest snapshot."""
        return self._progress

    def start(self) -> None:
        """Start training in a background thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="rnn-trainer", daemon=True)
            self._thread.start()

    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def step(self) -> None:
        """Train exactly one more batch, then pause again (asked while paused; each call is one batch more)."""
        with self._steps_lock:
            self._steps_left += 1
            self._resume.set()

    def stop(self, message: str = STOPPED_BY_YOU) -> None:
        """Ask the thread to stop after the current step; the weights are kept."""
        self._stop_message = message
        self._stop.set()
        self._resume.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def weights(self) -> list[np.ndarray]:
        """The model's weights now, never halfway through an optimizer step."""
        with self._lock:
            return self.model.get_weights()

    # ---- the training thread ----
    def _publish(self, **changes) -> None:
        changes = dict(step=self._step, elapsed_s=self._elapsed) | changes
        self._progress = replace(self._progress, **self.history.snapshot_fields(), version=self._progress.version + 1, **changes)

    def _alive(self) -> bool:
        try:
            return self.keep_alive is None or bool(self.keep_alive())
        except Exception:  # a broken callback must not keep a thread alive forever
            return False

    def _run(self) -> None:
        try:
            self._train()
        except Exception as err:  # report, never crash the worker
            self._publish(status="failed", message=f"Training failed: {type(err).__name__}: {err}")
        finally:
            self._save(final=True)

    def _save(self, final: bool = False) -> None:
        """Record a checkpoint of the weights and position (with the optimizer's state when `final`)."""
        if self._step_fn is None:
            return
        with self._lock:
            weights = self.model.get_weights()  # after a NaN these are the restored good ones
            optimizer = tuple(v.numpy() for v in self._optimizer.variables) if final else None
            carried = tuple(v.numpy() for v in _carried_states(self.model)) if self._position[1] else ()
        version = self.checkpoint.version + 1 if self.checkpoint else 1
        self.checkpoint = Checkpoint(tuple(weights), self._position, self._step, self._elapsed, optimizer, version, carried)

    def _setup(self) -> None:
        from core.nn.train_step import layer_groups

        self._step_fn, self._optimizer, fast = self._make_step()
        r = self._resume_from
        if r is not None:
            self.model.set_weights(list(r.weights))
            for var, value in zip(self._optimizer.variables, r.optimizer or ()):
                var.assign(value)
            for var, value in zip(_carried_states(self.model), r.carried):  # mid-epoch: go on with the same memory
                var.assign(value)
        names, _ = layer_groups(self.model)
        self._publish(layer_names=tuple(names), fast_path=fast)
        self._good_weights = self.model.get_weights()

    def _make_step(self):
        """(step, optimizer, fast): the compiled train step of this model, and whether the fused path runs it."""
        from core.nn.train_step import fast_path_available, make_train_step

        fast = fast_path_available(self.config)
        return (*make_train_step(self.model, self.config, self.train, fast=fast), fast)

    def _batches(self, epoch: int):
        """The (inputs, targets) batches of one epoch."""
        cfg = self.config
        if cfg.stateful:
            return contiguous_batches(self.train_ids, cfg.batch_size, cfg.seq_len)
        return shuffled_batches(self.train_ids, cfg.batch_size, cfg.seq_len, cfg.seed + epoch)

    def _epoch_start(self) -> None:
        """Before an epoch's first batch: a stateful model reads the streams from their start."""
        if self.config.stateful:
            reset_states(self.model)

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
        from core.nn.tf import tf

        self._publish(status="running", message="Preparing the compiled train step…")
        self._setup()
        tr = self.train
        start_epoch, start_batch = self._position
        last_publish = last_alive = time.monotonic()
        recent: deque[float] = deque(maxlen=30)  # wall time of each of the last steps, pauses and epoch ends left out
        prev_end = None  # when the previous step finished; None after a pause or an epoch end
        epoch_end_s = 0.0  # how long the last epoch end (validation, sample, gradient curve) took
        self._publish(status="running", message="")
        for epoch in range(start_epoch, tr.epochs):
            if start_batch == 0:
                self._epoch_start()
            for b, (x, y) in enumerate(self._batches(epoch)):
                if b >= self.steps_per_epoch:
                    break
                if b < start_batch:
                    continue
                self._position = (epoch, b)
                if self._wait_while_paused():
                    prev_end = None
                now = time.monotonic()
                if now - last_alive > 2:
                    last_alive = now
                    if not self._alive():
                        self.stop(TAB_CLOSED)
                if self._stop.is_set():
                    self._publish(status="stopped", message=self._stop_message, tokens_per_s=0.0)
                    return
                started = time.monotonic()
                with self._lock:
                    out = self._step_fn(tf.constant(x), tf.constant(y))
                    loss, acc = float(out["loss"]), float(out["accuracy"])
                    norms = out["layer_norms"].numpy()
                if not (math.isfinite(loss) and np.all(np.isfinite(norms))):
                    self._recover_from_nan(epoch, b, loss)
                    return
                self._step += 1
                self._position = (epoch, b + 1)
                now = time.monotonic()
                self._elapsed += now - started
                recent.append(now - (started if prev_end is None else prev_end))
                prev_end = now
                self.history.add_step(self._step, loss, acc, norms, self._elapsed)
                with self._steps_lock:
                    if self._steps_left:  # asked for one at a time: pause after the last (the page redraws everything)
                        self._steps_left -= 1
                        if not self._steps_left:
                            self._resume.clear()
                if self._step % SNAPSHOT_EVERY_STEPS == 0:
                    with self._lock:
                        self._good_weights = self.model.get_weights()
                if now - last_publish >= PUBLISH_EVERY_S or b + 1 == self.steps_per_epoch:
                    last_publish = now
                    per_step = sum(recent) / len(recent)
                    ends_left = tr.epochs - epoch  # this epoch's end included
                    self._publish(
                        status="running", epoch=epoch + 1, tokens_per_s=self.tokens_per_step / per_step,
                        eta_s=(self._progress.total_steps - self._step) * per_step + ends_left * epoch_end_s,
                    )
            start_batch = 0
            self._position = (epoch + 1, 0)
            with self._lock:
                self._good_weights = self.model.get_weights()
            ended = time.monotonic()
            self._epoch_end(epoch + 1)
            self._save()
            epoch_end_s, prev_end = time.monotonic() - ended, None
        self._publish(status="finished", message="Training finished.", eta_s=0.0, tokens_per_s=0.0)

    def _epoch_end(self, epoch: int) -> None:
        """Validation loss, a generated sample and the gradient-vs-lag curve, recorded for the page."""
        from core.nn.train_step import Evaluator

        h, tr = self.history, self.train
        if self._evaluator is None and len(self.val_ids) > 1:
            self._evaluator = Evaluator(self.config, self.val_ids)  # built here, so it never delays the first step
        with self._lock:
            if self._evaluator is not None:
                vl, va = self._evaluator(self.model)
                h.val_steps.append(self._step), h.val_loss.append(vl), h.val_accuracy.append(va)
            if tr.sample_length:
                from core.nn.generate import generate

                prompt = self.vocab.decode(self.train_ids[:1])
                sample = generate(self.model, self.vocab, prompt, tr.sample_length, tr.sample_temperature, seed=self.config.seed + epoch)
                h.samples.append((epoch, sample.prompt + sample.text))
            if tr.grad_curve_len:
                from core.inspection.unroll import gradient_norms

                ids = self.train_ids[: tr.grad_curve_len + 1]
                h.grad_curves.append((epoch, gradient_norms(self.model, ids)))
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

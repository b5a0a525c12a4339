"""A training in a worker process, as the web server sees it (see `core.workers.client` for the shared machinery).

The server keeps its own copy of the model, with the weights of the latest epoch end (or of the moment the
training paused or stopped), for Generate and the inspection pages, and fetches the weights of the moment
when they are asked for. Everything else it knows comes from the worker's progress deltas.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable

import numpy as np

from core.workers.cluster import ClusterError
from core.config import ModelConfig, TrainConfig
from core.training.progress import History, Progress
from core.workers.client import ALIVE_EVERY_S, POLL_S, RemoteJob, WorkerLost, call_worker
from core.text.vocabulary import Vocabulary
from core.training.plan import planned
from core.workers.messages import LOST, Checkpoint, SeriesJob, TrainJob
from core.workers.pool import WEIGHTS_GROUP

log = logging.getLogger(__name__)


class RemoteTrainer(RemoteJob):
    """A training of `model`'s settings in a worker process; the same requests as `core.training.trainer.Trainer`.

    Args:
        model: the server's copy of the model; it receives the weights at epoch ends, pauses and stops.
        config, train, ids, vocab: as for `core.training.trainer.Trainer`.
        keep_alive: called every few seconds; returning False stops training (the session is gone).
    """

    def __init__(self, model, config: ModelConfig, train: TrainConfig, ids: np.ndarray, vocab: Vocabulary,
                 keep_alive: Callable[[], bool] | None = None):
        self.vocab, self.ids = vocab, np.asarray(ids, np.int32)
        self._begin(model, config, train, keep_alive, planned(config, train, self.ids))
        self.tokens_per_step = config.batch_size * config.seq_len

    def _begin(self, model, config, train: TrainConfig, keep_alive, plan: Progress) -> None:
        """The state every remote training has, whatever it learns from."""
        super().__init__(keep_alive)
        self.model, self.config, self.train = model, config, train
        self.history = History()
        self.checkpoint: Checkpoint | None = None  # where the next Start continues from
        self.weights_version = 0  # grows whenever the server's model gets new weights
        self._model_lock = threading.Lock()
        self._progress = plan

    def _job(self, paused: bool) -> TrainJob:
        """What the worker is sent: settings, data and the checkpoint to start from."""
        return TrainJob(self.config, self.train, self.ids, self.vocab, self.checkpoint, paused, self._job_id or "")

    def fresh_model(self):
        """A new model of this training's architecture (for writing its checkpoints)."""
        from core.nn.language_model import build_model

        return build_model(self.config)

    def restore(self, history: History, checkpoint: Checkpoint | None, status: str, message: str, **shown) -> None:
        """Take up a stored run: its history, and the checkpoint the server's model already holds (Start continues
        from it; None starts from the model's weights at step 0). `shown`: more `Progress` fields to show."""
        self.history, self.checkpoint = history, checkpoint
        at = checkpoint or Checkpoint((), (0, 0), 0, 0.0)
        self._publish(status=status, message=message, step=at.step, epoch=at.position[0], elapsed_s=at.elapsed_s, **shown)

    def progress(self) -> Progress:
        """The latest snapshot."""
        return self._progress

    def _publish(self, base: Progress | None = None, **changes) -> None:
        base = base or self._progress
        self._progress = replace(base, **self.history.snapshot_fields(), version=self._progress.version + 1, **changes)

    @contextmanager
    def holding_model(self, latest: bool = True):
        """The server's model, held so no weights change while the block uses it.

        Args:
            latest: while a worker trains, first fetch its weights of this moment (else those of the last epoch end).
        """
        actor, job_id = self._current_worker()
        if latest and actor is not None and self._progress.status == "running":
            try:  # on its own thread in the worker: a slow step delays this answer, never the polls (N7)
                ref = actor.weights.options(concurrency_group=WEIGHTS_GROUP).remote(job_id)
                self._set_weights(call_worker(ref, timeout=30))  # None from a worker that has moved on (N6)
            except WorkerLost:
                log.warning("No weights from the worker within 30 s; the last epoch end's are used", exc_info=True)
        with self._model_lock:
            yield self.model

    def _set_weights(self, weights) -> None:
        if weights is None:
            return
        with self._model_lock:
            self.model.set_weights(list(weights))
            self.weights_version += 1

    def _eta_s(self) -> float | None:
        return self._progress.eta_s

    def _planned_s(self) -> float | None:
        return self._progress.eta_s  # a stopped run's time left; None before its first run has an estimate

    def _on_wait(self, message: str) -> None:
        if self._resume.is_set():
            self._publish(status="waiting", message=message)
        else:
            self._publish(status="paused", message="Paused before it started. Resume, and it starts when a worker is free.")

    def _run_once(self) -> None:
        self._on_wait("Waiting for a free training slot…")
        try:
            with self._worker(self._on_wait) as actor:
                if actor is None:
                    self._publish(status="stopped", message=self._stop_message)
                    return
                self._train_on(actor)
        except WorkerLost as err:
            log.warning("A training's worker was lost: %s", err)
            self._worker_lost(err)
        except ClusterError as err:  # Ray could not start or be reached: its sentence says what to do
            log.exception("A training could not reach Ray")
            self._publish(status="failed", message=str(err))
        except Exception as err:  # any other fault: a sentence for the page, the traceback in the log
            log.exception("A training could not run")
            self._publish(status="failed", message=f"Training could not run: {type(err).__name__}: {err}")

    def _train_on(self, actor) -> None:
        paused = not self._resume.is_set()
        if self.checkpoint is None:  # the server's model may hold trained weights (a rebuilt twin): start from them
            with self._model_lock:
                self.checkpoint = Checkpoint(tuple(self.model.get_weights()), (0, 0), 0, 0.0)
        call_worker(actor.train.remote(self._job(paused)))
        base = self._counts()  # what earlier jobs recorded
        seen = 0  # the newest checkpoint version of this job received so far
        stop_sent, last_alive = False, time.monotonic()
        while True:
            if self._resume.is_set() == paused:
                paused = not paused
                actor.request.remote("pause" if paused else "resume")
            if self.steps_asked > self._steps_sent and paused:
                self._steps_sent += 1
                actor.request.remote("step")
            if time.monotonic() - last_alive > ALIVE_EVERY_S:
                last_alive = time.monotonic()
                self._stop_if_unwatched()
            if self._stop.is_set() and not stop_sent:
                stop_sent = True
                actor.request.remote("stop", self._stop_message)
            delta = call_worker(actor.poll.remote(*(now - before for now, before in zip(self._counts(), base)), seen))
            if delta.checkpoint is not None:
                seen = delta.checkpoint.version
            if not self._merge(delta):
                return
            time.sleep(POLL_S)

    def _counts(self) -> tuple[int, int, int, int]:
        """(training rows, validation points, samples, gradient curves) in the history."""
        history = self.history
        return history.rows, len(history.val_steps), len(history.samples), len(history.grad_curves)

    def _merge(self, delta) -> bool:
        """Add a worker's delta to the history and publish; False once the worker's run has ended."""
        history = self.history
        history.add_rows(delta.rows)
        val_steps, val_loss, val_accuracy = delta.val
        history.val_steps.extend(val_steps), history.val_loss.extend(val_loss), history.val_accuracy.extend(val_accuracy)
        history.samples.extend(delta.samples), history.grad_curves.extend(delta.grad_curves)
        if delta.checkpoint is not None:
            self._set_weights(delta.checkpoint.weights)
            self.checkpoint = delta.checkpoint
        status = delta.progress.status
        if status == "idle":  # the worker has the job but its thread has not published yet
            status = "running" if delta.alive else "stopped"
        self._publish(delta.progress, status=status)
        return delta.alive

    def _worker_lost(self, err: WorkerLost) -> None:
        """Go back to the last checkpoint the server holds (an epoch end, a pause, or the start), and say so."""
        ckpt = self.checkpoint  # set before the job was sent, so a worker can only be lost with one in place
        self.history.truncate(ckpt.step)
        self._set_weights(ckpt.weights)
        where = f"the end of epoch {ckpt.position[0]}" if ckpt.position[1] == 0 else "where it last paused"
        kept = (f"Your model keeps the weights of step {ckpt.step:,} ({where})."
                if ckpt.step else "It had not finished an epoch, so the model goes back to the weights it started with.")
        self._publish(status=LOST, step=ckpt.step, epoch=ckpt.position[0], tokens_per_s=0.0,
                      message=f"The training worker stopped unexpectedly ({err}). {kept} Press Start training to continue "
                              "from there; other sessions are not affected.")


class RemoteSeriesTrainer(RemoteTrainer):
    """A forecaster's training (`core.forecast.trainer`) in a worker; the same requests and snapshots as `RemoteTrainer`.

    Args:
        model: the server's copy of the forecaster.
        config, window, train, data: as for `core.forecast.trainer.SeriesTrainer`.
        keep_alive: as for `RemoteTrainer`.
    """

    def __init__(self, model, config, window, train: TrainConfig, data, keep_alive: Callable[[], bool] | None = None):
        from core.forecast.trainer import series_planned

        self.window, self.data = window, data
        self._begin(model, config, train, keep_alive, series_planned(config, train, data))
        self.tokens_per_step = config.batch_size * window.lookback

    def _job(self, paused: bool):
        return SeriesJob(self.config, self.window, self.train, self.data, self.checkpoint, paused, self._job_id or "")

    def fresh_model(self):
        from core.forecast.model import build_series_model

        return build_series_model(self.config, self.window)

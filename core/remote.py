"""The web server's side of a training: it waits for a slot and a worker, forwards requests, and
merges the worker's progress into one snapshot for the pages.

One thread per training does all of this, and it alone publishes; the UI thread only records what the
user asked for (start, pause, resume, stop). Its cost in the server is one ~1 ms call every
`POLL_S`, never a training step. The server keeps its own copy of the model, with the weights of the
latest epoch end (or of the moment training paused or stopped), for Generate and the inspection pages.
"""

from __future__ import annotations

import itertools
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Iterator

import numpy as np

from core.cluster import ClusterError
from core.config import ModelConfig, TrainConfig
from core.progress import History, Progress
from core.slots import max_trainings, training_slot, trainings_running
from core.text import Vocabulary
from core.trainer import STOPPED_BY_YOU, Checkpoint, planned
from core.worker import TrainJob

POLL_S = 0.2  # how often a running training's progress is fetched from its worker
CALL_TIMEOUT_S = 60  # a worker that does not answer a poll for this long is taken for lost
ALIVE_EVERY_S = 2  # how often the session is asked whether it is still open
_IDS = itertools.count(1)


class WorkerLost(RuntimeError):
    """The worker process ended in the middle of a job."""


class _Job:
    """What a training and a race share: the request flags, the thread, a slot and a worker."""

    def __init__(self, keep_alive: Callable[[], bool] | None):
        self.keep_alive = keep_alive
        self.uid = next(_IDS)  # unique in this server, for caches (an `id()` can be reused)
        self._requests = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False  # Start was pressed while the last run was stopping
        self._stop = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._stop_message = STOPPED_BY_YOU
        self._actor = None
        self.runs = 0  # how many times it was started (each Start after a stop is one more)

    def active(self) -> bool:
        """True from Start until the run's last snapshot is published."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start, or continue after a stop; pressed while a stop is under way, it starts again after it."""
        with self._requests:
            if self.active():
                self._again = self._again or self._stop.is_set()
                return
            self._again = True
            self._thread = threading.Thread(target=self._loop, name=f"rnn-{type(self).__name__.lower()}", daemon=True)
            self._thread.start()

    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def stop(self, message: str = STOPPED_BY_YOU) -> None:
        """Ask the run to stop after the current step; the weights so far are kept."""
        with self._requests:
            self._again = False
            self._stop_message = message
            self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._requests:
                if not self._again:
                    self._thread = None  # from here on a Start begins a new thread
                    return
                self._again = False
                self._stop.clear()
                self.runs += 1
            self._run_once()

    def _alive(self) -> bool:
        try:
            return self.keep_alive is None or bool(self.keep_alive())
        except Exception:  # a broken callback must not keep a training alive forever
            return False

    def _keep_waiting(self) -> bool:
        return not self._stop.is_set() and self._alive()

    @contextmanager
    def _worker(self, on_wait: Callable[[str], None]) -> Iterator[object | None]:
        """Hold a training slot and a warm worker for the block; yields None when the wait was given up."""
        from core import cluster

        def slot_wait() -> None:
            on_wait(f"The server is busy: {trainings_running()} of {max_trainings()} trainings are running. "
                    "Yours starts as soon as one finishes.")

        with training_slot(self._keep_waiting, slot_wait) as holding:
            if not holding:
                yield None
                return
            workers = cluster.pool()
            actor = workers.acquire(self._keep_waiting, on_wait)
            if actor is None:
                yield None
                return
            self._actor = actor
            try:
                yield actor
            except WorkerLost:
                workers.discard(actor)
                raise
            else:
                workers.release(actor)
            finally:
                self._actor = None

    def _run_once(self) -> None:
        raise NotImplementedError


def _call(ref, timeout: float = CALL_TIMEOUT_S):
    """ray.get with the worker's death (or silence) turned into `WorkerLost`."""
    import ray
    from ray.exceptions import GetTimeoutError, RayError

    try:
        return ray.get(ref, timeout=timeout)
    except GetTimeoutError:
        raise WorkerLost(f"the worker did not answer for {timeout:.0f} s") from None
    except RayError as err:
        raise WorkerLost(str(err).splitlines()[0][:200]) from None


class RemoteTrainer(_Job):
    """A training of `model`'s settings in a worker process; the same requests as `core.trainer.Trainer`.

    Args:
        model: the server's copy of the model; it receives the weights at epoch ends, pauses and stops.
        config, train, ids, vocab: as for `core.trainer.Trainer`.
        keep_alive: called every few seconds; returning False stops training (the session is gone).
    """

    def __init__(self, model, config: ModelConfig, train: TrainConfig, ids: np.ndarray, vocab: Vocabulary,
                 keep_alive: Callable[[], bool] | None = None):
        super().__init__(keep_alive)
        self.model, self.config, self.train, self.vocab = model, config, train, vocab
        self.ids = np.asarray(ids, np.int32)
        self.history = History()
        self.checkpoint: Checkpoint | None = None  # where the next Start continues from
        self.weights_version = 0  # grows whenever the server's model gets new weights
        self._model_lock = threading.Lock()
        self._progress = planned(config, train, self.ids)

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
        actor = self._actor
        if latest and actor is not None and self._progress.status == "running":
            try:
                self._set_weights(_call(actor.weights.remote(), timeout=30))
            except WorkerLost:
                pass  # the training thread reports it; the epoch-end weights stay
        with self._model_lock:
            yield self.model

    def _set_weights(self, weights) -> None:
        if weights is None:
            return
        with self._model_lock:
            self.model.set_weights(list(weights))
            self.weights_version += 1

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
            self._worker_lost(err)
        except ClusterError as err:  # Ray could not start or be reached: its sentence says what to do
            self._publish(status="failed", message=str(err))
        except Exception as err:  # any other fault: a sentence, never a traceback
            self._publish(status="failed", message=f"Training could not run: {type(err).__name__}: {err}")

    def _train_on(self, actor) -> None:
        paused = not self._resume.is_set()
        if self.checkpoint is None:  # the server's model may hold trained weights (a rebuilt twin): start from them
            with self._model_lock:
                self.checkpoint = Checkpoint(tuple(self.model.get_weights()), (0, 0), 0, 0.0)
        _call(actor.train.remote(TrainJob(self.config, self.train, self.ids, self.vocab, self.checkpoint, paused)))
        h = self.history
        base = (h.rows, len(h.val_steps), len(h.samples), len(h.grad_curves))  # what earlier jobs recorded
        seen = 0  # the newest checkpoint version of this job received so far
        stop_sent, last_alive = False, time.monotonic()
        while True:
            if self._resume.is_set() == paused:
                paused = not paused
                actor.request.remote("pause" if paused else "resume")
            if time.monotonic() - last_alive > ALIVE_EVERY_S:
                last_alive = time.monotonic()
                if not self._alive():
                    self.stop("Stopped because the browser tab was closed.")
            if self._stop.is_set() and not stop_sent:
                stop_sent = True
                actor.request.remote("stop", self._stop_message)
            counts = (h.rows, len(h.val_steps), len(h.samples), len(h.grad_curves))
            delta = _call(actor.poll.remote(*(c - b for c, b in zip(counts, base)), seen))
            if delta.checkpoint is not None:
                seen = delta.checkpoint.version
            if not self._merge(delta):
                return
            time.sleep(POLL_S)

    def _merge(self, delta) -> bool:
        """Add a worker's delta to the history and publish; False once the worker's run has ended."""
        h, r = self.history, delta.rows
        h.add_rows(r["steps"], r["loss"], r["accuracy"], r["norms"])
        vs, vl, va = delta.val
        h.val_steps.extend(vs), h.val_loss.extend(vl), h.val_accuracy.extend(va)
        h.samples.extend(delta.samples), h.grad_curves.extend(delta.grad_curves)
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
        ckpt = self.checkpoint or Checkpoint(tuple(self.model.get_weights()), (0, 0), 0, 0.0)
        self.checkpoint = replace(ckpt, optimizer=None) if ckpt.optimizer is not None else ckpt
        self.history.truncate(ckpt.step)
        self._set_weights(ckpt.weights)
        where = f"the end of epoch {ckpt.position[0]}" if ckpt.position[1] == 0 else "where it last paused"
        kept = (f"Your model keeps the weights of step {ckpt.step:,} ({where})."
                if ckpt.step else "It had not finished an epoch, so the model goes back to the weights it started with.")
        self._publish(status="stopped", step=ckpt.step, epoch=ckpt.position[0], tokens_per_s=0.0,
                      message=f"The training worker stopped unexpectedly ({err}). {kept} Press Start training to continue "
                              "from there; other sessions are not affected.")


class RemoteRace(_Job):
    """A long-range race (`core.longrange.Race`) in a worker; `progress()` is its latest `RaceProgress`."""

    def __init__(self, text: str, config, keep_alive: Callable[[], bool] | None = None):
        from core.longrange import RaceProgress

        super().__init__(keep_alive)
        self.text, self.config = text, config
        self._progress = RaceProgress(budget_s=config.budget_s, steps=config.steps, loss={c: () for c in config.cells})

    def progress(self):
        return self._progress

    def _on_wait(self, message: str) -> None:
        self._progress = replace(self._progress, status="waiting", message=message)

    def _run_once(self) -> None:
        self._on_wait("Waiting for a free training slot…")
        try:
            with self._worker(self._on_wait) as actor:
                if actor is None:
                    self._progress = replace(self._progress, status="stopped", message="Stopped before it started.")
                    return
                _call(actor.race.remote(self.text, self.config))
                stop_sent, last_alive = False, time.monotonic()
                while True:
                    if time.monotonic() - last_alive > ALIVE_EVERY_S:
                        last_alive = time.monotonic()
                        if not self._alive():
                            self.stop()
                    if self._stop.is_set() and not stop_sent:
                        stop_sent = True
                        actor.request.remote("stop")
                    p = _call(actor.race_progress.remote())
                    if p is not None:
                        self._progress = p
                    if p is None or not p.active:
                        return
                    time.sleep(POLL_S * 2)
        except WorkerLost as err:
            self._progress = replace(self._progress, status="failed", message=f"The race's worker stopped unexpectedly ({err}). Race again.")
        except Exception as err:
            self._progress = replace(self._progress, status="failed", message=str(err))

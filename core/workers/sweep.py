"""A sweep as the web server runs it: Ray Tune's `Tuner` over planned trials, on the app's own Ray.

One thread drives `Tuner.fit` (trials in Tune's actors run `core.workers.sweep_trial.run_trial`), and a pump thread
moves what the trials send through the hub into one `TrialTrainer` per trial, hands out training slots from the
server's gate (a trial trains only while it holds one, like any training), and sends pause and stop requests back.
Each `TrialTrainer` is a `RemoteTrainer` fed by the sweep instead of by its own worker: the recorder writes it as a
stored run, and once its trial has ended it can be opened, and continued, like any run. Nothing here knows the store:
the caller's `on_end` is told how the sweep ended.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from typing import Callable

from core import settings
from core.training.progress import STOPPED_BY_YOU
from core.workers import pool
from core.workers.client import ALIVE_EVERY_S
from core.workers.sweep_placement import Placement
from core.workers.sweep_trial import POLL_S, SweepHub, SweepJob, early_message, run_trial
from core.workers.trial_trainer import Asha, TrialTrainer

log = logging.getLogger(__name__)


class SweepRunner:
    """Runs `trials` on Ray Tune and keeps them up to date (see the module docstring).

    Args:
        trials: one `TrialTrainer` per planned trial, index order.
        ids, vocab: the text's token ids and vocabulary.
        asha: early stopping (`Asha`), or None to train every trial to its end.
        keep_alive: asked every few seconds; when it returns False (no tab watches any more) the sweep stops.
        on_end: called once with (status, message) when the sweep has ended.
        at_once: the most trials that train at the same time (None: the gate's slots).
        shuffle: start the trials in a seeded shuffled order (False: in index order).
        owner: the workspace it runs for: its trials queue for slots as that workspace's (`core.workers.admission`).
    """

    def __init__(self, trials: list[TrialTrainer], ids, vocab, asha: Asha | None = Asha(), keep_alive: Callable[[], bool] | None = None,
                 on_end: Callable[[str, str], None] | None = None, at_once: int | None = None, shuffle: bool = True,
                 owner: str | None = None):
        self.trials, self.ids, self.vocab, self.asha = trials, ids, vocab, asha
        self.keep_alive, self.on_end, self.at_once, self.shuffle, self.owner = keep_alive, on_end, at_once, shuffle, owner
        self.status, self.message = "waiting", "Starting Ray Tune…"
        self.key = f"rnn-sweep-hub-{uuid.uuid4().hex[:12]}"
        self._hub = None
        self._seen = 0  # hub messages already taken
        self._slots: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()  # one pump at a time (the thread's, or a callback's)
        self._stopped = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.started = time.monotonic()
        self.wall_s: float | None = None
        self.placement = Placement(1)  # why trials wait for Ray, if they do

    # ---- requests (the page's thread) ----
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._drive, name="rnn-sweep", daemon=True)
            self._thread.start()

    def active(self) -> bool:
        return not self._done.is_set()

    def paused(self) -> bool:
        return self.status == "paused"

    def pause(self) -> None:
        for trial in self.trials:
            trial.pause()
        if self.active():
            self.status = "paused"

    def resume(self) -> None:
        for trial in self.trials:
            trial.resume()
        if self.active():
            self.status = "running"

    def stop(self, message: str = STOPPED_BY_YOU) -> None:
        """Stop every trial (the ones not started never start)."""
        self._stopped.set()
        for trial in self.trials:
            trial.stop(message)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the sweep to end; True once it has."""
        return self._done.wait(timeout)

    # ---- the sweep's threads ----
    def _drive(self) -> None:
        status, message = "finished", "The sweep finished."
        try:
            self._fit()
            if self._stopped.is_set():
                status, message = "stopped", "The sweep was stopped."
        except Exception as err:  # Ray or Tune failed: a sentence for the page, the traceback in the log
            log.exception("A sweep could not run")
            status, message = "failed", f"The sweep could not run: {type(err).__name__}: {err}"
        finally:
            self._pump()
            for trial in self.trials:
                if trial.in_sweep:
                    trial.end("failed" if status == "failed" else "stopped",
                              message if status == "failed" else "Stopped before it started: the sweep ended.")
            self._kill_hub()
            if "core.workers.sweep_callback" in sys.modules:
                sys.modules["core.workers.sweep_callback"].RUNNERS.pop(self.key, None)
            self.status, self.message = status, message
            self.wall_s = time.monotonic() - self.started
            if self.on_end is not None:  # before `join` returns: whoever waited reads the sweep's end in the store
                try:
                    self.on_end(status, message)
                except Exception:  # the sweep itself is over; only its record failed
                    log.exception("A sweep's end could not be recorded")
            self._done.set()

    def _fit(self) -> None:
        os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # no TensorBoard/CSV/JSON files per trial
        os.environ.setdefault("TUNE_DISABLE_SIGINT_HANDLER", "1")  # the server's thread, not Tune, owns Ctrl-C
        os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
        gate = pool.gate(ray=True)  # connects to Ray (embedded or RAY_ADDRESS), even with inline workers
        import ray
        from ray import tune

        from core.workers.sweep_callback import RUNNERS, StopWhenAsked, TrialEnds

        RUNNERS[self.key] = self
        logging.getLogger("ray.tune.analysis.experiment_analysis").setLevel(logging.ERROR)  # no result files: expected
        self._hub = ray.remote(SweepHub).options(name=self.key, num_cpus=0).remote()
        job = SweepJob(self.key, self.ids, self.vocab, tuple((t.config, t.train) for t in self.trials))
        s = settings.current()
        resources = {"cpu": s.worker_cpus, "gpu": s.worker_gpus or 0}
        at_once = self.placement.at_once = max(1, min(self.at_once or gate.capacity, len(self.trials)))
        pump = threading.Thread(target=self._pump_loop, name="rnn-sweep-pump", daemon=True)
        pump.start()
        self.status, self.message = "running", ""
        storage = tempfile.mkdtemp(prefix="rnn-sweep-")
        tuner = tune.Tuner(
            tune.with_resources(tune.with_parameters(run_trial, job=job), resources),
            param_space={"index": tune.grid_search(self._order())},
            tune_config=tune.TuneConfig(metric="val_loss", mode="min", scheduler=self.asha.scheduler(max(t.train.epochs for t in self.trials)) if self.asha else None,
                                        max_concurrent_trials=at_once, reuse_actors=True),
            run_config=tune.RunConfig(storage_path=storage, name="sweep", verbose=0, callbacks=[TrialEnds(self.key)],
                                      stop=StopWhenAsked(self.key)))
        try:
            tuner.fit()
        finally:
            import shutil

            shutil.rmtree(storage, ignore_errors=True)

    def _order(self) -> list[int]:
        """The order Tune starts the trials in: shuffled (seeded), since ASHA lets the first trials at each epoch go on
        whatever their loss, and a grid's first trials share their first setting's first value."""
        import random

        order = list(range(len(self.trials)))
        if self.shuffle:
            random.Random(0).shuffle(order)
        return order

    def _pump_loop(self) -> None:
        last_alive = time.monotonic()
        while not self._done.is_set():
            try:
                self._pump()
                said = self.placement.sentence(settings.current().worker_cpus, self.status == "running")
                if said is not None:  # why trials wait for Ray to place their workers ("" once they run)
                    self.message = said
            except Exception:  # a missed round is retried; the trials go on
                log.exception("A sweep's progress could not be fetched")
            if self.keep_alive is not None and time.monotonic() - last_alive > ALIVE_EVERY_S:
                last_alive = time.monotonic()
                if not self.keep_alive() and not self._stopped.is_set():
                    log.info("A sweep stops: no tab of its workspace is open")
                    self.stop("Stopped because the browser tab was closed.")
            time.sleep(POLL_S)

    def _pump(self) -> None:
        """Take the trials' messages, hand out slots, and send each trial what the user asks of it."""
        import ray

        if self._hub is None:
            return
        with self._lock:
            try:
                messages = ray.get(self._hub.pull.remote(self._seen), timeout=30)
            except ray.exceptions.RayError:
                return  # the hub is gone: the sweep is ending
            self._seen += len(messages)
            for index, kind, payload in messages:
                trial = self.trials[index]
                if kind == "delta":
                    trial.take(payload)
                elif kind == "unstarted":
                    trial.end("stopped", f"Stopped before it started. {payload}")
                elif kind == "want" and index not in self._slots:
                    self._slots[index] = threading.Thread(target=self._hold_slot, args=(trial,), daemon=True,
                                                          name=f"rnn-sweep-slot-{index}")
                    self._slots[index].start()
            for trial in self.trials:
                paused, stop = trial.wanted()
                if trial.in_sweep:
                    self._hub.set_control.remote(trial.index, trial.granted, paused, stop)

    def _hold_slot(self, trial: TrialTrainer) -> None:
        """Hold a training slot for `trial` from when it asks until it ends (it waits, with a sentence, when none is free);
        its trials queue as the sweep's owner's, so a slot a trial gives back goes first to another workspace's waiter."""
        with pool.gate().slot(lambda: trial.in_sweep and trial.wanted()[1] is None, trial.waiting, owner=self.owner,
                              eta=lambda: trial.progress().eta_s, planned=trial.progress().eta_s) as holding:
            if not holding:
                return
            trial.granted = True
            while trial.in_sweep and not self._done.is_set():
                time.sleep(POLL_S)

    def _kill_hub(self) -> None:
        import ray

        hub, self._hub = self._hub, None
        if hub is not None:
            try:
                ray.kill(hub)
            except Exception:  # already gone
                log.debug("The sweep's hub was already gone", exc_info=True)

    def trial_ended(self, index: int, error: str | None) -> None:
        """Tune says trial `index` ended (from its callback): the trial's own last word first, else what Tune says."""
        self._pump()
        trial = self.trials[index]
        if not trial.in_sweep:
            return
        if error is not None:
            trial.end("failed", f"This trial failed and the sweep went on: its worker stopped unexpectedly ({error}).")
        else:
            epoch = len(trial.progress().val_loss)
            trial.end("stopped", early_message(epoch))


__all__ = ["Asha", "SweepRunner", "TrialTrainer"]

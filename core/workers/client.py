"""The web server's side of a job in a worker (a training, or a long-range race): it waits for a slot and a
worker, forwards requests, and brings the worker's progress back as one snapshot for the pages.

One thread per job does all of this, and it alone publishes; the UI thread only records what the user
asked for (start, pause, resume, stop). Its cost in the server is one ~1 ms call every `POLL_S`, never a
training step. `core.workers.remote_trainer.RemoteTrainer` is the training; `core.workers.remote_race.RemoteRace` is the race.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator

from core.training.background import BackgroundJob
from core.workers import pool
from core.workers.messages import STOPPED_BY_YOU

POLL_S = 0.2  # how often a running training's progress is fetched from its worker
CALL_TIMEOUT_S = 60  # a worker that does not answer a poll for this long is taken for lost
ALIVE_EVERY_S = 2  # how often the session is asked whether it is still open
_IDS = itertools.count(1)
log = logging.getLogger(__name__)


class KeepAlive:
    """The `keep_alive` of a job that several browser sessions may watch (a reload, a second tab, a shared link).

    It answers True while any watcher's check does, and for `grace_s` after the last one stopped: a reload
    closes the old session a moment before the new one attaches. `add` runs in a session's script thread and
    the call in the job's thread: both hold a lock, and the checks themselves run outside it.
    """

    def __init__(self, grace_s: float = 30.0):
        self.grace_s = grace_s
        self._checks: list[Callable[[], bool]] = []
        self._seen = time.monotonic()
        self._lock = threading.Lock()

    def add(self, check: Callable[[], bool] | None) -> None:
        """Watch with `check` too (None: a caller that cannot say, such as a test, watches for ever)."""
        with self._lock:
            self._checks.append(check if check is not None else (lambda: True))
            self._seen = time.monotonic()

    def __call__(self) -> bool:
        with self._lock:
            checks = list(self._checks)
        ended = [check for check in checks if not check()]
        with self._lock:  # forget the sessions that have ended; a check added meanwhile stays
            self._checks = [check for check in self._checks if not any(check is e for e in ended)]
            if len(ended) < len(checks):
                self._seen = time.monotonic()
            return len(ended) < len(checks) or time.monotonic() - self._seen < self.grace_s


class WorkerLost(RuntimeError):
    """The worker process ended in the middle of a job."""


class RemoteJob(BackgroundJob):
    """What a training and a race share: the request flags, the thread, a slot and a worker."""

    owner: str | None = None  # the workspace it trains for, set by the UI: the gate's fair queue is per workspace

    def __init__(self, keep_alive: Callable[[], bool] | None):
        super().__init__(keep_alive)
        self.uid = next(_IDS)  # unique in this server, for caches (an `id()` can be reused)
        self._requests = threading.Lock()
        self._restart_requested = False  # Start was pressed while the last run was stopping
        self._holding = threading.Lock()  # guards the pair below: who reads one reads the other of the same job
        self._actor = None  # the worker running this job now, if any
        self._job_id: str | None = None  # the id of the job sent to it (the worker answers `weights` only to it)
        self.runs = 0  # how many times it was started (each Start after a stop is one more)
        self.steps_asked = 0  # Step presses so far; the job's thread passes each one on to the worker
        self._steps_sent = 0

    def active(self) -> bool:
        """True from Start until the run's last snapshot is published."""
        return self.alive()

    def start(self) -> None:
        """Start, or continue after a stop; pressed while a stop is under way, it starts again after it."""
        with self._requests:
            if self.active():
                self._restart_requested = self._restart_requested or self._stop.is_set()
                return
            self._restart_requested = True
            self._launch(self._loop, f"rnn-{type(self).__name__.lower()}")

    def step(self) -> None:
        """Train exactly one batch (while paused), then stay paused."""
        with self._requests:
            self.steps_asked += 1

    def stop(self, message: str = STOPPED_BY_YOU) -> None:
        """Ask the run to stop after the current step; the weights so far are kept."""
        with self._requests:
            self._restart_requested = False
            super().stop(message)

    def _loop(self) -> None:
        while True:
            with self._requests:
                if not self._restart_requested:
                    self._thread = None  # from here on a Start begins a new thread
                    return
                self._restart_requested = False
                self._stop.clear()
                self.runs += 1
            self._run_once()

    def _keep_waiting(self) -> bool:
        return not self._stop.is_set() and not self._stop_if_unwatched()

    @contextmanager
    def _worker(self, on_wait: Callable[[str], None]) -> Iterator[object | None]:
        """Hold a training slot and a warm worker for the block; yields None when the wait was given up."""
        gate = pool.gate()  # sized once Ray has answered (N2)
        with gate.slot(self._keep_waiting, on_wait, self.owner, self._eta_s, self._planned_s()) as holding:
            if not holding:
                yield None
                return
            workers = pool.workers()
            actor = workers.acquire(self._keep_waiting, on_wait)
            if actor is None:
                yield None
                return
            with self._holding:
                self._actor, self._job_id = actor, uuid.uuid4().hex
            failed = True
            try:
                yield actor
                failed = False
            finally:
                with self._holding:  # forgotten before the worker can take another session's job (N6)
                    self._actor = self._job_id = None
                if failed:
                    workers.discard(actor)
                else:
                    workers.release(actor)

    def _eta_s(self) -> float | None:
        """Seconds this job has left while it holds its slot (None: not known), for the queue's estimates."""
        return None

    def _planned_s(self) -> float | None:
        """Seconds this job should train once it starts (None: not known), for the queue's estimates."""
        return None

    def worker(self) -> object | None:
        """The Ray actor running this job now (None between runs): for an operator's tool, or a test, that ends it as a
        crash would (`ray.kill`); the job then reports its worker lost."""
        return self._current_worker()[0]

    def _current_worker(self) -> tuple[object | None, str | None]:
        """(the worker, the id of its job) of this job now, both of the same moment; (None, None) between runs."""
        with self._holding:
            return self._actor, self._job_id

    def _run_once(self) -> None:
        raise NotImplementedError


def call_worker(ref, timeout: float = CALL_TIMEOUT_S):
    """The value of a worker's call (`ray.get`, or an inline worker's), its death or silence turned into `WorkerLost`."""
    try:
        return pool.result(ref, timeout)
    except pool.CallTimeout:
        raise WorkerLost(f"the worker did not answer for {timeout:.0f} s") from None
    except pool.CallFailed as err:
        raise WorkerLost(str(err).splitlines()[0][:200]) from None

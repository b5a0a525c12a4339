"""The warm training workers of this server, and its training gate, both made once Ray has answered.

A training takes a worker and gives it back when it ends; a worker that fails is ended and replaced. The gate
(`core.workers.admission.Gate`) is opened after connecting, so it is sized by the cluster Ray reports, never by
this machine's cores while Ray is not up yet. With `RNN_PLAYGROUND_WORKERS=inline` the workers are threads of this
process (`core.workers.inline`), no Ray is started, and the gate is sized by this machine's cores.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Callable

from core import settings
from core.workers import admission, cluster, inline
from core.workers.inline import CallFailed, CallTimeout

START_TRIES = 3  # workers that die while starting, one after the other, before a training gives up
WEIGHTS_GROUP = "weights"  # the actor's concurrency group for `weights`, so a poll never queues behind it
log = logging.getLogger(__name__)
_POOLS: dict = {}  # the process's WorkerPool per kind of worker ("ray", "inline"), made on first use
_POOL_LOCK = threading.Lock()


def inline_workers() -> bool:
    """True when trainings run in this process (`RNN_PLAYGROUND_WORKERS=inline`)."""
    return settings.current().workers == "inline"


def gate(ray: bool = False) -> admission.Gate:
    """The server's training gate, opened on the first call with the cluster's size.

    Args:
        ray: connect to Ray even when the workers are inline (a sweep: Ray Tune runs its trials); it connects anyway
            with Ray's workers.

    Raises:
        cluster.ClusterError: Ray could not start, or `RAY_ADDRESS` cannot be reached.
    """
    if ray or not inline_workers():
        cluster.connect()
    opened = admission.current_gate()
    if opened is not None:
        return opened
    # embedded Ray counts the warm workers' CPUs too; inline workers have this machine's cores
    cpus = None if inline_workers() or cluster.embedded() else cluster.cluster_cpus()
    capacity = admission.max_trainings(cpus)
    log.info("Up to %d trainings at once (%s)", capacity, f"{cpus} CPUs in the cluster" if cpus else "this machine's cores")
    return admission.open_gate(capacity)


def workers() -> "WorkerPool":
    """The process's pool of workers (connects first, and opens the gate).

    Raises:
        cluster.ClusterError: Ray could not start, or `RAY_ADDRESS` cannot be reached.
    """
    opened = gate()
    kind = settings.current().workers
    with _POOL_LOCK:
        if kind not in _POOLS:
            _POOLS[kind] = WorkerPool(settings.current().warm_workers, capacity=opened.capacity)
            _POOLS[kind].warm()
        return _POOLS[kind]


class WorkerPool:
    """Warm `core.workers.actor.TrainWorker` actors: a training takes one and gives it back when it ends.

    A worker given back is kept for the next training (it clears Keras' state), so a server whose trainings come
    one after another starts `size` workers in all. While every idle worker is taken, one more is warmed only if a
    training could use it at once: when fewer workers exist than the gate has slots. On 2 cores (2 slots, 2 warm)
    a class of thirty thus trains on the same two processes, instead of importing TensorFlow thirty more times.

    Args:
        size: how many idle workers to keep ready.
        worker_cls: the actor class (tests pass one that fails).
        capacity: the gate's slots (None: no limit on warming).
    """

    def __init__(self, size: int, worker_cls: type | None = None, capacity: int | None = None):
        from core.workers.actor import TrainWorker

        if inline_workers():
            make = functools.partial(TrainWorker, shares_process=True) if worker_cls is None else worker_cls
            self._new = lambda: inline.InlineWorker(make)
        else:
            import ray

            s = settings.current()
            gpus = s.worker_gpus
            if gpus is None:
                gpus = 1 if cluster.address() and ray.cluster_resources().get("GPU") else 0
            actor = ray.remote(concurrency_groups={WEIGHTS_GROUP: 1})(worker_cls or TrainWorker)
            self._new = actor.options(num_cpus=s.worker_cpus, num_gpus=gpus, max_restarts=0).remote
        self.size = size
        self.capacity = capacity
        self._idle: list = []
        self._out = 0  # workers handed to trainings and not yet given back
        self._lock = threading.Lock()

    def warm(self, most: int | None = None) -> None:
        """Start workers until `size` are idle, at `most` this many (they import TensorFlow in the background)."""
        with self._lock:
            short = self.size - len(self._idle)
            for _ in range(short if most is None else min(most, short)):
                self._idle.append(self._start())

    def acquire(self, keep_waiting: Callable[[], bool], on_wait: Callable[[str], None]) -> object | None:
        """A ready worker, or None when `keep_waiting` turns False first.

        Args:
            keep_waiting: asked every second while no worker is ready.
            on_wait: told why nothing happens yet, once a second.

        Raises:
            cluster.ClusterError: START_TRIES fresh workers in a row died while starting.
        """
        with self._lock:
            actor, ready = self._idle.pop(0) if self._idle else (None, None)
            self._out += 1
            # the next training should find one warm too, if it could start at once (a worker given back refills)
            short = not self._idle and (self.capacity is None or self._out < self.capacity)
        fresh = actor is None
        if fresh:
            actor, ready = self._start()
        if short:
            self.warm(1)
        started, failures = time.monotonic(), 0
        while True:
            try:
                result(ready, 1.0)
                return actor
            except CallTimeout:
                pass
            except CallFailed as err:  # it died while starting, or a warm one was retired: end it, try a fresh one
                self._end(actor)
                failures += fresh
                log.warning("A training worker failed before it was ready (%d of %d): %s", failures, START_TRIES, err)
                if failures >= START_TRIES:
                    with self._lock:
                        self._out -= 1
                    raise cluster.ClusterError(
                        f"Training workers fail to start ({START_TRIES} in a row; the server's log has why). Check that "
                        "this machine has free memory, then press Start training again.") from err
                (actor, ready), fresh = self._start(), True
            if not keep_waiting():
                self.release(actor)
                return None
            on_wait(f"Starting a training worker ({time.monotonic() - started:.0f} s)…")

    def _start(self) -> tuple:
        actor = self._new()
        return actor, actor.ready.remote()

    def release(self, actor) -> None:
        """Take a worker back from a training: kept for the next one while fewer than `size` are idle, else ended."""
        with self._lock:
            self._out = max(self._out - 1, 0)
            keep = len(self._idle) < self.size
            if keep:
                self._idle.append((actor, actor.release.remote()))  # a worker that cannot clear itself fails here
        if not keep:
            kill(actor)

    def discard(self, actor) -> None:
        """End a worker that failed while a training had it."""
        with self._lock:
            self._out = max(self._out - 1, 0)
        self._end(actor)

    @staticmethod
    def _end(actor) -> None:
        try:
            kill(actor)
        except Exception:  # already gone: nothing to end
            log.debug("Ending a failed worker", exc_info=True)


def result(ref, timeout: float):
    """The value of a worker's call `ref` (`ray.get`, or an inline worker's), waiting at most `timeout` seconds.

    Raises:
        CallTimeout: no answer yet.
        CallFailed: the call raised, or the worker died; its message is `inline.brief` of the error, its cause the
            original error.
    """
    if isinstance(ref, inline.Future):
        return inline.get(ref, timeout)
    import ray
    from ray.exceptions import GetTimeoutError, RayError

    try:
        return ray.get(ref, timeout=timeout)
    except GetTimeoutError:
        raise CallTimeout(f"no answer within {timeout} s") from None
    except RayError as err:
        raise CallFailed(inline.brief(str(err))) from err


def kill(actor) -> None:
    """End a worker at once (`ray.kill`, or an inline worker's `kill`)."""
    if isinstance(actor, inline.InlineWorker):
        actor.kill()
        return
    import ray

    ray.kill(actor, no_restart=True)

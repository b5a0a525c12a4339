"""The warm training workers of this server: a training takes one and gives it back when it ends."""

from __future__ import annotations

import threading
import time
from typing import Callable

from core import settings
from core.workers import cluster

_POOL: list = []  # the process's one WorkerPool, made on first use (after connecting)
_POOL_LOCK = threading.Lock()


def workers() -> "WorkerPool":
    """The process's pool of workers (connects first).

    Raises:
        cluster.ClusterError: Ray could not start, or `RAY_ADDRESS` cannot be reached.
    """
    cluster.connect()
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(WorkerPool(settings.current().warm_workers))
            _POOL[0].warm()
        return _POOL[0]


class WorkerPool:
    """Warm `core.workers.actor.TrainWorker` actors: a training takes one and gives it back when it ends.

    Args:
        size: how many idle workers to keep ready.
    """

    def __init__(self, size: int):
        import ray

        from core.workers.actor import TrainWorker

        gpus = settings.current().worker_gpus
        if gpus is None:
            gpus = 1 if cluster.address() and ray.cluster_resources().get("GPU") else 0
        self._cls = ray.remote(TrainWorker).options(num_cpus=settings.current().worker_cpus, num_gpus=gpus, max_restarts=0)
        self.size = size
        self._idle: list = []
        self._lock = threading.Lock()

    def warm(self, most: int | None = None) -> None:
        """Start workers until `size` are idle, at `most` this many (they import TensorFlow in the background)."""
        with self._lock:
            short = self.size - len(self._idle)
            for _ in range(short if most is None else min(most, short)):
                actor = self._cls.remote()
                self._idle.append((actor, actor.ready.remote()))

    def acquire(self, keep_waiting: Callable[[], bool], on_wait: Callable[[str], None]) -> object | None:
        """A ready worker, or None when `keep_waiting` turns False first.

        Args:
            keep_waiting: asked every second while no worker is ready.
            on_wait: told why nothing happens yet, once a second.
        """
        import ray
        from ray.exceptions import RayError

        with self._lock:
            actor, ready = self._idle.pop(0) if self._idle else (None, None)
            short = not self._idle
        if actor is None:
            actor = self._cls.remote()
            ready = actor.ready.remote()
        if short:  # the next training should find one warm too (a worker given back also refills the pool)
            self.warm(1)
        started = time.monotonic()
        while True:
            try:
                ray.get(ready, timeout=1.0)
                return actor
            except ray.exceptions.GetTimeoutError:
                pass
            except RayError:  # the worker died while starting: try a fresh one
                actor = self._cls.remote()
                ready = actor.ready.remote()
            if not keep_waiting():
                self.release(actor)
                return None
            on_wait(f"Starting a training worker ({time.monotonic() - started:.0f} s)…")

    def release(self, actor) -> None:
        """Take a worker back: kept warm while the pool is short, else ended."""
        import ray

        with self._lock:
            keep = len(self._idle) < self.size
            if keep:
                self._idle.append((actor, actor.release.remote()))
        if not keep:
            ray.kill(actor, no_restart=True)

    @staticmethod
    def discard(actor) -> None:
        """End a worker that failed."""
        import ray

        try:
            ray.kill(actor, no_restart=True)
        except Exception:
            pass

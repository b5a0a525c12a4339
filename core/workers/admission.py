"""The server-wide limit on trainings running at once, shared by every session's trainer and race.

It is kept in the web server, which hands each training to a worker only once it holds a slot."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from core import settings


def max_trainings() -> int:
    """How many trainings may run at once ($RNN_PLAYGROUND_MAX_TRAININGS; default: the CPUs Ray reports,
    or this machine's cores before Ray is up)."""
    from core.workers.cluster import WORKER_CPUS, cluster_cpus, embedded

    cpus = cluster_cpus() if not embedded() else None  # embedded Ray counts warm workers' CPUs too
    default = max(cpus // max(WORKER_CPUS, 1), 1) if cpus else os.cpu_count() or 1
    return settings.current().max_trainings or default


_SLOTS: threading.BoundedSemaphore | None = None  # made on first use, once Ray has said how many CPUs it has
_ACTIVE = [0]
_ACTIVE_LOCK = threading.Lock()
POLL_S = 0.5  # how often a waiting training checks whether it should still wait


def trainings_running() -> int:
    """How many trainings hold a slot right now, across all sessions."""
    return _ACTIVE[0]


@contextmanager
def training_slot(keep_waiting: Callable[[], bool], on_wait: Callable[[], None] | None = None) -> Iterator[bool]:
    """Hold one of the server's training slots for the `with` block.

    Args:
        keep_waiting: asked every POLL_S while the server is full; when it returns False the wait ends.
        on_wait: called every POLL_S while waiting (to tell the user why nothing happens yet).

    Yields:
        True while holding a slot, or False when `keep_waiting` gave up first (nothing is held then).
    """
    global _SLOTS
    with _ACTIVE_LOCK:
        if _SLOTS is None:
            _SLOTS = threading.BoundedSemaphore(max_trainings())
    slots = _SLOTS
    while not slots.acquire(timeout=POLL_S):
        if not keep_waiting():
            yield False
            return
        if on_wait is not None:
            on_wait()
    with _ACTIVE_LOCK:
        _ACTIVE[0] += 1
    try:
        yield True
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE[0] -= 1
        slots.release()

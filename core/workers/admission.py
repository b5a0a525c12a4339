"""The server-wide limit on trainings running at once, shared by every session's trainer and race.

It is kept in the web server, which hands each training to a worker only once it holds a slot. The gate is
opened by `core.workers.pool.gate()` once Ray has answered, with the cluster's size; nothing here knows Ray.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from core import settings

POLL_S = 0.5  # how often a waiting training checks whether it should still wait


def max_trainings(cluster_cpus: int | None = None) -> int:
    """How many trainings may run at once: $RNN_PLAYGROUND_MAX_TRAININGS, else the cluster's CPUs divided by
    $RNN_PLAYGROUND_WORKER_CPUS, else (an embedded Ray, whose CPUs include the warm workers') this machine's cores.

    Args:
        cluster_cpus: the CPUs of a joined cluster, or None for an embedded Ray.
    """
    s = settings.current()
    if s.max_trainings:
        return s.max_trainings
    if cluster_cpus:
        return max(cluster_cpus // max(s.worker_cpus, 1), 1)
    return os.cpu_count() or 1


class Gate:
    """At most `capacity` trainings at once; the others wait in `slot` with a sentence.

    Args:
        capacity: how many slots there are.
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._slots = threading.BoundedSemaphore(capacity)
        self._running = 0
        self._lock = threading.Lock()

    def running(self) -> int:
        """How many trainings hold a slot right now, across all sessions."""
        return self._running

    def busy_sentence(self) -> str:
        """What a waiting user is told, with this gate's own numbers."""
        return (f"The server is busy: {self._running} of {self.capacity} trainings are running. "
                "Yours starts as soon as one finishes.")

    @contextmanager
    def slot(self, keep_waiting: Callable[[], bool], on_wait: Callable[[str], None] | None = None) -> Iterator[bool]:
        """Hold one slot for the `with` block.

        Args:
            keep_waiting: asked every POLL_S while the server is full; when it returns False the wait ends.
            on_wait: told `busy_sentence()` every POLL_S while waiting.

        Yields:
            True while holding a slot, or False when `keep_waiting` gave up first (nothing is held then).
        """
        while not self._slots.acquire(timeout=POLL_S):
            if not keep_waiting():
                yield False
                return
            if on_wait is not None:
                on_wait(self.busy_sentence())
        with self._lock:
            self._running += 1
        try:
            yield True
        finally:
            with self._lock:
                self._running -= 1
            self._slots.release()


_GATE: list[Gate] = []  # the server's one gate, opened once the cluster's size is known
_GATE_LOCK = threading.Lock()


def open_gate(capacity: int) -> Gate:
    """The server's gate, opened with `capacity` slots on the first call (later calls return the same gate)."""
    with _GATE_LOCK:
        if not _GATE:
            _GATE.append(Gate(capacity))
        return _GATE[0]


def current_gate() -> Gate | None:
    """The server's gate, or None before `core.workers.pool.gate()` opened it."""
    return _GATE[0] if _GATE else None


def trainings_running() -> int:
    """How many trainings hold a slot right now, across all sessions."""
    gate = current_gate()
    return gate.running() if gate else 0


def training_slot(keep_waiting: Callable[[], bool], on_wait: Callable[[str], None] | None = None):
    """`Gate.slot` of the server's gate (open it first: `core.workers.pool.gate()`)."""
    gate = current_gate()
    if gate is None:
        raise RuntimeError("The training gate is not open yet: call core.workers.pool.gate() first (it connects to Ray).")
    return gate.slot(keep_waiting, on_wait)

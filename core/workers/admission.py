"""The server-wide limit on trainings running at once, shared by every session's trainer, race and sweep: a fair queue.

It is kept in the web server, which hands each training to a worker only once it holds a slot. The gate is opened by
`core.workers.pool.gate()` once Ray has answered, with the cluster's size; nothing here knows Ray.

Who goes next: a free slot goes to the waiter whose owner (workspace) holds the fewest slots, and among equals to the
first come. So a training whose workspace holds no slot goes before one whose workspace holds one already, and while
anyone waits no workspace (a sweep included) gets a second slot before the others had one. Owner None: its own owner.

How long until it starts: a slot is free after its holder's `eta()`, else (not known yet) the average total time of the
holders whose time is known (held so far + left) less its own time held. As the slots free, in that order, each goes to
the waiter whose turn it is then, which keeps it for its `planned` seconds, else that average: the order they get them
is the queue, the places it shows. A start resting on an unknown time is not guessed: the sentence then gives the place."""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import os
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from core import settings
from core.wording import duration, ordinal

POLL_S = 0.5  # how often a waiting training checks whether it should still wait, and is told its place again
log = logging.getLogger(__name__)
__all__ = ["Gate", "current_gate", "duration", "max_trainings", "open_gate", "trainings_running", "training_slot"]


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


@dataclass(eq=False)
class _Ticket:
    """One training at the gate: waiting for a slot, then holding it."""

    owner: str | None  # its workspace, as the caller named it
    key: object  # whom it counts as for fairness: the owner, or the ticket itself for owner None
    seq: int  # arrival order
    eta: Callable[[], float | None] | None  # its seconds left while it holds the slot
    planned: float | None  # its expected seconds of training once started
    since: float = 0.0  # when it took its slot (the gate's clock)
    holding: bool = False  # it was given a slot


def _seconds_left(ticket: _Ticket) -> float | None:
    """The holder's `eta()`, or None when it has none or it fails (logged)."""
    try:
        left = ticket.eta() if ticket.eta is not None else None
    except Exception:  # a training's estimate must never stall the queue
        log.exception("A training's time left could not be read")
        left = None
    return max(float(left), 0.0) if left is not None else None


class Gate:
    """At most `capacity` trainings at once; the others wait in `slot`, in a fair queue, told their place and wait.

    Args:
        capacity: how many slots there are.
        clock: seconds, for the waits' estimates (tests pass a fake one).
    """

    def __init__(self, capacity: int, clock: Callable[[], float] = time.monotonic):
        self.capacity = capacity
        self._clock = clock
        self._cond = threading.Condition()
        self._holders: list[_Ticket] = []
        self._waiters: list[_Ticket] = []  # in arrival order
        self._seq = itertools.count()

    def running(self) -> int:
        """How many trainings hold a slot right now, across all sessions."""
        return len(self._holders)

    def busy_sentence(self, place: int | None = None, start_s: float | None = None) -> str:
        """What a waiting user is told, with this gate's own numbers and, when given, its place and time to start."""
        head = f"The server is busy: {self.running()} of {self.capacity} trainings are running. "
        if place is None or (place == 1 and start_s is None):
            return head + "Yours starts as soon as one finishes."
        if start_s is None:
            return head + f"Yours is {ordinal(place)} in the queue."
        when = "in a moment" if start_s < 1 else f"in about {duration(start_s)}"
        return head + f"Yours is {ordinal(place)} in the queue and should start {when}."

    def queue(self) -> list[tuple[str | None, int, float | None]]:
        """The waiting trainings in the order they should get slots: (owner, place from 1, seconds until it starts or
        None when not known)."""
        return [(t.owner, place, start) for place, (t, start) in enumerate(self._forecast(), 1)]

    def _sentence(self, ticket: _Ticket) -> str:
        """`busy_sentence` for one waiting ticket (the plain one once it no longer waits)."""
        forecast = self._forecast()
        place = next((i for i, (t, _) in enumerate(forecast) if t is ticket), None)
        return self.busy_sentence() if place is None else self.busy_sentence(place + 1, forecast[place][1])

    @contextmanager
    def slot(self, keep_waiting: Callable[[], bool], on_wait: Callable[[str], None] | None = None,
             owner: str | None = None, eta: Callable[[], float | None] | None = None,
             planned: float | None = None) -> Iterator[bool]:
        """Hold one slot for the `with` block, once it is this training's turn in the fair queue (module docstring).

        Args:
            keep_waiting: asked every POLL_S while it waits; when it returns False the wait ends and its place is freed.
            on_wait: told its place and time to start (`busy_sentence`) every POLL_S while waiting.
            owner: the workspace asking (None: a training of no workspace, its own owner).
            eta: while it holds the slot, its seconds left (None when not known), for the waiters' estimates.
            planned: its expected seconds of training once started, if known.

        Yields:
            True while holding a slot, or False when `keep_waiting` gave up first (nothing is held then).
        """
        ticket = _Ticket(owner, None, next(self._seq), eta, planned)
        ticket.key = owner if owner is not None else ticket
        with self._cond:
            self._waiters.append(ticket)
            self._grant()
        try:
            while True:
                with self._cond:
                    holding = self._cond.wait_for(lambda: ticket.holding, timeout=POLL_S)
                if holding or not keep_waiting():
                    break
                if on_wait is not None:
                    on_wait(self._sentence(ticket))
        except BaseException:
            self._leave(ticket)
            raise
        if not holding:
            self._leave(ticket)
            yield False
            return
        try:
            yield True
        finally:
            self._leave(ticket)

    def _grant(self) -> None:
        """Give each free slot to the waiter whose turn it is, and wake it; call with the lock held."""
        while self._waiters and len(self._holders) < self.capacity:
            ticket = _first(self._waiters, Counter(t.key for t in self._holders))
            self._waiters.remove(ticket)
            ticket.since, ticket.holding = self._clock(), True
            self._holders.append(ticket)
            self._cond.notify_all()

    def _leave(self, ticket: _Ticket) -> None:
        """Free `ticket`'s slot or place; the waiter whose turn it is gets what it frees."""
        with self._cond:
            self._holders, self._waiters = [t for t in self._holders if t is not ticket], [t for t in self._waiters if t is not ticket]
            self._grant()

    def _forecast(self) -> list[tuple[_Ticket, float | None]]:
        """The waiters in the order they should get slots, with the seconds until each does (None: not known): the
        slots free as the module docstring says, each going to `_first` of the waiters left. Outside the lock: it
        calls the holders' `eta`."""
        with self._cond:
            holders, waiting = list(self._holders), list(self._waiters)
        now = self._clock()
        left = [_seconds_left(t) for t in holders]
        totals = [now - t.since + s for t, s in zip(holders, left) if s is not None]
        average = sum(totals) / len(totals) if totals else None
        ends = [(s if s is not None else max(average - (now - t.since), 0.0) if average is not None else math.inf, i, t.key)
                for i, (t, s) in enumerate(zip(holders, left))]  # (when its slot frees, tie-break, whose it is)
        ends += [(0.0, len(holders) + i, None) for i in range(self.capacity - len(holders))]  # free now
        heapq.heapify(ends)
        held, tie, out = Counter(t.key for t in holders), itertools.count(self.capacity), []
        while waiting:
            start, _, key = heapq.heappop(ends)
            held[key] -= key is not None
            ticket = _first(waiting, held)
            waiting.remove(ticket)
            held[ticket.key] += 1
            out.append((ticket, None if math.isinf(start) else start))
            length = ticket.planned if ticket.planned is not None else average
            heapq.heappush(ends, (start + (length if length is not None else math.inf), next(tie), ticket.key))
        return out


def _first(waiters: list[_Ticket], held: Counter) -> _Ticket:
    """The waiter the next free slot goes to: the one whose owner holds the fewest slots, then the first come."""
    return min(waiters, key=lambda t: (held[t.key], t.seq))


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


def training_slot(keep_waiting: Callable[[], bool], on_wait: Callable[[str], None] | None = None, **queued):
    """`Gate.slot` of the server's gate (open it first: `core.workers.pool.gate()`); `queued`: its owner, eta, planned."""
    gate = current_gate()
    if gate is None:
        raise RuntimeError("The training gate is not open yet: call core.workers.pool.gate() first (it connects to Ray).")
    return gate.slot(keep_waiting, on_wait, **queued)

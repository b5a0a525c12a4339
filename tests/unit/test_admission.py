"""The training gate's fair queue (`core.workers.admission.Gate`), with plain threads and a fake clock: who gets the next
slot, what each waiter is told about its place and wait, and that the slots are never over-given."""

import random
import threading
import time

import pytest

from core.workers import admission
from core.workers.admission import Gate, duration

FAST_POLL_S = 0.02
_WAITERS: list["Waiter"] = []  # every test's waiters, ended after it
_HELD: list = []  # every test's slots taken by `held`, given back after it


@pytest.fixture(autouse=True)
def fast_poll(monkeypatch):
    monkeypatch.setattr(admission, "POLL_S", FAST_POLL_S)
    yield
    finish(*_WAITERS)
    for slot in _HELD:
        slot.__exit__(None, None, None)  # a second exit does nothing
    _WAITERS.clear(), _HELD.clear()


def until(condition, timeout=5.0, what="the condition"):
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.005)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Waiter:
    """A training in its own thread: asks `gate` for a slot and holds it until `done` is set."""

    def __init__(self, gate, owner=None, eta=None, planned=None, got=None):
        self.gate, self.owner, self.eta, self.planned, self.got = gate, owner, eta, planned, got
        self.keep, self.done, self.holding = threading.Event(), threading.Event(), threading.Event()
        self.keep.set()
        self.told: list[str] = []
        self.result = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        _WAITERS.append(self)

    def _run(self):
        with self.gate.slot(self.keep.is_set, self.told.append, owner=self.owner, eta=self.eta, planned=self.planned) as held:
            self.result = held
            if held:
                if self.got is not None:
                    self.got.append(self.owner)
                self.holding.set()
                self.done.wait(10)

    def start(self) -> "Waiter":
        """Start, and return once it waits in the queue (or holds a slot): arrival order is start order."""
        before = len(self.gate.queue())
        self.thread.start()
        until(lambda: len(self.gate.queue()) > before or self.holding.is_set(), what=f"{self.owner} to queue")
        return self

    def finish(self):
        finish(self)


def finish(*waiters: Waiter):
    """Let the waiters end (those still waiting give up), and wait until they have."""
    for w in waiters:
        w.keep.clear(), w.done.set()
    for w in waiters:
        w.thread.join(5)
        assert not w.thread.is_alive(), f"{w.owner}'s thread did not end"


def held(gate, owner=None, eta=None):
    """A slot taken now, in this thread (the gate must have one free); `.__exit__` gives it back (else the test's end)."""
    slot = gate.slot(lambda: False, owner=owner, eta=eta)
    assert slot.__enter__()
    _HELD.append(slot)  # kept: a slot whose generator is collected is given back
    return slot


def owners(gate):
    return [owner for owner, _, _ in gate.queue()]


def test_waiters_of_different_owners_get_slots_first_come_first_served():
    gate, got = Gate(1), []
    first = held(gate, "h")
    waiters = [Waiter(gate, name, got=got).start() for name in ("a", "b", "c")]
    assert owners(gate) == ["a", "b", "c"]
    first.__exit__(None, None, None)
    for w in waiters:
        until(w.holding.is_set, what=f"{w.owner} to hold")
        assert gate.running() == 1
        w.finish()
    assert got == ["a", "b", "c"]


def test_a_workspace_holding_a_slot_waits_behind_one_holding_none():
    gate, got = Gate(2), []
    a_first, other = held(gate, "A", eta=lambda: 100.0), held(gate, "X", eta=lambda: 10.0)
    a_second = Waiter(gate, "A", got=got).start()  # A asks for a second slot first ...
    b = Waiter(gate, "B", got=got).start()  # ... then B, which holds none, asks for its first
    assert owners(gate) == ["B", "A"]
    other.__exit__(None, None, None)
    until(b.holding.is_set, what="B to get the freed slot")
    assert got == ["B"] and owners(gate) == ["A"] and gate.running() == 2
    a_first.__exit__(None, None, None)
    until(a_second.holding.is_set, what="A's second training once nobody else waits")


def test_a_sweep_holding_a_slot_lets_each_other_training_go_first():
    clock = Clock()
    gate, got = Gate(2, clock=clock), []
    sweep_trial, other = held(gate, "S", eta=lambda: 1000.0), held(gate, "X", eta=lambda: 10.0)
    trials = [Waiter(gate, "S", planned=100.0, got=got).start() for _ in range(2)]  # the sweep's next trials ask first
    session = [Waiter(gate, "T", planned=100.0, got=got).start() for _ in range(2)]
    # X's slot frees at 10 s: T's first (T holds none, S one); at 110 s T's second (T's first has ended); then the trials
    assert gate.queue() == [("T", 1, 10.0), ("T", 2, 110.0), ("S", 3, 210.0), ("S", 4, 310.0)]
    other.__exit__(None, None, None)
    for w in session + trials:  # each ends when the test lets it: the grants follow the forecast
        until(w.holding.is_set, what=f"{w.owner}'s training to hold")
        w.finish()
    assert got == ["T", "T", "S", "S"]
    sweep_trial.__exit__(None, None, None)


def test_trainings_of_no_owner_each_count_as_their_own_owner():
    gate = Gate(2)
    held(gate, None, eta=lambda: 100.0)
    other = held(gate, "X", eta=lambda: 10.0)
    none = Waiter(gate, None).start()  # not the holder's workspace: it does not go behind a later owner
    Waiter(gate, "B").start()
    assert owners(gate) == [None, "B"]
    other.__exit__(None, None, None)
    until(none.holding.is_set, what="the first waiter to take the slot")
    assert owners(gate) == ["B"]


def test_the_sentences_give_each_waiters_place_and_time_from_the_etas_ahead():
    clock = Clock()
    gate = Gate(2, clock=clock)
    held(gate, "h1", eta=lambda: 40.0), held(gate, "h2", eta=lambda: 100.0)
    clock.now = 20.0  # held 20 s each: 60 s and 120 s in all, so an unplanned training should take 90 s
    first = Waiter(gate, "w1").start()  # the first slot frees in 40 s; it trains for the average, 90 s
    second = Waiter(gate, "w2", planned=20.0).start()  # the second frees in 100 s; it plans 20 s
    third = Waiter(gate, "w3").start()  # the first of those two to end: 100 + 20 = 120 s (40 + 90 = 130 s)
    assert gate.queue() == [("w1", 1, 40.0), ("w2", 2, 100.0), ("w3", 3, 120.0)]
    for w in (first, second, third):
        until(lambda: w.told, what=f"a sentence for {w.owner}")
    busy = "The server is busy: 2 of 2 trainings are running. "
    assert first.told[-1] == busy + "Yours is 1st in the queue and should start in about 40 s."
    assert second.told[-1] == busy + "Yours is 2nd in the queue and should start in about 1 min 40 s."
    assert third.told[-1] == busy + "Yours is 3rd in the queue and should start in about 2 min."


def test_a_holder_without_an_eta_is_given_the_average_and_nothing_known_gives_only_the_place():
    clock = Clock()
    gate = Gate(2, clock=clock)
    eta = [None]
    held(gate, "h1", eta=lambda: None)
    clock.now = 10.0
    held(gate, "h2", eta=lambda: eta[0])
    clock.now = 20.0
    Waiter(gate, "w1").start(), Waiter(gate, "w2").start(), Waiter(gate, "w3").start()
    assert gate.queue() == [("w1", 1, None), ("w2", 2, None), ("w3", 3, None)]  # nobody knows a time: no guess
    eta[0] = 50.0  # h2: 10 s held + 50 s left = 60 s, so h1 (held 20 s) should need 40 s more
    assert gate.queue() == [("w1", 1, 40.0), ("w2", 2, 50.0), ("w3", 3, 100.0)]


def test_a_place_with_no_known_time_is_named_without_one():
    gate = Gate(1)
    held(gate, "h")
    first, second = Waiter(gate, "a").start(), Waiter(gate, "b").start()
    until(lambda: first.told and second.told, what="both sentences")
    assert first.told[-1] == "The server is busy: 1 of 1 trainings are running. Yours starts as soon as one finishes."
    assert second.told[-1] == "The server is busy: 1 of 1 trainings are running. Yours is 2nd in the queue."


def test_giving_up_leaves_the_queue_and_frees_the_place():
    gate = Gate(1)
    holder = held(gate, "h")
    quitter, next_one = Waiter(gate, "a").start(), Waiter(gate, "b").start()
    assert owners(gate) == ["a", "b"]
    quitter.keep.clear()
    quitter.thread.join(5)
    assert quitter.result is False and gate.queue() == [("b", 1, None)]
    holder.__exit__(None, None, None)
    until(next_one.holding.is_set, what="the next waiter to take the freed slot")  # no ghost of the quitter ahead of it
    assert gate.running() == 1
    next_one.finish()
    assert gate.running() == 0 and gate.queue() == []


def test_a_freed_slot_wakes_the_next_in_the_queue_at_once_without_polling(monkeypatch):
    monkeypatch.setattr(admission, "POLL_S", 30.0)  # a waiter that polled would wait 30 s
    gate = Gate(2)
    a_first, other = held(gate, "A"), held(gate, "X")
    a_second, b = Waiter(gate, "A").start(), Waiter(gate, "B").start()
    started = time.monotonic()
    other.__exit__(None, None, None)
    until(b.holding.is_set, timeout=2, what="B, first in the queue, to wake")
    assert not a_second.holding.is_set()
    a_first.__exit__(None, None, None)
    until(a_second.holding.is_set, timeout=2, what="A's second training to wake once its first ended")
    assert time.monotonic() - started < 4


def test_the_capacity_holds_under_many_threads():
    gate, lock, now, most, done = Gate(3), threading.Lock(), [0], [0], []
    rng = random.Random(0)

    def train(owner):
        with gate.slot(lambda: True, owner=owner) as holding:
            assert holding
            with lock:
                now[0] += 1
                most[0] = max(most[0], now[0])
            time.sleep(rng.random() * 0.01)
            with lock:
                now[0] -= 1
            done.append(owner)

    threads = [threading.Thread(target=train, args=(rng.choice(["A", "B", "C", None]),)) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(done) == 24 and most[0] == 3 and gate.running() == 0 and gate.queue() == []


def test_the_positional_arguments_of_before_still_work():
    gate, told = Gate(1), []
    with gate.slot(lambda: True) as first:
        with gate.slot(lambda: not told, told.append) as second:
            assert first and not second
    assert told == ["The server is busy: 1 of 1 trainings are running. Yours starts as soon as one finishes."]


@pytest.mark.parametrize("seconds, said", [(0.4, "1 s"), (40, "40 s"), (100, "1 min 40 s"), (119, "2 min"),
                                           (600, "10 min"), (3900, "1 h 5 min"), (7200, "2 h")])
def test_waits_are_said_as_people_say_them(seconds, said):
    assert duration(seconds) == said


class _Waiting:
    """A trainer as a page sees it: only its snapshot's status."""

    def __init__(self, status: str):
        self.status = status

    def progress(self):
        return self


def test_a_page_waiting_in_the_queue_redraws_every_two_seconds_and_a_training_twice_a_second(monkeypatch):
    """Issue 18's class bench: 28 waiting students' pages redrew at the training cadence (0.5 s, and the sidebar's 1 s)
    and took about half a core of 2 from the trainings. Only a wait behind other trainings slows down: a training that
    waits for its own worker to start, with a slot free, keeps the fast cadence, so a lone user's first chart is not
    late."""
    from ui import controls

    gate = Gate(1)
    monkeypatch.setattr(admission, "current_gate", lambda: gate)
    assert controls.redraw_every(_Waiting("waiting"), 0.5) == 0.5  # a slot is free: its worker is starting
    held(gate)
    assert controls.queued(_Waiting("waiting"))
    assert controls.redraw_every(_Waiting("waiting"), 0.5) == controls.WAITING_EVERY_S == 2.0
    assert controls.redraw_every(_Waiting("waiting"), 1.0) == 2.0
    assert controls.redraw_every(_Waiting("running"), 0.5) == 0.5  # the slot's holder draws twice a second
    assert controls.redraw_every(None, 1.0) == 1.0
    # the Train page's charts cannot move while it waits: they do not redraw at all until its turn comes
    assert controls.redraw_every(_Waiting("waiting"), 1.0, queue=False) is None
    assert controls.redraw_every(_Waiting("running"), 1.0, queue=False) == 1.0

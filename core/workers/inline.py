"""Training workers inside the web server's process: `core.workers.actor.TrainWorker` served as Ray serves it, without
Ray (`RNN_PLAYGROUND_WORKERS=inline`).

A method's `.remote(...)` returns a reference at once and `get` waits for it; `kill` ends the worker. As in a Ray
actor, a worker's calls run one at a time on a thread of its own, and `weights` on a second one (its concurrency
group), while the training runs on the trainer's thread. What differs: nothing crosses a process boundary, so a
crash takes the server with it, and Keras' global state is the server's own, so the worker never clears it. And a
thread cannot be killed: `kill` tells the worker's job to stop (now, or as soon as a call under way has started it),
so a job stuck inside a step ends only when that step does.

For a server that one person uses on a small machine (no Ray to start: a training begins seconds sooner, and no
worker process of ~700 MB), and for the tests of the pages, which test what a page does with a training; the
process boundary has tests of its own (tests/workers, and the browser tests, which run the app as users do).
Sweeps always run on Ray.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import Callable


class CallTimeout(TimeoutError):
    """A call to a worker did not return in time."""


class CallFailed(RuntimeError):
    """A call to a worker raised, or the worker had been ended."""


def brief(error: str) -> str:
    """A failed call's message: the error's first line, at most 300 characters (Ray's carry a whole traceback)."""
    return error.splitlines()[0][:300] if error else error


def get(ref: Future, timeout: float | None = None):
    """The result of a call (`ray.get` for an inline worker's reference).

    Raises:
        CallTimeout: not done within `timeout` seconds.
        CallFailed: the call raised (the worker's exception is its cause, its message `brief`) or the worker was ended.
    """
    try:
        return ref.result(timeout)
    except CancelledError:  # queued when the worker was ended
        raise CallFailed("the worker was ended") from None
    except Exception as err:
        if isinstance(err, TimeoutError) and not ref.done():  # the wait's, not one the method itself raised
            raise CallTimeout(f"no answer within {timeout} s") from None
        raise CallFailed(brief(f"{type(err).__name__}: {err}")) from err


class _Method:
    """`worker.name`: `.remote(*args)` calls it on the worker's thread; `.options(concurrency_group=...)` picks the
    second thread, as a Ray actor's concurrency group does."""

    def __init__(self, worker: "InlineWorker", name: str, lane: ThreadPoolExecutor):
        self._worker, self._name, self._lane = worker, name, lane

    def options(self, concurrency_group: str | None = None) -> "_Method":
        return _Method(self._worker, self._name, self._worker._side if concurrency_group else self._worker._calls)

    def remote(self, *args) -> Future:
        return self._worker._submit(self._lane, self._name, args)


class InlineWorker:
    """One worker: the object `make()` returns, made on the worker's thread (as a Ray actor is made in its process)."""

    def __init__(self, make: Callable[[], object]):
        self._calls = ThreadPoolExecutor(1, thread_name_prefix="rnn-inline-worker")
        self._side = ThreadPoolExecutor(1, thread_name_prefix="rnn-inline-weights")
        self._ended = threading.Event()
        self._lock = threading.Lock()  # a call is queued, or refused, wholly before or after `kill`
        self._made: Future = self._calls.submit(make)

    def __getattr__(self, name: str) -> _Method:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Method(self, name, self._calls)

    def _submit(self, lane: ThreadPoolExecutor, name: str, args: tuple) -> Future:
        with self._lock:
            if not self._ended.is_set():
                return lane.submit(self._call, name, args)
        gone: Future = Future()  # as Ray answers a call to a killed actor: a reference that fails
        gone.set_exception(CallFailed("the worker was ended"))
        return gone

    def _call(self, name: str, args: tuple):
        if self._ended.is_set():
            raise CallFailed("the worker was ended")
        try:
            value = getattr(self._made.result(), name)(*args)
        finally:
            if self._ended.is_set():  # ended while this call ran: a job it started stops too
                self._stop_job()
        if self._ended.is_set():  # and its caller hears the worker is gone, as from a Ray actor killed mid-call
            raise CallFailed("the worker was ended")
        return value

    def kill(self) -> None:
        """End the worker: its job is told to stop, and every later call fails (as with `ray.kill`)."""
        with self._lock:
            self._ended.set()
            self._calls.shutdown(wait=False, cancel_futures=True)
            self._side.shutdown(wait=False, cancel_futures=True)
        self._stop_job()

    def _stop_job(self) -> None:
        if self._made.done() and self._made.exception() is None:
            job = getattr(self._made.result(), "job", None)
            if job is not None:
                job.stop()

    def __repr__(self) -> str:
        return f"InlineWorker(pid {os.getpid()}, {'ended' if self._ended.is_set() else 'running'})"

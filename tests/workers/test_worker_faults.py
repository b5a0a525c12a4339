"""Workers that fail or are slow, in real Ray actors: start-up failures give up with a sentence (N9), a slow
`weights` call never holds up a poll (N7)."""

import time

import pytest

from core.workers import cluster, pool
from core.workers.actor import TrainWorker


class FailingWorker(TrainWorker):
    """A worker that cannot start (as when TensorFlow fails to import, or memory runs out at import)."""

    def __init__(self):
        raise ImportError("no TensorFlow here")


class SlowWeightsWorker(TrainWorker):
    """A worker whose `weights` waits as long as a slow step or a long epoch end holds the trainer's lock."""

    def __init__(self):
        pass  # no TensorFlow: this test only needs the actor's threads

    def weights(self, job_id: str):
        time.sleep(8)
        return None


def test_workers_that_fail_to_start_give_up_after_three_with_a_sentence():
    """N9: `acquire` replaced a worker that died while starting, as fast as they failed, for as long as the user waited."""
    pool.workers()  # Ray up
    failing = pool.WorkerPool(0, worker_cls=FailingWorker)
    told, started = [], time.monotonic()
    with pytest.raises(cluster.ClusterError, match=r"Training workers fail to start \(3 in a row"):
        failing.acquire(lambda: time.monotonic() - started < 120, told.append)
    assert time.monotonic() - started < 120


def test_a_slow_weights_call_does_not_hold_up_the_polls():
    """N7: the actor ran one call at a time, so polls queued behind a `weights` waiting for the trainer's lock, and
    60 s of that was taken for a lost worker."""
    pool.workers()
    slow = pool.WorkerPool(0, worker_cls=SlowWeightsWorker)
    actor = slow.acquire(lambda: True, lambda _: None)
    try:
        import ray

        ref = actor.weights.options(concurrency_group=pool.WEIGHTS_GROUP).remote("job")
        time.sleep(0.5)  # the weights call is under way in the worker
        asked = time.monotonic()
        ray.get(actor.ready.remote(), timeout=30)  # as a poll would
        assert time.monotonic() - asked < 4, "the poll waited for the weights call"
        assert ray.get(ref, timeout=30) is None
    finally:
        slow.discard(actor)


def test_a_worker_answers_weights_only_for_the_job_it_runs_now():
    """N6: `weights()` answered for whatever job the worker ran, so a Generate click in the moment a worker changed
    hands could load another session's weights."""
    import dataclasses

    import numpy as np
    import ray

    from core.nn.language_model import build_model
    from core.workers.remote_trainer import RemoteTrainer
    from tests.helpers import FOX_IDS, FOX_VOCAB, SHORT, SMALL, WORKER_START_S, wait_for_step

    # one long epoch (about 15,000 steps): no epoch-end checkpoint comes in and changes the weights' version meanwhile
    long = dataclasses.replace(SHORT, epochs=1, max_steps_per_epoch=100_000, sample_length=0)
    t = RemoteTrainer(build_model(SMALL), SMALL, long, np.tile(FOX_IDS, 400), FOX_VOCAB)
    t.start()
    try:
        wait_for_step(t, 2, WORKER_START_S)  # a new worker starts
        actor, job_id = t._current_worker()
        assert actor is not None and job_id
        group = actor.weights.options(concurrency_group=pool.WEIGHTS_GROUP)
        assert ray.get(group.remote("another-sessions-job"), timeout=60) is None
        assert ray.get(group.remote(job_id), timeout=60) is not None
        version = t.weights_version
        with t.holding_model():
            pass
        assert t.weights_version == version + 1  # its own job's weights of this moment
    finally:
        t.stop()
        t.join(60)
    assert t._current_worker() == (None, None)  # given back: nothing to ask any more
    version = t.weights_version
    with t.holding_model():
        pass
    assert t.weights_version == version


class LightWorker(TrainWorker):
    """A worker without TensorFlow (`ready` answers its process id): the pool's policy, not training, is under test."""

    def __init__(self):
        self.job = self.job_id = None


def _started(p: pool.WorkerPool) -> set[int]:
    import ray

    return {ray.get(a.ready.remote(), timeout=60) for a, _ in p._idle}


def _end_all(p: pool.WorkerPool) -> None:
    for actor, _ in list(p._idle):
        p._end(actor)


def test_a_worker_given_back_trains_the_next_one_and_no_worker_is_warmed_past_the_slots():
    """Issue 18's class bench: every training warmed a replacement worker (TensorFlow imported again, ~5 CPU-s) even
    when all slots were taken and the next training had to wait for one anyway, and ended its own worker at the end.
    Now a worker given back serves the next training, and a replacement is warmed only while a slot is free."""
    pool.workers()  # Ray up (before importing it: `core.workers.cluster` sets Ray's variables first)
    import ray

    p = pool.WorkerPool(2, worker_cls=LightWorker, capacity=2)
    p.warm()
    first = _started(p)
    for _ in range(3):  # two trainings at once take both slots, three times over: the same two processes serve them
        a = p.acquire(lambda: True, lambda _: None)
        b = p.acquire(lambda: True, lambda _: None)
        assert not p._idle, "a worker was warmed although both slots were taken"
        assert {ray.get(a.ready.remote()), ray.get(b.ready.remote())} == first
        p.release(a)
        p.release(b)
    assert _started(p) == first
    _end_all(p)  # the embedded Ray has CPUs for the app's warm workers and two more

    one = pool.WorkerPool(1, worker_cls=LightWorker, capacity=2)  # one warm, two slots: a replacement while one is free
    one.warm()
    a = one.acquire(lambda: True, lambda _: None)
    assert len(one._idle) == 1
    b = one.acquire(lambda: True, lambda _: None)
    assert not one._idle  # both slots taken: nothing more
    one.release(a)
    one.release(b)  # one idle is all it keeps: the other ends
    assert len(one._idle) == 1
    _end_all(one)


class GrantedWorker(TrainWorker):
    """Sizes TensorFlow's threads as a TrainWorker does first thing, then stops short of importing TensorFlow."""

    def __init__(self):
        import os

        from core.workers.actor import use_granted_cpus

        self.job = self.job_id = None
        for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):  # the suite sets them (tests/conftest.py)
            os.environ.pop(name, None)
        self.granted = use_granted_cpus()

    def threads(self):
        import os

        return self.granted, os.environ.get("TF_NUM_INTRAOP_THREADS"), os.environ.get("TF_NUM_INTEROP_THREADS")


def test_a_worker_sizes_tensorflows_threads_to_the_cpus_ray_granted_it(monkeypatch):
    """Issue 18: each worker's TensorFlow used every core of the machine, so two trainings side by side fought over
    them (one alone used 1.2 of 2 cores and took 16.2 s; with one thread, 12.7 s). A worker asks Ray for
    RNN_PLAYGROUND_WORKER_CPUS (default 1) and now uses that many threads; a value the operator set is kept."""
    from core.workers.actor import use_granted_cpus

    pool.workers()
    p = pool.WorkerPool(0, worker_cls=GrantedWorker, capacity=2)
    actor = p.acquire(lambda: True, lambda _: None)
    import ray

    try:
        assert ray.get(actor.threads.remote(), timeout=60) == (1, "1", "1")
    finally:
        p.discard(actor)
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    assert use_granted_cpus() is None  # this test's process is Ray's driver, no worker: TensorFlow's default
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "2")
    assert use_granted_cpus() is None

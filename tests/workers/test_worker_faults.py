"""Workers that fail or are slow, in real Ray actors: start-up failures give up with a sentence (N9), a slow
`weights` call never holds up a poll (N7)."""

import threading
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

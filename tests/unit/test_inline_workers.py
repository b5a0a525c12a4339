"""core.workers.inline: trainings in threads of this process (`RNN_PLAYGROUND_WORKERS=inline`), driven through the same
`RemoteTrainer` as Ray's workers, and never starting Ray."""

import dataclasses

import numpy as np
import pytest

from core import settings
from core.nn.language_model import build_model
from core.workers import cluster, inline, pool
from core.workers.remote_trainer import RemoteTrainer
from tests.helpers import FOX_IDS, FOX_VOCAB, SHORT, SMALL, trains_as_this_process, until, wait_for_step

LONG = dataclasses.replace(SHORT, epochs=1000, max_steps_per_epoch=10, sample_length=0)


@pytest.fixture(autouse=True)
def inline_workers(monkeypatch):
    """Inline workers, and Ray out of reach: any attempt to connect fails the test."""
    def no_ray():
        raise AssertionError("an inline training connected to Ray")

    monkeypatch.setenv("RNN_PLAYGROUND_WORKERS", "inline")
    monkeypatch.setattr(cluster, "connect", no_ray)
    settings.reload()


def remote(train=SHORT) -> RemoteTrainer:
    return RemoteTrainer(build_model(SMALL), SMALL, train, FOX_IDS, FOX_VOCAB)


def test_an_inline_worker_trains_exactly_as_a_trainer_in_this_process_and_gives_the_server_its_weights():
    trains_as_this_process(remote())
    assert isinstance(pool.workers(), pool.WorkerPool) and pool.inline_workers()


@pytest.mark.slow  # make check keeps the equivalence and the calls' errors; make test runs this too
def test_pause_fetch_the_weights_of_the_moment_and_a_killed_inline_worker_is_lost_at_its_last_checkpoint():
    t = remote(LONG)
    t.start()
    wait_for_step(t, 3)
    t.pause()
    until(lambda: t.progress().status == "paused", 60, "paused")
    with t.holding_model() as model:  # the worker's `weights` call, on its second thread
        paused = [w.copy() for w in model.get_weights()]
    t.resume()
    until(lambda: t.checkpoint is not None and t.checkpoint.step >= 10 and t.progress().step >= t.checkpoint.step + 3,
          60, "an epoch end and a few steps")
    worker = t.worker()
    assert isinstance(worker, inline.InlineWorker)
    pool.kill(worker)  # as ray.kill: every later call fails
    t.join(60)
    p, ckpt = t.progress(), t.checkpoint
    assert p.status == "lost" and "stopped unexpectedly" in p.message and p.step == ckpt.step
    assert any(not np.array_equal(a, b) for a, b in zip(paused, ckpt.weights))  # trained on after the pause
    with pytest.raises(inline.CallFailed, match="ended"):
        inline.get(worker.ready.remote(), 5)


class Fake:
    """A worker without TensorFlow: `wait` sleeps, `fail` raises, `start` starts a job after a moment."""

    def __init__(self):
        self.job = None

    def ready(self):
        return 1

    def wait(self, seconds):
        import time

        time.sleep(seconds)

    def fail(self, error):
        raise error

    def start(self, seconds):
        import threading
        import time

        time.sleep(seconds)
        self.job = threading.Event()  # its `set` stands for the job's stop
        self.job.stop = self.job.set


def test_an_inline_call_that_raises_or_does_not_answer_is_a_failed_call_or_a_timeout():
    worker = inline.InlineWorker(Fake)
    assert pool.result(worker.ready.remote(), 5) == 1
    with pytest.raises(pool.CallFailed, match="ValueError: no such job"):
        pool.result(worker.fail.remote(ValueError("no such job")), 5)
    with pytest.raises(pool.CallFailed, match="TimeoutError: its own"):  # a method's TimeoutError is not a wait's
        pool.result(worker.fail.remote(TimeoutError("its own")), 5)
    with pytest.raises(pool.CallTimeout):
        pool.result(worker.wait.remote(0.5), 0.05)
    assert pool.result(worker.wait.options(concurrency_group=pool.WEIGHTS_GROUP).remote(0), 5) is None  # second thread
    pool.kill(worker)


def test_a_killed_inline_worker_stops_the_job_a_running_call_starts_and_fails_the_calls_queued_or_sent_later():
    worker = inline.InlineWorker(Fake)
    pool.result(worker.ready.remote(), 5)
    starting = worker.start.remote(0.3)  # under way when the worker is killed
    queued = worker.ready.remote()
    until(lambda: starting.running(), 5, "the call to start")
    pool.kill(worker)
    for ref in (queued, worker.ready.remote()):
        with pytest.raises(pool.CallFailed, match="the worker was ended"):
            pool.result(ref, 5)
    with pytest.raises(pool.CallFailed):
        pool.result(starting, 5)  # it returned after the kill
    until(lambda: worker._made.result().job is not None and worker._made.result().job.is_set(), 5,
          "the job that call started to be told to stop")

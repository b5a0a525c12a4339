"""core.workers.client, core.workers.remote_trainer and core.workers.cluster: trainings in Ray workers, driven from this process as the web server drives them."""

import dataclasses
import os
import re
import subprocess
import sys
import time

import numpy as np

from core.nn.language_model import build_model
from core.workers import cluster, pool
from core.workers.remote_trainer import RemoteTrainer
from tests.helpers import (FOX_IDS, FOX_VOCAB, ROOT, SHORT, SMALL, WORKER_START_S, free_port, server_full, stays,
                           trains_as_this_process, until, wait_for_step)

VOCAB, IDS, CONFIG, TRAIN = FOX_VOCAB, FOX_IDS, SMALL, SHORT
LONG = dataclasses.replace(TRAIN, epochs=1000, max_steps_per_epoch=10, sample_length=0)


def remote(train=TRAIN, keep_alive=None) -> RemoteTrainer:
    return RemoteTrainer(build_model(CONFIG), CONFIG, train, IDS, VOCAB, keep_alive=keep_alive)


def finish(*trainers) -> None:
    for t in trainers:
        t.stop()
    for t in trainers:
        t.join(60)
        assert not t.active()


def test_a_worker_trains_exactly_as_this_process_would():
    """Same seed, same losses and weights: the worker runs the same code on plain data sent to it."""
    trains_as_this_process(remote())


def test_pause_while_waiting_for_a_slot_is_kept_and_resume_works():
    """REVIEW defect 1: a pause pressed while the run waited was overwritten by "running", and Resume did nothing."""
    pool.workers()
    with server_full(leave=1):  # other sessions' trainings hold every slot but one
        _pause_while_waiting()


def _pause_while_waiting():
    first, second = remote(LONG), remote()
    first.start()
    wait_for_step(first, 1, WORKER_START_S)
    second.start()
    until(lambda: second.progress().status == "waiting" and "busy" in second.progress().message, 120, "second waits")
    second.pause()
    until(lambda: second.progress().status == "paused", 120, "the pause to show while waiting")
    stays(lambda: second.progress().status == "paused" and second.progress().step == 0, 1.0,
          "the pause, over several wait rounds")
    second.resume()
    until(lambda: second.progress().status == "waiting", 120, "resume to go back to waiting")
    first.stop()
    second.join(120)
    assert second.progress().status == "finished" and second.progress().step == 40
    finish(first)


def past_step_3():
    """A remote training of LONG, started and past its third step."""
    t = remote(LONG)
    t.start()
    wait_for_step(t, 3, WORKER_START_S)
    return t


def test_pause_and_resume_mid_training():
    t = past_step_3()
    t.pause()
    until(lambda: t.progress().status == "paused", 120, "paused")
    at = t.progress().step
    version = t.weights_version
    stays(lambda: t.progress().step == at and t.active(), 0.6, "no step while paused")
    assert version >= 1 and t.checkpoint.step == at  # the weights of the pause reached the server's model
    t.resume()
    until(lambda: t.progress().step > at and t.progress().status == "running", 120, "training again")
    finish(t)


def test_start_right_after_stop_continues():
    """REVIEW defect 5: Start pressed while the stopped thread was still exiting did nothing."""
    t = past_step_3()
    t.stop()
    t.start()  # at once, while the stop is still under way
    until(lambda: t.runs == 2, 120, "the second run to begin after the stop")
    stopped_at = t.progress().step
    until(lambda: t.progress().step > stopped_at + 3, 120, "the second start to train on")
    assert t.progress().status == "running"
    steps = t.progress().steps
    assert list(steps) == list(range(1, len(steps) + 1))  # one history, no step twice or missing
    finish(t)
    assert t.progress().status == "stopped"


def test_a_killed_worker_leaves_the_last_epoch_end_and_others_go_on():
    other, t = remote(LONG), remote(LONG)
    other.start(), t.start()
    until(lambda: t.checkpoint is not None and t.checkpoint.step >= 10 and t.progress().step >= t.checkpoint.step + 3,
          WORKER_START_S, "an epoch end and a few steps")
    import ray

    ray.kill(t.worker(), no_restart=True)  # as `kill -9` on its process
    t.join(60)
    p, ckpt = t.progress(), t.checkpoint
    assert p.status == "lost" and "stopped unexpectedly" in p.message and f"step {ckpt.step:,}" in p.message
    assert ckpt.step % 10 == 0 and p.step == ckpt.step and p.steps[-1] == ckpt.step and len(p.loss) == ckpt.step
    for a, b in zip(t.model.get_weights(), ckpt.weights):
        np.testing.assert_array_equal(a, b)
    before = other.progress().step
    until(lambda: other.progress().step > before + 5, 120, "the other session to go on")
    other.stop()  # it went on; it would only take a core from the new worker's start
    t.start()  # continues from the epoch end
    wait_for_step(t, ckpt.step + 3, WORKER_START_S)  # the continued training
    assert list(t.progress().steps) == list(range(1, t.progress().step + 1))
    finish(t, other)


def test_a_closed_tab_stops_its_training_within_ten_seconds():
    open_ = [True]
    t = remote(LONG, keep_alive=lambda: open_[0])
    t.start()
    wait_for_step(t, 2, WORKER_START_S)
    open_[0] = False
    closed = time.monotonic()
    t.join(30)
    assert time.monotonic() - closed < 10
    assert t.progress().status == "stopped" and "closed" in t.progress().message


def test_ray_that_cannot_start_is_a_sentence_on_the_training(monkeypatch):
    def broken():
        raise cluster.ClusterError("Cannot reach the Ray cluster at RAY_ADDRESS=10.9.9.9:1 (refused). Start its head.")

    monkeypatch.setattr(cluster, "connect", broken)
    t = remote()
    t.start()
    t.join(30)
    assert t.progress().status == "failed" and t.progress().message.startswith("Cannot reach the Ray cluster")


def test_an_unreachable_or_malformed_address_says_what_to_do():
    """Each address in a fresh process, as a server started with it: connecting fails at once with a sentence."""
    port = free_port()  # a loopback port that nothing listens on
    cases = {f"127.0.0.1:{port}": f"Cannot reach the Ray cluster at RAY_ADDRESS=127.0.0.1:{port}.*unset RAY_ADDRESS",
             **{bad: "is not of the form host:port" for bad in ("ray://head:10001", "just-a-host", ":6379")}}
    code = ("from core.workers import cluster\ntry:\n    cluster.connect()\nexcept cluster.ClusterError as err:\n"
            "    print('ClusterError:', err)\nelse:\n    print('connected')\n")
    procs = {addr: subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, env={**os.environ, "RAY_ADDRESS": addr})
             for addr in cases}
    for addr, words in cases.items():
        out, err = procs[addr].communicate(timeout=120)
        assert re.search("ClusterError: .*" + words, out), (addr, out, err[-2000:])


def test_the_embedded_ray_listens_on_loopback_only():
    import psutil

    pool.workers()
    assert cluster.embedded()
    ray_pids = {p.pid for p in psutil.Process().children(recursive=True)}
    listening = [c for c in psutil.net_connections("inet") if c.status == psutil.CONN_LISTEN and c.pid in ray_pids]
    assert listening, "no Ray server found"
    assert all(c.laddr.ip in ("127.0.0.1", "::ffff:127.0.0.1", "::1") for c in listening), listening

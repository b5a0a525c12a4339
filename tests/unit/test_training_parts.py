"""The pieces around the training loop: the gate sized by the cluster (N2), the keep-alive under two threads (N8),
a keep-alive that raises (N14), epoch-end work built once (D6) and the trainer's imports (S2), and what a worker
answers and refuses in-process (N6, N21)."""

import ast
import logging
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.config import ModelConfig, TrainConfig
from core.nn.language_model import build_model
from core.text.vocabulary import Vocabulary
from core.training.trainer import Trainer
from core.workers import admission, cluster, pool
from core.workers.client import KeepAlive

ROOT = Path(__file__).resolve().parents[2]
TEXT = "the quick brown fox jumps over the lazy dog.\n" * 40
VOCAB = Vocabulary.build(TEXT)
IDS = VOCAB.encode(TEXT)
CONFIG = ModelConfig(vocab_size=len(VOCAB), embedding_dim=4, rnn_units=8, batch_size=4, seq_len=8)
TRAIN = TrainConfig(epochs=2, learning_rate=0.01, max_steps_per_epoch=3, sample_length=5, grad_curve_len=0)


@pytest.fixture
def fake_cluster(monkeypatch):
    """A joined cluster of 16 CPUs that answers only once connected, and no gate opened yet."""
    connected = []
    monkeypatch.setattr(admission, "_GATE", [])
    monkeypatch.setattr(cluster, "connect", lambda: connected.append(True))
    monkeypatch.setattr(cluster, "embedded", lambda: False)
    monkeypatch.setattr(cluster, "cluster_cpus", lambda: 16 if connected else None)
    return connected


def test_the_gate_is_sized_by_the_cluster_once_connected_not_by_this_machine(fake_cluster, monkeypatch):
    """N2: the slot count was frozen at os.cpu_count() when the first training came before Ray had answered."""
    from core import settings

    monkeypatch.setenv("RNN_PLAYGROUND_WORKER_CPUS", "2")
    monkeypatch.delenv("RNN_PLAYGROUND_MAX_TRAININGS", raising=False)
    settings.reload()
    assert admission.current_gate() is None  # nothing is sized before connecting
    gate = pool.gate()
    assert fake_cluster and gate.capacity == 8  # 16 CPUs / 2 per training, whatever this machine has
    assert pool.gate() is gate and "0 of 8 trainings" in gate.busy_sentence()


def test_the_busy_sentence_counts_the_gates_own_slots():
    gate = admission.Gate(2)
    told = []
    with gate.slot(lambda: True) as first, gate.slot(lambda: True) as second:
        assert first and second
        with gate.slot(lambda: not told, told.append) as third:  # waits one round, is told why, then gives up
            assert not third
    assert told == ["The server is busy: 2 of 2 trainings are running. Yours starts as soon as one finishes."]


def test_a_watcher_added_while_the_keep_alive_is_checked_is_kept():
    """N8: `add` from a session's thread, landing while the job's thread filtered the checks, was lost."""
    w = KeepAlive(grace_s=0)
    old_tab = [True]

    def second_tab() -> bool:
        return True

    def first_tab() -> bool:
        if old_tab[0]:  # the new tab attaches from its own thread while this check runs
            t = threading.Thread(target=w.add, args=(second_tab,))
            t.start()
            t.join(5)
            old_tab[0] = False
            return True
        return False

    w.add(first_tab)
    assert w()  # first tab still open; the second attached meanwhile
    assert w()  # first tab closed: the second keeps the training
    assert w()


def test_a_keep_alive_that_raises_is_logged_and_not_taken_for_a_closed_tab(caplog):
    """N14: a broken callback stopped the training with "Stopped because the browser tab was closed."."""
    def broken() -> bool:
        raise KeyError("session state")

    long = replace(TRAIN, epochs=1000, sample_length=0)
    trainer = Trainer(build_model(CONFIG), CONFIG, long, IDS, VOCAB, keep_alive=broken)
    with caplog.at_level(logging.ERROR, logger="core"):
        trainer.start()
        trainer.join(60)
    p = trainer.progress()
    assert p.status == "stopped" and "closed" not in p.message and "KeyError" in p.message
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)


def test_epoch_end_work_is_built_once_not_at_every_epoch_end(monkeypatch):
    """D6: every epoch end built a new Stepper (a new tf.function to trace) under the model lock."""
    from core.nn import generate

    built = []

    class Counted(generate.Stepper):
        def __init__(self, model):
            built.append(model)
            super().__init__(model)

    monkeypatch.setattr(generate, "Stepper", Counted)
    trainer = Trainer(build_model(CONFIG), CONFIG, replace(TRAIN, epochs=3), IDS, VOCAB)
    trainer.start()
    trainer.join(120)
    p = trainer.progress()
    assert p.status == "finished" and [e for e, _ in p.samples] == [1, 2, 3]
    assert len(built) == 1


def test_the_training_loop_imports_neither_sampling_nor_inspection():
    """S2: the trainer imported core.nn.generate and core.inspection in its epoch end."""
    for name in ("trainer.py", "loop.py", "background.py"):
        tree = ast.parse((ROOT / "core" / "training" / name).read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in imported if m.startswith(("core.nn.generate", "core.inspection", "core.workers"))}, name


def test_the_server_side_imports_no_trainer_and_no_actor():
    """Issue 17 item 1: the server got TrainJob, Checkpoint and STOPPED_BY_YOU by importing the worker's modules."""
    for name in ("client.py", "remote_trainer.py", "remote_race.py", "pool.py", "admission.py", "cluster.py"):
        tree = ast.parse((ROOT / "core" / "workers" / name).read_text())
        top = {n.module for n in tree.body if isinstance(n, ast.ImportFrom)}
        assert not top & {"core.training.trainer", "core.training.loop", "core.workers.actor"}, name


def test_importing_the_cluster_module_sets_no_ray_variable():
    """N23: importing core.workers.cluster set RAY_AUTH_MODE and RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER."""
    import subprocess
    import sys

    code = "import os, core.workers.cluster, core.workers.pool; print(sorted(k for k in os.environ if k.startswith('RAY_')))"
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("RAY_")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


class _StuckJob:
    """A job whose thread does not end when told to (a step that never returns)."""

    def __init__(self):
        self.stopped = False

    def stop(self, message=None):
        self.stopped = True

    def join(self, timeout=None):
        pass

    def alive(self) -> bool:
        return True


def test_a_worker_whose_job_does_not_stop_retires_instead_of_clearing_keras_under_it(monkeypatch):
    """N21: `_clear` waited 30 s, then ran clear_session() under the still-stepping job anyway."""
    from core.nn.tf import keras
    from core.workers import actor

    cleared = []
    worker = actor.TrainWorker()
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: cleared.append(True))
    monkeypatch.setattr(actor, "JOIN_S", 0.1)
    stuck = _StuckJob()
    worker.job, worker.job_id = stuck, "a"
    with pytest.raises(actor.WorkerRetired):
        worker.release()
    assert stuck.stopped and cleared == []


def test_a_worker_gives_its_weights_only_to_its_own_job():
    """N6: `weights()` answered for whatever job the worker ran, so one session could load another's weights."""
    from core.workers.actor import TrainWorker
    from core.workers.messages import TrainJob

    worker = TrainWorker()
    worker.train(TrainJob(CONFIG, replace(TRAIN, epochs=1000, sample_length=0), IDS, VOCAB, paused=True, job_id="mine"))
    try:
        assert worker.weights("someone-else") is None
        mine = worker.weights("mine")
        assert mine is not None and all(isinstance(w, np.ndarray) for w in mine)
    finally:
        worker.release()
    assert worker.weights("mine") is None  # given back: nobody's


def test_a_loss_above_guessing_is_called_diverged_and_perplexity_is_not_capped():
    """A learning rate of 10 without clipping ended at a loss of 83 with "Training finished." and nothing more, and
    a perplexity capped at exp(50) for losses of 72 and 83 alike. Above ln V (guessing) over the last points, once the
    training had 30 steps to fall, a sentence says it diverged and what to change."""
    import math

    from core.training.progress import DIVERGE_AFTER, Progress

    def snap(losses, step=DIVERGE_AFTER):
        return Progress(status="finished", step=step, loss=np.asarray(losses, float))

    said = snap([4.0] * 10 + [83.0] * 20).divergence(65)
    assert said.startswith("Over its last steps the loss averaged 83.0, above the 4.17 that guessing scores (every one of the 65 tokens"), said
    assert "Lower the learning rate" in said and "clip the gradient norm" in said
    assert snap([4.0] * 10 + [83.0] * 20, step=DIVERGE_AFTER - 1).divergence(65) is None  # too early to say
    assert snap([4.3] * 20).divergence(65) is None  # near guessing (ln 65 = 4.17), as a fresh model starts
    assert snap([1.2] * 20).divergence(65) is None
    assert snap([83.0] * 19 + [float("nan")]).divergence(65) is None  # a non-finite loss has its own sentence
    assert snap([72.0]).perplexity == math.exp(72.0) != snap([83.0]).perplexity


def test_the_speed_leaves_out_the_first_step_that_traces_the_graph():
    """The first step of a run also traces its graph (seconds, against milliseconds for the next ones): at its speed,
    a run that ended within 4 s said "about 969 s left". No speed until two later steps are measured."""
    from core.training.pace import Pace

    pace = Pace()
    pace.stepped(0.0, 3.0)  # the first step: 3 s of tracing
    assert pace.per_step_s() is None
    pace.stepped(3.0, 3.01)
    assert pace.per_step_s() is None
    pace.stepped(3.01, 3.03)
    assert pace.per_step_s() == pytest.approx(0.015)

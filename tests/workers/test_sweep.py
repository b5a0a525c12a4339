"""core.workers.sweep: a tiny sweep through Ray Tune on the embedded Ray, every trial a stored run of its sweep."""

import dataclasses
import json

import pytest

from core.config import TrainConfig
from core.runs.recorder import Recorder
from core.runs.sqlite_store import RunStore
from core.sweeps.plan import make_spec, plan
from core.workers.sweep import Asha, SweepRunner, TrialTrainer
from tests.helpers import FOX, FOX_IDS, FOX_VOCAB, SMALL, until

QUICK = TrainConfig(epochs=3, learning_rate=0.01, max_steps_per_epoch=8)
RELU = dataclasses.replace(SMALL, activation="relu")  # with a learning rate of 10: a non-finite loss at the second batch


def sweep(tmp_path, texts, epochs=3, asha=None, at_once=None, model=SMALL):
    """Plan, store and run a sweep as the Sweeps page does; (store, workspace, runner, run ids)."""
    from core.runs.reopen import vocab_json

    store = RunStore(tmp_path)
    ws = store.create_workspace()
    spec = make_spec(texts, epochs=epochs)
    trials = plan(spec, model, QUICK, 32)
    sweep_id = store.create_sweep(ws, spec.to_json())
    trainers, run_ids, rec = [], [], Recorder(store, every_s=0.2)
    for t in trials:
        trainer = TrialTrainer(t.index, t.label(), t.model, t.train, FOX_IDS, FOX_VOCAB)
        run_id = store.create_run(ws, f"trial {t.index + 1}", store.put_text(FOX), "fox", t.model, t.train,
                                  vocab_json(FOX_VOCAB))
        store.update_run(ws, run_id, sweep_id=sweep_id)
        rec.track(run_id, trainer, ws)
        trainers.append(trainer), run_ids.append(run_id)
    runner = SweepRunner(trainers, FOX_IDS, FOX_VOCAB, asha=asha, at_once=at_once, shuffle=False,
                         on_end=lambda status, message: store.update_sweep(ws, sweep_id, status=status, message=message))
    runner.start()
    assert runner.join(240), f"the sweep did not end within 240 s: {_state(runner)}"
    rec.flush(ws)
    return store, ws, sweep_id, runner, run_ids


def _state(runner) -> str:
    """Where a sweep that did not end stands: its trials, and the server's training slots."""
    from core.workers import admission

    gate = admission.current_gate()
    slots = f"slots {gate.running()} of {gate.capacity} held, queue {gate.queue()}" if gate else "no gate"
    trials = "; ".join(f"trial {t.index + 1}: {t.progress().status} at step {t.progress().step} "
                       f"(in sweep {t.in_sweep}, granted {t.granted}, wants {t.wanted()}): {t.progress().message}"
                       for t in runner.trials)
    import ray

    return f"{runner.status} ({runner.message}); {trials}; {slots}; Ray's free resources {ray.available_resources()}"


def test_a_tune_sweep_stores_every_trial_in_its_sweep_and_asha_stops_the_hopeless_one_early(tmp_path):
    """Four trials, two at a time; ASHA judges after one epoch and keeps the better half, so the learning rate of
    1e-5 (the worst at every rung) stops at epoch 1, and the one of 10 (relu) fails on a non-finite loss at its second batch
    while the sweep goes on. Every trial is a stored run of the sweep with its validation losses."""
    store, ws, sweep_id, runner, run_ids = sweep(tmp_path, {"learning_rate": "0.03, 0.01, 0.00001, 10"},
                                                 asha=Asha(grace=1, reduction=2), at_once=2, model=RELU)
    assert runner.status == "finished", runner.message
    assert store.sweep(ws, sweep_id)["status"] == "finished"
    runs = store.sweep_runs(ws, sweep_id)
    assert [r["id"] for r in runs] == run_ids
    failed = runs.pop(3)
    assert failed["status"] == "failed" and "not a finite number" in failed["message"], failed["message"]
    assert "Try a learning rate 10× lower than 10" in failed["message"] and failed["best_val"] is None
    for run in runs:
        val = json.loads(run["extras"])["val"]
        # a validation loss per epoch it trained: a trial waits for ASHA's judgement before its next epoch
        assert run["epoch"] == len(val) and val, (run["status"], run["message"])
        assert len(store.rows(ws, run["id"])["loss"]) >= 8 * len(val)  # every training row stored
        assert run["best_val"] == min(v[1] for v in val)
        assert store.weights(ws, run["id"])  # its last checkpoint is on disk: it can be opened
        if run["status"] == "finished":
            assert run["epoch"] == 3
        else:
            assert run["status"] == "stopped" and run["message"].startswith("Stopped early at epoch"), run["message"]
    hopeless = runs[2]
    assert hopeless["status"] == "stopped" and len(json.loads(hopeless["extras"])["val"]) == 1, hopeless["message"]
    assert hopeless["message"].startswith("Stopped early at epoch 1 (ASHA)")
    assert any(r["status"] == "finished" for r in runs)


def test_a_trial_whose_worker_is_lost_shows_failed_with_a_sentence_and_the_others_go_on():
    """Tune's on_trial_error (its actor died): that trial is failed with a sentence, the sweep's other trials go on."""
    trainers = [TrialTrainer(i, f"trial {i + 1}", SMALL, QUICK, FOX_IDS, FOX_VOCAB) for i in range(2)]
    runner = SweepRunner(trainers, FOX_IDS, FOX_VOCAB, asha=None)
    runner.trial_ended(0, "RayActorError: The actor died unexpectedly before finishing this task.")
    lost, other = trainers[0].progress(), trainers[1].progress()
    assert lost.status == "failed" and not trainers[0].in_sweep
    assert lost.message.startswith("This trial failed and the sweep went on: its worker stopped unexpectedly (RayActorError")
    assert trainers[1].in_sweep and other.status == "waiting"


def test_trials_that_ray_cannot_place_wait_with_a_sentence_and_stop_ends_the_sweep(monkeypatch):
    """A trial needs more CPUs than the cluster has, so Ray cannot start its worker and Tune waits without a word:
    the board says why and what ends the wait, and Stop ends the sweep (a trial that never starts never reads its
    stop). Earlier, another actor held the free CPUs instead: in the full suite a worker of an earlier test could give
    its CPU back first, and the trial ran."""
    from core import settings
    from core.workers import pool

    pool.gate()  # this process' Ray (core.workers.cluster sets Ray's variables before it imports ray)
    import ray

    total = ray.cluster_resources()["CPU"]
    monkeypatch.setenv("RNN_PLAYGROUND_WORKER_CPUS", str(int(total) + 1))
    settings.reload()
    trainers = [TrialTrainer(0, "trial 1", SMALL, dataclasses.replace(QUICK, epochs=1), FOX_IDS, FOX_VOCAB)]
    runner = SweepRunner(trainers, FOX_IDS, FOX_VOCAB, asha=None, at_once=1, shuffle=False)
    runner.placement.grace_s = 1.0
    runner.start()
    until(lambda: "for Ray to start a worker" in runner.message, 60, lambda: _state(runner))
    free = ray.available_resources().get("CPU", 0.0)
    assert runner.message.startswith("1 trial waits for Ray to start a worker: ") and runner.message.endswith(
        f"of the cluster's {total:g} CPUs are free, and a trial needs {int(total) + 1}. That is more than the cluster has: "
        "lower RNN_PLAYGROUND_WORKER_CPUS or add CPUs to the cluster; Stop ends the sweep."), (runner.message, free)
    assert trainers[0].progress().step == 0
    runner.stop()
    assert runner.join(60), _state(runner)
    assert runner.status == "stopped" and trainers[0].progress().status == "stopped", _state(runner)

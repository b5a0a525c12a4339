"""core.workers.sweep_placement: when the board says that trials wait for Ray to place their workers, and when it
takes the sentence back (Ray's resources from a stand-in: no cluster is started here)."""

import sys
import types

from core.workers.sweep_placement import Placement


def test_the_sentence_comes_after_the_grace_and_goes_once_the_trials_run(monkeypatch):
    ray = types.SimpleNamespace(available_resources=lambda: {"CPU": 0.0}, cluster_resources=lambda: {"CPU": 4.0})
    monkeypatch.setitem(sys.modules, "ray", ray)
    patient = Placement(at_once=2, grace_s=60.0)
    patient.step(running=0, pending=3)
    assert patient.sentence(1, going=True) is None  # within the grace: nothing yet
    place = Placement(at_once=2, grace_s=0.0)
    place.step(running=0, pending=3)
    said = place.sentence(1, going=True)
    assert said.startswith("2 trials wait for Ray to start a worker: 0 of the cluster's 4 CPUs are free, and a trial "
                           "needs 1. Trials start as trainings on this server end"), said
    place.step(running=1, pending=2)
    assert place.sentence(1, going=True).startswith("1 trial waits")  # one still short of the two allowed
    place.step(running=2, pending=1)
    assert place.sentence(1, going=True) == ""  # as many run as may: the sentence goes, once
    assert place.sentence(1, going=True) is None
    place.step(running=0, pending=1)
    assert place.sentence(1, going=False) is None  # a paused sweep waits on purpose


def test_a_need_beyond_the_cluster_says_what_to_change(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", types.SimpleNamespace(available_resources=lambda: {"CPU": 4.0},
                                                                  cluster_resources=lambda: {"CPU": 4.0}))
    place = Placement(at_once=1, grace_s=0.0)
    place.step(running=0, pending=1)
    place.sentence(8, going=True)
    assert "needs 8. That is more than the cluster has: lower RNN_PLAYGROUND_WORKER_CPUS" in place.sentence(8, going=True)

"""Tune's callback for a sweep's trials that end, in the server (`core.workers.sweep.SweepRunner.trial_ended`).

Tune pickles its callbacks when a `Tuner` is made, so the callback holds only the sweep's name, and the sweep is
found in `RUNNERS` (this module's, pickled by reference) when Tune calls it. Imported only once a sweep starts.
"""

from __future__ import annotations

from ray import tune

RUNNERS: dict = {}  # hub name -> core.workers.sweep.SweepRunner, while it runs


class TrialEnds(tune.Callback):
    """Tells the sweep named `key` which trial ended, and Tune's error when it failed; and at every step of Tune's loop,
    how many trials run and how many wait to be placed."""

    def __init__(self, key: str):
        self.key = key

    def on_step_begin(self, iteration, trials, **info):
        running = sum(t.status == "RUNNING" for t in trials)
        RUNNERS[self.key].placement.step(running, sum(t.status == "PENDING" for t in trials))

    def on_trial_complete(self, iteration, trials, trial, **info):
        RUNNERS[self.key].trial_ended(trial.config["index"], None)

    def on_trial_error(self, iteration, trials, trial, **info):
        error = getattr(trial, "error_msg", None) or "Tune marked it as an error"
        RUNNERS[self.key].trial_ended(trial.config["index"], str(error).splitlines()[0][:200])

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


class StopWhenAsked(tune.Stopper):
    """Ends the sweep named `key` once every trial still in it was asked to stop and none runs. A trial reads its stop
    only once it has started, so trials that Ray could not place kept Tune (and the sweep) waiting after Stop."""

    def __init__(self, key: str):
        self.key = key

    def __call__(self, trial_id, result) -> bool:
        return False  # a running trial stops through the hub, with its own sentence and checkpoint

    def stop_all(self) -> bool:
        runner = RUNNERS.get(self.key)
        return (runner is not None and runner.placement.running == 0
                and all(t.wanted()[1] is not None for t in runner.trials if t.in_sweep))

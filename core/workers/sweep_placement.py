"""Why a sweep's trials do not start: Ray cannot place their workers (no free CPU), and Tune waits without a word.

Tune's callback (`core.workers.sweep_callback`) reports, at each step of its loop, how many trials run and how many
wait to be placed; the sweep's pump asks `sentence` once a round, and shows what it returns on the board.
"""

from __future__ import annotations

import time

PLACE_GRACE_S = 20.0  # how long trials may wait for Ray to place their workers before the board says why


def unplaced_sentence(waiting: int, free: float, total: float, need: float) -> str:
    """Why `waiting` trials do not start, and what ends the wait."""
    trials = "1 trial waits" if waiting == 1 else f"{waiting} trials wait"
    then = ("Trials start as trainings on this server end and give their CPUs back" if need <= total else
            "That is more than the cluster has: lower RNN_PLAYGROUND_WORKER_CPUS or add CPUs to the cluster")
    return (f"{trials} for Ray to start a worker: {free:g} of the cluster's {total:g} CPUs are free, and a trial needs "
            f"{need:g}. {then}; Stop ends the sweep.")


class Placement:
    """Tune's running and pending trials, and since when fewer run than may while some are pending.

    Args:
        at_once: the most trials that may run at once (Tune's `max_concurrent_trials`).
        grace_s: how long that may last before `sentence` says why.
    """

    def __init__(self, at_once: int, grace_s: float = PLACE_GRACE_S):
        self.at_once, self.grace_s = at_once, grace_s
        self.running = self.pending = 0
        self._short_since: float | None = None
        self._said = False

    def step(self, running: int, pending: int) -> None:
        """Tune's loop, at one step (its callback's thread)."""
        self.running, self.pending = running, pending

    def sentence(self, need_cpus: float, going: bool) -> str | None:
        """What the board should say of the trials' placement: the sentence once trials have waited `grace_s` to be
        placed while the sweep is `going` (not paused), "" once they no longer wait after it was said, else None
        (nothing to change)."""
        if not going or not self.pending or self.running >= self.at_once:
            self._short_since = None
            said, self._said = self._said, False
            return "" if said else None
        if self._short_since is None:
            self._short_since = time.monotonic()
        if time.monotonic() - self._short_since < self.grace_s:
            return None
        import ray

        free, total = ray.available_resources().get("CPU", 0.0), ray.cluster_resources().get("CPU", 0.0)
        self._said = True
        return unplaced_sentence(min(self.pending, self.at_once - self.running), free, total, need_cpus)

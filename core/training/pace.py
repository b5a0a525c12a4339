"""The training thread's clocks: when to publish, when to ask whether anyone still watches, and the speed."""

from __future__ import annotations

import time
from collections import deque

PUBLISH_EVERY_S = 0.2  # the most often a training publishes a snapshot
ALIVE_EVERY_S = 2.0  # how often it asks `keep_alive` whether anyone still watches


class Pace:
    """Step times and the moments of the last publish and keep-alive check (the training thread's only)."""

    def __init__(self, publish_every_s: float = PUBLISH_EVERY_S):
        self.publish_every_s = publish_every_s
        self.last_publish = self.last_alive = time.monotonic()
        self.recent: deque[float] = deque(maxlen=30)  # wall time of each of the last steps, pauses and epoch ends left out
        self.first = True  # the run's first step, which also traces the step's graph, is not yet measured
        self.prev_end: float | None = None  # when the previous step finished; None after a pause or an epoch end
        self.epoch_end_s = 0.0  # how long the last epoch end (validation, sample, gradient curve) took

    def stepped(self, started: float, now: float) -> None:
        """A step that began at `started` ended `now`. The run's first is left out of the speed: it also traced the
        step's graph, and at its speed a run that ended in 4 s showed "about 969 s left"."""
        if not self.first:
            self.recent.append(now - (started if self.prev_end is None else self.prev_end))
        self.first = False
        self.prev_end = now

    def interrupted(self) -> None:
        """A pause or an epoch end: the next step's time starts at its own start."""
        self.prev_end = None

    def publish_due(self, last_of_epoch: bool) -> bool:
        """True (and the clock restarted) when it is time to publish."""
        now = time.monotonic()
        if now - self.last_publish < self.publish_every_s and not last_of_epoch:
            return False
        self.last_publish = now
        return True

    def alive_check_due(self) -> bool:
        """True (and the clock restarted) when it is time to ask `keep_alive`."""
        now = time.monotonic()
        if now - self.last_alive <= ALIVE_EVERY_S:
            return False
        self.last_alive = now
        return True

    def per_step_s(self) -> float | None:
        """Mean seconds per step over the recent steps; None until two are measured."""
        return sum(self.recent) / len(self.recent) if len(self.recent) >= 2 else None

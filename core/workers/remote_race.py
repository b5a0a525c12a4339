"""A long-range race (`core.race.race.Race`) in a worker, as the web server sees it (see `core.workers.client`)."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Callable

from core.workers.client import ALIVE_EVERY_S, POLL_S, RemoteJob, WorkerLost, call_worker

log = logging.getLogger(__name__)


class RemoteRace(RemoteJob):
    """A long-range race (`core.race.race.Race`) in a worker; `progress()` is its latest `RaceProgress`."""

    def __init__(self, text: str, config, keep_alive: Callable[[], bool] | None = None):
        from core.race.race import RaceProgress

        super().__init__(keep_alive)
        self.text, self.config = text, config
        self._progress = RaceProgress(budget_s=config.budget_s, steps=config.steps)

    def progress(self):
        return self._progress

    def _eta_s(self) -> float | None:
        p = self._progress
        return max(p.budget_s - p.elapsed_s, 0.0) if p.budget_s else None  # a race ends at its budget at the latest

    def _planned_s(self) -> float | None:
        return self._progress.budget_s or None

    def _on_wait(self, message: str) -> None:
        self._progress = replace(self._progress, status="waiting", message=message)

    def _run_once(self) -> None:
        self._on_wait("Waiting for a free training slot…")
        try:
            with self._worker(self._on_wait) as actor:
                if actor is None:
                    self._progress = replace(self._progress, status="stopped", message="Stopped before it started.")
                    return
                call_worker(actor.race.remote(self.text, self.config))
                stop_sent, last_alive = False, time.monotonic()
                while True:
                    if time.monotonic() - last_alive > ALIVE_EVERY_S:
                        last_alive = time.monotonic()
                        self._stop_if_unwatched()
                    if self._stop.is_set() and not stop_sent:
                        stop_sent = True
                        actor.request.remote("stop")
                    p = call_worker(actor.race_progress.remote())
                    if p is not None:
                        self._progress = p
                    if p is None or not p.active:
                        return
                    time.sleep(POLL_S * 2)
        except WorkerLost as err:
            log.warning("A race's worker was lost: %s", err)
            self._progress = replace(self._progress, status="failed", message=f"The race's worker stopped unexpectedly ({err}). Race again.")
        except Exception as err:  # a sentence for the page, the traceback in the log
            log.exception("A race could not run")
            self._progress = replace(self._progress, status="failed", message=str(err))

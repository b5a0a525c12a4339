"""What every job that runs in a thread of its own shares: a training, a race, and the server's handle on either.

Requests (`pause`, `resume`, `stop`) only record what is wanted, from any thread; the job's own thread acts on
them and publishes what became of them. A `keep_alive` callback says whether anyone still watches the job; a
fault in the job's thread becomes a sentence for the page and a log record with its traceback, never a crash.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from core.training.progress import STOPPED_BY_YOU, TAB_CLOSED

log = logging.getLogger(__name__)


class BackgroundJob:
    """The request flags, the thread and the keep-alive check of a job.

    Args:
        keep_alive: called every few seconds by the job's thread; returning False stops the job (the session is gone).
    """

    def __init__(self, keep_alive: Callable[[], bool] | None = None):
        self.keep_alive = keep_alive
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._stop_message = STOPPED_BY_YOU

    def pause(self) -> None:
        """Ask the job to wait before its next step."""
        self._resume.clear()

    def resume(self) -> None:
        """Let a paused job go on."""
        self._resume.set()

    def stop(self, message: str = STOPPED_BY_YOU) -> None:
        """Ask the job to stop after its current step; `message` is the sentence it then shows."""
        self._stop_message = message
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def alive(self) -> bool:
        """True while the job's thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _launch(self, target: Callable[[], None], name: str) -> None:
        self._thread = threading.Thread(target=target, name=name, daemon=True)
        self._thread.start()

    def _unwatched(self) -> str | None:
        """Why the job should stop because nobody watches it any more (a sentence), or None while someone does."""
        if self.keep_alive is None:
            return None
        try:
            return None if self.keep_alive() else TAB_CLOSED
        except Exception as err:  # a broken callback must not keep a job alive forever, nor pass for a closed tab
            log.exception("The keep-alive check of a %s failed", type(self).__name__)
            return (f"Stopped because checking that your browser tab is still open failed ({type(err).__name__}: {err}). "
                    "The weights so far are kept; Start continues from here.")

    def _stop_if_unwatched(self) -> bool:
        """Stop when nobody watches any more; True when it did."""
        reason = self._unwatched()
        if reason is not None:
            self.stop(reason)
        return reason is not None

    def _guarded(self, work: Callable[[], None], failed: Callable[[Exception], None]) -> None:
        """Run `work()`; a fault is logged with its traceback and handed to `failed` (which publishes a sentence)."""
        try:
            work()
        except Exception as err:
            log.exception("A %s failed", type(self).__name__)
            failed(err)

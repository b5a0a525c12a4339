"""Writes live trainings into the run store, from one thread of the web server.

Every second it takes each tracked training's latest snapshot and writes what is new: history rows, validation
points, samples, gradient curves, the status, and a `.keras` file of the newest checkpoint (epoch end, pause, stop):
at once when the training has ended, else at most every `WEIGHTS_EVERY_S` per run. Writing a `.keras` file costs the
server ~50 ms; a class of thirty Quick demos (an epoch every second) spent a tenth of the server's CPU on it, while
a file only matters once a run is opened elsewhere or the server restarts. It writes from the checkpoint's own NumPy
weights into a model of its own, so a file always holds exactly the weights its step names. A store that cannot be
written (a full disk, a read-only folder) costs only the saving: the training goes on in memory, and the error is a
sentence for that workspace alone (`error_for`). A finished run leaves memory once it is all written, or after
`TRIES` failed writes (the session that shows it keeps its own trainer; other tabs open it from its last saved
checkpoint).
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field

import numpy as np

from core.runs.store import SERVER_ID, AbstractRunStore, StoreError

log = logging.getLogger(__name__)
EVERY_S = 1.0
WEIGHTS_EVERY_S = 10.0  # while a run trains, its newest checkpoint is written at most this often
TRIES = 5  # failed writes after which a finished run is no longer kept in memory for the store
_OPEN: "weakref.WeakSet[Recorder]" = weakref.WeakSet()  # recorders whose thread ran: closed at exit


@atexit.register
def _close_all() -> None:
    for recorder in list(_OPEN):
        recorder.close()


def run_extras(p) -> dict:
    """The short lists of a snapshot (validation points, samples, gradient curves, layer names) as JSON data."""
    return dict(val=[list(v) for v in zip(p.val_steps, p.val_loss, p.val_accuracy)],
                samples=[list(s) for s in p.samples],
                curves=[[e, np.asarray(c, np.float64).tolist()] for e, c in p.grad_curves],
                layer_names=list(p.layer_names), fast_path=p.fast_path)


def run_summary(p, tokens_per_step: int) -> dict:
    """The columns of the Runs table that a snapshot decides."""
    return dict(status=p.status, message=p.message, step=p.step, epoch=p.epoch, elapsed_s=p.elapsed_s,
                tokens_per_s=p.average_rate(tokens_per_step),
                best_val=min(p.val_loss) if p.val_loss else None, final_loss=float(p.loss[-1]) if len(p.loss) else None)


@dataclass
class _Tracked:
    trainer: object  # core.workers.remote_trainer.RemoteTrainer
    workspace: str
    rows: int = 0  # history rows already in the store
    extras_key: tuple = ()
    summary: dict = field(default_factory=dict)
    checkpoint: object = None  # the last checkpoint written (or given up on)
    saved_at: float | None = None  # when its last checkpoint was written (time.monotonic)
    saver: object = None  # a Keras model of the run's settings, used only to write files
    failures: int = 0  # writes that failed in a row
    writing: threading.Lock = field(default_factory=threading.Lock)  # one write of this run at a time


class Recorder:
    """Keeps the store up to date with the trainings of this server.

    Args:
        store: where to write.
        every_s: how often new progress is written.
        weights_every_s: how often, at most, a training run's newest checkpoint is written while it trains.
    """

    def __init__(self, store: AbstractRunStore, every_s: float = EVERY_S, weights_every_s: float = WEIGHTS_EVERY_S):
        self.store, self.every_s, self.weights_every_s = store, every_s, weights_every_s
        self.errors: dict[str, str] = {}  # workspace -> its latest write failure, as a sentence; gone once writing works
        self._runs: dict[int, _Tracked] = {}
        self._lock = threading.Lock()  # guards the tracked runs and the errors
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    def error_for(self, workspace: str | None) -> str | None:
        """The sentence for the latest failed write of `workspace`'s runs (None when they are all written)."""
        return self.errors.get(workspace) if workspace else None

    @property
    def error(self) -> str | None:
        """Any workspace's latest failure (for benches and tests with one workspace; pages read `error_for`)."""
        return next(reversed(self.errors.values()), None)

    def track(self, run_id: int, trainer, workspace: str, rows: int = 0) -> None:
        """Record `trainer` as run `run_id` from now on (again after each Start); `rows` are already stored."""
        with self._lock:
            entry = self._runs.get(run_id)
            if entry is None or entry.trainer is not trainer:
                try:
                    self.store.truncate_rows(workspace, run_id, rows)  # an interrupted run's steps after its checkpoint go
                except StoreError as err:
                    log.exception("Run %s: the history after its checkpoint could not be cut", run_id)
                    self.errors[workspace] = str(err)
                self._runs[run_id] = _Tracked(trainer, workspace, rows, checkpoint=trainer.checkpoint)
            if self._thread is None or not self._thread.is_alive():
                _OPEN.add(self)
                self._closing.clear()
                self._thread = threading.Thread(target=self._loop, name="rnn-recorder", daemon=True)
                self._thread.start()

    def live(self, run_id: int):
        """The trainer of run `run_id` while this server still records it (training, or not yet all written)."""
        entry = self._runs.get(run_id)
        return entry.trainer if entry is not None else None

    def forget(self, run_id: int) -> None:
        """Stop recording run `run_id` (it is being deleted); a write of it under way finishes first."""
        with self._lock:
            entry = self._runs.pop(run_id, None)
        if entry is not None:
            with entry.writing:
                pass

    def flush(self, workspace: str | None = None) -> None:
        """Write everything new of `workspace`'s runs now (every workspace's when None; the thread does that every
        `every_s`)."""
        with self._lock:
            mine = [(i, e) for i, e in self._runs.items() if workspace is None or e.workspace == workspace]
        failed: dict[str, str] = {}
        for run_id, entry in mine:
            with entry.writing:
                if self._runs.get(run_id) is not entry:
                    continue  # forgotten (deleted) or tracked again meanwhile
                done = not entry.trainer.active()  # read first: a finished training has published its last snapshot
                try:
                    self._write(run_id, entry)
                    entry.failures = 0
                except Exception as err:  # never let one run's fault stop the recording of the others
                    log.exception("Run %s of a workspace could not be saved", run_id)
                    entry.failures += 1
                    failed[entry.workspace] = str(err) if isinstance(err, StoreError) else \
                        f"Run {run_id} could not be saved: {type(err).__name__}: {err}"
                    done = done and entry.failures >= TRIES
                    if done:
                        log.error("Run %s is no longer kept for saving after %d failed writes", run_id, TRIES)
                if done:
                    with self._lock:
                        if self._runs.get(run_id) is entry and not entry.trainer.active():
                            del self._runs[run_id]
        with self._lock:
            for ws in {e.workspace for _, e in mine}:
                if ws in failed:
                    self.errors[ws] = failed[ws]
                else:
                    self.errors.pop(ws, None)

    def close(self, timeout: float = 60.0) -> None:
        """Let the recording thread finish the write under way and end, then write what is new once more (run at
        the process's exit for every recorder whose thread ran: a daemon thread still inside Keras when the
        interpreter ends aborted the whole process, and the runs' last steps were not written)."""
        self._closing.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():  # a write that hangs (a stuck disk): do not hang the exit behind it too
                log.error("The recorder's write did not end within %.0f s; the newest steps may be unsaved", timeout)
                return
        self.flush()

    def _loop(self) -> None:
        while not self._closing.wait(self.every_s):
            self.flush()

    def _write(self, run_id: int, entry: _Tracked) -> None:
        t, ws = entry.trainer, entry.workspace
        p = t.progress()
        n = len(p.steps)
        if n < entry.rows:  # the trainer went back to a checkpoint (a lost worker)
            self.store.truncate_rows(ws, run_id, n)
            entry.rows = n
        if n > entry.rows:
            self.store.append_rows(ws, run_id, entry.rows, dict(steps=p.steps[entry.rows:], loss=p.loss[entry.rows:],
                                                                accuracy=p.accuracy[entry.rows:], seconds=p.seconds[entry.rows:],
                                                                norms=p.layer_norms[entry.rows:]))
            entry.rows = n
        key = (len(p.val_steps), len(p.samples), len(p.grad_curves), p.layer_names, p.fast_path)
        changes = run_summary(p, t.tokens_per_step)
        if key != entry.extras_key:
            changes["extras"] = json.dumps(run_extras(p))
        changes = {k: v for k, v in changes.items() if entry.summary.get(k, ...) != v}
        if changes:
            self.store.update_run(ws, run_id, server=SERVER_ID, **changes)
            entry.summary |= changes
            entry.extras_key = key
        ckpt = t.checkpoint
        if ckpt is not None and ckpt is not entry.checkpoint and ckpt.step > 0 and self._weights_due(entry):
            entry.checkpoint, entry.saved_at = ckpt, time.monotonic()  # tried once: a failed save waits for the next
            self._save_weights(run_id, entry, ckpt)

    def _weights_due(self, entry: _Tracked) -> bool:
        """Write the newest checkpoint now: the run's first, once its training has ended, or `weights_every_s` after
        the last one (a newer checkpoint that waits is written by a later flush)."""
        return (entry.saved_at is None or not entry.trainer.active()
                or time.monotonic() - entry.saved_at >= self.weights_every_s)

    def _save_weights(self, run_id: int, entry: _Tracked, ckpt) -> None:
        limit = self.store.limits.megabytes * 2**20
        if self.store.usage(entry.workspace) >= limit:
            raise StoreError(f"This workspace is over its disk limit of {self.store.limits.megabytes:,} MB "
                             "(RNN_PLAYGROUND_MAX_WORKSPACE_MB), so the newest weights were not saved; the training goes on "
                             "in memory. Delete runs you no longer need on the Runs page.")
        if entry.saver is None:
            entry.saver = entry.trainer.fresh_model()
        entry.saver.set_weights(list(ckpt.weights))
        self.store.save_weights(entry.workspace, run_id, ckpt.step, ckpt.position[0], ckpt.position[1], ckpt.elapsed_s,
                                entry.saver.save)

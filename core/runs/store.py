"""What a run store is, apart from where it keeps things: the interface callers type against.

Shaped like MLflow's tracking store (`mlflow.store.tracking.abstract_store.AbstractStore`, with its
`SqlAlchemyStore` beside it): an abstract class of the operations the pages, the recorder and `reopen` use, and
one backend per module (`core.runs.sqlite_store.RunStore` today; a PostgreSQL one can follow without touching
callers). Every operation on a run takes the workspace token with the run id, so an id from another workspace
reaches nothing.
"""

from __future__ import annotations

import re
import secrets
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core import settings

TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")  # what `new_token` makes: 32 URL-safe characters, 192 bits
SERVER_ID = uuid.uuid4().hex  # this process: a run marked running by another one was cut off by a restart
LIVE = ("waiting", "running", "paused")
RUN_FIELDS = ("status", "message", "server", "step", "epoch", "elapsed_s", "tokens_per_s", "best_val", "final_loss",
              "extras", "name", "note", "sweep_id")  # what `update_run` may change
SWEEP_FIELDS = ("status", "message", "server", "best_run")  # what `update_sweep` may change
NAME = re.compile(r"run (\d+)\b")  # how `next_run_name` numbers runs
NAME_CHARS = 30  # longest student name, after stripping


class StoreError(RuntimeError):
    """The data folder cannot be read or written; the message says what to do."""


class LimitReached(StoreError):
    """A workspace is at its limit of runs or disk; the message says what to delete."""


class SchemaError(StoreError):
    """The database was written by a version this one cannot read or upgrade; the message says what to do."""


class ClassError(StoreError):
    """A class refused a join, or is not on this server; the message, for a student, says what to do."""


class BadName(ClassError): ...  # a student's name is empty, longer than NAME_CHARS or not printable


class NameTaken(ClassError): ...  # another student of the class has the name, in any case


class ClassClosed(ClassError): ...  # the teacher closed the class to new students


class ClassFull(ClassError): ...  # the class has settings.current().max_students students already


@dataclass(frozen=True)
class Limits:
    """How much one workspace may keep (server settings, with the defaults below)."""

    runs: int = 100  # RNN_PLAYGROUND_MAX_RUNS: runs per workspace
    megabytes: int = 2048  # RNN_PLAYGROUND_MAX_WORKSPACE_MB: disk per workspace
    keep: int = 3  # RNN_PLAYGROUND_KEEP_WEIGHTS: checkpoints kept per run (the newest)

    @classmethod
    def from_env(cls) -> "Limits":
        s = settings.current()
        return cls(s.max_runs, s.max_workspace_mb, s.keep_weights)


@dataclass(frozen=True)
class WeightsFile:
    """One saved checkpoint of a run: its file and where the training stood."""

    path: Path
    step: int
    epoch: int
    batch: int  # 0 at an epoch end; otherwise the batch the next step starts at
    elapsed_s: float
    damaged: str = ""  # why the last attempt to read it failed ("" when it was read, or never tried)


def new_token() -> str:
    """An unguessable workspace token: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def valid_token(token: object) -> bool:
    return isinstance(token, str) and TOKEN.fullmatch(token) is not None


class AbstractRunStore(ABC):
    """Workspaces, their runs, each run's history rows and its weights files.

    A run is a dict with the keys `id`, `workspace`, `kind` ("text" or "series"), `data_kind` (what `text_hash`
    names: "text", or "series_csv" for a forecaster's series as CSV), `created`, `text_hash`, `text_name`, `model`,
    `train` and `vocab` (JSON; `vocab` is None for a forecaster), `damaged` (a sentence when a weights file could
    not be read), `class_id` (the class of a student's workspace, else None; set by `create_run`) and the `RUN_FIELDS`.
    """

    limits: Limits

    # ---- workspaces and texts ----
    @abstractmethod
    def create_workspace(self) -> str:
        """A new workspace; its token."""

    @abstractmethod
    def workspace_exists(self, token: str) -> bool: ...

    @abstractmethod
    def workspace_state(self, token: str) -> dict:
        """What the workspace's pages had, as `save_workspace` stored it ({} when unknown)."""

    @abstractmethod
    def save_workspace(self, token: str, state: dict, text_hash: str | None) -> None: ...

    @abstractmethod
    def put_text(self, body: str) -> str:
        """Keep `body` (once per distinct text) and return its key."""

    @abstractmethod
    def text(self, key: str) -> str | None: ...

    # ---- runs ----
    @abstractmethod
    def create_run(self, workspace: str, name: str, text_key: str, text_name: str, model, train, vocab_json: str | None,
                   kind: str = "text") -> int:
        """A new run (status waiting); its id. Raises LimitReached when the workspace is at a limit."""

    @abstractmethod
    def check_room(self, workspace: str) -> None:
        """Raise LimitReached, saying what to delete, when the workspace is at its limit of runs or disk."""

    @abstractmethod
    def usage(self, workspace: str) -> int:
        """Bytes the workspace's runs take."""

    @abstractmethod
    def runs(self, workspace: str) -> list[dict]:
        """Every run of the workspace, oldest first."""

    def run(self, workspace: str, run_id: int) -> dict | None:
        """One run of the workspace (None when it is not there, or belongs to another workspace)."""
        return next((r for r in self.runs(workspace) if r["id"] == run_id), None)

    def next_run_name(self, workspace: str, label: str) -> str:
        """"run n · `label`", with n above every number the workspace's runs carry, so a name never repeats after a delete."""
        runs = self.runs(workspace)
        used = [int(m.group(1)) for r in runs if (m := NAME.match(r["name"]))]
        return f"run {max([len(runs), *used]) + 1} · {label}"

    @abstractmethod
    def update_run(self, workspace: str, run_id: int, **changes) -> None:
        """Change `RUN_FIELDS` of a run of the workspace (nothing when it is not there)."""

    @abstractmethod
    def delete_run(self, workspace: str, run_id: int) -> None:
        """Delete a run, its history and its weights files."""

    # ---- sweeps (a run that is a trial carries its sweep's id in `sweep_id`) ----
    @abstractmethod
    def create_sweep(self, workspace: str, spec_json: str) -> int:
        """A new sweep of the workspace (status running, on this server); its id."""

    @abstractmethod
    def sweeps(self, workspace: str) -> list[dict]:
        """Every sweep of the workspace, oldest first: id, workspace, created, spec (JSON) and the `SWEEP_FIELDS`; one
        that was running in a server process that is gone shows as interrupted."""

    def sweep(self, workspace: str, sweep_id: int) -> dict | None:
        """One sweep of the workspace (None when it is not there)."""
        return next((s for s in self.sweeps(workspace) if s["id"] == sweep_id), None)

    def sweep_runs(self, workspace: str, sweep_id: int) -> list[dict]:
        """The runs that are trials of the sweep, oldest first."""
        return [r for r in self.runs(workspace) if r.get("sweep_id") == sweep_id]

    @abstractmethod
    def update_sweep(self, workspace: str, sweep_id: int, **changes) -> None:
        """Change `SWEEP_FIELDS` of a sweep of the workspace."""

    # ---- history ----
    @abstractmethod
    def append_rows(self, workspace: str, run_id: int, start: int, rows: dict) -> None:
        """Store history rows start, start+1, ... (`core.training.progress.History.rows_since`'s arrays)."""

    @abstractmethod
    def truncate_rows(self, workspace: str, run_id: int, n: int) -> None:
        """Forget the history rows from index `n` on."""

    @abstractmethod
    def rows(self, workspace: str, run_id: int) -> dict:
        """The run's history rows as float64 arrays: steps, loss, accuracy, seconds, norms (empty when not there)."""

    # ---- weights ----
    @abstractmethod
    def save_weights(self, workspace: str, run_id: int, step: int, epoch: int, batch: int, elapsed_s: float,
                     write: Callable[[str], None]) -> WeightsFile:
        """Save a checkpoint that `write(path)` writes; only the newest `limits.keep` are kept."""

    @abstractmethod
    def weights(self, workspace: str, run_id: int) -> list[WeightsFile]:
        """The run's saved checkpoints, newest first."""

    @abstractmethod
    def mark_damaged(self, workspace: str, run_id: int, file: WeightsFile, why: str) -> None:
        """Note why `file` could not be read ("" once it was read again)."""

    # ---- classes (a teacher's workspace lends its setup; each student joins with a workspace of their own) ----
    @abstractmethod
    def create_class(self, workspace: str, setup: dict) -> dict:
        """A new class of the teacher's `workspace`: id, workspace, join and board (its links' tokens), created,
        setup (students start with it: a `save_workspace` state, "text" a `put_text` key), closed, students (count)."""

    @abstractmethod
    def class_by_join(self, token: str) -> dict | None:
        """The class whose join link carries `token` (None when it is unknown or no token at all)."""

    @abstractmethod
    def class_by_board(self, token: str) -> dict | None:
        """The class whose board link carries `token` (None when it is unknown or no token at all)."""

    @abstractmethod
    def classes(self, workspace: str) -> list[dict]:
        """The classes the teacher's `workspace` started, oldest first."""

    @abstractmethod
    def join_class(self, class_id: int, name: str) -> str:
        """A workspace of their own for student `name` (stripped), holding the class's setup; its token. Checked and
        made in one transaction; raises BadName, NameTaken, ClassClosed, ClassFull, or ClassError (class gone)."""

    @abstractmethod
    def students(self, class_id: int) -> list[dict]:
        """The class's students, oldest first: id, name, workspace, joined, hidden (bool)."""

    @abstractmethod
    def set_class_closed(self, class_id: int, closed: bool) -> None:
        """Close the class to new students (or open it again); those who joined keep their workspaces."""

    @abstractmethod
    def hide_student(self, class_id: int, student_id: int, hidden: bool = True) -> None:
        """Hide a student from the class's board (or show them again); their workspace and runs stay."""

    @abstractmethod
    def class_of(self, workspace: str) -> int | None:
        """The class whose student owns `workspace` (None for any other workspace)."""

"""The run store in SQLite: workspaces, their runs and everything a run recorded, in one data folder.

    data/store.sqlite            SQLite in WAL mode: workspaces, texts (once per distinct text), runs, history rows
    data/weights/<run id>/*.keras  the weights of a run's latest checkpoints, the last `keep` of them

Only the web server writes here; workers send it what is to be written. A weights file is written under a
temporary name, flushed to disk, then renamed (`core.runs.weights_files`): a process killed mid-write leaves the
previous checkpoint whole, and a file is listed in the database only once it is complete. No path is ever built
from what a user sent: files are named by run id and step, and a workspace token only ever reaches SQL as a
parameter. The tables and their migrations are in `core.runs.schema`.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np

from core.runs import weights_files
from core.runs.sqlite_classes import ClassesTable
from core.runs.sqlite_db import Database, blame, checked_update
from core.runs.sqlite_sweeps import SweepsTable
from core.runs.store import (LIVE, RUN_FIELDS, SERVER_ID, AbstractRunStore, LimitReached, Limits,
                             StoreError, WeightsFile, new_token, valid_token)

__all__ = ["LimitReached", "Limits", "RunStore", "SERVER_ID", "StoreError", "WeightsFile", "new_token", "valid_token"]

ROW_BYTES = 48  # about what one history row takes in SQLite, besides its gradient norms
_RUN_COLUMNS = ("id", "workspace", "kind", "data_kind", "created", "text_hash", "text_name", "model", "train",
                "vocab") + RUN_FIELDS + ("class_id",)
_DAMAGED = "(SELECT group_concat(damaged, '; ') FROM weights w WHERE w.run = runs.id AND w.damaged != '')"
_MINE = "(SELECT id FROM runs WHERE id = ? AND workspace = ?)"  # a run id, only when it is the workspace's
_CLASS_OF = "(SELECT class_id FROM students WHERE workspace = ?)"  # a student workspace's class (else NULL)
_SETUP_TEXT = "json_extract(setup, '$.text')"  # the text a class's students start from


class RunStore(SweepsTable, ClassesTable, AbstractRunStore):
    """Workspaces, their runs, sweeps and classes in `folder` (created when missing, upgraded when older). Safe to share
    between threads.

    Args:
        folder: the data folder.
        limits: runs and disk per workspace, and checkpoints kept per run.

    Raises:
        StoreError: the folder or its database cannot be opened (SchemaError: nor upgraded).
    """

    def __init__(self, folder: str | os.PathLike, limits: Limits | None = None):
        self.folder, self.limits = Path(folder).resolve(), limits or Limits.from_env()
        try:
            (self.folder / "weights").mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise blame(err, self.folder) from None
        self._db = Database(self.folder / "store.sqlite", self.folder)
        self._sql, self._transaction = self._db.sql, self._db.transaction
        weights_files.remove_stale(self.folder / "weights")  # half-written by a process that was killed

    def _folder(self, run_id: int) -> Path:
        return self.folder / "weights" / str(int(run_id))

    # ---- workspaces and texts ----
    def create_workspace(self) -> str:
        token = new_token()
        self._sql("INSERT INTO workspaces (token, created) VALUES (?, ?)", (token, time.time()))
        return token

    def workspace_exists(self, token: str) -> bool:
        return valid_token(token) and bool(self._sql("SELECT 1 FROM workspaces WHERE token = ?", (token,)))

    def workspace_state(self, token: str) -> dict:
        rows = self._sql("SELECT state FROM workspaces WHERE token = ?", (token,)) if valid_token(token) else []
        return json.loads(rows[0][0]) if rows else {}

    def save_workspace(self, token: str, state: dict, text_hash: str | None) -> None:
        self._sql("UPDATE workspaces SET state = ?, text_hash = ? WHERE token = ?", (json.dumps(state), text_hash, token))

    def put_text(self, body: str) -> str:
        data = body.encode("utf-8", "surrogatepass")
        key = hashlib.sha256(data).hexdigest()
        self._sql("INSERT OR IGNORE INTO texts (hash, body, size) VALUES (?, ?, ?)", (key, body, len(data)))
        return key

    def text(self, key: str) -> str | None:
        rows = self._sql("SELECT body FROM texts WHERE hash = ?", (key,))
        return rows[0][0] if rows else None

    # ---- runs ----
    def create_run(self, workspace: str, name: str, text_key: str, text_name: str, model, train, vocab_json: str | None,
                   kind: str = "text") -> int:
        """A new run in `workspace` (status waiting; in a student's workspace, of their class); its id. The limits are
        checked in the same transaction.

        Args:
            text_key: `put_text`'s key of what it learns from (a text, or for a forecaster its series as CSV).
            model: its model settings (a dict of them for a forecaster).
            vocab_json: its vocabulary (ignored for a forecaster, which has none).
            kind: "text" for a language model, "series" for a forecaster.
        """
        series = kind == "series"
        with self._transaction() as db:
            self._check_room(db, workspace)
            cur = db.execute(
                "INSERT INTO runs (workspace, name, created, kind, data_kind, text_hash, text_name, model, train, vocab, "
                f"server, class_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {_CLASS_OF})",
                (workspace, name, time.time(), kind, "series_csv" if series else "text", text_key, text_name,
                 json.dumps(model if isinstance(model, dict) else asdict(model)), json.dumps(asdict(train)),
                 None if series else vocab_json, SERVER_ID, workspace))
            return cur.lastrowid

    def check_room(self, workspace: str) -> None:
        with self._transaction() as db:
            self._check_room(db, workspace)

    def _check_room(self, db: sqlite3.Connection, workspace: str) -> None:
        n = db.execute("SELECT COUNT(*) FROM runs WHERE workspace = ?", (workspace,)).fetchone()[0]
        if n >= self.limits.runs:
            raise LimitReached(f"This workspace has {n} runs, the most it may keep ({self.limits.runs}, set by "
                               "RNN_PLAYGROUND_MAX_RUNS). Delete runs you no longer need on the Runs page, then start again.")
        used = self._usage(db, workspace)
        if used >= self.limits.megabytes * 2**20:
            raise LimitReached(f"This workspace uses {used / 2**20:,.0f} MB of disk, its limit is {self.limits.megabytes:,} "
                               "MB (RNN_PLAYGROUND_MAX_WORKSPACE_MB). Delete runs on the Runs page, the largest models "
                               "first, then start again.")

    def usage(self, workspace: str) -> int:
        """Bytes the workspace's runs take: weights files, history rows and the texts they use."""
        with self._transaction() as db:
            return self._usage(db, workspace)

    @staticmethod
    def _usage(db: sqlite3.Connection, workspace: str) -> int:
        weights = db.execute("SELECT COALESCE(SUM(w.bytes), 0) FROM weights w JOIN runs r ON r.id = w.run "
                             "WHERE r.workspace = ?", (workspace,)).fetchone()[0]
        rows = db.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(norms)), 0) FROM rows WHERE run IN "
                          "(SELECT id FROM runs WHERE workspace = ?)", (workspace,)).fetchone()
        texts = db.execute("SELECT COALESCE(SUM(size), 0) FROM texts WHERE hash IN (SELECT text_hash FROM runs "
                           "WHERE workspace = ? UNION SELECT text_hash FROM workspaces WHERE token = ?)",
                           (workspace, workspace)).fetchone()[0]
        return int(weights + rows[0] * ROW_BYTES + rows[1] + texts)

    def runs(self, workspace: str) -> list[dict]:
        """Every run of the workspace, oldest first, as dicts (settings and vocabulary still JSON)."""
        if not valid_token(workspace):
            return []
        rows = self._sql(f"SELECT {', '.join(_RUN_COLUMNS)}, COALESCE({_DAMAGED}, '') FROM runs WHERE workspace = ? "
                         "ORDER BY id", (workspace,))
        return [self._shown(dict(zip(_RUN_COLUMNS + ("damaged",), row))) for row in rows]

    @staticmethod
    def _shown(run: dict) -> dict:
        """A run that was live in a server process that is gone shows as interrupted; damaged files make a sentence."""
        if run["status"] in LIVE and run["server"] != SERVER_ID:
            run["status"] = "interrupted"
        if run["damaged"]:
            run["damaged"] = (f"This run has damaged weights: {run['damaged']}. Opening it loads the newest checkpoint "
                              "that can be read.")
        return run

    def update_run(self, workspace: str, run_id: int, **changes) -> None:
        sql = checked_update("runs", RUN_FIELDS, changes)  # raises on a field the table does not have
        if sql:
            self._sql(sql, (*changes.values(), run_id, workspace))

    def delete_run(self, workspace: str, run_id: int) -> None:
        """Delete a run (its history and weights rows go with it), its files, and any text nothing uses any more (no
        run, workspace or class setup)."""
        with self._transaction() as db:
            if not db.execute("DELETE FROM runs WHERE id = ? AND workspace = ?", (run_id, workspace)).rowcount:
                return
            db.execute("DELETE FROM texts WHERE hash NOT IN (SELECT text_hash FROM runs) AND hash NOT IN "
                       "(SELECT text_hash FROM workspaces WHERE text_hash IS NOT NULL) AND hash NOT IN (SELECT "
                       f"{_SETUP_TEXT} FROM classes WHERE {_SETUP_TEXT} IS NOT NULL)")
        weights_files.remove_folder(self._folder(run_id))

    # ---- history ----
    def append_rows(self, workspace: str, run_id: int, start: int, rows: dict) -> None:
        data = [(start + i, int(s), float(l), float(a), float(t), np.asarray(n, np.float64).tobytes(), run_id, workspace)
                for i, (s, l, a, t, n) in enumerate(zip(rows["steps"], rows["loss"], rows["accuracy"], rows["seconds"],
                                                        rows["norms"]))]
        self._sql(f"INSERT OR REPLACE INTO rows SELECT id, ?, ?, ?, ?, ?, ? FROM {_MINE}", data, many=True)

    def truncate_rows(self, workspace: str, run_id: int, n: int) -> None:
        self._sql(f"DELETE FROM rows WHERE run = {_MINE} AND i >= ?", (run_id, workspace, n))

    def rows(self, workspace: str, run_id: int) -> dict:
        found = self._sql(f"SELECT step, loss, accuracy, seconds, norms FROM rows WHERE run = {_MINE} ORDER BY i",
                          (run_id, workspace))
        steps, loss, acc, secs, norms = zip(*found) if found else ((), (), (), (), ())
        width = len(norms[0]) // 8 if norms else 0
        return dict(steps=np.array(steps, np.float64), loss=np.array(loss, np.float64), accuracy=np.array(acc, np.float64),
                    seconds=np.array(secs, np.float64),
                    norms=np.frombuffer(b"".join(norms), np.float64).reshape(len(norms), width))

    # ---- weights ----
    def save_weights(self, workspace: str, run_id: int, step: int, epoch: int, batch: int, elapsed_s: float,
                     write: Callable[[str], None]) -> WeightsFile:
        """Save a checkpoint: `write(path)` writes a `.keras` file, which becomes the run's newest checkpoint once
        it is whole on disk; only the newest `limits.keep` are kept.

        Raises:
            StoreError: the folder is full or cannot be written, or the run is not the workspace's (any more); the
                run's earlier checkpoints are untouched.
        """
        if not self._sql(f"SELECT 1 FROM runs WHERE id = {_MINE}", (run_id, workspace)):
            raise StoreError(f"Run {int(run_id)} is not in this workspace (it was deleted), so its weights were not saved.")
        folder = self._folder(run_id)
        try:
            final = weights_files.write_atomically(folder, f"step-{int(step):09d}-{uuid.uuid4().hex[:8]}.keras", write)
        except OSError as err:
            raise blame(err, self.folder) from None
        try:
            self._sql(f"INSERT INTO weights (run, step, file, epoch, batch, elapsed_s, bytes) SELECT id, ?, ?, ?, ?, ?, ? "
                      f"FROM {_MINE}", (int(step), final.name, int(epoch), int(batch), float(elapsed_s),
                                        final.stat().st_size, run_id, workspace))
            listed = bool(self._sql("SELECT 1 FROM weights WHERE run = ? AND file = ?", (run_id, final.name)))
        except StoreError:
            final.unlink(missing_ok=True)
            raise
        if not listed:  # the run was deleted while its file was written
            weights_files.remove_folder(folder)
            raise StoreError(f"Run {int(run_id)} was deleted, so its weights were not saved.")
        for old in self.weights(workspace, run_id)[self.limits.keep:]:
            self._sql("DELETE FROM weights WHERE run = ? AND file = ?", (run_id, old.path.name))
            old.path.unlink(missing_ok=True)
        return WeightsFile(final, int(step), int(epoch), int(batch), float(elapsed_s))

    def weights(self, workspace: str, run_id: int) -> list[WeightsFile]:
        folder = self._folder(run_id)
        found = self._sql(f"SELECT file, step, epoch, batch, elapsed_s, damaged FROM weights WHERE run = {_MINE} "
                          "ORDER BY step DESC, rowid DESC", (run_id, workspace))
        return [WeightsFile(folder / Path(name).name, *rest) for name, *rest in found]

    def mark_damaged(self, workspace: str, run_id: int, file: WeightsFile, why: str) -> None:
        self._sql(f"UPDATE weights SET damaged = ? WHERE run = {_MINE} AND file = ?", (why, run_id, workspace, file.path.name))

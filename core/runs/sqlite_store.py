"""The run store: workspaces, their runs and everything a run recorded, in one data folder.

    data/store.sqlite            SQLite in WAL mode: workspaces, texts (once per distinct text), runs, history rows
    data/weights/<run id>/*.keras  the weights of a run's latest checkpoints, the last `keep` of them

Only the web server writes here; workers send it what is to be written. A weights file is written under a
temporary name, flushed to disk, then renamed: a process killed mid-write leaves the previous checkpoint
whole, and a file is listed in the database only once it is complete. No path is ever built from what a
user sent: files are named by run id and step, and a workspace token only ever reaches SQL as a parameter.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from core import settings
from core.config import ModelConfig, TrainConfig

TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")  # what `new_token` makes: 32 URL-safe characters, 192 bits
SERVER_ID = uuid.uuid4().hex  # this process: a run marked running by another one was cut off by a restart
LIVE = ("waiting", "running", "paused")
ROW_BYTES = 48  # about what one history row takes in SQLite, besides its gradient norms

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workspaces (token TEXT PRIMARY KEY, created REAL NOT NULL, text_hash TEXT,
                                       state TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS texts (hash TEXT PRIMARY KEY, body TEXT NOT NULL, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL, name TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL, text_hash TEXT NOT NULL, text_name TEXT NOT NULL, model TEXT NOT NULL, train TEXT NOT NULL,
    vocab TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'waiting', message TEXT NOT NULL DEFAULT '',
    server TEXT NOT NULL DEFAULT '', step INTEGER NOT NULL DEFAULT 0, epoch INTEGER NOT NULL DEFAULT 0,
    elapsed_s REAL NOT NULL DEFAULT 0, tokens_per_s REAL NOT NULL DEFAULT 0, best_val REAL, final_loss REAL,
    extras TEXT NOT NULL DEFAULT '{}', damaged TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL DEFAULT 'text');
CREATE INDEX IF NOT EXISTS runs_by_workspace ON runs (workspace, id);
CREATE TABLE IF NOT EXISTS rows (run INTEGER NOT NULL, i INTEGER NOT NULL, step INTEGER NOT NULL, loss REAL,
                                 accuracy REAL, seconds REAL, norms BLOB, PRIMARY KEY (run, i)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS weights (run INTEGER NOT NULL, step INTEGER NOT NULL, file TEXT NOT NULL,
                                    epoch INTEGER NOT NULL, batch INTEGER NOT NULL, elapsed_s REAL NOT NULL,
                                    bytes INTEGER NOT NULL, PRIMARY KEY (run, file));
"""
RUN_FIELDS = ("status", "message", "server", "step", "epoch", "elapsed_s", "tokens_per_s", "best_val", "final_loss",
              "extras", "damaged", "name", "note")  # what `update_run` may change
_RUN_COLUMNS = ("id", "kind", "created", "text_hash", "text_name", "model", "train", "vocab") + RUN_FIELDS


class StoreError(RuntimeError):
    """The data folder cannot be read or written; the message says what to do."""


class LimitReached(StoreError):
    """A workspace is at its limit of runs or disk; the message says what to delete."""


@dataclass(frozen=True)
class Limits:
    """How much one workspace may keep (environment variables, with the defaults below)."""

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


def new_token() -> str:
    """An unguessable workspace token: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def valid_token(token: object) -> bool:
    return isinstance(token, str) and TOKEN.fullmatch(token) is not None


def _blame(err: Exception, folder: Path) -> StoreError:
    """The sentence for a failed read or write of the data folder."""
    full = isinstance(err, OSError) and err.errno == 28 or "full" in str(err)
    why = "the disk is full" if full else f"it cannot be written ({err})"
    return StoreError(f"Runs cannot be saved in the data folder {folder}: {why}. Training goes on in memory; "
                      "free some disk space, or set RNN_PLAYGROUND_DATA to a folder this server can write.")


class RunStore:
    """Workspaces and their runs in `folder` (created when missing). Safe to share between threads.

    Args:
        folder: the data folder.
        limits: runs and disk per workspace, and checkpoints kept per run.

    Raises:
        StoreError: the folder or its database cannot be opened.
    """

    def __init__(self, folder: str | os.PathLike, limits: Limits | None = None):
        self.folder, self.limits = Path(folder).resolve(), limits or Limits.from_env()
        self._lock = threading.Lock()
        try:
            (self.folder / "weights").mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.folder / "store.sqlite", check_same_thread=False, timeout=10,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise _blame(err, self.folder) from None
        for stale in (self.folder / "weights").glob("*/.tmp-*"):  # half-written by a process that was killed
            stale.unlink(missing_ok=True)

    def _sql(self, query: str, args=(), many: bool = False) -> list:
        try:
            with self._lock:
                cur = self._db.executemany(query, args) if many else self._db.execute(query, args)
                return cur.fetchall()
        except sqlite3.Error as err:
            raise _blame(err, self.folder) from None

    def _transaction(self, statements: list[tuple[str, object]]) -> None:
        """Run (query, args) pairs as one transaction: all of them or none."""
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for query, args in statements:
                        self._db.execute(query, args)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as err:
            raise _blame(err, self.folder) from None

    # ---- workspaces and texts ----
    def create_workspace(self) -> str:
        token = new_token()
        self._sql("INSERT INTO workspaces (token, created) VALUES (?, ?)", (token, time.time()))
        return token

    def workspace_exists(self, token: str) -> bool:
        return valid_token(token) and bool(self._sql("SELECT 1 FROM workspaces WHERE token = ?", (token,)))

    def workspace_state(self, token: str) -> dict:
        """What the workspace's pages had: text, settings and current run, as `save_workspace` stored them."""
        rows = self._sql("SELECT state FROM workspaces WHERE token = ?", (token,)) if valid_token(token) else []
        return json.loads(rows[0][0]) if rows else {}

    def save_workspace(self, token: str, state: dict, text_hash: str | None) -> None:
        self._sql("UPDATE workspaces SET state = ?, text_hash = ? WHERE token = ?", (json.dumps(state), text_hash, token))

    def put_text(self, body: str) -> str:
        """Keep `body` (once per distinct text) and return its key."""
        key = hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()
        self._sql("INSERT OR IGNORE INTO texts (hash, body, size) VALUES (?, ?, ?)", (key, body, len(body.encode("utf-8", "surrogatepass"))))
        return key

    def text(self, key: str) -> str | None:
        rows = self._sql("SELECT body FROM texts WHERE hash = ?", (key,))
        return rows[0][0] if rows else None

    # ---- runs ----
    def create_run(self, workspace: str, name: str, text_key: str, text_name: str, model: ModelConfig | dict,
                   train: TrainConfig, vocab_json: str, kind: str = "text") -> int:
        """A new run in `workspace` (status waiting); its id. Raises LimitReached when over a limit.

        Args:
            text_key: `put_text`'s key of what it learns from (a text, or a series as CSV).
            model: its model settings (a dict of them for a series run: `kind` says which).
            kind: "text" for a language model, "series" for a forecaster.
        """
        self.check_room(workspace)
        self._sql("INSERT INTO runs (workspace, name, created, text_hash, text_name, model, train, vocab, server, kind) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (workspace, name, time.time(), text_key, text_name,
                   json.dumps(model if isinstance(model, dict) else asdict(model)), json.dumps(asdict(train)), vocab_json,
                   SERVER_ID, kind))
        return self._sql("SELECT last_insert_rowid()")[0][0]

    def check_room(self, workspace: str) -> None:
        """Raise LimitReached, saying what to delete, when the workspace is at its limit of runs or disk."""
        n = self._sql("SELECT COUNT(*) FROM runs WHERE workspace = ?", (workspace,))[0][0]
        if n >= self.limits.runs:
            raise LimitReached(f"This workspace has {n} runs, the most it may keep ({self.limits.runs}, set by "
                             "RNN_PLAYGROUND_MAX_RUNS). Delete runs you no longer need on the Runs page, then start again.")
        used = self.usage(workspace)
        if used >= self.limits.megabytes * 2**20:
            raise LimitReached(f"This workspace uses {used / 2**20:,.0f} MB of disk, its limit is {self.limits.megabytes:,} MB "
                             "(RNN_PLAYGROUND_MAX_WORKSPACE_MB). Delete runs on the Runs page, the largest models first, "
                             "then start again.")

    def usage(self, workspace: str) -> int:
        """Bytes the workspace's runs take: weights files, history rows and the texts they use."""
        weights = self._sql("SELECT COALESCE(SUM(w.bytes), 0) FROM weights w JOIN runs r ON r.id = w.run "
                            "WHERE r.workspace = ?", (workspace,))[0][0]
        rows = self._sql("SELECT COUNT(*), COALESCE(SUM(LENGTH(norms)), 0) FROM rows WHERE run IN "
                         "(SELECT id FROM runs WHERE workspace = ?)", (workspace,))[0]
        texts = self._sql("SELECT COALESCE(SUM(size), 0) FROM texts WHERE hash IN (SELECT text_hash FROM runs "
                          "WHERE workspace = ? UNION SELECT text_hash FROM workspaces WHERE token = ?)",
                          (workspace, workspace))[0][0]
        return int(weights + rows[0] * ROW_BYTES + rows[1] + texts)

    def runs(self, workspace: str) -> list[dict]:
        """Every run of the workspace, oldest first, as dicts (settings and vocabulary still JSON)."""
        if not valid_token(workspace):
            return []
        rows = self._sql(f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs WHERE workspace = ? ORDER BY id", (workspace,))
        return [self._interrupted(dict(zip(_RUN_COLUMNS, row))) for row in rows]

    def run(self, workspace: str, run_id: int) -> dict | None:
        """One run of the workspace (None when it is not there, or belongs to another workspace)."""
        return next((r for r in self.runs(workspace) if r["id"] == run_id), None)

    @staticmethod
    def _interrupted(run: dict) -> dict:
        """A run that was live in a server process that is gone shows as interrupted."""
        if run["status"] in LIVE and run["server"] != SERVER_ID:
            run["status"] = "interrupted"
        return run

    def update_run(self, run_id: int, **changes) -> None:
        bad = set(changes) - set(RUN_FIELDS)
        if bad:
            raise ValueError(f"Received unknown run fields: {sorted(bad)}.")
        if changes:
            self._sql(f"UPDATE runs SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?", (*changes.values(), run_id))

    def append_rows(self, run_id: int, start: int, rows: dict) -> None:
        """Store history rows start, start+1, ... (`rows` as `core.training.progress.History.rows_since` gives them)."""
        data = [(run_id, start + i, int(s), float(l), float(a), float(t), np.asarray(n, np.float64).tobytes())
                for i, (s, l, a, t, n) in enumerate(zip(rows["steps"], rows["loss"], rows["accuracy"], rows["seconds"], rows["norms"]))]
        self._sql("INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?, ?, ?)", data, many=True)

    def truncate_rows(self, run_id: int, n: int) -> None:
        """Forget the history rows from index `n` on."""
        self._sql("DELETE FROM rows WHERE run = ? AND i >= ?", (run_id, n))

    def rows(self, run_id: int) -> dict:
        """The run's history rows as arrays (float64, exactly as stored)."""
        found = self._sql("SELECT step, loss, accuracy, seconds, norms FROM rows WHERE run = ? ORDER BY i", (run_id,))
        steps, loss, acc, secs, norms = zip(*found) if found else ((), (), (), (), ())
        width = len(norms[0]) // 8 if norms else 0
        return dict(steps=np.array(steps, np.float64), loss=np.array(loss, np.float64), accuracy=np.array(acc, np.float64),
                    seconds=np.array(secs, np.float64),
                    norms=np.frombuffer(b"".join(norms), np.float64).reshape(len(norms), width))

    def delete_run(self, workspace: str, run_id: int) -> None:
        """Delete a run, its history and its weights files, and any text no run or workspace uses any more."""
        if self.run(workspace, run_id) is None:
            return
        self._transaction([("DELETE FROM rows WHERE run = ?", (run_id,)), ("DELETE FROM weights WHERE run = ?", (run_id,)),
                           ("DELETE FROM runs WHERE id = ?", (run_id,)),
                           ("DELETE FROM texts WHERE hash NOT IN (SELECT text_hash FROM runs) AND hash NOT IN "
                            "(SELECT text_hash FROM workspaces WHERE text_hash IS NOT NULL)", ())])
        folder = self.folder / "weights" / str(int(run_id))
        for f in folder.glob("*"):
            f.unlink(missing_ok=True)
        if folder.exists():
            folder.rmdir()

    # ---- weights ----
    def save_weights(self, run_id: int, step: int, epoch: int, batch: int, elapsed_s: float,
                     write: Callable[[str], None]) -> WeightsFile:
        """Save a checkpoint: `write(path)` writes a `.keras` file, which becomes the run's newest checkpoint once
        it is whole on disk; only the newest `limits.keep` are kept.

        Raises:
            StoreError: the folder is full or cannot be written; the run's earlier checkpoints are untouched.
        """
        folder = self.folder / "weights" / str(int(run_id))
        final = folder / f"step-{int(step):09d}-{uuid.uuid4().hex[:8]}.keras"
        tmp = folder / f".tmp-{uuid.uuid4().hex}.keras"  # Keras insists on the .keras ending
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write(str(tmp))
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, final)
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise _blame(err, self.folder) from None
        self._sql("INSERT INTO weights VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (run_id, int(step), final.name, int(epoch), int(batch), float(elapsed_s), final.stat().st_size))
        for old in self.weights(run_id)[self.limits.keep:]:
            self._sql("DELETE FROM weights WHERE run = ? AND file = ?", (run_id, old.path.name))
            old.path.unlink(missing_ok=True)
        return WeightsFile(final, int(step), int(epoch), int(batch), float(elapsed_s))

    def weights(self, run_id: int) -> list[WeightsFile]:
        """The run's saved checkpoints, newest first."""
        folder = self.folder / "weights" / str(int(run_id))
        found = self._sql("SELECT file, step, epoch, batch, elapsed_s FROM weights WHERE run = ? ORDER BY step DESC, "
                          "rowid DESC", (run_id,))
        return [WeightsFile(folder / Path(name).name, step, epoch, batch, elapsed) for name, step, epoch, batch, elapsed in found]

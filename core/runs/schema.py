"""The SQLite store's tables, and the numbered migrations that bring an older database up to them.

The version lives in `PRAGMA user_version`. A database written before versions existed (releases up to e50e357)
is recognised by its columns. Each migration runs in a transaction of its own, so a failed one leaves the
database as it was.

    1  56f385c  the first store: workspaces, texts, runs, rows, weights
    2  00b1285  runs.kind: "text" or "series" (forecasters)
    3           rows and weights belong to their run (foreign keys, ON DELETE CASCADE); a damaged mark per weights
                file instead of per run; runs.data_kind says what text_hash names, and a forecaster's vocab is NULL
    4           sweeps (a workspace's sweeps on Ray Tune: spec, status, best run) and runs.sweep_id (a trial's sweep)
    5           classes (a teacher's workspace, its join and board tokens, the students' starting setup), students (a
                name unique in its class whatever its case, and the student's own workspace) and runs.class_id
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from core.runs.store import SchemaError

log = logging.getLogger(__name__)

LATEST = 5

_TABLES = """
CREATE TABLE IF NOT EXISTS workspaces (token TEXT PRIMARY KEY, created REAL NOT NULL, text_hash TEXT,
                                       state TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS texts (hash TEXT PRIMARY KEY, body TEXT NOT NULL, size INTEGER NOT NULL);
"""
_RUNS = """
CREATE TABLE {name} (
    id INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL, name TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL, kind TEXT NOT NULL DEFAULT 'text', data_kind TEXT NOT NULL DEFAULT 'text',
    text_hash TEXT NOT NULL, text_name TEXT NOT NULL, model TEXT NOT NULL, train TEXT NOT NULL, vocab TEXT,
    status TEXT NOT NULL DEFAULT 'waiting', message TEXT NOT NULL DEFAULT '', server TEXT NOT NULL DEFAULT '',
    step INTEGER NOT NULL DEFAULT 0, epoch INTEGER NOT NULL DEFAULT 0, elapsed_s REAL NOT NULL DEFAULT 0,
    tokens_per_s REAL NOT NULL DEFAULT 0, best_val REAL, final_loss REAL, extras TEXT NOT NULL DEFAULT '{{}}')
"""
_ROWS = """
CREATE TABLE {name} (run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE, i INTEGER NOT NULL,
                     step INTEGER NOT NULL, loss REAL, accuracy REAL, seconds REAL, norms BLOB,
                     PRIMARY KEY (run, i)) WITHOUT ROWID
"""
_WEIGHTS = """
CREATE TABLE {name} (run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE, step INTEGER NOT NULL,
                     file TEXT NOT NULL, epoch INTEGER NOT NULL, batch INTEGER NOT NULL, elapsed_s REAL NOT NULL,
                     bytes INTEGER NOT NULL, damaged TEXT NOT NULL DEFAULT '', PRIMARY KEY (run, file))
"""
_INDEX = "CREATE INDEX IF NOT EXISTS runs_by_workspace ON runs (workspace, id)"
_RUN_COLUMNS = ("id", "workspace", "name", "note", "created", "kind", "text_hash", "text_name", "model", "train",
                "vocab", "status", "message", "server", "step", "epoch", "elapsed_s", "tokens_per_s", "best_val",
                "final_loss", "extras")  # what versions 2 and 3 share


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _to_2(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'text'")


def _to_3(db: sqlite3.Connection) -> None:
    """Tables rebuilt with their foreign keys (SQLite cannot add one); history and weights of deleted runs go."""
    seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchall()
    cols = ", ".join(_RUN_COLUMNS)
    db.execute(_RUNS.format(name="runs_3"))
    db.execute(f"INSERT INTO runs_3 ({cols}, data_kind) SELECT {cols}, "
               "CASE kind WHEN 'series' THEN 'series_csv' ELSE 'text' END FROM runs")
    db.execute("UPDATE runs_3 SET vocab = NULL WHERE kind = 'series'")  # it held "{}"
    db.execute("DROP TABLE runs")
    db.execute("ALTER TABLE runs_3 RENAME TO runs")
    db.execute(_INDEX)
    if seq:  # ids of deleted runs are never given again (their folders may still be on disk)
        db.execute("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = 'runs'", (seq[0][0],))
    for table, ddl, columns in (("rows", _ROWS, "run, i, step, loss, accuracy, seconds, norms"),
                                ("weights", _WEIGHTS, "run, step, file, epoch, batch, elapsed_s, bytes")):
        db.execute(ddl.format(name=f"{table}_3"))
        db.execute(f"INSERT INTO {table}_3 ({columns}) SELECT {columns} FROM {table} WHERE run IN (SELECT id FROM runs)")
        db.execute(f"DROP TABLE {table}")
        db.execute(f"ALTER TABLE {table}_3 RENAME TO {table}")


_SWEEPS = """
CREATE TABLE sweeps (id INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL, created REAL NOT NULL,
                     spec TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'running', message TEXT NOT NULL DEFAULT '',
                     server TEXT NOT NULL DEFAULT '', best_run INTEGER)
"""


def _to_4(db: sqlite3.Connection) -> None:
    """Sweeps, and the sweep a run is a trial of (NULL for a run trained on its own)."""
    db.execute(_SWEEPS)
    db.execute("CREATE INDEX sweeps_by_workspace ON sweeps (workspace, id)")
    db.execute("ALTER TABLE runs ADD COLUMN sweep_id INTEGER")


_CLASSES = """
CREATE TABLE classes (id INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL, join_token TEXT NOT NULL UNIQUE,
                      board_token TEXT NOT NULL UNIQUE, created REAL NOT NULL, setup TEXT NOT NULL,
                      closed INTEGER NOT NULL DEFAULT 0, server TEXT)
"""
_STUDENTS = """
CREATE TABLE students (id INTEGER PRIMARY KEY AUTOINCREMENT,
                       class_id INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE, name TEXT NOT NULL,
                       workspace TEXT NOT NULL UNIQUE, joined REAL NOT NULL, hidden INTEGER NOT NULL DEFAULT 0,
                       UNIQUE (class_id, name COLLATE NOCASE))
"""


def _to_5(db: sqlite3.Connection) -> None:
    """Classes and their students, and the class a run was trained in (NULL for a run outside a class)."""
    db.execute(_CLASSES)
    db.execute("CREATE INDEX classes_by_workspace ON classes (workspace, id)")
    db.execute(_STUDENTS)
    db.execute("ALTER TABLE runs ADD COLUMN class_id INTEGER")


MIGRATIONS = {2: _to_2, 3: _to_3, 4: _to_4, 5: _to_5}  # the version each one reaches


def version(db: sqlite3.Connection) -> int:
    """The schema version of the open database: 0 when it is empty; 1 or 2 told by their columns when unnumbered."""
    numbered = db.execute("PRAGMA user_version").fetchone()[0]
    if numbered:
        return numbered
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    return 0 if not columns else 2 if "kind" in columns else 1


def migrate(db: sqlite3.Connection, folder: Path) -> int:
    """Bring the database in `folder` up to `LATEST`, one transaction per version; the version it had.

    Raises:
        SchemaError: it comes from a newer release, or a migration failed (the database is left as it was).
    """
    db.execute("PRAGMA foreign_keys = OFF")  # a table rebuild drops the table others point to
    found = None
    try:
        while True:
            db.execute("BEGIN IMMEDIATE")  # one writer: a second server opening the folder waits, then sees the result
            try:
                now = version(db)
                found = now if found is None else found
                if now > LATEST:
                    raise SchemaError(
                        f"The run store in {folder} was written by a newer release of RNN Playground (schema version "
                        f"{now}; this one reads up to {LATEST}). Run that release, or set RNN_PLAYGROUND_DATA to another "
                        "folder to start with an empty store.")
                if now == LATEST:
                    db.execute("COMMIT")
                    return found
                if now == 0:
                    for statement in _statements(_TABLES) + [_RUNS.format(name="runs"), _INDEX,
                                                             _ROWS.format(name="rows"), _WEIGHTS.format(name="weights")]:
                        db.execute(statement)
                    target = 3  # the tables above are version 3's; the later migrations follow in the next rounds
                else:
                    target = now + 1
                    MIGRATIONS[target](db)
                broken = db.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    tables = ", ".join(sorted({row[0] for row in broken}))
                    raise sqlite3.IntegrityError(f"{len(broken)} rows of {tables} point to rows that are gone")
                db.execute(f"PRAGMA user_version = {int(target)}")
                db.execute("COMMIT")
                if now:
                    log.info("Run store %s upgraded from schema version %d to %d", folder, now, target)
            except BaseException:
                db.execute("ROLLBACK")
                raise
    except sqlite3.Error as err:
        log.exception("Run store %s could not be upgraded from schema version %s", folder, found)
        raise SchemaError(
            f"The run store in {folder} could not be upgraded from schema version {found} to {LATEST} ({err}); it was "
            "left as it was, and no run in it was changed. Keep a copy of the folder and tell whoever runs this "
            "server, or set RNN_PLAYGROUND_DATA to another folder to start with an empty store.") from None
    finally:
        db.execute("PRAGMA foreign_keys = ON")

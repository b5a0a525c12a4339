"""The store's SQLite connection: opened in WAL mode and migrated, one statement or one transaction at a time, and
every failure turned into a sentence that says what to do (and logged with its traceback)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

from core.runs import schema
from core.runs.store import StoreError

log = logging.getLogger(__name__)


def blame(err: Exception, folder: Path) -> StoreError:
    """The sentence for a failed read or write of the data folder: the disk only when the disk is at fault."""
    log.error("Run store %s: %s", folder, err, exc_info=err)
    text = str(err).lower()
    if isinstance(err, OSError) and err.errno == 28 or "full" in text:
        why = "the disk is full"
    elif isinstance(err, OSError) or any(w in text for w in ("readonly", "read-only", "unable to open", "disk i/o")):
        why = f"it cannot be written ({err})"
    else:
        return StoreError(f"The run store in {folder} failed unexpectedly ({type(err).__name__}: {err}). Nothing "
                          "saved before was lost; try again, and tell whoever runs this server if it repeats.")
    return StoreError(f"Runs cannot be saved in the data folder {folder}: {why}. Training goes on in memory; "
                      "free some disk space, or set RNN_PLAYGROUND_DATA to a folder this server can write.")


class Database:
    """One connection to `path`, shared by threads (a lock serialises them), foreign keys on.

    Raises:
        StoreError: it cannot be opened; SchemaError: it cannot be brought up to `schema.LATEST`.
    """

    def __init__(self, path: Path, folder: Path):
        self.folder, self._lock = folder, threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=10, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        except (OSError, sqlite3.Error) as err:
            raise blame(err, folder) from None
        schema.migrate(self._db, folder)  # leaves foreign keys on

    def sql(self, query: str, args=(), many: bool = False) -> list:
        """Run one statement (for each of `args` when `many`); its rows."""
        try:
            with self._lock:
                cur = self._db.executemany(query, args) if many else self._db.execute(query, args)
                return cur.fetchall()
        except sqlite3.Error as err:
            raise blame(err, self.folder) from None

    @contextmanager
    def transaction(self):
        """The connection inside one transaction: every statement run on it lands, or none."""
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as err:
            raise blame(err, self.folder) from None

    def close(self) -> None:
        self._db.close()


def checked_update(table: str, fields: tuple[str, ...], changes: dict) -> str:
    """The UPDATE of one row of `table` (by id and workspace) setting `changes`, or "" when there is nothing to set.

    Raises:
        ValueError: a key of `changes` is not one of `fields` (the column names are `fields`' own, never the caller's).
    """
    bad = set(changes) - set(fields)
    if bad:
        raise ValueError(f"Received fields that the {table} table does not have: {sorted(bad)}.")
    return f"UPDATE {table} SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ? AND workspace = ?" if changes else ""

"""The sweeps table of the SQLite run store (`core.runs.sqlite_store.RunStore` mixes it in): a sweep groups the runs
of its trials (`runs.sweep_id`); its status and message are what the Sweeps page shows."""

from __future__ import annotations

import time

from core.runs.sqlite_db import checked_update
from core.runs.store import LIVE, SERVER_ID, SWEEP_FIELDS, valid_token


class SweepsTable:
    """`create_sweep`, `sweeps` and `update_sweep` of `AbstractRunStore`, on the store's own connection."""

    def create_sweep(self, workspace: str, spec_json: str) -> int:
        with self._transaction() as db:
            return db.execute("INSERT INTO sweeps (workspace, created, spec, server) VALUES (?, ?, ?, ?)",
                              (workspace, time.time(), spec_json, SERVER_ID)).lastrowid

    def sweeps(self, workspace: str) -> list[dict]:
        if not valid_token(workspace):
            return []
        columns = ("id", "workspace", "created", "spec") + SWEEP_FIELDS
        found = [dict(zip(columns, row)) for row in self._sql(
            f"SELECT {', '.join(columns)} FROM sweeps WHERE workspace = ? ORDER BY id", (workspace,))]
        for sweep in found:
            if sweep["status"] in LIVE and sweep["server"] != SERVER_ID:
                sweep["status"] = "interrupted"
        return found

    def update_sweep(self, workspace: str, sweep_id: int, **changes) -> None:
        sql = checked_update("sweeps", SWEEP_FIELDS, changes)  # raises on a field the table does not have
        if sql:
            self._sql(sql, (*changes.values(), sweep_id, workspace))

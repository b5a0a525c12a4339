"""The classes and students tables of the SQLite run store (`core.runs.sqlite_store.RunStore` mixes them in).

A teacher's workspace starts a class with a setup. A student who opens the class's join link gets a workspace of
their own that starts from that setup; the board link lists who joined. Both links carry tokens as unguessable as a
workspace's, and no token is ever two things at once. A join's checks (the class is open, has room, and nobody in
it has the name in any case) and its writes are one transaction, so two students joining at once cannot both take
the last place or the same name.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import unicodedata

from core import settings
from core.runs.store import (NAME_CHARS, SERVER_ID, BadName, ClassClosed, ClassError, ClassFull, NameTaken, StoreError,
                             new_token, valid_token)

log = logging.getLogger(__name__)

_KEYS = ("id", "workspace", "join", "board", "created", "setup", "closed", "students")
_SELECT = ("SELECT id, workspace, join_token, board_token, created, setup, closed, "
           "(SELECT COUNT(*) FROM students s WHERE s.class_id = classes.id) FROM classes WHERE {} ORDER BY id")
_UNSHOWN = ("Cc", "Cs", "Zl", "Zp")  # control characters, lone surrogates, line and paragraph breaks
TRIES = 8  # fresh tokens drawn before giving up (192 random bits: a second draw already means a broken generator)


def _shown(row: tuple) -> dict:
    """A class row as the class dict of `AbstractRunStore.create_class`."""
    found = dict(zip(_KEYS, row))
    found["setup"], found["closed"] = json.loads(found["setup"]), bool(found["closed"])
    return found


def _checked_name(name: object) -> str:
    """`name` stripped (and in NFC, so that one name typed two ways is one name). Raises BadName."""
    if not isinstance(name, str) or not name.strip():
        raise BadName(f"Type your name (1 to {NAME_CHARS} characters) to join the class.")
    name = unicodedata.normalize("NFC", name.strip())
    if len(name) > NAME_CHARS:
        raise BadName(f"Your name has {len(name)} characters; a class takes at most {NAME_CHARS}. Shorten it (a first "
                      "name and an initial is enough), then join again.")
    if any(unicodedata.category(ch) in _UNSHOWN for ch in name):
        raise BadName("Your name has a character the class board cannot show (a tab or a line break, say). Type it "
                      "on one line, then join again.")
    return name


def _fresh_tokens(db: sqlite3.Connection, n: int) -> list[str]:
    """`n` new tokens, distinct from each other and from every workspace's and class link's token."""
    marks = ", ".join("?" * n)
    for _ in range(TRIES):
        tokens = [new_token() for _ in range(n)]
        taken = db.execute(f"SELECT 1 FROM workspaces WHERE token IN ({marks}) UNION ALL SELECT 1 FROM classes WHERE "
                           f"join_token IN ({marks}) OR board_token IN ({marks}) LIMIT 1", tokens * 3).fetchall()
        if len(set(tokens)) == n and not taken:
            return tokens
        log.warning("A new token was already in use or drawn twice; drawing again")
    raise StoreError(f"This server drew {TRIES} tokens in a row that were already in use, so its random numbers cannot "
                     "be trusted. Nothing was saved; tell whoever runs this server.")


class ClassesTable:
    """The class operations of `AbstractRunStore`, on the store's own connection."""

    def create_class(self, workspace: str, setup: dict) -> dict:
        """A new class of the teacher's `workspace`, open to students.

        Args:
            workspace: the teacher's workspace token.
            setup: what each student's workspace starts with, in `save_workspace`'s shape (text, text_name, level,
                vocab_cap, model, train), "text" being a `put_text` key.

        Returns:
            The class: id, workspace, join, board, created, setup, closed (False), students (0).

        Raises:
            ClassError: the workspace or the setup's text is not in the store; the sentence says what to do.
        """
        text = setup.get("text") if isinstance(setup, dict) else None
        with self._transaction() as db:
            if not valid_token(workspace) or not db.execute("SELECT 1 FROM workspaces WHERE token = ?",
                                                            (workspace,)).fetchone():
                raise ClassError("Your workspace is not on this server any more, so it cannot start a class. Open the "
                                 "playground's start page for a new workspace, then start the class from there.")
            if not isinstance(text, str) or not db.execute("SELECT 1 FROM texts WHERE hash = ?", (text,)).fetchone():
                raise ClassError("A class starts from a text, and this workspace has none stored yet. Choose a text "
                                 "on the Text page, then start the class again.")
            join, board = _fresh_tokens(db, 2)
            class_id = db.execute("INSERT INTO classes (workspace, join_token, board_token, created, setup, server) "
                                  "VALUES (?, ?, ?, ?, ?, ?)",
                                  (workspace, join, board, time.time(), json.dumps(setup), SERVER_ID)).lastrowid
        log.info("Class %d started by a workspace", class_id)
        return self._classes("id = ?", class_id)[0]

    def _classes(self, where: str, arg) -> list[dict]:
        return [_shown(row) for row in self._sql(_SELECT.format(where), (arg,))]

    def class_by_join(self, token: str) -> dict | None:
        found = self._classes("join_token = ?", token) if valid_token(token) else []
        return found[0] if found else None

    def class_by_board(self, token: str) -> dict | None:
        found = self._classes("board_token = ?", token) if valid_token(token) else []
        return found[0] if found else None

    def classes(self, workspace: str) -> list[dict]:
        return self._classes("workspace = ?", workspace) if valid_token(workspace) else []

    def join_class(self, class_id: int, name: str) -> str:
        """Make student `name` a workspace of their own in the class, holding the class's setup.

        The workspace is what `create_workspace` then `save_workspace(ws, setup, setup["text"])` make, written in the
        same transaction as the checks and the student's row.

        Args:
            class_id: the class's id (from `class_by_join`).
            name: the student's name as typed; stored stripped.

        Returns:
            The new workspace's token.

        Raises:
            BadName: empty, longer than `NAME_CHARS`, or with a character the board cannot show.
            ClassClosed: the teacher closed the class to new students.
            ClassFull: it has `settings.current().max_students` students (RNN_PLAYGROUND_MAX_STUDENTS).
            NameTaken: a student of the class has the name, in any case.
            ClassError: the class is not on this server.
        """
        name = _checked_name(name)
        limit = settings.current().max_students
        try:
            with self._transaction() as db:
                found = db.execute("SELECT setup, closed FROM classes WHERE id = ?", (class_id,)).fetchone()
                if found is None:
                    raise ClassError("This class is not on this server (the link may be cut short, or from another "
                                     "server). Ask your teacher to send the class link again.")
                if found[1]:
                    raise ClassClosed("Your teacher has closed this class to new students. Ask them to open it again, "
                                      "then use the link once more.")
                names = [n for (n,) in db.execute("SELECT name FROM students WHERE class_id = ?", (class_id,))]
                if len(names) >= limit:
                    raise ClassFull(f"This class already has {len(names)} students, the most a class may have on "
                                    f"this server ({limit}, set by RNN_PLAYGROUND_MAX_STUDENTS). Ask your teacher to "
                                    "start a second class and send you its link.")
                if name.casefold() in {n.casefold() for n in names}:
                    raise NameTaken(f"Someone in this class already joined as {name!r}. Add an initial or choose "
                                    "another name, then join again.")
                (token,), now = _fresh_tokens(db, 1), time.time()
                db.execute("INSERT INTO workspaces (token, created, text_hash, state) VALUES (?, ?, ?, ?)",
                           (token, now, json.loads(found[0]).get("text"), found[0]))
                db.execute("INSERT INTO students (class_id, name, workspace, joined) VALUES (?, ?, ?, ?)",
                           (class_id, name, token, now))
        except ClassError as refused:
            log.info("Class %s refused a join: %s", class_id, refused)
            raise
        log.info("Class %s: a student joined", class_id)
        return token

    def students(self, class_id: int) -> list[dict]:
        found = self._sql("SELECT id, name, workspace, joined, hidden FROM students WHERE class_id = ? ORDER BY id",
                          (class_id,))
        return [dict(id=i, name=n, workspace=w, joined=j, hidden=bool(h)) for i, n, w, j, h in found]

    def set_class_closed(self, class_id: int, closed: bool) -> None:
        self._sql("UPDATE classes SET closed = ? WHERE id = ?", (int(bool(closed)), class_id))

    def hide_student(self, class_id: int, student_id: int, hidden: bool = True) -> None:
        self._sql("UPDATE students SET hidden = ? WHERE id = ? AND class_id = ?",
                  (int(bool(hidden)), student_id, class_id))

    def class_of(self, workspace: str) -> int | None:
        if not valid_token(workspace):
            return None
        found = self._sql("SELECT class_id FROM students WHERE workspace = ?", (workspace,))
        return found[0][0] if found else None

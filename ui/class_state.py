"""A class (issue 18) as the Class page sees it: the teacher starts one, a student joins one, the board reads one.

The class lives in the run store (`core.runs.sqlite_classes`): its two links' tokens, the setup every student starts
from, and the students, each with a workspace of their own. The board reads the students' runs from the store (the
recorder writes them every second) and the training queue from the server's gate, and never shows a workspace token.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from urllib.parse import urlsplit

import numpy as np
import streamlit as st

from core.classroom.board import StudentRow, board_rows
from core.config import ModelConfig, TrainConfig
from core.runs.store import ClassError, StoreError
from core.text.vocabulary import LoadedText
from ui import session, workspace
from ui.store_access import ensure_token, notice, store

log = logging.getLogger(__name__)
PATH = "class"  # the Class page's address
GONE = ("This class link does not work: the class was not found, or the link was cut short. Ask your teacher for the "
        "whole link. Meanwhile this is an ordinary workspace of your own.")


def base_url() -> str:
    """The app's address as the browser reached it (scheme, host and port, and Streamlit's base path)."""
    url = urlsplit(st.context.url or "http://localhost:8501")
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{url.scheme}://{url.netloc}" + (f"/{base}" if base else "")


def links(cls: dict) -> tuple[str, str]:
    """(the join link for students, the board link for the teacher)."""
    return f"{base_url()}/{PATH}?join={cls['join']}", f"{base_url()}/{PATH}?board={cls['board']}"


def start_class() -> dict | None:
    """A class with this session's text and Model and Train settings as its setup; None, with a sentence, when the
    store cannot make one."""
    ss, s = st.session_state, store()
    ws = ensure_token()
    if s is None or ws is None:
        notice("A class needs the run store, and it cannot be written on this server; the sentence above says why.")
        return None
    try:
        setup = dict(text=s.put_text(str(ss.text)), text_name=ss.get("text_name"), level=ss.get("level"),
                     vocab_cap=ss.get("vocab_cap"), model=asdict(ss.model_config), train=asdict(ss.train_config))
        return s.create_class(ws, setup)
    except StoreError as err:
        log.exception("A class could not be started")
        notice(str(err))
        return None


def my_classes() -> list[dict]:
    """The classes this workspace started, newest first."""
    s, ws = store(), workspace.token()
    return list(reversed(s.classes(ws))) if s is not None and ws else []


def joining() -> dict | None:
    """The class whose join link opened this session, while the student has not joined yet; a link that does not work
    (closed, cut, unknown) is dropped with a sentence."""
    ss, s = st.session_state, store()
    token = ss.get("class_join")
    if not token:
        return None
    cls = s.class_by_join(token) if s is not None else None
    if cls is None or cls["closed"]:
        ss.class_join = None
        notice(GONE if cls is None else "This class is closed to new students: your teacher closed joining. This is an "
               "ordinary workspace of your own.")
        return None
    return cls


def join(cls: dict, name: str) -> str | None:
    """Join `cls` as `name`: the student's own workspace, with a copy of the class's setup, becomes this session's.
    None when it worked, else the sentence that says why not."""
    ss, s = st.session_state, store()
    try:
        ws = s.join_class(cls["id"], name)
    except ClassError as err:
        return str(err)
    except StoreError as err:
        log.exception("A student could not join class %s", cls["id"])
        return str(err)
    ss.class_join = None
    workspace.switch_to(ws)
    ss.class_joined = name.strip()
    return None


def board_class() -> dict | None:
    """The class whose board link opened this session (None when there is none, or it does not work)."""
    token, s = st.session_state.get("class_board"), store()
    return s.class_by_board(token) if token and s is not None else None


def queue_places() -> dict[str, int]:
    """Each waiting owner's place in the training queue (from 1)."""
    from core.workers import admission

    gate = admission.current_gate()
    if gate is None:
        return {}
    places = {}
    for owner, place, _eta in gate.queue():
        places.setdefault(owner, place)
    return places


def board(cls: dict) -> tuple[list[StudentRow], list[str], list[np.ndarray], list[np.ndarray]]:
    """(the rows of the visible students, then their names, steps and losses of their latest runs' curves).

    A curve is read from the store again only when its run's status or step has moved since this board last read it
    (the board redraws every second; re-reading thirty finished histories each time was half of its cost)."""
    s = store()
    students = s.students(cls["id"])
    runs = {p["id"]: s.runs(p["workspace"]) for p in students if not p["hidden"]}  # board_rows keeps the text runs
    places = queue_places()
    queue = {p["workspace"]: places[p["workspace"]] for p in students if p["workspace"] in places}
    rows = board_rows(cls["setup"], students, runs, queue)
    by_id = {p["id"]: p for p in students}
    curves = st.session_state.setdefault("class_curves", {})  # run id -> ((status, step), steps, losses)
    names, steps, losses = [], [], []
    for row in rows:
        if row.latest_run is None:
            continue
        run = next((r for r in runs[row.student_id] if r["id"] == row.latest_run), {})
        seen = (run.get("status"), run.get("step"))  # the recorder adds rows before it moves the step on
        if row.latest_run not in curves or curves[row.latest_run][0] != seen:
            history = s.rows(by_id[row.student_id]["workspace"], row.latest_run)
            curves[row.latest_run] = (seen, history["steps"], history["loss"])
        _, run_steps, run_losses = curves[row.latest_run]
        if len(run_steps):
            names.append(row.name), steps.append(run_steps), losses.append(run_losses)
    for gone in set(curves) - {row.latest_run for row in rows}:
        del curves[gone]
    return rows, names, steps, losses


def use_setup(cls: dict) -> bool:
    """Make the class's setup this session's text and settings (the teacher shows it); False when its text is gone."""
    setup, s = cls["setup"], store()
    body = s.text(setup.get("text", "")) if s is not None else None
    if body is None:
        return False
    session.set_text(LoadedText(body), setup.get("text_name") or "class text", setup.get("level"), setup.get("vocab_cap"))
    session.set_settings(ModelConfig(**setup["model"]), TrainConfig(**setup["train"]))
    return True

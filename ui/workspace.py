"""A browser session's workspace: its token and settings in the address, everything else in the run store.

A session gets a workspace with an unguessable token, in the address, once it has something to save (a text, a
setting or a run that differs from what it started with), so a visit that only looks leaves nothing behind. A reload,
or the same address after a server restart, brings back the text, the settings and the current run (its charts and its
weights). The address also carries the Model and Train settings, so a link reproduces a setup.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, fields

import streamlit as st

from core.config import ModelConfig, TrainConfig, from_query, to_query
from core.runs.sqlite_store import RunStore, StoreError
from core.text.vocabulary import LoadedText
from ui import session
from ui.controls import plain
from ui.store_access import ensure_token, notice, recorder, store, store_error, token
from ui.stored_runs import attach_run, attach_series_run

__all__ = ["open_workspace", "recorder", "show_notices", "sidebar_note", "store", "switch_to", "sync", "token"]
log = logging.getLogger(__name__)
SETTINGS = {f.name for cls in (ModelConfig, TrainConfig) for f in fields(cls)} - {"vocab_size"}
SHARED = ("Your work is saved in this workspace. Its address is its key: anyone you give the link to sees and can "
          "change everything in it, every run included.")
NOT_FOUND = ("The workspace in this link was not found: it may have been cut short or mistyped. This is a new, "
             "empty workspace. Ask whoever sent the link for the whole address.")


def open_workspace() -> None:
    """Once per session: the workspace named in the address, with everything it had. Without one in the address, the
    workspace is made when there is something to save (`sync`); a link whose workspace is gone gets a new one now."""
    ss = st.session_state
    if "ws_token" in ss:
        return
    ss.ws_token = None
    ss.class_join, ss.class_board = st.query_params.get("join"), st.query_params.get("board")  # a class's links
    s, asked = store(), st.query_params.get("ws")
    if s is None:
        notice(store_error())
        return
    try:
        if asked and s.workspace_exists(asked):
            ss.ws_token = asked
            _bring_back(s, asked)
        elif asked:
            notice(NOT_FOUND)
            ss.ws_token = s.create_workspace()
    except StoreError as err:
        log.exception("The workspace of this session could not be opened")
        notice(str(err))
    _settings_from_link()


def _bring_back(s: RunStore, ws: str) -> None:
    """Put the workspace's saved text, settings and current run into this session."""
    ss, saved = st.session_state, s.workspace_state(ws)
    body = s.text(saved.get("text", "")) if saved.get("text") else None
    level = saved["level"] if saved.get("level") in ("char", "word") else None
    cap = saved["vocab_cap"] if isinstance(saved.get("vocab_cap"), int) else None
    if body is not None:
        session.set_text(LoadedText(body), saved.get("text_name", "text"), level, cap)
    elif level or cap:
        session.set_level(level or ss.level, cap)
    configs = []
    for key, cls in (("model", ModelConfig), ("train", TrainConfig)):  # as `_saved_state` keeps them
        try:
            configs.append(cls(**saved[key]))
        except (KeyError, TypeError, ValueError):
            configs.append(None)  # a missing or older shape: the defaults
    session.set_settings(*configs)
    if saved.get("run"):
        attach_run(int(saved["run"]))
    if saved.get("series_run"):
        attach_series_run(int(saved["series_run"]))


def switch_to(ws: str) -> None:
    """Make `ws` (a workspace just made for this session, a student's own copy of a class) this session's workspace,
    with its text and settings; the model this session had stays in the workspace it came from."""
    ss = st.session_state
    for slot in ("run", "ts_run"):
        session.release(slot, "Stopped because you joined a class: your own workspace was opened.")
    for key in ("ws_saved", "ws_started_with", "ws_text_key"):
        ss.pop(key, None)
    ss.ws_token = ws
    _bring_back(store(), ws)


def _settings_from_link() -> None:
    """The Model and Train settings named in the address, over the workspace's own."""
    ss, query = st.session_state, {k: v for k, v in st.query_params.to_dict().items() if k in SETTINGS}
    if not query:
        return
    try:
        model = from_query(ModelConfig, query, base=ss.model_config)
        train = from_query(TrainConfig, query, base=ss.train_config)
    except ValueError as err:
        log.exception("The settings in this link were not used")
        notice(f"{plain(str(err))} The link's other settings were not used either; fix the address or set them on the "
               "Model and Train pages.")
        return
    session.set_settings(model, train)


def _saved_state() -> dict:
    """What the workspace keeps of this session (besides the text itself)."""
    ss, r = st.session_state, session.run()
    return dict(text_name=ss.get("text_name"), level=ss.get("level"), vocab_cap=ss.get("vocab_cap"),
                model=asdict(ss.model_config), train=asdict(ss.train_config), run=r.run_id if r else None,
                series_run=getattr(ss.get("ts_run"), "run_id", None))


def sync() -> None:
    """Before and after each script run: save what changed in the workspace (making it once there is something to
    save), and mirror the settings into the address."""
    ss, s, saved = st.session_state, store(), _saved_state()
    key = (ss.get("text_version"), repr(saved))
    ss.setdefault("ws_started_with", key)  # what a session that did nothing has: no workspace needed for it
    ws = token()
    if s is not None and ss.get("ws_saved") != key and (ws or key != ss.ws_started_with):
        ws = ensure_token()
        try:
            if ws and ss.get("ws_text_key", (None,))[0] != ss.get("text_version"):
                ss.ws_text_key = (ss.get("text_version"), s.put_text(str(ss.text)))
            if ws:
                s.save_workspace(ws, saved | {"text": ss.ws_text_key[1]}, ss.ws_text_key[1])
                ss.ws_saved = key
        except StoreError as err:
            log.exception("Workspace %s could not be saved", ws)
            if ss.get("ws_error") != str(err):
                ss.ws_error = str(err)
                notice(str(err))
    links = {k: ss.get(f"class_{k}") for k in ("join", "board")}  # a class's link stays until it is used
    wanted = {k: v for k, v in links.items() if v} | ({"ws": ws} if ws else {})
    wanted |= {k: v for k, v in to_query(ss.model_config).items() if k != "vocab_size"}
    wanted |= to_query(ss.train_config)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def sidebar_note() -> None:
    """Say in the sidebar that the address is the workspace's key."""
    if token():
        st.sidebar.caption(":material/link: " + SHARED)


def show_notices() -> None:
    """The workspace's sentences (a link not found, a store that cannot be written), once each."""
    for sentence in st.session_state.pop("ws_notices", []):
        st.warning(sentence)

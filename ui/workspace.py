"""A browser session's workspace: its token and settings in the address, everything else in the run store.

The first visit makes a workspace with an unguessable token and puts it in the address. A reload, or the
same address after a server restart, brings back the text, the settings and the current run (its charts
and its weights). The address also carries the Model and Train settings, so a link reproduces a setup.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path

import streamlit as st

from core import settings
from core.config import ModelConfig, TrainConfig, from_query, to_query
from core.runs.recorder import Recorder
from core.runs.sqlite_store import RunStore, StoreError
from core.text.vocabulary import LoadedText
from ui import session

SETTINGS = {f.name for cls in (ModelConfig, TrainConfig) for f in fields(cls)} - {"vocab_size"}
SHARED = ("Your work is saved in this workspace. Its address is its key: anyone you give the link to sees and can "
          "change everything in it, every run included.")


def data_folder() -> Path:
    return settings.current().data_dir


@st.cache_resource(show_spinner=False)
def _store(folder: str) -> tuple[RunStore | None, Recorder | None, str | None]:
    """The server's one store and recorder (shared by every session: each only reaches its own workspace)."""
    try:
        store = RunStore(folder)
    except StoreError as err:
        return None, None, str(err)
    return store, Recorder(store), None


def store() -> RunStore | None:
    return _store(str(data_folder()))[0]


def recorder() -> Recorder | None:
    return _store(str(data_folder()))[1]


def token() -> str | None:
    """This session's workspace token (None when the store could not be opened)."""
    return st.session_state.get("ws_token")


def notice(sentence: str) -> None:
    """A sentence for the top of the next page drawn."""
    st.session_state.setdefault("ws_notices", []).append(sentence)


def open_workspace() -> None:
    """Once per session: the workspace named in the address (or a new one), with everything it had."""
    ss = st.session_state
    if "ws_token" in ss:
        return
    ss.ws_token = None
    s, _, err = _store(str(data_folder()))
    asked = st.query_params.get("ws")
    if s is None:
        notice(err)
        return
    try:
        if asked and s.workspace_exists(asked):
            ss.ws_token = asked
            _bring_back(s, asked)
        else:
            if asked:
                notice("The workspace in this link was not found: it may have been cut short or mistyped. This is a new, "
                       "empty workspace. Ask whoever sent the link for the whole address.")
            ss.ws_token = s.create_workspace()
    except StoreError as err:
        notice(str(err))
    _settings_from_link()


def _bring_back(s: RunStore, ws: str) -> None:
    """Put the workspace's saved text, settings and current run into this session."""
    ss, saved = st.session_state, s.workspace_state(ws)
    body = s.text(saved.get("text", "")) if saved.get("text") else None
    if body is not None:
        ss.text, ss.text_name, ss.text_version = LoadedText(body), saved.get("text_name", "text"), 1
    if saved.get("level") in ("char", "word"):
        ss.level = saved["level"]
    if isinstance(saved.get("vocab_cap"), int):
        ss.vocab_cap = saved["vocab_cap"]
    for key, cls in (("model_config", ModelConfig), ("train_config", TrainConfig)):
        try:
            ss[key] = cls(**saved[key])
        except (KeyError, TypeError, ValueError):
            pass  # a missing or older shape: the defaults
    from ui.stored_runs import attach_run, attach_series_run

    if saved.get("run"):
        attach_run(int(saved["run"]))
    if saved.get("series_run"):
        attach_series_run(int(saved["series_run"]))


def _settings_from_link() -> None:
    """The Model and Train settings named in the address, over the workspace's own."""
    ss, query = st.session_state, {k: v for k, v in st.query_params.to_dict().items() if k in SETTINGS}
    if not query:
        return
    try:
        ss.model_config = from_query(ModelConfig, query, base=ss.get("model_config") or ModelConfig())
        ss.train_config = from_query(TrainConfig, query, base=ss.get("train_config") or TrainConfig())
    except ValueError as err:
        notice(f"{err} The link's other settings were not used either; fix the address or set them on the Model and Train pages.")


def sync() -> None:
    """After each script run: save what changed in the workspace, and mirror the settings into the address."""
    ss, ws, s = st.session_state, token(), store()
    r = session.run()
    saved = dict(text_name=ss.get("text_name"), level=ss.get("level"), vocab_cap=ss.get("vocab_cap"),
                 model=asdict(ss.model_config), train=asdict(ss.train_config), run=r.run_id if r else None,
                 series_run=getattr(ss.get("ts_run"), "run_id", None))
    key = (ss.get("text_version"), repr(saved))
    if ws and s is not None and ss.get("ws_saved") != key:
        try:
            if ss.get("ws_text_key", (None,))[0] != ss.get("text_version"):
                ss.ws_text_key = (ss.get("text_version"), s.put_text(str(ss.text)))
            s.save_workspace(ws, saved | {"text": ss.ws_text_key[1]}, ss.ws_text_key[1])
            ss.ws_saved = key
        except StoreError as err:
            if ss.get("ws_error") != str(err):
                ss.ws_error = str(err)
                notice(str(err))
    wanted = ({"ws": ws} if ws else {}) | {k: v for k, v in to_query(ss.model_config).items() if k != "vocab_size"}
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

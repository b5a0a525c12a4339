"""The server's run store and recorder, and this session's workspace token and notices.

A leaf of `ui/`: it imports no other ui module, so the workspace (`ui.workspace`) and the runs (`ui.stored_runs`)
both reach the store without reaching each other.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from core import settings
from core.runs.recorder import Recorder
from core.runs.sqlite_store import RunStore, StoreError

log = logging.getLogger(__name__)


def data_folder() -> Path:
    return settings.current().data_dir


@st.cache_resource(show_spinner=False)
def _store(folder: str) -> tuple[RunStore | None, Recorder | None, str | None]:
    """The server's one store and recorder (shared by every session: each only reaches its own workspace)."""
    try:
        store = RunStore(folder)
    except StoreError as err:
        log.exception("The run store in %s cannot be opened; runs are not saved", folder)
        return None, None, str(err)
    return store, Recorder(store), None


def store() -> RunStore | None:
    return _store(str(data_folder()))[0]


def recorder() -> Recorder | None:
    return _store(str(data_folder()))[1]


def store_error() -> str | None:
    """Why the store could not be opened (None when it is open)."""
    return _store(str(data_folder()))[2]


def token() -> str | None:
    """This session's workspace token: None until the session has something to save, or when the store is closed."""
    return st.session_state.get("ws_token")


def notice(sentence: str) -> None:
    """A sentence for the top of the next page drawn."""
    st.session_state.setdefault("ws_notices", []).append(sentence)


def ensure_token() -> str | None:
    """This session's workspace token, the workspace made now when the session has none yet (a workspace is made only
    once there is something to save in it). None, with a sentence once, when runs cannot be saved."""
    ss, s = st.session_state, store()
    if ss.get("ws_token") or s is None:
        return ss.get("ws_token")
    try:
        ss.ws_token = s.create_workspace()
    except StoreError as err:
        log.exception("A new workspace could not be created")
        if ss.get("ws_error") != str(err):
            ss.ws_error = str(err)
            notice(str(err))
    return ss.get("ws_token")

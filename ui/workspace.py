"""A browser session's workspace: its token and settings in the address, everything else in the run store.

The first visit makes a workspace with an unguessable token and puts it in the address. A reload, or the
same address after a server restart, brings back the text, the settings and the current run (its charts
and its weights). The address also carries the Model and Train settings, so a link reproduces a setup.
"""

from __future__ import annotations

import os
from dataclasses import asdict, fields
from pathlib import Path

import streamlit as st

from core.config import ModelConfig, TrainConfig, from_query, to_query
from core.recorder import Recorder
from core.store import LimitReached, RunStore, StoreError
from core.text import LoadedText
from ui import state

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {f.name for cls in (ModelConfig, TrainConfig) for f in fields(cls)} - {"vocab_size"}
SHARED = ("Your work is saved in this workspace. Its address is its key: anyone you give the link to sees and can "
          "change everything in it, every run included.")


def data_folder() -> Path:
    return Path(os.environ.get("RNN_PLAYGROUND_DATA") or ROOT / "data")


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


def attach_run(run_id: int) -> bool:
    """Make stored run `run_id` the current run: the live training when this server is running it, else the
    stored weights and history. False (with a notice) when it cannot be opened."""
    from core.runs import open_run

    ss, rec, ws = st.session_state, recorder(), token()
    live = rec.live(run_id) if rec is not None else None
    try:
        row = store().run(ws, run_id)
        opened = None if live is not None or row is None else open_run(store(), ws, run_id, keep_alive=watchers())
        body = store().text(row["text_hash"]) if row is not None else None
    except StoreError as err:
        notice(str(err))
        return False
    if row is None or body is None or (live is None and opened is None):
        notice("That run is no longer in this workspace (it was deleted).")
        return False
    current = state.run()
    if current is None or current.trainer is not live:
        state.discard_run()  # stops a training of this session that is not the one being opened
    if live is not None:
        if hasattr(live.keep_alive, "add"):  # a `core.remote.Watchers`
            live.keep_alive.add(state.keep_alive())
        ss.run = state.Run(live.model, live.config, live.vocab, trainer=live, run_id=run_id)
    else:
        ss.run = state.Run(opened.model, opened.config, opened.vocab, trainer=opened.trainer, run_id=run_id)
        if opened.damaged:
            notice(opened.damaged)
    _use_setup(ss.run.vocab, ss.run.config, ss.run.trainer.train, LoadedText(body), row["text_name"])
    return True


def _use_setup(vocab, config: ModelConfig, train: TrainConfig, text: LoadedText, name: str) -> None:
    """Load the text, level and settings a run was trained with, so that a model with them is current."""
    ss = st.session_state
    if text != ss.get("text"):
        state.set_text(text, name)
    ss.level = vocab.level
    if vocab.unk_id is not None or ss.get("vocab_cap", 0) < len(vocab):
        ss.vocab_cap = max(len(vocab), 50)
    ss.model_config, ss.train_config = config, train
    ss.pop("model_draft", None)
    for prefix in ("m_", "tr_", "t_level", "t_vocab_cap"):
        for key in [k for k in ss if isinstance(k, str) and k.startswith(prefix)]:
            del ss[key]


def new_run(r: state.Run, trainer) -> int | None:
    """Store a new run for `trainer` (about to train `r`); its id, or None when runs cannot be saved (a sentence
    says so, and the training goes on in memory).

    Raises:
        LimitReached: the workspace is full; its message says what to delete.
    """
    from core.config import CELL_NAMES
    from core.runs import vocab_json

    s, ws, ss = store(), token(), st.session_state
    if s is None or ws is None:
        return None
    try:
        n = len(s.runs(ws)) + 1
        name = f"run {n} · {CELL_NAMES[r.config.cell]} {r.config.rnn_units}u"
        return s.create_run(ws, name, s.put_text(str(ss.text)), ss.text_name, r.config, trainer.train, vocab_json(r.vocab))
    except LimitReached:
        raise
    except StoreError as err:
        notice(str(err))
        return None


def new_series_run(r, train) -> int | None:
    """Store a new forecaster run (`ui.series.SeriesRun`); its id, or None when runs cannot be saved.

    Raises:
        LimitReached: the workspace is full; its message says what to delete.
    """
    from core.config import CELL_NAMES

    s, ws = store(), token()
    if s is None or ws is None:
        return None
    c, w = r.config, r.windows.config
    csv = "time,value\n" + "".join(f"{t},{float(v)!r}\n" for t, v in zip(r.series.time, r.series.values))
    try:
        n = len(s.runs(ws)) + 1
        name = f"run {n} · {CELL_NAMES[c.cell]} {c.rnn_units}u · {r.series.name}"
        return s.create_run(ws, name, s.put_text(csv), r.series.name, {"config": asdict(c), "window": asdict(w),
                                                                       "unit": r.series.unit},
                            train, "{}", kind="series")
    except LimitReached:
        raise
    except StoreError as err:
        notice(str(err))
        return None


def record_series(r) -> None:
    """Have the recorder keep the store up to date with a forecaster's training."""
    rec = recorder()
    if rec is not None and r.run_id is not None:
        rec.track(r.run_id, r.trainer, token(), rows=len(r.trainer.progress().steps))


def attach_series_run(run_id: int) -> bool:
    """Make stored forecaster run `run_id` the Time series page's current run (its live training when this server
    runs it). False, with a notice, when it cannot be opened."""
    from core.runs import open_series_run
    from ui import series as ts

    rec = recorder()
    live = rec.live(run_id) if rec is not None else None
    try:
        opened = open_series_run(store(), token(), run_id, keep_alive=watchers())
    except StoreError as err:
        notice(str(err))
        return False
    if opened is None:
        notice("That run is no longer in this workspace (it was deleted).")
        return False
    if opened.damaged:
        notice(opened.damaged)
    trainer, model = (live, live.model) if live is not None else (opened.trainer, opened.model)
    if live is not None and hasattr(live.keep_alive, "add"):
        live.keep_alive.add(state.keep_alive())
    ts.adopt(ts.SeriesRun(opened.series, opened.windows, opened.config, model, trainer, run_id=run_id), opened.train)
    return True


def record(r: state.Run) -> None:
    """Have the recorder keep the store up to date with `r`'s training."""
    rec = recorder()
    if rec is not None and r.run_id is not None and r.trainer is not None:
        rec.track(r.run_id, r.trainer, token(), rows=len(r.trainer.progress().steps))


def use_settings_of(run_id: int) -> None:
    """Load the text and the settings a stored run was trained with; the next training is a new run."""
    from core.runs import settings, vocab_from_json

    s, ws, ss = store(), token(), st.session_state
    row = s.run(ws, run_id)
    body = s.text(row["text_hash"]) if row else None
    if body is None:
        notice("That run is no longer in this workspace (it was deleted).")
        return
    state.discard_run()
    config, train = settings(row)
    _use_setup(vocab_from_json(row["vocab"]), config, train, LoadedText(body), row["text_name"])


def delete_run(run_id: int) -> None:
    """Button callback: delete a stored run (the current one too, when it is not training)."""
    ss = st.session_state
    ss.pop("runs_confirm", None)
    r, live = state.run(), recorder().live(run_id)
    if live is not None and live.active():
        return  # the page disables Delete while a run trains; another tab may have started it since
    if r is not None and r.run_id == run_id:
        state.discard_run()
    if getattr(ss.get("ts_run"), "run_id", None) == run_id:
        ss.ts_run = None
    try:
        store().delete_run(token(), run_id)
    except StoreError as err:
        notice(str(err))


def watchers():
    """The keep-alive of a new training (a `core.remote.Watchers`): this session now, and any that opens the run later."""
    from core.remote import Watchers

    w = Watchers()
    w.add(state.keep_alive())
    return w


def sync() -> None:
    """After each script run: save what changed in the workspace, and mirror the settings into the address."""
    ss, ws, s = st.session_state, token(), store()
    r = state.run()
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

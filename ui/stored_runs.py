"""A workspace's runs as the pages use them: open a stored run (or join its live training), store a new one, keep
the recorder on it, read a run's settings to train again, delete one. The store and the token live in
`ui.store_access`; opening the workspace itself in `ui.workspace`, which calls this module (never the reverse)."""

from __future__ import annotations

import logging
from dataclasses import asdict

import streamlit as st

from core.config import CELL_NAMES, ModelConfig, TrainConfig
from core.runs.sqlite_store import LimitReached, StoreError
from core.text.vocabulary import LoadedText
from ui import forecaster_state, session
from ui.store_access import ensure_token, notice, recorder, store, token

__all__ = ["LimitReached", "attach_run", "attach_series_run", "delete_run", "new_run", "new_series_run", "record",
           "series_setup", "use_settings_of", "keep_alive"]
log = logging.getLogger(__name__)
GONE = "That run is no longer in this workspace (it was deleted)."


def attach_run(run_id: int) -> bool:
    """Make stored run `run_id` the current run: the live training when this server is running it, else the
    stored weights and history. False (with a notice) when it cannot be opened."""
    from core.runs.reopen import open_run  # TensorFlow and Ray: only once a run is opened

    ss, rec, ws = st.session_state, recorder(), token()
    live = rec.live(run_id) if rec is not None else None
    try:
        row = store().run(ws, run_id)
        opened = None if live is not None or row is None else open_run(store(), ws, run_id, _trainer("text", keep_alive()))
        body = store().text(row["text_hash"]) if row is not None else None
    except StoreError as err:
        log.exception("Run %s could not be opened", run_id)
        notice(str(err))
        return False
    if row is None or body is None or (live is None and opened is None):
        notice(GONE)
        return False
    session.release("run", "Stopped because another run was opened.", keep=live)
    if live is not None:
        if hasattr(live.keep_alive, "add"):  # a `core.workers.client.KeepAlive`
            live.keep_alive.add(session.keep_alive())
        ss.run = session.Run(live.model, live.config, live.vocab, trainer=live, run_id=run_id)
    else:
        ss.run = session.Run(opened.model, opened.config, opened.vocab, trainer=opened.trainer, run_id=run_id)
        if opened.damaged:
            notice(opened.damaged)
    _use_setup(ss.run.vocab, ss.run.config, ss.run.trainer.train, LoadedText(body), row["text_name"])
    return True


def _use_setup(vocab, config: ModelConfig, train: TrainConfig, text: LoadedText, name: str) -> None:
    """Load the text, level and settings a run was trained with, so that a model with them is current."""
    ss = st.session_state
    cap = max(len(vocab), 50) if vocab.unk_id is not None or ss.get("vocab_cap", 0) < len(vocab) else None
    if text != ss.get("text"):
        session.set_text(text, name, level=vocab.level, vocab_cap=cap)
    else:
        session.set_level(vocab.level, cap)
    session.set_settings(config, train)
    session.forget_widgets("t_level")
    session.forget_widgets("t_vocab_cap")


def _create(label: str, text: str, text_name: str, model, train: TrainConfig, vocab: str, kind: str) -> int | None:
    """Store a new run named "run n · `label`" (in a workspace made now when this session has none yet); its id, or
    None when runs cannot be saved (a sentence says so, and the training goes on in memory). Raises LimitReached when
    the workspace is full."""
    s, ws = store(), ensure_token()
    if s is None or ws is None:
        return None
    try:
        name = s.next_run_name(ws, label)  # never a name a deleted run had
        return s.create_run(ws, name, s.put_text(text), text_name, model, train, vocab, kind=kind)
    except LimitReached:
        raise
    except StoreError as err:
        log.exception("A new %s run could not be stored", kind)
        notice(str(err))
        return None


def new_run(r: session.Run, trainer) -> int | None:
    """Store a new text run for `trainer` (about to train `r`); its id, or None when runs cannot be saved.

    Raises:
        LimitReached: the workspace is full; its message says what to delete.
    """
    from core.runs.reopen import vocab_json

    ss = st.session_state
    return _create(f"{CELL_NAMES[r.config.cell]} {r.config.rnn_units}u", str(ss.text), ss.text_name, r.config,
                   trainer.train, vocab_json(r.vocab), "text")


def new_series_run(r: forecaster_state.SeriesRun, train) -> int | None:
    """Store a new forecaster run; its id, or None when runs cannot be saved.

    Raises:
        LimitReached: the workspace is full; its message says what to delete.
    """
    c, s = r.config, r.series
    csv = "time,value\n" + "".join(f"{t},{float(v)!r}\n" for t, v in zip(s.time, s.values))
    model = {"config": asdict(c), "window": asdict(r.windows.config), "unit": s.unit}
    return _create(f"{CELL_NAMES[c.cell]} {c.rnn_units}u · {s.name}", csv, s.name, model, train, "{}", "series")


def series_setup(run_id: int, keep_alive=None, live=None):
    """A stored forecaster run opened (`core.runs.reopen.OpenedSeries`: its series, windows, settings, weights and
    history), or None, with a notice, when it cannot be opened."""
    from core.runs.reopen import open_series_run  # TensorFlow and Ray: only once a run is opened

    try:
        opened = open_series_run(store(), token(), run_id, _trainer("series", keep_alive), live=live)
    except StoreError as err:
        log.exception("Forecaster run %s could not be opened", run_id)
        notice(str(err))
        return None
    if opened is None:
        notice(GONE)
    elif opened.damaged:
        notice(opened.damaged)
    return opened


def attach_series_run(run_id: int) -> bool:
    """Make stored forecaster run `run_id` the Time series page's current run (its live training when this server
    runs it); the forecaster it replaces stops training. False, with a notice, when it cannot be opened."""
    rec = recorder()
    live = rec.live(run_id) if rec is not None else None
    opened = series_setup(run_id, keep_alive=keep_alive(), live=live)
    if opened is None:
        return False
    trainer, model = opened.trainer, opened.model
    if live is not None and hasattr(live.keep_alive, "add"):
        live.keep_alive.add(session.keep_alive())
    run = forecaster_state.SeriesRun(opened.series, opened.windows, opened.config, model, trainer, run_id=run_id)
    forecaster_state.adopt(run, opened.train)
    return True


def record(r) -> None:
    """Have the recorder keep the store up to date with the training of `r` (a `session.Run`, or a forecaster's
    `forecaster_state.SeriesRun`)."""
    rec = recorder()
    if rec is not None and r.run_id is not None and r.trainer is not None:
        rec.track(r.run_id, r.trainer, token(), rows=len(r.trainer.progress().steps))


def use_settings_of(run_id: int) -> bool:
    """Load the text and the settings a stored run was trained with (this session's text training stops); the next
    training is a new run. False, with a notice, when the run is gone."""
    from core.runs.reopen import settings, vocab_from_json

    s, ws = store(), token()
    row = s.run(ws, run_id)
    body = s.text(row["text_hash"]) if row else None
    if body is None:
        notice(GONE)
        return False
    session.discard_run()
    config, train = settings(row)
    _use_setup(vocab_from_json(row["vocab"]), config, train, LoadedText(body), row["text_name"])
    return True


def delete_run(run_id: int) -> None:
    """Button callback: delete a stored run (the current one too, when it is not training)."""
    ss = st.session_state
    ss.pop("runs_confirm", None)
    r, live = session.run(), recorder().live(run_id)
    if live is not None and live.active():
        return  # the page disables Delete while a run trains; another tab may have started it since
    if r is not None and r.run_id == run_id:
        session.discard_run()
    if getattr(ss.get("ts_run"), "run_id", None) == run_id:
        session.release("ts_run", "Stopped because its run was deleted.")
    try:
        recorder().forget(run_id)  # no write of it lands after the delete
        store().delete_run(token(), run_id)
    except StoreError as err:
        log.exception("Run %s could not be deleted", run_id)
        notice(str(err))


def _trainer(kind: str, alive):
    """The trainer a reopened run gets (`core.runs.reopen` knows nothing of Ray): a remote one with `alive`."""
    from functools import partial

    from core.workers.remote_trainer import RemoteSeriesTrainer, RemoteTrainer  # Ray: only once a run is opened

    return partial(RemoteSeriesTrainer if kind == "series" else RemoteTrainer, keep_alive=alive)


def keep_alive():
    """The keep-alive of a new training (a `core.workers.client.KeepAlive`): this session now, and any that opens the
    run later."""
    from core.workers.client import KeepAlive  # Ray: only once a training starts

    alive = KeepAlive()
    alive.add(session.keep_alive())
    return alive

"""A workspace's runs as the pages use them: open a stored run (or join its live training), store a new one, keep
the recorder on it, train again with a run's settings, delete one. The token and the store live in `ui.workspace`."""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from core.config import ModelConfig, TrainConfig
from core.runs.sqlite_store import LimitReached, StoreError
from core.text.vocabulary import LoadedText
from ui import session
from ui.workspace import notice, recorder, store, token

__all__ = ["LimitReached", "attach_run", "attach_series_run", "delete_run", "new_run", "new_series_run", "record",
           "use_settings_of", "watchers"]


def attach_run(run_id: int) -> bool:
    """Make stored run `run_id` the current run: the live training when this server is running it, else the
    stored weights and history. False (with a notice) when it cannot be opened."""
    from core.runs.reopen import open_run

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
    current = session.run()
    if current is None or current.trainer is not live:
        session.discard_run()  # stops a training of this session that is not the one being opened
    if live is not None:
        if hasattr(live.keep_alive, "add"):  # a `core.workers.client.Watchers`
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
    if text != ss.get("text"):
        session.set_text(text, name)
    ss.level = vocab.level
    if vocab.unk_id is not None or ss.get("vocab_cap", 0) < len(vocab):
        ss.vocab_cap = max(len(vocab), 50)
    ss.model_config, ss.train_config = config, train
    ss.pop("model_draft", None)
    for prefix in ("m_", "tr_", "t_level", "t_vocab_cap"):
        for key in [k for k in ss if isinstance(k, str) and k.startswith(prefix)]:
            del ss[key]


def _create(label: str, text: str, text_name: str, model, train: TrainConfig, vocab: str, kind: str) -> int | None:
    """Store a new run named "run n · `label`"; its id, or None when runs cannot be saved (a sentence says so, and
    the training goes on in memory). Raises LimitReached when the workspace is full."""
    s, ws = store(), token()
    if s is None or ws is None:
        return None
    try:
        name = f"run {len(s.runs(ws)) + 1} · {label}"
        return s.create_run(ws, name, s.put_text(text), text_name, model, train, vocab, kind=kind)
    except LimitReached:
        raise
    except StoreError as err:
        notice(str(err))
        return None


def new_run(r: session.Run, trainer) -> int | None:
    """Store a new text run for `trainer` (about to train `r`); its id, or None when runs cannot be saved.

    Raises:
        LimitReached: the workspace is full; its message says what to delete.
    """
    from core.config import CELL_NAMES
    from core.runs.reopen import vocab_json

    ss = st.session_state
    return _create(f"{CELL_NAMES[r.config.cell]} {r.config.rnn_units}u", str(ss.text), ss.text_name, r.config,
                   trainer.train, vocab_json(r.vocab), "text")


def new_series_run(r, train) -> int | None:
    """Store a new forecaster run (`ui.forecaster_state.SeriesRun`); its id, or None when runs cannot be saved.

    Raises:
        LimitReached: the workspace is full; its message says what to delete.
    """
    from core.config import CELL_NAMES

    c, s = r.config, r.series
    csv = "time,value\n" + "".join(f"{t},{float(v)!r}\n" for t, v in zip(s.time, s.values))
    model = {"config": asdict(c), "window": asdict(r.windows.config), "unit": s.unit}
    return _create(f"{CELL_NAMES[c.cell]} {c.rnn_units}u · {s.name}", csv, s.name, model, train, "{}", "series")


def attach_series_run(run_id: int) -> bool:
    """Make stored forecaster run `run_id` the Time series page's current run (its live training when this server
    runs it). False, with a notice, when it cannot be opened."""
    from core.runs.reopen import open_series_run
    from ui import forecaster_state

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
        live.keep_alive.add(session.keep_alive())
    forecaster_state.adopt(forecaster_state.SeriesRun(opened.series, opened.windows, opened.config, model, trainer, run_id=run_id), opened.train)
    return True


def record(r) -> None:
    """Have the recorder keep the store up to date with the training of `r` (a `session.Run`, or a forecaster's
    `ui.forecaster_state.SeriesRun`)."""
    rec = recorder()
    if rec is not None and r.run_id is not None and r.trainer is not None:
        rec.track(r.run_id, r.trainer, token(), rows=len(r.trainer.progress().steps))


def use_settings_of(run_id: int) -> None:
    """Load the text and the settings a stored run was trained with; the next training is a new run."""
    from core.runs.reopen import settings, vocab_from_json

    s, ws, ss = store(), token(), st.session_state
    row = s.run(ws, run_id)
    body = s.text(row["text_hash"]) if row else None
    if body is None:
        notice("That run is no longer in this workspace (it was deleted).")
        return
    session.discard_run()
    config, train = settings(row)
    _use_setup(vocab_from_json(row["vocab"]), config, train, LoadedText(body), row["text_name"])


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
        ss.ts_run = None
    try:
        store().delete_run(token(), run_id)
    except StoreError as err:
        notice(str(err))


def watchers():
    """The keep-alive of a new training (a `core.workers.client.Watchers`): this session now, and any that opens the run later."""
    from core.workers.client import Watchers

    w = Watchers()
    w.add(session.keep_alive())
    return w

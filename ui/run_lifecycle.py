"""A session's runs from start to end: presets and the question before one replaces a trained model, the current run
rebuilt for the settings, and starting, stepping and restarting a training of a text model or a forecaster."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace

import streamlit as st

from core import config as rules
from core.config import ARTICLE, ARTICLE_TRAIN, QUICK_DEMO, QUICK_DEMO_TRAIN, ModelConfig
from ui import forecaster_state, session, stored_runs
from ui.store_access import token

log = logging.getLogger(__name__)
PRESETS = {
    "quick": (QUICK_DEMO, QUICK_DEMO_TRAIN),
    "article": (ARTICLE, ARTICLE_TRAIN),
}
# Statuses from which Start training continues the same training instead of starting a new run.
CONTINUES = ("stopped", "interrupted", "lost")


def queue_owner() -> str:
    """Whom this session's trainings queue as for a training slot (`core.workers.admission`): its workspace, else
    (runs are not saved) this session alone."""
    return token() or st.session_state.setdefault("queue_owner", f"session-{uuid.uuid4().hex}")


def keep_trained_model() -> None:
    """Drop the Model page's unconfirmed settings; its widgets show the current ones again."""
    st.session_state.pop("model_draft", None)
    session.forget_widgets(session.MODEL_WIDGETS)


def needs_confirmation(new: ModelConfig, fresh: bool = False) -> bool:
    """Whether settings `new` would stop this session's training or throw away a trained model the store does not keep
    (the rule: `core.config.needs_confirmation`)."""
    r = session.run()
    new = replace(new, vocab_size=len(session.encoded()[0]))
    return rules.needs_confirmation(new, r.config if r else None, r.trained_steps if r else 0, session.training_active(),
                                    r is not None and r.run_id is not None, fresh)


def ensure_run() -> session.Run:
    """The current run, rebuilt for the wanted settings; trained weights are carried over when they fit."""
    from core.nn.language_model import twin  # TensorFlow: only once a training starts

    r, wanted = session.run(), session.wanted_config()
    if session.run_is_current(r):
        return r
    if r is not None and r.trained_steps and r.vocab == session.encoded()[0] and rules.same_weights(wanted, r.config):
        with r.holding_model() as model:
            rebuilt = twin(model, wanted)
        session.discard_run()
        st.session_state.run = session.Run(rebuilt, wanted, r.vocab, trainer=r.trainer)
        return st.session_state.run
    return session.new_run()


def start_training(paused: bool = False) -> None:
    """Start (or continue) training the current run in a worker process, recorded in the workspace's run store.
    With `paused`, it starts paused (for **Step**)."""
    from core.workers.remote_trainer import RemoteTrainer  # Ray: only once a training starts

    r = ensure_run()
    _, ids = session.encoded()
    old = r.trainer if r.trainer is not None and r.trainer.model is r.model else None  # a rebuilt model gets a new one
    if old is not None and old.progress().status in CONTINUES and old.train == st.session_state.train_config:
        if paused:
            old.pause()
        old.owner = queue_owner()
        old.start()  # continue from where it stopped (pressed while a stop is under way, once it has stopped)
        stored_runs.record(r)
        return
    if old is not None and old.active():
        return  # already training this model: a second trainer beside it would race it for the weights
    trainer = RemoteTrainer(r.model, r.config, st.session_state.train_config, ids, r.vocab, keep_alive=stored_runs.keep_alive())
    try:
        run_id = stored_runs.new_run(r, trainer)
    except stored_runs.LimitReached as err:
        log.exception("A new text run was not started: the workspace is full")
        st.session_state.flash = str(err)
        return
    r.trainer, r.stepper, r.run_id = trainer, None, run_id
    trainer.owner = queue_owner()
    if paused:
        trainer.pause()
    trainer.start()
    stored_runs.record(r)


def step_training() -> None:
    """Button callback: train exactly one batch of the current run, starting it paused when it is not running."""
    r = session.run()
    trainer = r.trainer if r is not None and r.trainer is not None and r.trainer.model is r.model else None
    if trainer is None or not trainer.active() or not session.run_is_current(r):
        start_training(paused=True)
        r = session.run()
        trainer = r.trainer if r is not None else None
    if trainer is not None and trainer.active():
        trainer.step()


def restart_run() -> None:
    """Button callback: a new run from the same initial weights, the ones the settings' seed builds (the run before
    stays on the Runs page)."""
    session.new_run()


def start_forecaster(series, w, config, train) -> None:
    """Train a new forecaster (or continue a stopped one with the same setup) in a worker, saved as a run. The
    forecaster it replaces stops training (`session.release`)."""
    from core.forecast.model import build_series_model  # TensorFlow and Ray: only once a training starts
    from core.forecast.trainer import SeriesData
    from core.workers.remote_trainer import RemoteSeriesTrainer

    ss, r = st.session_state, forecaster_state.current()
    same = r is not None and r.series is series and r.windows.config == w.config and r.config == config
    if same and r.trainer is not None and r.trainer.progress().status in CONTINUES and r.trainer.train == train:
        r.trainer.owner = queue_owner()
        r.trainer.start()
        stored_runs.record(r)
        return
    session.release("ts_run", "Stopped because a new forecaster was started.")
    model = build_series_model(config, w.config)
    data = SeriesData(w.x["train"], w.y["train"], w.x["val"], w.y["val"])
    trainer = RemoteSeriesTrainer(model, config, w.config, train, data, keep_alive=stored_runs.keep_alive())
    run = forecaster_state.SeriesRun(series, w, config, model, trainer)
    try:
        run.run_id = stored_runs.new_series_run(run, train)
    except stored_runs.LimitReached as err:
        log.exception("A new forecaster was not started: the workspace is full")
        ss.ts_error = str(err)
        return
    ss.ts_run = run
    trainer.owner = queue_owner()
    trainer.start()
    stored_runs.record(run)


def train_again(run_id: int, text_run: bool) -> bool:
    """A new run with a stored run's text or series and its settings (this session's training of that kind stops).
    False, with a notice, when the run is gone."""
    if text_run:
        if not stored_runs.use_settings_of(run_id):
            return False
        start_training()
        return True
    opened = stored_runs.series_setup(run_id)
    if opened is None:
        return False
    forecaster_state.use_setup(opened.series, opened.windows.config, opened.config, opened.train)
    start_forecaster(opened.series, opened.windows, opened.config, opened.train)
    return True


def _cannot_start(model: ModelConfig) -> bool:
    """True, with a message for the page, when the loaded text cannot fill one batch of `model`."""
    from core.text.batches import check_length

    try:
        check_length(len(session.encoded()[1]), model.batch_size, model.seq_len, "The loaded text")
    except ValueError as err:
        log.exception("A preset was not applied: the text is too short for it")
        st.session_state.flash = f"{err} Nothing was changed: your settings and any trained model are as they were."
        return True
    return False


def choose_preset(name: str, start: bool = False) -> None:
    """Button callback: apply a preset, asking first when it would throw away a trained model.
    A preset that is to start training but cannot, on this text, changes nothing."""
    if start and _cannot_start(PRESETS[name][0]):
        return
    if needs_confirmation(PRESETS[name][0], fresh=start):
        st.session_state.pending_preset = (name, start)
        return
    apply_preset(name, start)


def apply_preset(name: str, start: bool = False) -> None:
    """Use a preset's model and training settings; with `start`, begin training and go to Train."""
    model, train = PRESETS[name]
    st.session_state.pop("pending_preset", None)
    if start and _cannot_start(model):  # the text changed since the question was asked
        return
    if start or needs_confirmation(model):  # a fresh model: the user agreed, or nothing trained was there
        session.discard_run()
    session.set_settings(replace(model, seed=st.session_state.model_config.seed), train)
    if start:
        start_training()
        st.session_state.goto = "pages/train.py"


def preset_confirmation(where: str) -> None:
    """Ask before a preset replaces a trained model; then follow a pending page switch."""
    if "flash" in st.session_state:
        st.error(st.session_state.pop("flash"))
    pending = st.session_state.get("pending_preset")
    if pending:
        st.warning(replacing_sentence())
        a, b = st.columns(2)
        a.button("Go ahead", key=f"{where}_confirm_preset", on_click=apply_preset, args=pending)
        b.button("Keep things as they are", key=f"{where}_cancel_preset", on_click=lambda: st.session_state.pop("pending_preset", None))
    goto = st.session_state.pop("goto", None)
    if goto:
        st.switch_page(goto)


def replacing_sentence() -> str:
    """What a new model costs now: the training under way, or (without a run store) the trained model itself."""
    r = session.run()
    if session.training_active():
        return ("This stops the training under way and starts a new run. What it learned so far stays on the Runs page.")
    return (f"This replaces your trained model ({r.trained_steps:,} steps of training) with a new, untrained one. "
            "Runs are not being saved on this server, so the trained model will be gone.")

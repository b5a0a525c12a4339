"""Pieces several pages share: presets, the sidebar training status, starting a training."""

from __future__ import annotations

import re
from dataclasses import fields, replace

import streamlit as st

from core.config import ARTICLE, ARTICLE_TRAIN, QUICK_DEMO, QUICK_DEMO_TRAIN, ModelConfig, TrainConfig
from ui import session, stored_runs

PRESETS = {
    "quick": (QUICK_DEMO, QUICK_DEMO_TRAIN),
    "article": (ARTICLE, ARTICLE_TRAIN),
}
# Settings that change how a model is trained but not its weights: a trained model keeps its weights.
TRAINING_ONLY = ("batch_size", "seq_len", "stateful", "dropout")


def bind(key: str, value) -> None:
    """Seed a widget's state from the canonical settings (widget state is dropped off its page)."""
    if key not in st.session_state:
        st.session_state[key] = value


def forget_widgets(prefix: str) -> None:
    """Drop the widget states starting with `prefix`, so they re-read the canonical settings."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]


def set_configs(model: ModelConfig | None = None, train: TrainConfig | None = None) -> None:
    """Replace the canonical settings and let the widgets follow them."""
    if model is not None:
        st.session_state.model_config = model
        keep_trained_model()
    if train is not None:
        st.session_state.train_config = train
        forget_widgets("tr_")


def keep_trained_model() -> None:
    """Drop the Model page's unconfirmed settings; its widgets show the current ones again."""
    st.session_state.pop("model_draft", None)
    forget_widgets("m_")


def same_weights(a: ModelConfig, b: ModelConfig) -> bool:
    """True when a model built for `a` can carry the trained weights of one built for `b`."""
    keep = [f.name for f in fields(ModelConfig) if f.name not in (*TRAINING_ONLY, "seed")]
    return all(getattr(a, name) == getattr(b, name) for name in keep)


def needs_confirmation(new: ModelConfig, fresh: bool = False) -> bool:
    """True when applying `new` would stop a training under way, or throw away a trained model the run store
    does not keep: other sizes, or `fresh` (a one-click start, which always begins from a new model)."""
    r = session.run()
    if r is None or r.trained_steps == 0:
        return False
    if not (fresh or not same_weights(replace(new, vocab_size=len(session.encoded()[0])), r.config)):
        return False
    return session.training_active() or r.run_id is None


def ensure_run() -> session.Run:
    """The current run, rebuilt for the wanted settings; trained weights are carried over when they fit."""
    from core.nn.language_model import twin

    r, wanted = session.run(), session.wanted_config()
    if session.run_is_current(r):
        return r
    if r is not None and r.trained_steps and r.vocab == session.encoded()[0] and same_weights(wanted, r.config):
        with r.holding_model() as model:
            rebuilt = twin(model, wanted)
        session.discard_run()
        st.session_state.run = session.Run(rebuilt, wanted, r.vocab, trainer=r.trainer)
        return st.session_state.run
    return session.new_run()


def start_training(paused: bool = False) -> None:
    """Start (or continue) training the current run in a worker process, recorded in the workspace's run store.
    With `paused`, it starts paused (for **Step**)."""
    from core.workers.remote_trainer import RemoteTrainer

    r = ensure_run()
    _, ids = session.encoded()
    old = r.trainer if r.trainer is not None and r.trainer.model is r.model else None  # a rebuilt model gets a new one
    if old is not None and old.progress().status in ("stopped", "interrupted") and old.train == st.session_state.train_config:
        if paused:
            old.pause()
        old.start()  # continue from where it stopped (pressed while a stop is under way, once it has stopped)
        stored_runs.record(r)
        return
    if old is not None and old.active():
        return  # already training this model: a second trainer beside it would race it for the weights
    trainer = RemoteTrainer(r.model, r.config, st.session_state.train_config, ids, r.vocab, keep_alive=stored_runs.watchers())
    try:
        run_id = stored_runs.new_run(r, trainer)
    except stored_runs.LimitReached as err:
        st.session_state.flash = str(err)
        return
    r.trainer, r.stepper, r.run_id = trainer, None, run_id
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


def sidebar_status() -> None:
    """A small live status of the training in the sidebar, on every page."""
    r = session.run()
    if r is None or r.trainer is None:
        return

    @st.fragment(run_every=1.0 if session.training_active() else None)
    def status() -> None:
        p = r.trainer.progress()
        with st.sidebar:
            st.caption(f"**Training:** {p.status}")
            if p.total_steps:
                st.progress(min(p.step / p.total_steps, 1.0), text=f"step {p.step:,} of {p.total_steps:,}")

    status()


def training_buttons(prefix: str, trainer, active: bool, on_start, args: tuple = (), on_step=None) -> bool:
    """Start training, Pause or Resume, Stop, and Step when `on_step` is given, in one row (keys `{prefix}_start`
    ...); True when the training is paused."""
    b1, b2, b3, b4, _ = st.columns([1.6, 1, 1, 1, 1.4])
    b1.button("Start training", key=f"{prefix}_start", type="primary", disabled=active, on_click=on_start, args=args)
    paused = trainer is not None and trainer.progress().status == "paused"
    if paused:
        b2.button("Resume", key=f"{prefix}_resume", on_click=trainer.resume)
    else:
        b2.button("Pause", key=f"{prefix}_pause", disabled=not active, on_click=trainer.pause if trainer else None)
    b3.button("Stop", key=f"{prefix}_stop", disabled=not active, on_click=trainer.stop if trainer else None)
    if on_step is not None:
        b4.button("Step", key=f"{prefix}_step", disabled=active and not paused, on_click=on_step,
                  help="Train exactly one batch, then pause: every chart and page redraws for it.")
    return paused


def training_message(p, finished: str = "") -> None:
    """The sentence for a snapshot's status: finished, failed, interrupted, stopped, waiting or paused."""
    if p.status == "finished":
        st.success(f"**Training finished.**{finished}")
    elif p.status == "failed":
        st.error(p.message)
    elif p.status in ("interrupted", "damaged") or (p.status == "stopped" and "unexpectedly" in p.message):
        st.warning(p.message)
    elif p.status in ("stopped", "waiting", "paused") or p.message:
        st.info(p.message or p.status)


def config_from_widgets(base, widget_keys: dict[str, str]):
    """Read widget values into a copy of `base`; `widget_keys` maps field name to widget key."""
    names = {f.name for f in fields(base)}
    changes = {name: st.session_state[key] for name, key in widget_keys.items() if name in names and key in st.session_state}
    return replace(base, **changes)


def _cannot_start(model: ModelConfig) -> bool:
    """True, with a message for the page, when the loaded text cannot fill one batch of `model`."""
    from core.text.batches import check_length

    try:
        check_length(len(session.encoded()[1]), model.batch_size, model.seq_len, "The loaded text")
    except ValueError as err:
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
    set_configs(replace(model, seed=st.session_state.model_config.seed), train)
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


def plain(text: str) -> str:
    """User text made safe for st.markdown/st.error: Markdown and HTML characters are escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text)

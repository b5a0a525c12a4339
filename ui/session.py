"""Per-session state shared by the pages: the loaded text, the settings and the current run.

Everything lives in `st.session_state`, so each browser session has its own; nothing a user can
change goes through a server-wide cache. The settings are written here only (`set_text`, `set_level`,
`set_settings`); the getters change nothing.
"""

from __future__ import annotations

import contextlib
import logging
import itertools
from dataclasses import dataclass, field, replace
from typing import Any

import streamlit as st

from core.config import ModelConfig, TrainConfig
from core.race.race import RaceConfig
from core.text.samples import Sample, load_sample
from core.text.vocabulary import LoadedText, TextError, Vocabulary

log = logging.getLogger(__name__)
DEFAULT_SAMPLE = "prose.txt"
_RUN_IDS = itertools.count(1)  # cache keys: a new model never reuses an old one's id (as `id()` could)
MODEL_WIDGETS = "m_"  # the Model page's widget keys start with this; they are views of `model_config`
TRAIN_WIDGETS = "tr_"  # the Train page's, views of `train_config`


@dataclass
class Run:
    """A model together with the vocabulary and settings it was built for, and its trainer."""

    model: Any  # keras.Model
    config: ModelConfig  # the settings this model was built with (the Model page's may have moved on since)
    vocab: Vocabulary
    trainer: Any = None  # core.workers.remote_trainer.RemoteTrainer of the latest training, if any
    stepper: Any = None  # core.nn.generate.Stepper carrying the Generate page's state
    uid: int = field(default_factory=lambda: next(_RUN_IDS))  # unique per model in this server
    run_id: int | None = None  # its id in the run store, once it has trained (None: not stored)

    @property
    def trained_steps(self) -> int:
        """Batches this model has been trained on in its latest training."""
        return self.trainer.progress().step if self.trainer is not None else 0

    def holding_model(self):
        """The model, held so that no new weights arrive while the caller uses it (the latest weights first)."""
        if self.trainer is None or self.trainer.model is not self.model:
            return contextlib.nullcontext(self.model)
        return self.trainer.holding_model()


def init() -> None:
    """Put the defaults in place once per session: a sample text, char level, default settings."""
    ss = st.session_state
    if "text" not in ss:
        sample = cached_sample(DEFAULT_SAMPLE)
        ss.text, ss.text_name = LoadedText(sample.text), sample.title
    ss.setdefault("level", "char")
    ss.setdefault("vocab_cap", 10_000)
    ss.setdefault("model_config", ModelConfig())
    ss.setdefault("train_config", TrainConfig())
    ss.setdefault("race_config", RaceConfig())  # the Long-range race's sizes (a test may set smaller ones first)
    ss.setdefault("run", None)
    ss.setdefault("text_version", 0)


@st.cache_data(show_spinner=False)
def cached_sample(file: str) -> Sample:
    """A sample text from sample_texts/ (read-only, so safe to share between sessions)."""
    return load_sample(file)


def set_text(text: LoadedText, name: str, level: str | None = None, vocab_cap: int | None = None) -> None:
    """Make `text` the loaded text, read at `level` (by default the level chosen before). The current model stays."""
    ss = st.session_state
    ss.text, ss.text_name = text, name
    ss.text_version = ss.get("text_version", 0) + 1
    set_level(level or ss.get("level", "char"), vocab_cap)


def set_level(level: str, vocab_cap: int | None = None) -> None:
    """Read the text as characters or words (and cap the words). Words a text cannot give (one distinct word) fall
    back to characters, with the sentence why in `level_error` for the Text page."""
    ss = st.session_state
    if vocab_cap is not None:
        ss.vocab_cap = vocab_cap
    try:
        _encoding(level)
        ss.level = level
    except TextError as err:  # one distinct word; load_text guarantees two distinct characters
        if level == "char":
            raise
        log.exception("Words were asked for; the text falls back to characters")
        ss.level, ss.level_error = "char", f"{err} Switched back to characters."


def _encoding(level: str) -> tuple[Vocabulary, Any]:
    """(vocabulary, ids) of the loaded text at `level`, remembered until the text, level or cap changes."""
    ss = st.session_state
    key = (ss.text_version, level, ss.vocab_cap)
    if ss.get("encoded_key") != key:
        vocab = Vocabulary.build(ss.text, level, ss.vocab_cap)
        ss.encoded_value, ss.encoded_key = (vocab, vocab.encode(ss.text)), key
    return ss.encoded_value


def encoded() -> tuple[Vocabulary, Any]:
    """(vocabulary, ids) of the loaded text at the chosen level (computed once per change; it sets nothing else)."""
    return _encoding(st.session_state.level)


def set_settings(model: ModelConfig | None = None, train: TrainConfig | None = None, keep_widgets: bool = False) -> None:
    """The one place the model and training settings are written. Unconfirmed Model page settings are dropped and the
    widgets show the new settings (unless `keep_widgets`: they already show them)."""
    ss = st.session_state
    if model is not None:
        ss.model_config = model
        ss.pop("model_draft", None)
        if not keep_widgets:
            forget_widgets(MODEL_WIDGETS)
    if train is not None:
        ss.train_config = train
        if not keep_widgets:
            forget_widgets(TRAIN_WIDGETS)


def forget_widgets(prefix: str) -> None:
    """Drop the widget states starting with `prefix`, so they re-read the canonical settings."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]


def wanted_config() -> ModelConfig:
    """The Model page's settings with the vocabulary size of the loaded text."""
    vocab, _ = encoded()
    return replace(st.session_state.model_config, vocab_size=len(vocab))


def run() -> Run | None:
    return st.session_state.get("run")


def training_active() -> bool:
    r = run()
    return bool(r and r.trainer and r.trainer.active())


def release(slot: str, reason: str, keep: Any = None) -> None:
    """The one rule for this session's trainings. A session holds one text run (`slot` "run") and one forecaster
    ("ts_run"); a run leaves its place only through here, and its training stops with `reason`, unless it is `keep`
    (the training that takes its place). So no training of this session is ever left running without its buttons."""
    r = st.session_state.get(slot)
    if r is not None and r.trainer is not None and r.trainer is not keep:
        r.trainer.stop(reason)
    st.session_state[slot] = None


def new_run() -> Run:
    """Build a fresh, untrained model for the wanted settings and make it the current run."""
    from core.nn.language_model import build_model  # TensorFlow: only once a model is wanted

    discard_run()
    config, (vocab, _) = wanted_config(), encoded()
    st.session_state.run = Run(build_model(config), config, vocab)
    return st.session_state.run


def discard_run() -> None:
    """Stop any training and drop the current model."""
    release("run", "Stopped because the model was replaced.")


def run_is_current(r: Run | None) -> bool:
    """True when the run's model matches the Model page's settings and the loaded text's vocabulary."""
    return r is not None and r.config == wanted_config() and r.vocab == encoded()[0]


def keep_alive():
    """A callable for the trainer that turns False once this browser session has ended."""
    from streamlit.runtime import get_instance
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    try:
        runtime, session_id = get_instance(), ctx.session_id
    except (RuntimeError, AttributeError):  # AppTest and bare scripts have no runtime to ask
        return None
    return lambda: runtime.is_active_session(session_id)


def summary_text(config: ModelConfig) -> str:
    """`model.summary()` of a model with these settings (the current model's when it matches)."""
    cached = st.session_state.get("summary_cache")
    if cached and cached[0] == config:
        return cached[1]
    from core.nn.language_model import build_model  # TensorFlow: only on the Model page
    from core.nn.language_model import summary_text as text_of

    r = run()
    text = text_of(r.model if r is not None and r.config == config else build_model(config, zeros=True))
    st.session_state.summary_cache = (config, text)
    return text

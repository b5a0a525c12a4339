"""Per-session state shared by the pages: the loaded text, the settings and the current run.

Everything lives in `st.session_state`, so each browser session has its own; nothing a user can
change goes through a server-wide cache.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import streamlit as st

from core.config import ModelConfig, TrainConfig
from core.text.samples import Sample, load_sample
from core.text.vocabulary import LoadedText, TextError, Vocabulary

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SAMPLE = "prose.txt"
_RUN_IDS = itertools.count(1)  # cache keys: a new model never reuses an old one's id (as `id()` could)


@dataclass
class Run:
    """A model together with the vocabulary and settings it was built for, and its trainer."""

    model: Any  # keras.Model
    config: ModelConfig
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
        import contextlib

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
    ss.setdefault("run", None)
    ss.setdefault("text_version", 0)


@st.cache_data(show_spinner=False)
def cached_sample(file: str) -> Sample:
    """A sample text from sample_texts/ (read-only, so safe to share between sessions)."""
    return load_sample(file)


def set_text(text: LoadedText, name: str) -> None:
    """Make `text` the loaded text. The current model stays as it is."""
    st.session_state.text, st.session_state.text_name = text, name
    st.session_state.text_version = st.session_state.get("text_version", 0) + 1


def encoded() -> tuple[Vocabulary, Any]:
    """(vocabulary, ids) of the loaded text at the chosen level, computed once per change."""
    ss = st.session_state
    key = (ss.text_version, ss.level, ss.vocab_cap)
    if ss.get("encoded_key") != key:
        try:
            vocab = Vocabulary.build(ss.text, ss.level, ss.vocab_cap)
        except TextError as err:  # one distinct word; load_text guarantees two distinct characters
            if ss.level == "char":
                raise
            ss.level, ss.level_error = "char", f"{err} Switched back to characters."
            return encoded()
        ss.encoded_value, ss.encoded_key = (vocab, vocab.encode(ss.text)), key
    return ss.encoded_value


def wanted_config() -> ModelConfig:
    """The Model page's settings with the vocabulary size of the loaded text."""
    vocab, _ = encoded()
    return replace(st.session_state.model_config, vocab_size=len(vocab))


def run() -> Run | None:
    return st.session_state.get("run")


def training_active() -> bool:
    r = run()
    return bool(r and r.trainer and r.trainer.active())


def new_run() -> Run:
    """Build a fresh, untrained model for the wanted settings and make it the current run."""
    from core.nn.language_model import build_model

    discard_run()
    config, (vocab, _) = wanted_config(), encoded()
    st.session_state.run = Run(build_model(config), config, vocab)
    return st.session_state.run


def discard_run() -> None:
    """Stop any training and drop the current model."""
    r = run()
    if r is not None and r.trainer is not None:
        r.trainer.stop("Stopped because the model was replaced.")
    st.session_state.run = None


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
    from core.nn.language_model import build_model
    from core.nn.language_model import summary_text as text_of

    r = run()
    text = text_of(r.model if r is not None and r.config == config else build_model(config, zeros=True))
    st.session_state.summary_cache = (config, text)
    return text

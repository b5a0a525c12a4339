"""The model the Hidden states and Gradients pages look into, and a small per-session memo for their results."""

from dataclasses import replace

import streamlit as st

from core.config import CELL_NAMES
from ui import session


def model_key(run) -> tuple:
    """What the inspection caches are keyed on: the run's own id (never reused, unlike `id(model)`) and its steps."""
    return ("trained", run.uid, run.trained_steps)


def inspected():
    """(snapshot, vocab, label, key): the trained model, or a fresh one built from the Model page's settings."""
    from core.inspection.unroll import snapshot
    from core.nn.language_model import build_model

    run = session.run()
    trained = run is not None and run.trained_steps > 0
    key = model_key(run) if trained else ("fresh", session.wanted_config())
    if st.session_state.get("insp_model", (None,))[0] != key:
        if trained:
            with run.holding_model() as model:  # the worker's weights of this moment
                snap = snapshot(model)
            cfg, vocab = run.config, run.vocab
            label = f"the **trained** model ({run.trained_steps:,} steps)"
        else:
            cfg, vocab = key[1], session.encoded()[0]
            snap = snapshot(build_model(replace(cfg, stateful=False)))
            label = "a **fresh, untrained** model built from the Model page's settings (train one to see learned structure)"
        label += f": {CELL_NAMES[cfg.cell]}, {cfg.rnn_units:,} units × {cfg.num_layers} layer(s), seed {cfg.seed}"
        st.session_state.insp_model = (key, snap, vocab, label)
    return (*st.session_state.insp_model[1:], key)


def memo(store: str, name: str, key, compute):
    """The last result of `compute` for `name` in session store `store`, recomputed only when `key` changes."""
    slot = st.session_state.setdefault(store, {})
    if slot.get(name, (None,))[0] != key:
        slot[name] = (key, compute())
    return slot[name][1]

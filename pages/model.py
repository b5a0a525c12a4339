"""Model: the sizes, model.summary(), where every parameter comes from, and what training will cost."""

import logging
from dataclasses import replace

import pandas as pd
import streamlit as st

from core.config import ACTIVATIONS, CELL_NAMES, CELLS, RECURRENT_INITIALIZERS
from core.nn.estimate import check_fits, estimate
from core.figures.training import params_figure
from core.nn.language_model import parameter_rows
from ui import controls, run_lifecycle, session, through_router, training_views

through_router()
log = logging.getLogger(__name__)

st.title("Model")
ss = st.session_state
KEYS = {  # config field -> widget key
    "cell": "m_cell", "embedding_dim": "m_embedding", "rnn_units": "m_units", "num_layers": "m_layers",
    "batch_size": "m_batch", "seq_len": "m_seq", "stateful": "m_stateful", "activation": "m_activation",
    "recurrent_initializer": "m_rinit", "recurrent_init_scale": "m_rscale", "dropout": "m_dropout", "seed": "m_seed",
}
shown = ss.get("model_draft") or ss.model_config  # settings waiting for confirmation survive a trip to another page
for name, key in KEYS.items():
    controls.bind(key, getattr(shown, name))

p1, p2, _ = st.columns([1, 1, 3])
p1.button("Quick demo", key="m_quick", on_click=run_lifecycle.choose_preset, args=("quick",), width="stretch")
p2.button("Article's model", key="m_article", on_click=run_lifecycle.choose_preset, args=("article",), width="stretch")
run_lifecycle.preset_confirmation("m")

c1, c2, c3 = st.columns(3)
with c1:
    st.selectbox("Cell", CELLS, key="m_cell", format_func=CELL_NAMES.get)
    st.number_input("Embedding size E", 1, 4096, key="m_embedding")
    st.number_input("RNN units U", 1, 4096, key="m_units")
    st.number_input("Layers", 1, 4, key="m_layers")
with c2:
    st.number_input("Batch size B", 1, 1024, key="m_batch")
    st.number_input("Sequence length S", 1, 2000, key="m_seq")
    st.toggle("Stateful", key="m_stateful",
              help="Carry the hidden state from one batch to the next, so the model can remember beyond S steps.")
    st.caption("Stateful: each row of a batch continues the same row of the batch before, and the memory carries over.")
with c3:
    st.selectbox("Activation", ACTIVATIONS, key="m_activation")
    st.selectbox("Recurrent initializer", RECURRENT_INITIALIZERS, key="m_rinit")
    st.number_input("Initializer scale (gain)", 0.01, 10.0, step=0.1, key="m_rscale")
    st.slider("Dropout", 0.0, 0.9, step=0.05, key="m_dropout")
    st.number_input("Seed", 0, 2**31 - 1, key="m_seed")

try:
    draft = replace(controls.config_from_widgets(ss.model_config, KEYS), vocab_size=session.wanted_config().vocab_size)
except ValueError as err:
    log.exception("The Model page's settings were not used")
    st.error(str(err))
    st.stop()

ss.pop("model_draft", None)  # set again below while the new settings wait for confirmation
if draft != replace(ss.model_config, vocab_size=draft.vocab_size):
    if run_lifecycle.needs_confirmation(draft):
        st.warning(f"These settings need a new model. {run_lifecycle.replacing_sentence()}")
        a, b = st.columns(2)
        if a.button("Use the new settings", key="m_confirm"):
            session.discard_run()
            session.set_settings(draft, keep_widgets=True)
            st.rerun()
        ss.model_draft = draft
        b.button("Keep the current model", key="m_cancel", on_click=run_lifecycle.keep_trained_model)
    else:
        session.set_settings(draft, keep_widgets=True)

try:
    check_fits(draft)
except ValueError as err:
    log.exception("This model would not fit")
    st.error(str(err))
    st.stop()

vocab, ids = session.encoded()
est = estimate(draft, tokens_per_epoch=max(len(ids) - 1, 1))
st.subheader("model.summary()")
with st.spinner("Building the model…"):
    st.code(session.summary_text(draft), language=None)
left, right = st.columns([3, 2], gap="large")
rows = parameter_rows(draft)
with left:
    st.subheader("Where the parameters come from")
    st.dataframe(pd.DataFrame([r.__dict__ for r in rows]).rename(columns={"count": "parameters"}), hide_index=True,
                 width="stretch", column_config={"parameters": st.column_config.NumberColumn(format="localized")})
    st.caption(f"V = {draft.vocab_size:,} tokens, E = {draft.embedding_dim:,}, U = {draft.rnn_units:,}. "
               "Each SimpleRNN unit has a weight for every input, every unit (the loop) and a bias. "
               "LSTM and GRU repeat that for 4 and 3 gates; Keras' GRU keeps two biases per gate.")
with right:
    st.plotly_chart(params_figure(rows), width="stretch", key="m_params_chart")

training_views.cost(est, draft, len(ids))

"""Gradients: how much of the loss's gradient reaches h_t, T − t steps back, and why gates change that."""

from dataclasses import replace

import numpy as np
import streamlit as st

from core.config import CELL_NAMES
from core.figures.inspection import eigenvalue_figure, gradient_decay_figure
from core.figures.style import COLORS
from core.inspection.vanishing import fit_decay, fit_decays
from core.inspection.neurons import encode_known
from ui import inspection_views, session, through_router
from ui.inspected import inspected, memo

through_router()

st.title("Gradients")
ss = st.session_state


snap, vocab, label, model_key = inspected()
top = st.columns([2, 3], gap="large")
length = top[0].slider("Length: steps back from the prediction", 10, 500, 100, step=10, key="gr_len")
top[1].markdown(f"**Your model:** {label}.")
_, ids = memo("gr_memo", "ids", (model_key, ss.text_version), lambda: encode_known(vocab, ss.text[:20_000])[:2])
if len(ids) < length + 1:
    st.info(f"The loaded text has {len(ids):,} tokens the model knows; it needs {length + 1:,}. Lower the length or load a longer text.")
    st.stop()
ids = ids[:length + 1]  # inputs ids[:-1], target ids[-1]

from core.inspection.unroll import gradient_norms_by_layer  # noqa: E402  (TensorFlow: after the guards)

st.header("How far back does the gradient reach?")
left, right = st.columns([3, 2], gap="large")
norms = memo("gr_memo", "mine", (model_key, ids.tobytes()), lambda: gradient_norms_by_layer(snap, ids))  # (layers, T)
curves = {f"layer {i + 1}": n for i, n in enumerate(norms)}
tok_name = "characters" if vocab.level == "char" else "words"
left.plotly_chart(gradient_decay_figure(curves, fit_decays(curves), title=f"‖dL/dh_t‖ for the first {length} {tok_name}"), width="stretch", key="gr_mine")
fit = fit_decay(norms[0])
right.metric("Fitted change per step back (layer 1)", fit.label)
if 0 < fit.points < len(norms[0]):
    right.caption(f"Beyond lag {fit.points - 1} the gradient is exactly 0 in float32 (not drawn on a log axis).")
if right.toggle("Eigenvalues of your model's U", key="gr_my_eigs", help="A few seconds at 1,024 units; then remembered."):
    from core.inspection.vanishing import recurrent_eigenvalues

    with st.spinner("Computing eigenvalues…"):
        eigs = memo("gr_memo", "my_eigs", model_key, lambda: recurrent_eigenvalues(snap))
    left.plotly_chart(eigenvalue_figure(eigs, title="Your model: eigenvalues of U (layer 1)"), width="stretch", key="gr_my_eig")
right.markdown(
    "L is the loss of predicting the last token; each point is how strongly it pulls on h_t, T − t steps earlier. "
    "Backpropagation multiplies one Jacobian per step: for a SimpleRNN **dh_t/dh_{t−1} = diag(1 − h_t²) U**. "
    "When its typical size is below 1 the product shrinks geometrically (the line falls straight on this log axis: "
    "*vanishing* gradients, the model cannot learn what happened long ago); above 1 it grows (*exploding*). "
    "Saturated units (|h| near 1) make 1 − h² ≈ 0 and cut the path."
)

inspection_views.epoch_curves(session.run())

st.header("SimpleRNN, LSTM and GRU side by side")
st.caption("Fresh models of one size and seed (the Model page's seed and embedding), on the same characters and length as above. "
           "Make the gradient vanish or explode on purpose: e.g. random_normal with scale 0.5, or relu with orthogonal scale 1.2.")
c = st.columns(4)
c[0].number_input("Units", 4, 1024, 128, step=32, key="gr_units", help="Eigenvalues of 1024 units take several seconds.")
c[1].selectbox("Recurrent initializer", ("orthogonal", "random_normal"), key="gr_init")
c[2].number_input("Scale", 0.1, 5.0, 1.0, step=0.1, key="gr_scale",
                  help="orthogonal: every eigenvalue has |λ| = scale. random_normal: stddev scale/√units, so the spectral radius ≈ scale.")
c[3].selectbox("Activation", ("tanh", "relu"), key="gr_act", help="Of h (SimpleRNN) and of the candidate (LSTM, GRU); gates stay sigmoid.")
lab_cfg = replace(session.wanted_config(), rnn_units=ss.gr_units, recurrent_initializer=ss.gr_init, recurrent_init_scale=ss.gr_scale,
                  activation=ss.gr_act, num_layers=1, dropout=0.0)
lab_ids = session.encoded()[1][:length + 1]
if len(lab_ids) < length + 1:
    st.info(f"The loaded text has {len(lab_ids):,} tokens; the comparison needs {length + 1:,}. Lower the length.")
    st.stop()
from core.inspection.vanishing import compare_cells  # noqa: E402

with st.spinner("Building three models and their spectra…"):
    lab = memo("gr_memo", "lab", (lab_cfg, lab_ids.tobytes()), lambda: compare_cells(lab_cfg, lab_ids))
curves = {CELL_NAMES[cell]: r.norms for cell, r in lab.items()}
if model_key[0] == "trained":
    curves["your trained model"] = norms[0]
left, right = st.columns([3, 2], gap="large")
left.plotly_chart(gradient_decay_figure(curves, fit_decays(curves), title="‖dL/dh_t‖ of fresh models (and yours)", colors=COLORS), width="stretch", key="gr_lab")
for cell, r in lab.items():
    if not np.all(np.isfinite(r.norms)):
        right.warning(f"{CELL_NAMES[cell]}: the gradient overflowed to infinity (not drawn). It exploded.")
    elif r.fit.points < len(r.norms):
        right.caption(f"{CELL_NAMES[cell]}: beyond lag {r.fit.points - 1} the gradient is exactly 0 in float32 (not drawn on a log axis).")
right.markdown(
    "**What gates change.** A SimpleRNN rewrites all of h every step through U, so the gradient is multiplied by "
    "diag(1 − h²) U again and again. An LSTM also keeps a cell state c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t: along that path "
    "the Jacobian is just diag(f_t), an *additive* update with no U in it, so with the forget gate near 1 the "
    "gradient passes many steps almost unchanged. A fresh LSTM starts with f ≈ 0.73 (Keras adds 1 to the forget bias), so it still "
    "forgets; training moves f towards 1 where remembering pays (race them on the Long-range race page). "
    "A GRU's update gate z does the same for h: h_t = z ⊙ h_{t−1} + (1 − z) ⊙ candidate."
)
inspection_views.cell_spectra(lab)
st.page_link("pages/race.py", label="Does an LSTM really remember further back? Race one against a SimpleRNN",
             icon=":material/sprint:")

"""Connectivity: to guess this token, which earlier tokens did the network use?"""

from dataclasses import replace

import streamlit as st

from core.config import CELL_NAMES, CELLS
from core.figures.connectivity import connectivity_heatmap, connectivity_html
from core.inspection.neurons import encode_known
from core.text.vocabulary import display_token
from ui import controls, session, through_router
from ui.inspected import inspected, memo

through_router()

st.title("Connectivity")
st.caption("For the prediction after one position: how much each earlier token counted. It is the size of the gradient "
           "of the correct next token's logit with respect to each input vector, from a zero state (Madsen, "
           "*Visualizing memorization in RNNs*, Distill 2019). Each row is scaled to its own largest value.")
ss = st.session_state
MAX_CHARS = 400  # the work grows with the square of the length: 200 characters take about 1.5 s at 1,024 units

run = session.run()
trained = run is not None and run.trained_steps > 0
choices = (["trained"] if trained else []) + list(CELLS)
controls.bind("cn_model", choices[0])
if ss.cn_model not in choices:
    ss.cn_model = choices[0]
which = st.radio("Model", choices, key="cn_model", horizontal=True,
                 format_func=lambda c: "your trained model" if c == "trained" else f"fresh {CELL_NAMES[c]}",
                 help="A fresh model has the Model page's sizes and seed with the chosen cell, untrained: compare how far "
                      "back each cell reaches before and after training.")
if which == "trained":
    snap, vocab, label, key = inspected()
else:
    from core.inspection.unroll import snapshot
    from core.nn.language_model import build_model

    config = replace(session.wanted_config(), cell=which, stateful=False)
    vocab, key = session.encoded()[0], ("fresh", config)
    snap = memo("cn_memo", "snap", key, lambda: snapshot(build_model(config)))
    label = f"a **fresh, untrained {CELL_NAMES[which]}** with the Model page's sizes ({config.rnn_units:,} units)"

controls.bind("cn_text", session.encoded()[0].decode(session.encoded()[1][:120])[:MAX_CHARS])
st.text_area("Text the model reads", key="cn_text", height=100, max_chars=MAX_CHARS)
st.markdown(f"**Shown:** {label}.")
tokens, ids, skipped = encode_known(vocab, ss.cn_text)
if skipped:
    st.warning("Not in the model's vocabulary, so skipped: " + controls.plain(" ".join(display_token(t) for t in skipped[:20])))
if len(ids) < 3:
    st.info("Type at least three tokens the model knows.")
    st.stop()

from core.inspection.connectivity import connectivity  # noqa: E402  (TensorFlow: after the guards)

with st.spinner("Taking one gradient per position…"):
    matrix = memo("cn_memo", "matrix", (key, ids.tobytes()), lambda: connectivity(snap, ids))
read = tokens[:-1]  # the last token is only ever a target
c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
controls.bind("cn_pos", len(read) - 1)
ss.cn_pos = min(ss.cn_pos, len(read) - 1)
pos = c1.slider("Explain the prediction after position", 0, len(read) - 1, key="cn_pos")
log = c2.toggle("Log scale", key="cn_log", help="Shows the faint, far-back connections a linear scale hides.")
st.markdown(f"After reading up to **{controls.plain(display_token(read[pos]))}** (position {pos}, outlined), the model "
            f"had to predict **{controls.plain(display_token(tokens[pos + 1]))}** (underlined). Red: how much each token "
            "counted.")
st.html(connectivity_html(tokens, list(matrix[pos]) + [0.0], pos, log, words=vocab.level == "word"))
st.plotly_chart(connectivity_heatmap(matrix, read, log), width="stretch", key="cn_heatmap")
st.caption("A SimpleRNN's band is narrow: its gradients fade within a few steps. Gated cells (LSTM, GRU) can keep a "
           "wider band, reaching back to the start of a word or a quote.")

"""Hidden states: what each unit of h_t does while the model reads a text, and what it guesses next."""

import streamlit as st

from core.figures.inspection import activation_html, state_heatmap
from core.inspection.neurons import encode_known, order_units, pattern_signal, saturation_share, unit_correlations
from ui import forecaster_state
from ui import run_lifecycle, through_router
from ui.inspected import inspected, memo

through_router()

st.title("Hidden states")
ss = st.session_state
if forecaster_state.trained():  # a forecaster from the Time series page: its units over time, under the curve
    if st.radio("Look inside", ["the text model", "the forecaster"], key="hs_what", horizontal=True) == "the forecaster":
        forecaster_state.show_hidden_states()
        st.stop()
ORDERS = {"index": "unit index", "variance": "variance (most active first)", "correlation": "how well it tracks a pattern"}


def default_text() -> str:
    """~200 characters of the loaded text, from the paragraph of its first quote when there is one early on."""
    text, quote = ss.text, ss.text.find('"', 0, 5000)
    start = text.rfind("\n", 0, quote) + 1 if quote > 0 else 0
    return text[start:start + 200]


def use_loaded_text() -> None:
    ss.hs_text = default_text()


def forget_neuron() -> None:
    ss.pop("hs_neuron", None)  # the neuron follows the new ordering's top unit


snap, vocab, label, model_key = inspected()
tok_name = "character" if vocab.level == "char" else "word"  # what one token is
units, n_layers = snap.layers[0].recurrent.shape[0], len(snap.layers)
run_lifecycle.bind("hs_text", ss.get("hs_text_saved") or default_text())
run_lifecycle.bind("hs_pattern", '"')
max_shown = min(units, 256)  # more rows than this are thinner than a pixel on a projector
run_lifecycle.bind("hs_units", min(64, units))
ss.hs_units = min(ss.hs_units, max_shown)
if ss.get("hs_layer", 1) > n_layers:
    ss.pop("hs_layer")

left, right = st.columns([3, 2], gap="large")
left.text_area("Text the model reads (from a zero state)", key="hs_text", height=120, max_chars=2000)
ss.hs_text_saved = ss.hs_text
right.markdown(f"**Shown:** {label}.")
right.caption("Each column of the heatmap is one step t, each row one unit of h_t: blue is negative, red positive. "
              "Hover for the token, the step, the unit and its value.")
right.button("Take a stretch of the loaded text", key="hs_use_text", on_click=use_loaded_text)
c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
by = c1.selectbox("Order units by", list(ORDERS), key="hs_order", format_func=ORDERS.get, on_change=forget_neuron)
c2.text_input("Pattern to track", key="hs_pattern", max_chars=40, on_change=forget_neuron, disabled=by != "correlation",
              help='One of " \' ` or a pair like () means "inside"; anything else (e.g. "the") marks where it occurs.')
c3.slider("Units shown", 1, max(max_shown, 2), key="hs_units", disabled=units < 2, help="The top rows of the chosen order.")
layer = c4.selectbox("Layer", range(1, n_layers + 1), key="hs_layer") if n_layers > 1 else 1

tokens, ids, skipped = encode_known(vocab, ss.hs_text)
if skipped:
    st.warning("Not in the model's vocabulary, so skipped: " + " ".join(repr(t) for t in skipped[:20]))
if len(ids) < 2:
    st.info(f"Type at least two {tok_name}s the model knows into the box above.")
    st.stop()
if by == "correlation" and not ss.hs_pattern:
    st.info("Type a pattern to track, such as \" or ( or the.")
    st.stop()

from core.inspection.unroll import all_hidden_states, next_token_topk  # noqa: E402  (TensorFlow: after the guards)

states = memo("hs_memo", "states", (model_key, ids.tobytes()), lambda: all_hidden_states(snap, ids))[layer - 1]  # (T, units)
signal = None
if by == "correlation":
    signal = pattern_signal("".join(tokens) if vocab.level == "char" else tokens, ss.hs_pattern)
    if signal.min() == signal.max():
        st.warning(f"{ss.hs_pattern!r} never changes along this text (it is never, or always, there), so no unit can track it. "
                   "Type a text that contains it.")
order = order_units(states, by, signal)
shown = order[:ss.hs_units]

m1, m2, m3 = st.columns(3)
m1.metric("Saturated (|h| > 0.95)", f"{saturation_share(states):.1%}",
          help="Share of all (step, unit) values in tanh's flat tails, where 1 − h² ≈ 0 and little gradient gets through.")
m2.metric("Steps × units", f"{len(tokens):,} × {units:,}")
if signal is not None:
    m3.metric(f"Best match for {ss.hs_pattern!r}", f"unit {order[0]}: r = {unit_correlations(states, signal)[order[0]]:+.2f}")
title = f"Layer {layer} hidden state, {len(shown)} of {units} units by {ORDERS[by]}"
st.plotly_chart(state_heatmap(states, tokens, shown, title=title), width="stretch", key="hs_heatmap")

st.subheader("One neuron")
if ss.get("hs_neuron", 0) >= units:
    forget_neuron()
run_lifecycle.bind("hs_neuron", int(order[0]))
n1, n2, _ = st.columns([1, 2, 2])
neuron = n1.number_input("Neuron (unit index)", 0, units - 1, key="hs_neuron")
n2.toggle(f"Show the next-{tok_name} guesses", key="hs_guesses",
          help=f"Under each {tok_name}: the model's three likeliest next {tok_name}s; green when it is the one that follows.")
guesses = None
if ss.hs_guesses:
    top, _ = memo("hs_memo", "topk", (model_key, ids.tobytes()), lambda: next_token_topk(snap, ids, k=min(3, len(vocab))))
    guesses = [[vocab.tokens[i] for i in row] for row in top]
    hits = sum(top[t, 0] == ids[t + 1] for t in range(len(ids) - 1))
    st.caption(f"Its first guess was right for {hits} of the {len(ids) - 1} next {tok_name}s.")
st.html(activation_html(tokens, states[:, neuron], guesses=guesses, words=vocab.level == "word"))
st.caption(f"Each {tok_name}'s background is unit {neuron}'s value after reading it: red positive, blue negative, "
           "the strongest at full colour. A unit that tracks something (inside a quote, the start of a word) "
           "shows it as a run of one colour. The HTML is built from the escaped text only.")

"""Hidden states: what each unit of h_t does while the model reads a text, and what it guesses next."""

import streamlit as st

from core.figures.inspection import state_heatmap
from core.inspection.neurons import encode_known, order_units, pattern_signal, saturation_share, unit_correlations
from ui import controls, forecaster_state, forecaster_views, inspection_views, through_router
from ui.controls import plain
from ui.inspected import inspected, memo

through_router()

st.title("Hidden states")
ss = st.session_state
if forecaster_state.trained():  # a forecaster from the Time series page: its units over time, under the curve
    if st.radio("Look inside", ["the text model", "the forecaster"], key="hs_what", horizontal=True) == "the forecaster":
        forecaster_views.show_hidden_states()
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
controls.bind("hs_text", ss.get("hs_text_saved") or default_text())
controls.bind("hs_pattern", '"')
max_shown = min(units, 256)  # more rows than this are thinner than a pixel on a projector
controls.bind("hs_units", min(64, units))
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
    st.warning("Not in the model's vocabulary, so skipped: " + plain(" ".join(repr(t) for t in skipped[:20])))
if len(ids) < 2:
    st.info(f"Type at least two {tok_name}s the model knows into the box above.")
    st.stop()
if by == "correlation" and not ss.hs_pattern:
    st.info("Type a pattern to track, such as \" or ( or the.")
    st.stop()

from core.inspection.unroll import all_hidden_states  # noqa: E402  (TensorFlow: after the guards)

states = memo("hs_memo", "states", (model_key, ids.tobytes()), lambda: all_hidden_states(snap, ids))[layer - 1]  # (T, units)
signal = None
if by == "correlation":
    signal = pattern_signal("".join(tokens) if vocab.level == "char" else tokens, ss.hs_pattern)
    if signal.min() == signal.max():
        st.warning(f"{plain(repr(ss.hs_pattern))} never changes along this text (it is never, or always, there), so no unit can track it. "
                   "Type a text that contains it.")
order = order_units(states, by, signal)
shown = order[:ss.hs_units]

m1, m2, m3 = st.columns(3)
m1.metric("Saturated (|h| > 0.95)", f"{saturation_share(states):.1%}",
          help="Share of all (step, unit) values in tanh's flat tails, where 1 − h² ≈ 0 and little gradient gets through.")
m2.metric("Steps × units", f"{len(tokens):,} × {units:,}")
if signal is not None:
    m3.metric(f"Best match for {plain(repr(ss.hs_pattern))}", f"unit {order[0]}: r = {unit_correlations(states, signal)[order[0]]:+.2f}")
title = f"Layer {layer} hidden state, {len(shown)} of {units} units by {ORDERS[by]}"
st.plotly_chart(state_heatmap(states, tokens, shown, title=title), width="stretch", key="hs_heatmap")

inspection_views.one_neuron(snap, vocab, model_key, ids, tokens, states, order[0], tok_name)

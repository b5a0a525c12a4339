"""Generate: let the trained model write, and see which tokens it hesitated between."""

import streamlit as st

from core.figures.training import topk_figure
from core.text.vocabulary import display_token
from ui import run_views, session, through_router
from ui.controls import plain

through_router()

st.title("Generate")
ss = st.session_state
run = session.run()
if run is None or run.trained_steps == 0:
    run_views.no_trained_model()
    st.stop()

st.session_state.setdefault("g_prompt", run.vocab.decode(session.encoded()[1][:20]) if run.vocab == session.encoded()[0] else "")
st.text_area("Prompt", key="g_prompt", max_chars=2000, height=90)
c1, c2, c3 = st.columns(3)
c1.slider("Length (tokens)", 10, 2000, 300, step=10, key="g_length")
c2.slider("Temperature", 0.1, 2.0, 0.8, step=0.05, key="g_temperature",
          help="Below 1 the model plays safe and repeats itself; above 1 it takes more risks.")
c3.number_input("Top-k (0 = all tokens)", 0, len(run.vocab), 0, key="g_top_k")

missing = run.vocab.unknown(ss.g_prompt)
if missing:
    st.warning("Not in the model's vocabulary, so skipped: " + plain(" ".join(display_token(t) for t in missing[:20])))


def reset_state() -> None:
    if run.stepper is not None:
        run.stepper.reset()
    ss.pop("g_result", None)


b1, b2, _ = st.columns([1, 1, 4])
clicked = b1.button("Generate", key="g_generate", type="primary")
b2.button("Reset state", key="g_reset", on_click=reset_state)
st.caption("The model's memory is its hidden state h. It is carried from one token to the next and from one "
           "**Generate** to the next, so a new prompt continues the same train of thought. **Reset state** sets h back to zeros.")

if clicked:
    from core.nn.generate import Stepper, generate

    # The server's copy of the model, with the training worker's weights of this moment, held while we write.
    with st.spinner("Writing…"), run.holding_model() as model:
        if run.stepper is None:
            run.stepper = Stepper(model)
        ss.g_result = generate(run.stepper, run.vocab, ss.g_prompt, int(ss.g_length), float(ss.g_temperature), int(ss.g_top_k))

result = ss.get("g_result")
if result is not None:
    st.code(result.prompt + result.text, language=None, wrap_lines=True)
    if result.steps:
        st.plotly_chart(topk_figure(result.steps), width="stretch", key="g_topk_chart")

st.divider()
st.subheader("Take the model with you")
st.caption("The model is stock Keras layers, so plain Keras loads the `.keras` file without this app. It starts from a "
           "zero hidden state. Keep the vocabulary with it: it turns ids back into tokens.")


def saved_model() -> bytes:
    """Runs when the button is clicked, outside the script: the weights of this moment, from the worker."""
    from core.nn.language_model import keras_file

    with run.holding_model() as model:
        return keras_file(model)


d1, d2, _ = st.columns(3)
d1.download_button("Download model (.keras)", data=saved_model, file_name="rnn_playground.keras", mime="application/zip",
                   on_click="ignore", key="g_download_model", icon=":material/download:")
d2.download_button("Download vocabulary (.json)", data=run.vocab.to_json(), file_name="vocabulary.json",
                   mime="application/json", on_click="ignore", key="g_download_vocab", icon=":material/download:")
with st.expander("Load it in Python"):
    from core.nn.language_model import load_snippet

    example = ss.g_prompt if ss.g_prompt.strip() and not missing else run.vocab.decode([max(range(len(run.vocab)), key=run.vocab.counts.__getitem__)])
    st.code(load_snippet(run.config, run.vocab.level, example, "rnn_playground.keras", "vocabulary.json"), language="python")

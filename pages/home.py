"""Home: what an RNN is, what each page does, and one-click starts."""

import streamlit as st

from core.figures.training import unrolled_svg
from ui import run_lifecycle, through_router

through_router()


st.title("RNN Playground")
st.markdown("#### Watch a recurrent neural network learn to write, one character at a time.")

left, right = st.columns([1, 1], gap="large")
with left:
    st.markdown(
        """
A **recurrent neural network** reads text one token at a time. At every step it mixes the new
token *xₜ* with what it has read so far, a vector of numbers called the **hidden state** *hₜ*:

  *hₜ = tanh(xₜ·W + hₜ₋₁·U + b)*

The same weights *W* and *U* are used at every step, so the loop can run over a text of any length.
The hidden state is the network's **memory**: everything it knows about the past has to fit in those
few hundred numbers. From *hₜ* a last layer guesses the next token. Training nudges the weights so
the guess gets better, and the only teacher is the text itself: the target is always *the next character*.
"""
    )
with right:
    st.image(unrolled_svg(), width="stretch")
    st.caption("The loop, unrolled over the word “hell”: token in (yellow) → hidden state (red) → guess of the next token "
               "(teal). The red arrows carry the memory, with the same weights U at every step.")

st.subheader("Start in one click")
c1, c2 = st.columns(2)
with c1:
    st.button("Quick demo", key="home_quick", type="primary", width="stretch",
              on_click=run_lifecycle.choose_preset, args=("quick", True))
    st.caption("A small SimpleRNN (128 units) on a sample text. Visibly learns in about a minute on 2 cores.")
with c2:
    st.button("Article's model", key="home_article", width="stretch",
              on_click=run_lifecycle.choose_preset, args=("article", True))
    st.caption("The classic char-RNN sizes: embedding 256, 1,024 units, batch 64 (14 million weights at a 10,000-word vocabulary).")
run_lifecycle.preset_confirmation("home")

st.subheader("The pages")
st.markdown(
    """
| Page | What you do there |
|---|---|
| **Text** | Pick a sample, upload a file or paste text; choose characters or words; see what "predict the next token" means. |
| **Model** | Set the sizes, see `model.summary()` and where every parameter comes from, and how long an epoch will take. |
| **Train** | Start, pause, resume and stop; watch the loss fall and read what the model writes after each epoch. |
| **Generate** | Give it a prompt and a temperature and let it write; see which characters it hesitated between. |
"""
)

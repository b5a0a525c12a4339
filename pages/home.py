"""Home: what an RNN is, what each page does, and one-click starts."""

import streamlit as st

from ui import widgets

UNROLLED = """
digraph {
  rankdir=LR; bgcolor="transparent"; node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=16];
  subgraph cluster_loop { label="the loop"; style=dashed; h [label="h", fillcolor="#d1495b", fontcolor=white];
    x [label="x", fillcolor="#edae49"]; y [label="y", fillcolor="#00798c", fontcolor=white];
    x -> h; h -> y; h -> h [label=" U"]; }
  eq [shape=plaintext, style="", label="=  unrolled  ="];
  node [width=0.6];
  x1 [label="x₁ 'h'", fillcolor="#edae49"]; x2 [label="x₂ 'e'", fillcolor="#edae49"];
  x3 [label="x₃ 'l'", fillcolor="#edae49"]; x4 [label="x₄ 'l'", fillcolor="#edae49"];
  h0 [label="h₀ = 0", fillcolor="#eeeeee"];
  h1 [label="h₁", fillcolor="#d1495b", fontcolor=white]; h2 [label="h₂", fillcolor="#d1495b", fontcolor=white];
  h3 [label="h₃", fillcolor="#d1495b", fontcolor=white]; h4 [label="h₄", fillcolor="#d1495b", fontcolor=white];
  y1 [label="'e'?", fillcolor="#00798c", fontcolor=white]; y2 [label="'l'?", fillcolor="#00798c", fontcolor=white];
  y3 [label="'l'?", fillcolor="#00798c", fontcolor=white]; y4 [label="'o'?", fillcolor="#00798c", fontcolor=white];
  y -> eq [style=invis]; eq -> h0 [style=invis];
  h0 -> h1 -> h2 -> h3 -> h4 [label=" U"];
  x1 -> h1; x2 -> h2; x3 -> h3; x4 -> h4; h1 -> y1; h2 -> y2; h3 -> y3; h4 -> y4;
  {rank=same; x1; h1; y1} {rank=same; x2; h2; y2}
}
"""

st.title("RNN Playground")
st.markdown("#### Watch a recurrent neural network learn to write, one character at a time.")

left, right = st.columns([3, 2], gap="large")
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
    st.graphviz_chart(UNROLLED, width="stretch")

st.subheader("Start in one click")
c1, c2 = st.columns(2)
with c1:
    st.button("Quick demo", key="home_quick", type="primary", width="stretch",
              on_click=widgets.choose_preset, args=("quick", True))
    st.caption("A small SimpleRNN (128 units) on a sample text. Visibly learns in about a minute on 2 cores.")
with c2:
    st.button("Article's model", key="home_article", width="stretch",
              on_click=widgets.choose_preset, args=("article", True))
    st.caption("The classic char-RNN sizes: embedding 256, 1,024 units, batch 64 (14 million weights at a 10,000-word vocabulary).")
widgets.preset_confirmation("home")

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

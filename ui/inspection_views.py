"""Sections the Hidden states and Gradients pages draw: one neuron over the text, and the gradient's reach recorded at
each epoch end."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.config import CELL_NAMES
from core.figures.inspection import activation_html, eigenvalue_figure, gradient_decay_figure
from core.inspection.vanishing import fit_decays
from ui.controls import bind
from ui.inspected import memo


def one_neuron(snap, vocab, model_key, ids, tokens, states, top_unit: int, tok_name: str) -> None:
    """One unit's value after each token, as the text's background colour (and, on request, the next-token guesses)."""
    from core.inspection.unroll import next_token_topk  # TensorFlow: after the page's guards

    ss, units = st.session_state, states.shape[1]
    st.subheader("One neuron")
    if ss.get("hs_neuron", 0) >= units:
        ss.pop("hs_neuron", None)
    bind("hs_neuron", int(top_unit))
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


def epoch_curves(run) -> None:
    """‖dL/dh_t‖ as the trainer recorded it at each epoch end (at most 8 epochs, evenly spaced), early dark, late light."""
    from plotly.colors import sample_colorscale

    st.header("While it learned")
    grad_curves = run.trainer.progress().grad_curves if run is not None and run.trainer is not None else ()
    if not grad_curves:
        st.caption("Train a model on the Train page: at the end of each epoch the trainer records this curve, and it appears "
                   "here, one line per epoch.")
        return
    left, right = st.columns([3, 2], gap="large")
    shown = [grad_curves[i] for i in sorted({round(i) for i in np.linspace(0, len(grad_curves) - 1, min(len(grad_curves), 8))})]
    shades = sample_colorscale("Viridis", [i / max(len(shown) - 1, 1) * 0.9 for i in range(len(shown))])
    epochs = {f"epoch {e}": n for e, n in shown}
    left.plotly_chart(gradient_decay_figure(epochs, fit_decays(epochs), title="‖dL/dh_t‖ at each epoch end",
                                            colors={f"epoch {e}": c for (e, _), c in zip(shown, shades)}),
                      width="stretch", key="gr_epochs")
    right.markdown("The trainer records this curve at the end of every epoch, on the start of the training text. "
                   "Watch whether the far end rises (the model learns to use older steps) or sinks."
                   + (f" Showing 8 of the {len(grad_curves)} epochs, evenly spaced, first and last included." if len(shown) < len(grad_curves) else ""))


def cell_spectra(lab: dict) -> None:
    """Each fresh cell's recurrent eigenvalues against the unit circle (`lab`: cell -> core.inspection.vanishing result)."""
    eig_cols = st.columns(len(lab))
    for col, (cell, r) in zip(eig_cols, lab.items()):
        col.plotly_chart(eigenvalue_figure(r.eigenvalues, title=f"{CELL_NAMES[cell]}: eigenvalues of U"), width="stretch", key=f"gr_eig_{cell}")
        col.caption("Spectral radius: " + ", ".join(f"{k} {v:.3g}" for k, v in r.radius.items()) + f" · decay {r.fit.label}")
    st.caption("Eigenvalues of each gate's recurrent block against the unit circle. For a SimpleRNN, a radius below 1 means "
               "repeated multiplication by U shrinks every direction (with tanh, 1 − h² ≤ 1 only shrinks it further); above 1 "
               "some direction grows, and with relu (slope 1 where active) nothing holds it back, so the gradient can explode.")

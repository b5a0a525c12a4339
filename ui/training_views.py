"""What the Train page draws of a training's snapshot: its status and numbers, its charts and its samples."""

from __future__ import annotations

import streamlit as st

from core.figures.style import unchecked
from core.figures.training import layer_norms_figure, loss_figure
from core.nn.estimate import GIB
from ui import run_views, session
from ui.controls import training_message
from ui.store_access import store, token


def status(p, vocab_size: int, tokens_per_step: int) -> None:
    """The status sentence (and one when the loss diverged), the progress bar and the latest loss, accuracy, perplexity
    and speed (while it trains, the recent speed; once it paused or ended, the run's average, as on the Runs page)."""
    diverged = p.divergence(vocab_size)
    training_message(p, "" if diverged else " Try the Generate page.")
    if diverged:
        st.warning(diverged, icon=":material/trending_up:")
    frac = min(p.step / p.total_steps, 1.0) if p.total_steps else 0.0
    eta = f", about {p.eta_s:,.0f} s left" if p.eta_s and p.status == "running" else ""
    st.progress(frac, text=f"step {p.step:,} of {p.total_steps:,} · epoch {max(p.epoch, 1)} of {p.epochs}{eta}")
    m = st.columns(5)
    m[0].metric("Loss", f"{p.loss[-1]:.3f}" if len(p.loss) else "–")
    m[1].metric("Val. loss", f"{p.val_loss[-1]:.3f}" if p.val_loss else "–",
                help="On the held-out end of the text, measured at the end of every epoch.")
    m[2].metric("Accuracy", f"{p.accuracy[-1]:.1%}" if len(p.accuracy) else "–")
    ppl = p.perplexity
    m[3].metric("Perplexity", "–" if not ppl else f"{ppl:,.1f}" if ppl < 1e6 else f"{ppl:.1e}",
                help="exp(loss): how many tokens the model is choosing between, on average; guessing scores the "
                     "vocabulary's size.")
    rate, how = p.tokens_per_s, "Training speed over the last 30 batches, pauses and epoch ends left out."
    if not rate and p.status != "running" and p.elapsed_s > 0:
        rate = p.average_rate(tokens_per_step)
        how = f"The run's average{' so far' if p.status == 'paused' else ''}, pauses and epoch ends left out."
    m[4].metric("Tokens / s", ("–" if not rate else f"{rate / 1000:,.0f}k" if rate >= 10_000 else f"{rate:,.0f}"),
                help=how)


STATEFUL_EPOCHS = ("Stateful: each batch goes on from the hidden state the previous one left, and every epoch starts "
                   "the text again from a zero state. So the loss jumps at the first batches of each epoch, before the "
                   "state has read enough to carry context; that is the model, not a fault.")


def charts(trainer, p) -> None:
    """The loss and layer-norm charts (figures reused while the history they draw is unchanged), the epochs' samples."""
    ss = st.session_state
    figs = ss.get("tr_figs")
    drawn = (trainer.uid, len(p.steps), len(p.val_steps), tuple(p.layer_names))  # not p.version: a sentence moves it
    if figs is None or figs[0] != drawn:
        figs = (drawn, unchecked(loss_figure(p.steps, p.loss, p.accuracy, p.val_steps, p.val_loss)),
                unchecked(layer_norms_figure(p.steps, p.layer_norms, p.layer_names)))
        ss.tr_figs = figs
    left, right = st.columns([3, 2])
    left.plotly_chart(figs[1], width="stretch", key="tr_loss_chart")
    right.plotly_chart(figs[2], width="stretch", key="tr_norms_chart")
    if p.fast_path:
        st.caption("Trained with the fused SimpleRNN step (same weights and results as Keras' SimpleRNN, faster).")
    if trainer.config.stateful and p.epochs > 1:
        st.caption(STATEFUL_EPOCHS)
    for epoch, sample in reversed(p.samples):
        st.markdown(f"**Sample after epoch {epoch}**")
        st.code(sample, language=None, wrap_lines=True)


def cost(est, config, n_tokens: int) -> None:
    """What training `config` will cost (the Model page's estimate `est`): memory, time per epoch, work per token."""
    st.subheader("Before you train")
    e1, e2, e3 = st.columns(3)
    e1.metric("Memory to train", f"{est.total_bytes / GIB:.2f} GiB" if est.total_bytes > GIB / 4 else f"{est.total_bytes / 2**20:.0f} MiB")
    e2.metric("Time per epoch (estimate)", f"{est.seconds_per_epoch:,.0f} s" if est.seconds_per_epoch >= 1 else "< 1 s")
    e3.metric("Work per token", f"{est.flops_per_token / 1e6:,.1f} MFLOP")
    st.caption(f"One epoch reads the whole text once: {n_tokens:,} tokens, {n_tokens // max(config.batch_size * config.seq_len, 1):,} "
               "batches. Estimated from this machine's measured matrix-multiply speed.")


NOT_SAVED_TEXT_CHANGED = ("This run is not saved, and the loaded text has changed since it was built, so its code cannot "
                          "be exported. Load its text again, or train a new run.")


def code_download(run) -> None:
    """The current run's `Code (.zip)`: from the run store when it is saved there (its latest checkpoint's weights),
    else from this session (its settings and text, without weights). The zip is built only when pressed."""
    from core.export.bundle import run_zip, text_zip, zip_name

    s, ws = store(), token()
    if run.run_id is not None and s is not None and ws is not None:
        row = s.run(ws, run.run_id)
        if row is not None:
            run_views.code_button(st, lambda: run_zip(s, ws, run.run_id), zip_name(run.run_id), "tr_dl_code",
                                  bool(s.weights(ws, run.run_id)), run_views.text_kept(s, row["text_hash"]))
            return
    ss = st.session_state  # read now: the zip is built outside this script run
    train = run.trainer.train if run.trainer is not None else ss.train_config
    text, title = str(ss.text), ss.get("text_name", "run")
    run_views.code_button(st, lambda: text_zip(run.config, train, text, run.vocab, None, title), zip_name(None),
                          "tr_dl_code", False, run.vocab == session.encoded()[0], NOT_SAVED_TEXT_CHANGED)

"""Text: bring a text, choose characters or words, and see what "predict the next token" means."""

import logging

import streamlit as st

from core.text.batches import check_length
from core.text.samples import list_samples
from core.text.vocabulary import TextError, load_text
from ui import session, text_views, through_router
from ui.controls import bind, plain

through_router()

st.title("Text")
ss = st.session_state
log = logging.getLogger(__name__)


def use_sample() -> None:
    sample = session.cached_sample(ss.t_sample)
    session.set_text(load_text(sample.text), sample.title)
    ss.text_sample = ss.t_sample


def use_upload() -> None:
    upload = ss.get("t_upload")
    if upload is None:
        return
    try:
        session.set_text(load_text(upload.getvalue()), upload.name)
        ss.pop("t_error", None)
    except TextError as err:
        log.exception("The upload %r was not loaded", upload.name)
        ss.t_error = f"“{plain(upload.name)}” was not loaded: {plain(str(err))} Your current text is still loaded."


def use_paste() -> None:
    try:
        session.set_text(load_text(ss.get("t_paste", "")), "pasted text")
        ss.pop("t_error", None)
    except TextError as err:
        log.exception("The pasted text was not loaded")
        ss.t_error = f"The pasted text was not loaded: {plain(str(err))} Your current text is still loaded."


samples = {s.file: s for s in list_samples()}
source = st.radio("Where the text comes from", ["Sample", "Upload a file", "Paste"], key="t_source", horizontal=True)
if source == "Sample":
    bind("t_sample", ss.get("text_sample", session.DEFAULT_SAMPLE))
    st.selectbox("Sample text", list(samples), key="t_sample", format_func=lambda f: samples[f].title, on_change=use_sample)
    st.caption(samples[ss.t_sample].teaches)
elif source == "Upload a file":
    st.file_uploader("A plain-text file (UTF-8 is best), up to 5 MB", key="t_upload", on_change=use_upload)
else:
    st.text_area("Paste your text", key="t_paste", height=180)
    st.button("Use this text", key="t_use_paste", on_click=use_paste)

if "t_error" in ss:
    st.error(ss.pop("t_error"))

text = ss.text
if getattr(text, "warning", None):
    st.warning(text.warning)

st.divider()
c1, c2 = st.columns([1, 2])
with c1:
    if "level_error" in ss:  # words were asked for, but the text has only one distinct word
        ss.t_level = ss.level
        st.error(ss.pop("level_error"))
    bind("t_level", ss.level)
    st.radio("Tokens", ["char", "word"], key="t_level", horizontal=True,
             format_func=lambda v: {"char": "characters", "word": "words"}[v])
    if ss.t_level == "word":
        bind("t_vocab_cap", ss.vocab_cap)
        st.number_input("Vocabulary cap (rarer words become <unk>)", 50, 50_000, step=500, key="t_vocab_cap")
    session.set_level(ss.t_level, int(ss.t_vocab_cap) if ss.t_level == "word" else None)
    if "level_error" in ss:
        st.rerun()  # show the level it fell back to
vocab, ids = session.encoded()
with c2:
    m1, m2, m3 = st.columns(3)
    m1.metric("Loaded", ss.text_name if len(ss.text_name) < 24 else ss.text_name[:21] + "…")
    m2.metric("Length in tokens", f"{len(ids):,}")
    m3.metric("Vocabulary size", f"{len(vocab):,}")
    st.caption(f"{plain(ss.text_name)}: {len(text):,} characters. Every token gets an id from 0 to {len(vocab) - 1}; "
               "the model sees only ids.")  # the whole name: the metric cuts a long one at a narrow width

config = ss.model_config
try:
    check_length(len(ids), config.batch_size, config.seq_len)
except ValueError as err:
    log.exception("The text is too short for the model's batches")
    st.error(f"{err} (Batch size and sequence length are set on the Model page.)")

text_views.tokens_and_window(vocab, ids, config)

with st.expander("Read the text"):
    st.text(text[:3000] + ("\n…" if len(text) > 3000 else ""))

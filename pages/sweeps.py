"""Sweeps: try many settings in one click on Ray Tune, watch the trials side by side, stop the losers early, open the
winner."""

import logging

import streamlit as st

from core.text.batches import check_length
from ui import session, sweep_state, sweep_views, through_router, workspace

through_router()
log = logging.getLogger(__name__)

st.title("Sweeps")
st.caption("Train the current text and settings many times, each trial changing up to three settings, on Ray Tune. "
           "Every trial is saved as a run, grouped under its sweep; the Runs page lists them too.")
if workspace.store() is None:
    st.info("Sweeps need the run store, which this server cannot open; the sentence at the top of the page says why.")
    st.stop()

vocab, ids = session.encoded()
try:
    check_length(len(ids), 1, 2, "The loaded text")
except ValueError as err:
    st.error(f"{err} Load a longer text on the Text page.")
    st.stop()

sweep = sweep_state.latest()
runner = sweep_state.runner(sweep["id"]) if sweep else None
live = runner is not None and runner.active()
if sweep is not None:
    sweep_state.watch(sweep["id"])
    sweep_views.show(sweep, runner, live)

with st.expander("A new sweep", expanded=sweep is None or not live):
    sweep_views.panel(live)

"""Runs: every run of this workspace in a table, their loss curves overlaid, and what to do with each."""

import logging

import streamlit as st

from core.figures.runs import NUMERIC, SERIES_NUMERIC, overlay_figure, parallel_figure, varying
from core.runs.compare import curves, table
from core.runs.sqlite_store import StoreError
from ui import controls, run_lifecycle, run_views, session, through_router, workspace

through_router()
log = logging.getLogger(__name__)

st.title("Runs")
ss = st.session_state
store, ws = workspace.store(), workspace.token()
if store is None:
    st.info("Runs are not being saved on this server, so there is nothing to list. The sentence at the top of the page "
            "says why.")
    st.stop()
run_lifecycle.preset_confirmation("runs")
if ws:
    workspace.recorder().flush(ws)  # the latest of this workspace's trainings under way
if workspace.recorder().error_for(ws):
    st.warning(workspace.recorder().error_for(ws))

runs = store.runs(ws) if ws else []  # a session gets its workspace once it has something to save
if not runs:
    st.info("No runs yet. Every training you start is saved here, so you can compare it with the next one.")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()

kinds = sorted({r["kind"] for r in runs}, reverse=True)  # text first
kind = st.radio("Runs of", kinds, key="runs_kind", horizontal=True, format_func={"text": "text models",
                "series": "time series forecasters"}.get) if len(kinds) > 1 else kinds[0]
df = table(runs, kind)
by_id = {r["id"]: r for r in runs}
current = session.run()
st.caption(f"{len(runs)} run{'s' if len(runs) > 1 else ''} in this workspace, {store.usage(ws) / 2**20:,.1f} MB of its "
           f"{store.limits.megabytes:,} MB. Tick rows to choose which runs the chart overlays (the latest five when none is).")
shown = df.drop(columns=["id", "epochs done"])
event = st.dataframe(shown, key="runs_table", on_select="rerun", selection_mode="multi-row", hide_index=True, width="stretch",
                     placeholder=controls.MISSING,
                     column_config={"started": st.column_config.DatetimeColumn(format="D MMM, HH:mm:ss"),
                                    "learning rate": st.column_config.NumberColumn(format="%.4g"),
                                    "best val. loss": st.column_config.NumberColumn(format="%.3f"),
                                    "final loss": st.column_config.NumberColumn(format="%.3f")})
picked = [int(df.iloc[i]["id"]) for i in event.selection.rows] if event and event.selection.rows else []
overlaid = picked or [int(i) for i in df["id"][:5]]

x = st.radio("x axis", ["steps", "tokens seen", "seconds"], key="runs_x", horizontal=True,
             format_func=lambda v: "values seen" if v == "tokens seen" and kind == "series" else v,
             help="Seconds of training, pauses and epoch ends left out.")
try:
    traces = [curves(store, by_id[i], x) for i in reversed(overlaid)]
except StoreError as err:
    log.exception("The runs' curves could not be read")
    st.error(str(err))
    st.stop()
st.plotly_chart(overlay_figure(traces, x, "loss (MSE, scaled values)" if kind == "series" else "loss (cross-entropy)"),
                width="stretch", key="runs_overlay")
axes = varying(df, NUMERIC if kind == "text" else SERIES_NUMERIC)  # the settings that differ between the runs
if len(df) >= 2 and axes:
    st.plotly_chart(parallel_figure(df, axes), width="stretch", key="runs_parallel")

st.subheader("One run")
ids = [int(i) for i in df["id"]]
controls.bind("runs_pick", current.run_id if current is not None and current.run_id in ids else ids[0])
if ss.runs_pick not in ids:
    ss.runs_pick = ids[0]
pick = st.selectbox("Run", ids, key="runs_pick", format_func=lambda i: by_id[i]["name"])
run = by_id[pick]
trainer_now = workspace.recorder().live(pick)
live = trainer_now is not None and trainer_now.active()  # training in this server, in this tab or another
if run["message"]:
    st.caption(controls.plain(run["message"]))
if run["damaged"]:
    st.warning(controls.plain(run["damaged"]))

run_views.actions(run, pick, current, live)

run_views.name_and_note(store, run, pick)
run_views.downloads(store, run, pick)

"""What the Sweeps page draws: the panel that plans a sweep, and a sweep's board (live while it runs)."""

from __future__ import annotations

import logging
import math

import streamlit as st

from core.figures.runs import overlay_figure, parallel_figure, varying
from core.runs.compare import curves
from core.sweeps import board
from core.sweeps.space import SETTINGS, SweepError
from core.wording import duration
from ui import controls, sweep_state
from ui.store_access import store

log = logging.getLogger(__name__)
ASHA_LINE = ("ASHA judges every trial after 3 epochs, then at 6, 12 and so on, against the trials that reached the same "
             "epoch, and stops the ones outside the better half, so their slots go to more promising settings.")

NO_CURVES = "Each trial's loss curve is drawn here from its first steps."


def panel(live: bool) -> None:
    """The sweep panel: what varies, how, early stopping, the plan's numbers, and **Start sweep**."""
    ss = st.session_state
    controls.bind("sw_vary", ["learning_rate"])
    vary = st.multiselect("What varies (up to three settings)", list(SETTINGS), key="sw_vary", max_selections=3,
                          format_func=lambda k: SETTINGS[k].label)
    texts = {}
    for col, key in zip(st.columns(max(len(vary), 1)), vary):
        controls.bind(f"sw_{key}", SETTINGS[key].example)
        texts[key] = col.text_input(f"{SETTINGS[key].label.capitalize()} values", key=f"sw_{key}",
                                    help="A list (0.001, 0.003, 0.01) or a range low..high; low..high:4 takes 4 values of "
                                         "it in a grid (log-spaced for the learning rate).")
    a, b, c = st.columns(3)
    search = a.radio("Search", ["grid", "random"], key="sw_search", horizontal=True,
                     help="Grid: every combination. Random: draws from the lists and ranges.")
    trials = b.number_input("Trials (random search)", 1, 1000, 8, key="sw_trials", disabled=search == "grid")
    epochs = c.number_input("Epochs per trial", 1, 1000, 5, key="sw_epochs")
    asha = st.checkbox("Stop bad trials early (ASHA)", value=True, key="sw_asha")
    st.caption(ASHA_LINE)
    try:
        planned = sweep_state.plan_sweep(texts, search, int(trials), int(epochs), asha)
    except SweepError as err:
        st.error(str(err), icon=":material/tune:")
        planned = None
    if planned is not None:
        e = planned.estimate
        mb = e.largest_gb * 1024
        st.info(f"**{e.trials} trial{'s' if e.trials != 1 else ''}**, about {duration(e.seconds)} if every trial "
                f"trains to the end ({'ASHA usually saves much of it' if asha else 'no early stopping'}), "
                f"{f'at most {math.ceil(mb):,} MB' if mb >= 1 else 'under 1 MB'} of training memory each; "
                f"{e.at_once} can run at once on this server.",
                icon=":material/tune:")
    if st.button("Start sweep", key="sw_start", type="primary", disabled=planned is None or live,
                 help="A sweep of this workspace is running; stop it first." if live else None):
        with st.spinner("Starting the sweep…"):
            if sweep_state.start(planned) is not None:
                ss.sw_started = True
        st.rerun()


def show(sweep: dict, runner, live: bool) -> None:
    """The sweep's board, redrawn every second while this server runs it (`live`: the page's reading of its runner)."""

    @st.fragment(run_every=1.0 if live else None)
    def sweep_board() -> None:
        now = runner is not None and runner.active()  # one reading for the whole board: see _board
        if live and not now:
            st.rerun()  # it just ended: the whole page, with the best trial's sentence and button
        _board(sweep, runner, now)

    sweep_board()


def _board(sweep: dict, runner, active: bool) -> None:
    """The board as of one reading of `active`. Reading it again here once let a sweep that ended in between draw
    **Open the best** inside the ticking fragment, whose next run (the click's own) went to the `st.rerun` above and
    dropped the click; now the button is drawn only by a board that no longer ticks."""
    spec, runs = sweep_state.spec_of(sweep), sweep_state.trial_runs(sweep["id"])
    status = runner.status if runner is not None else sweep["status"]
    done = sum(r["status"] in ("finished", "stopped", "failed", "interrupted", "lost") for r in runs)
    st.subheader(f"Sweep {sweep['id']}: {len(runs)} trials, {done} done")
    if runner is not None and runner.message:
        st.caption(controls.plain(runner.message))
    if status == "interrupted":
        st.warning("This sweep was cut off when the server restarted: its unfinished trials show as interrupted. Each "
                   "can be opened on the Runs page and trained on from its last checkpoint.")
    if active:
        _buttons(runner, runs)
    df = board.table(runs, spec)
    if df.empty:
        return
    top = board.best(runs)
    traces = []
    for run in runs:
        trace = curves(store(), run, "steps")
        trace["name"] = ("★ " if top is not None and run["id"] == top["id"] else "") + board.label(run, spec)
        traces.append(trace)
    if any(len(trace["x"]) for trace in traces):
        st.plotly_chart(overlay_figure(traces, "steps"), width="stretch", key="sw_overlay")
    elif active:  # an empty chart drew axes from -1 to 6 while Ray Tune started (an ended sweep's curves never come)
        st.caption(NO_CURVES)
    st.dataframe(df.drop(columns=["id"]), hide_index=True, width="stretch", key="sw_table",
                 placeholder=controls.MISSING,
                 column_config={"best val. loss": st.column_config.NumberColumn(format="%.3f")})
    numeric = varying(df, {SETTINGS[a.key].label: ("log10 " if SETTINGS[a.key].log else "") + SETTINGS[a.key].label
                           for a in spec.axes if SETTINGS[a.key].kind is not str})
    if numeric and df["best val. loss"].notna().sum() >= 2:  # lines coloured by a loss two trials have, at least
        st.plotly_chart(parallel_figure(df, numeric | {"best val. loss": "best val. loss"}), width="stretch",
                        key="sw_parallel")
    if not active and top is not None:
        st.success(controls.plain(board.best_sentence(runs, spec)), icon=":material/emoji_events:")
        if st.button("Open the best", key="sw_open_best", type="primary",
                     help="Make the best trial the current run: Generate, Hidden states and the rest use it."):
            with st.spinner("Loading its weights…"):
                opened = sweep_state.open_best(top["id"])
            if opened:
                st.switch_page("pages/generate.py")


def _buttons(runner, runs: list[dict]) -> None:
    """Pause or resume the whole sweep, stop it, or stop one trial."""
    a, b, c, d = st.columns([1, 1, 2, 1])
    if runner.paused():
        a.button("Resume", key="sw_resume", on_click=runner.resume, width="stretch")
    else:
        a.button("Pause", key="sw_pause", on_click=runner.pause, width="stretch")
    b.button("Stop", key="sw_stop", on_click=runner.stop, width="stretch", help="Stop every trial; the ones not started "
             "never start. What each trial learned so far is kept.")
    going = [i for i, r in enumerate(runs) if r["status"] in ("waiting", "running", "paused")]
    if going:
        pick = c.selectbox("Trial", going, key="sw_pick", format_func=lambda i: f"trial {i + 1}",
                           label_visibility="collapsed")
        d.button("Stop this trial", key="sw_stop_one", width="stretch",
                 on_click=lambda: runner.trials[pick].stop("Stopped by you; the sweep goes on."))

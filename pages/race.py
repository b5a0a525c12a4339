"""Long-range race: a SimpleRNN and an LSTM learn to copy a letter 10 to 60 steps back; who gets there, and why."""

import streamlit as st

from core.config import CELL_NAMES
from core.figures.inspection import gradient_decay_figure
from core.figures.race import accuracy_curve_figure, lag_accuracy_figure
from core.figures.style import COLORS
from core.inspection.vanishing import fit_decays
from core.race.task import CHANCE, GRAD_MIN_LAG, LAG_BINS
from ui import run_lifecycle, session, through_router

through_router()

st.title("Long-range race")
st.caption("SimpleRNN against LSTM, on a task only long memory solves.")
ss = st.session_state
race_cfg = ss.race_config  # the session's race settings (ui.session.init)
st.markdown("On the *Long-range memory* sample every line is `K:xyzzy…>K`: the last letter copies the first, 10 to 60 characters "
            f"back, and nothing in between predicts it. The button trains a SimpleRNN and an LSTM of the same size ({race_cfg.units} units) "
            f"in the background, {race_cfg.steps:,} steps each (under a minute), taking turns on the same lines and scoring only that "
            "last letter; then it compares what they learned and how far back their gradients reach.")


def start_race() -> None:
    from core.workers.remote_race import RemoteRace

    if ss.get("race") is not None:
        ss.race.stop()
    text = session.cached_sample("long_range.txt").text
    ss.race = RemoteRace(text, ss.race_config, keep_alive=session.keep_alive())
    ss.race.owner = run_lifecycle.queue_owner()  # the fair queue: one slot per workspace while others wait
    ss.race.start()


race = ss.get("race")
active = race is not None and race.active()
b1, b2, _ = st.columns([2, 1, 3])
b1.button("Race them", key="race_start", type="primary", on_click=start_race, disabled=active)
b2.button("Stop", key="race_stop", on_click=race.stop if race else None, disabled=not active)
if race is None:
    st.stop()


@st.fragment(run_every=1.0 if active else None)
def race_view() -> None:
    """Redraw the race from its latest snapshot."""
    p = race.progress()
    if active and not race.active():
        st.rerun(scope="app")  # finished: redraw the buttons too
    if p.status == "failed":
        st.error(p.message)
    st.progress(min(p.step / p.steps, 1.0) if p.steps else 0.0,
                text=f"{p.status} · step {p.step:,} of {p.steps:,} for each model · {p.elapsed_s:.0f} s {p.message}")
    if p.evals:
        step, accs = p.evals[-1]
        steps, means = p.accuracy_curves()
        left, right = st.columns(2)
        left.plotly_chart(lag_accuracy_figure(LAG_BINS, {CELL_NAMES[c]: a for c, a in accs.items()}, CHANCE,
                                              title=f"Right last letter after {step:,} steps, by lag", colors=COLORS),
                          width="stretch", key="race_lag")
        right.plotly_chart(accuracy_curve_figure(steps, {CELL_NAMES[c]: m for c, m in means.items()}, CHANCE,
                                                 title="Right last letter while training (mean over lags)", colors=COLORS),
                           width="stretch", key="race_curve")
    if "after" in p.grads:
        curves = {f"{CELL_NAMES[c]} {when} training": g for when, d in p.grads.items() for c, g in d.items()}
        left, right = st.columns([3, 2], gap="large")
        left.plotly_chart(gradient_decay_figure(curves, fit_decays(curves), title=f"‖dL/dh_t‖ for the last letter, lines with lag ≥ {GRAD_MIN_LAG}",
                                                dashed=[n for n in curves if "before" in n], mark=(GRAD_MIN_LAG - 1, "keys start here"),
                                                colors={n: COLORS[n.split()[0]] for n in curves}),
                          width="stretch", key="race_grads")
        right.markdown(f"Dashed: before training; solid: after. Each line averages ‖dL/dh_t‖ of the last letter's loss over held-out "
                       f"lines whose key is at least {GRAD_MIN_LAG} steps back (dotted line). Where a line has fallen by many powers "
                       "of ten, the weights get next to no signal from the key: the SimpleRNN's product of Jacobians shrinks at every "
                       "step, while the LSTM's additive cell path keeps a route open. Once a model is right its loss, and so all its "
                       "gradients, get small: compare the slopes more than the heights.")


race_view()

"""Train: start, pause, resume and stop; the charts move while the model learns."""

import logging

import streamlit as st

from core.workers.cluster import startup_error
from core.config import OPTIMIZERS
from core.text.batches import check_length
from core.nn.estimate import check_fits
from ui import controls, run_lifecycle, session, through_router, training_views, workspace

through_router()
log = logging.getLogger(__name__)

st.title("Train")
ss = st.session_state
KEYS = {"learning_rate": "tr_lr", "optimizer": "tr_optimizer", "epochs": "tr_epochs", "clip_norm": "tr_clip",
        "max_steps_per_epoch": "tr_steps"}
for name, key in KEYS.items():
    controls.bind(key, getattr(ss.train_config, name))
run_lifecycle.preset_confirmation("tr")

active = session.training_active()
c1, c2, c3, c4, c5 = st.columns(5)
c1.number_input("Learning rate", 1e-5, 100.0, format="%.4f", step=0.0005, key="tr_lr", disabled=active)
c2.selectbox("Optimizer", OPTIMIZERS, key="tr_optimizer", disabled=active)
c3.number_input("Epochs", 1, 1000, key="tr_epochs", disabled=active)
c4.number_input("Clip gradient norm (0 = off)", 0.0, 1e6, step=0.5, key="tr_clip", disabled=active)
c5.number_input("Batches per epoch (0 = all)", 0, 10**7, step=50, key="tr_steps", disabled=active)
try:
    session.set_settings(train=controls.config_from_widgets(ss.train_config, KEYS), keep_widgets=True)
except ValueError as err:
    log.exception("The Train page's settings were not used")
    st.error(str(err))
    st.stop()

# Guards: what is missing, said once, then stop.
vocab, ids = session.encoded()
wanted = session.wanted_config()
try:
    check_length(len(ids), wanted.batch_size, wanted.seq_len, "The loaded text")
    check_fits(wanted)
except ValueError as err:
    log.exception("This training cannot start")
    st.error(f"{err} Change it on the Text or Model page.")
    st.stop()

run = session.run()
if ss.get("model_draft"):
    st.info("New settings on the Model page are waiting for you to confirm them there. Until you do, training uses "
            "the current model.")
    st.page_link("pages/model.py", label="Confirm or drop them on the Model page", icon=":material/account_tree:")
if run is not None and not session.run_is_current(run) and run.trained_steps and not session.training_active():
    if run_lifecycle.needs_confirmation(wanted):
        st.warning("The text or the model settings changed since this model was trained. "
                   "Training now builds a new model and throws the trained one away.")
    else:
        st.info("The text or the model settings changed since this run trained: **Start training** begins a new run. "
                "This one stays on the Runs page.")

if startup_error():
    st.error(startup_error())
if workspace.recorder() is not None and workspace.recorder().error_for(workspace.token()):
    st.warning(workspace.recorder().error_for(workspace.token()))
trainer = run.trainer if run is not None else None
paused = controls.training_buttons("tr", trainer, active, run_lifecycle.start_training, on_step=run_lifecycle.step_training)
st.button("Restart from the same initial weights", key="tr_restart", disabled=active, on_click=run_lifecycle.restart_run)
st.caption("Restart: a new run from the weights the seed gives, so two students with the same settings and seed see "
           "the same numbers, step for step. The run before stays on the Runs page.")  # as a tooltip it covered Start


@controls.live_fragment(trainer, active, paused)
def live_status(p) -> None:
    """Redraw the status and the numbers from the trainer's latest snapshot, twice a second."""
    training_views.status(p, trainer.config.vocab_size, trainer.tokens_per_step)


@controls.live_fragment(trainer, active, paused, every=1.0, watch=False, queue=False)
def live_charts(p) -> None:
    """Redraw the charts once a second (the browser's plotting is the costly part of a redraw), and the samples; not
    while the training waits in the queue (nothing in them moves; live_status redraws the page when its turn comes)."""
    training_views.charts(trainer, p)


if trainer is None:  # not st.stop(): the settings just read still reach the address at the end of this run
    st.info("Press **Start training**. The model learns in the background; this page keeps drawing while it does.")
else:
    live_status()
    live_charts()
if run is not None:
    training_views.code_download(run)

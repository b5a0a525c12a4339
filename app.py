"""RNN Playground: the router. Shared page config, the sidebar status, and st.navigation over pages/."""

import importlib
import logging
import threading

import streamlit as st
from streamlit.runtime.scriptrunner import script_runner

# After every script run (each 0.5 s poll of a live fragment too) Streamlit calls keras.backend.clear_session():
# it resets Keras' global state for every thread, TensorFlow's default graph and kernel cache, and runs a full
# garbage collection. Trainings run in Ray workers now, but this server still keeps each session's model for Generate
# and the inspection pages, and a background thread per training writes new weights into it: resetting Keras under
# them is unsafe (and was 7x slower while training ran here), so this server turns that clean-up off. Nothing here
# relies on it: models live in session state. The function is private: tests/unit/test_streamlit_private_api.py fails
# when Streamlit renames or removes it, so an upgrade cannot turn this off silently.
script_runner._clean_problem_modules = lambda: None

st.set_page_config(page_title="RNN Playground", page_icon=":material/autorenew:", layout="wide")

from core import logs, settings  # noqa: E402

log = logging.getLogger("app")
try:
    logs.configure(settings.current().log_level)
except settings.SettingsError as err:  # refuse at once, with the sentence, before anything reads a setting
    logs.configure("INFO")
    log.error("The server cannot start: %s", err)
    st.error(f"The server cannot start: {err}", icon=":material/settings:")
    st.stop()


def _warm_up() -> None:
    """Start (or join) Ray with its warm training workers, then import TensorFlow for Generate and inspection.
    With RNN_PLAYGROUND_WARM_WORKERS=0 nothing is started ahead: Ray starts with the first training."""
    from core.workers import cluster, pool

    if not settings.current().warm_workers:
        return
    try:
        pool.workers()
    except cluster.ClusterError:
        pass  # kept by core.workers.cluster; the Train page says it in a sentence
    importlib.import_module("core.nn.tf")


@st.cache_resource(show_spinner=False)
def _warm_up_once() -> threading.Thread:
    """Warm up in the background once per server, so Home never waits for it."""
    thread = threading.Thread(target=_warm_up, name="rnn-warm-up", daemon=True)
    thread.start()
    return thread


from ui import controls, session, workspace  # noqa: E402  (after set_page_config)

session.init()
workspace.open_workspace()
PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/text.py", title="Text", icon=":material/description:"),
    st.Page("pages/model.py", title="Model", icon=":material/account_tree:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/stacked_line_chart:"),
    st.Page("pages/class.py", title="Class", icon=":material/school:", url_path="class"),
    st.Page("pages/sweeps.py", title="Sweeps", icon=":material/tune:"),
    st.Page("pages/generate.py", title="Generate", icon=":material/edit_note:"),
    st.Page("pages/hidden_states.py", title="Hidden states", icon=":material/grid_on:"),
    st.Page("pages/connectivity.py", title="Connectivity", icon=":material/hub:"),
    st.Page("pages/gradients.py", title="Gradients", icon=":material/trending_down:"),
    st.Page("pages/race.py", title="Long-range race", icon=":material/sprint:"),
    st.Page("pages/series.py", title="Time series", icon=":material/show_chart:"),
]
page = st.navigation(PAGES, expanded=True)  # all 13 pages in the menu (collapsed, it shows ten)
controls.sidebar_status()
workspace.sidebar_note()
workspace.show_notices()
workspace.sync()  # before the page too: a page that stops early (st.stop) can no longer change the address after it
try:
    page.run()
finally:
    workspace.sync()
    _warm_up_once()  # after the page is drawn, so starting Ray and importing TensorFlow never delay the first screen

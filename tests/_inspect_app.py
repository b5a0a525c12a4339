"""A test router: app.py's pages plus Hidden states and Gradients, until app.py registers them.

Run it like the app (`streamlit run tests/_inspect_app.py`) or with AppTest; page paths are absolute
because Streamlit resolves them from this file's folder.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

st.set_page_config(page_title="RNN Playground", page_icon=":material/autorenew:", layout="wide")

from ui import state, widgets  # noqa: E402

state.init()
PAGES = [
    st.Page(ROOT / "pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page(ROOT / "pages/text.py", title="Text", icon=":material/description:"),
    st.Page(ROOT / "pages/model.py", title="Model", icon=":material/account_tree:"),
    st.Page(ROOT / "pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page(ROOT / "pages/generate.py", title="Generate", icon=":material/edit_note:"),
    st.Page(ROOT / "pages/hidden_states.py", title="Hidden states", icon=":material/grid_on:"),
    st.Page(ROOT / "pages/gradients.py", title="Gradients", icon=":material/trending_down:"),
]
page = st.navigation(PAGES)
widgets.sidebar_status()
page.run()

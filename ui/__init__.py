"""Streamlit glue shared by the pages: per-session state and shared widgets.

On a fresh server Streamlit's old `pages/` mode can run a page without `app.py` (a bookmark of /train, or every
tab reconnecting after a restart): then nothing is initialised, the sidebar lists raw file names, and the page
fails. Streamlit leaves that mode once `st.navigation` is called. Every page calls `through_router()` first: in a
session where `app.py` never ran, it switches the mode off and starts over through the router. (It is checked per
session, not once per import: several tabs reconnecting together all start in the old mode.)
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def through_router() -> None:
    """The first call of every page: start over through `app.py` when this run did not come through it."""
    if "model_config" not in st.session_state:  # set by app.py's first run in every session
        PagesManager.uses_pages_directory = False
        st.rerun()

"""Streamlit glue shared by the pages: per-session state and shared widgets.

On a fresh server Streamlit's old `pages/` mode can run a page without `app.py` (a bookmark of /train, or every
tab reconnecting after a restart): then nothing is initialised, the sidebar lists raw file names, and the page
fails. Streamlit leaves that mode once `st.navigation` is called. Every page calls `through_router()` first: a
run that did not come through `app.py` switches the mode off and starts over through the router. (It is checked
per run, not once per import: several tabs reconnecting together all start in the old mode.)
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def through_router() -> None:
    """The first call of every page: start over through `app.py` when this run did not come through it."""
    if PagesManager.uses_pages_directory or "model_config" not in st.session_state:
        PagesManager.uses_pages_directory = False
        st.rerun()

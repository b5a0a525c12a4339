"""Streamlit glue shared by the pages: per-session state and shared widgets.

Imported first by whatever page a request runs. On a fresh server Streamlit's old `pages/` mode can run a page
without `app.py` (a bookmark of /train, or every tab reconnecting after a restart): then nothing is initialised,
the sidebar lists raw file names, and the page fails. Streamlit leaves that mode once `st.navigation` is called,
so the first such run switches it off and starts over through the router.
"""

from streamlit.runtime.pages_manager import PagesManager

if PagesManager.uses_pages_directory:
    import streamlit as st

    PagesManager.uses_pages_directory = False
    st.rerun()

"""Streamlit glue shared by the pages: per-session state and shared widgets."""

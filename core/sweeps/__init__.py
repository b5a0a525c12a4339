"""Sweeps: what varies, the planned trials, their checks and estimates (pure: no Ray, no Streamlit)."""

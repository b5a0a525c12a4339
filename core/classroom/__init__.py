"""A teacher's class: its board's rows, built from data the pages read (pure: no Streamlit, no store)."""

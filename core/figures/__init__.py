"""Arrays in, Plotly figures out. Never fits, trains or calls Streamlit."""

"""What the Runs page draws for the run picked: its name and note, and its files to download."""

from __future__ import annotations

import streamlit as st

from core.runs.compare import history_csv
from ui import stored_runs
from ui.controls import plain


def name_and_note(store, run: dict, pick: int) -> None:
    """A run's name and note, saved with one button."""
    n1, n2, n3 = st.columns([2, 3, 1], vertical_alignment="bottom")
    name = n1.text_input("Name", run["name"], max_chars=80, key=f"runs_name_{pick}")
    note = n2.text_input("Note", run["note"], max_chars=500, key=f"runs_note_{pick}", placeholder="What you tried, what you saw")
    if n3.button("Save", key="runs_save", width="stretch", disabled=(name, note) == (run["name"], run["note"])):
        store.update_run(run["workspace"], pick, name=name.strip() or run["name"], note=note.strip())
        st.rerun()


def downloads(store, run: dict, pick: int) -> None:
    """The run's weights, its vocabulary (a text run) or series (a forecaster), and its history."""
    d1, d2, d3 = st.columns(3)
    saved = store.weights(run["workspace"], pick)
    d1.download_button("Weights (.keras)", data=lambda: saved[0].path.read_bytes(), file_name=f"run-{pick}.keras",
                       mime="application/zip", on_click="ignore", key="runs_dl_keras", icon=":material/download:",
                       disabled=not saved, help=None if saved else "This run has no saved weights yet (they are saved at epoch ends and stops).")
    if run["kind"] == "text":
        d2.download_button("Vocabulary (.json)", data=run["vocab"], file_name=f"run-{pick}-vocabulary.json",
                           mime="application/json", on_click="ignore", key="runs_dl_vocab", icon=":material/download:")
    else:
        d2.download_button("Series (.csv)", data=lambda: store.text(run["text_hash"]) or "", file_name=f"run-{pick}-series.csv",
                           mime="text/csv", on_click="ignore", key="runs_dl_series", icon=":material/download:")
    d3.download_button("History (.csv)", data=lambda: history_csv(store, run), file_name=f"run-{pick}-history.csv",
                       mime="text/csv", on_click="ignore", key="runs_dl_csv", icon=":material/download:")


def confirm_delete(run: dict, pick: int) -> None:
    """The question before a run is deleted, with its two answers."""
    st.warning(f"Delete **{plain(run['name'])}**, its history and its weights? This cannot be undone.")
    y, n = st.columns(2)
    y.button("Delete it", key="runs_delete_yes", type="primary", on_click=stored_runs.delete_run, args=(pick,))
    n.button("Keep it", key="runs_delete_no", on_click=lambda: st.session_state.pop("runs_confirm", None))

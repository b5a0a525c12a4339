"""What the Runs page draws for the run picked: its name and note, and its files to download (the `Code (.zip)` button
is the Train page's too)."""

from __future__ import annotations

import logging
from typing import Callable

import streamlit as st

from core.export.bundle import NO_WEIGHTS, TEXT_GONE, ExportError, run_zip, zip_name
from core.runs.compare import history_csv
from ui import forecaster_state, run_lifecycle, store_access, stored_runs
from ui.controls import plain

log = logging.getLogger(__name__)
CODE_HELP = ("train.py and train.ipynb that train this run again in plain Keras (the same batches, initial weights and "
             "optimizer, so the same losses), with its data, pinned requirements and latest weights.")


def no_trained_model() -> None:
    """What Generate says without a trained model open: open a trained run of this workspace, or train one (after the
    open run was deleted it said "no trained model yet" while trained runs were still there)."""
    s, ws = store_access.store(), store_access.token()
    trained = [r for r in s.runs(ws) if r["kind"] == "text" and r["step"] > 0] if s is not None and ws else []
    if trained:
        st.info(f"No trained model is open. Open one of this workspace's {len(trained):,} trained run"
                f"{'s' if len(trained) != 1 else ''} on the Runs page, or train a new one.")
        st.page_link("pages/runs.py", label="Go to Runs", icon=":material/stacked_line_chart:")
    else:
        st.info("There is no trained model yet. Train one first; even a minute of training makes a difference.")
        st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")


def name_and_note(store, run: dict, pick: int) -> None:
    """A run's name and note, saved with one button."""
    n1, n2, n3 = st.columns([2, 3, 1], vertical_alignment="bottom")
    name = n1.text_input("Name", run["name"], max_chars=80, key=f"runs_name_{pick}")
    note = n2.text_input("Note", run["note"], max_chars=500, key=f"runs_note_{pick}", placeholder="What you tried, what you saw")
    blank = not name.strip()
    if n3.button("Save", key="runs_save", width="stretch", disabled=blank or (name, note) == (run["name"], run["note"])):
        store.update_run(run["workspace"], pick, name=name.strip(), note=note.strip())
        st.rerun()
    if blank:  # Save kept the old name without a word
        st.caption(f"A run needs a name: type one to save. Until then it stays “{plain(run['name'])}”.")


def downloads(store, run: dict, pick: int) -> None:
    """The run's weights, its vocabulary (a text run) or series (a forecaster), and its history."""
    d1, d2, d3, d4 = st.columns(4)
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
    code_button(d4, lambda: run_zip(store, run["workspace"], pick), zip_name(pick), "runs_dl_code", bool(saved),
                text_kept(store, run["text_hash"]))


def text_kept(store, text_hash: str) -> bool:
    """Whether the store still has a run's text (or series), asked once per session and text."""
    kept = st.session_state.setdefault("export_text_kept", {})
    if text_hash not in kept:
        kept[text_hash] = store.text(text_hash) is not None
    return kept[text_hash]


def code_button(where, build: Callable[[], bytes], file_name: str, key: str, has_weights: bool, text_there: bool = True,
                gone: str = TEXT_GONE) -> None:
    """The `Code (.zip)` download: `build` makes the zip only when it is pressed, never on a redraw.

    Args:
        where: the column (or `st`) to draw it in; the sentences below it go to the page.
        build: returns the zip's bytes (`core.export.bundle`).
        has_weights: whether the run has saved weights; without, a sentence says the zip has none.
        text_there: whether its text is still stored; without, the button is off and `gone` says why.
    """
    where.download_button("Code (.zip)", data=lambda: _built(build) if text_there else b"", file_name=file_name,
                          mime="application/zip", on_click="ignore", key=key, icon=":material/code:",
                          disabled=not text_there, help=CODE_HELP)
    if not text_there:
        st.caption(gone)
    elif not has_weights:
        st.caption(f"Code (.zip): {NO_WEIGHTS}")


def _built(build: Callable[[], bytes]) -> bytes:
    """The zip, or when it cannot be made, a zip whose README says why (a download cannot show a sentence)."""
    import io
    import zipfile

    try:
        return build()
    except Exception as err:  # noqa: BLE001 — logged with its traceback; the student gets the sentence
        log.exception("The code export failed")
        why = str(err) if isinstance(err, ExportError) else f"The export failed ({type(err).__name__}: {err}). Try again."
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            z.writestr("README.md", why + "\n")
        return out.getvalue()


def confirm_delete(run: dict, pick: int) -> None:
    """The question before a run is deleted, with its two answers."""
    st.warning(f"Delete **{plain(run['name'])}**, its history and its weights? This cannot be undone.")
    y, n = st.columns(2)
    y.button("Delete it", key="runs_delete_yes", type="primary", on_click=stored_runs.delete_run, args=(pick,))
    n.button("Keep it", key="runs_delete_no", on_click=lambda: st.session_state.pop("runs_confirm", None))


def actions(run: dict, pick: int, current, live: bool) -> None:
    """Open, Train again and Delete for the picked run (`current`: this session's text run; `live`: the picked run
    trains in this server now)."""
    ss = st.session_state
    a, b, c = st.columns(3)
    text_run = run["kind"] == "text"
    now = current if text_run else forecaster_state.current()  # this session's run of the picked run's kind
    is_current = now is not None and now.run_id == pick
    if a.button("Open", key="runs_open", width="stretch", disabled=is_current,
                help="Make it the current run: Generate, Hidden states and Gradients use its weights." if text_run else
                "Make it the Time series page's forecaster, with its series and settings."):
        with st.spinner("Loading its weights…"):
            if text_run:
                stored_runs.attach_run(pick)
            else:
                stored_runs.attach_series_run(pick)
        st.switch_page("pages/train.py" if text_run else "pages/series.py")
    if b.button("Train again with its settings", key="runs_again", width="stretch"):
        with st.spinner("Loading its settings…"):
            started = run_lifecycle.train_again(pick, text_run)
        if started:
            st.switch_page("pages/train.py" if text_run else "pages/series.py")
    c.button("Delete…", key="runs_delete", width="stretch", disabled=live, on_click=lambda: ss.update(runs_confirm=pick),
             help="Stop its training first." if live else None)
    if ss.get("runs_confirm") == pick:
        confirm_delete(run, pick)
    if now is not None and now.trainer is not None and now.trainer.active() and not live:
        st.caption("Opening another run, or training again, stops the training under way (it stays here).")

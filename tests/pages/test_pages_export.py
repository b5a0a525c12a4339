"""AppTest for the code export: `Code (.zip)` on the Train page (the current run) and on the Runs page, a run without
saved weights says the zip has none, and a run whose text is gone says why it cannot be exported."""

import io
import sqlite3
import zipfile

from core.export.bundle import NO_WEIGHTS, TEXT_GONE
from core.runs.reopen import vocab_json
from tests.helpers import FOX, FOX_VOCAB, SHORT, SMALL, reopened
from ui import workspace
from ui.store_access import data_folder


def _stored_run(text: str = FOX) -> tuple[str, int, str]:
    """A workspace whose current run is a stored text run of `text` (within the fox's vocabulary) that never saved
    weights: (token, run id, text key)."""
    s = workspace.store()
    ws = s.create_workspace()
    key = s.put_text(text)
    run_id = s.create_run(ws, "run 1 · the fox", key, "the fox", SMALL, SHORT, vocab_json(FOX_VOCAB))
    s.update_run(ws, run_id, status="stopped")
    s.save_workspace(ws, {"text_name": "the fox", "level": "char", "run": run_id}, key)
    return ws, run_id, key


def _code_buttons(at) -> list:
    return [b for b in at.get("download_button") if b.proto.label == "Code (.zip)"]


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_code_zip_is_on_train_and_runs_and_a_run_without_weights_says_so():
    ws, run_id, _ = _stored_run()
    at = reopened(ws)
    assert at.session_state["run"].run_id == run_id
    at.switch_page("pages/train.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(_code_buttons(at)) == 1 and not _code_buttons(at)[0].proto.disabled
    assert NO_WEIGHTS in _captions(at)
    at.switch_page("pages/runs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(_code_buttons(at)) == 1 and NO_WEIGHTS in _captions(at)
    # What the button hands over when pressed (the same call, made here): the code, the text, no weights.
    from core.export.bundle import run_zip

    names = zipfile.ZipFile(io.BytesIO(run_zip(workspace.store(), ws, run_id))).namelist()
    assert f"run-{run_id}/train.py" in names and f"run-{run_id}/text.txt" in names
    assert not any(n.endswith(".keras") for n in names)


def test_a_run_whose_text_is_gone_gives_a_sentence_on_runs():
    # a text of this test's own: the pytest workers share one data folder, and texts are stored by their content, so
    # any other test that saved the fox's text while this one ran put it back (seen once in 57 tests)
    ws, run_id, key = _stored_run(FOX + "the gone text.\n")
    with sqlite3.connect(data_folder() / "store.sqlite") as db:  # as a damaged store would have it
        db.execute("DELETE FROM texts WHERE hash = ?", (key,))
    at = reopened(ws)
    at.switch_page("pages/runs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    buttons = _code_buttons(at)
    assert len(buttons) == 1 and buttons[0].proto.disabled
    assert TEXT_GONE in _captions(at)

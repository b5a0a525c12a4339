"""N5's second half: opening a forecaster that this server trains right now takes the live trainer as it is and reads
no weights file (a disk read, a model build and a possible damage mark for a run whose file is being written)."""

import json
import shutil
from pathlib import Path

from core.runs import reopen
from core.runs.sqlite_store import RunStore

DATA = Path(__file__).resolve().parents[1] / "data"


class Live:
    model = object()

    def restore(self, *args, **kwargs):  # what a reopened trainer is given: its history and checkpoint
        pass


def test_a_live_forecaster_is_not_reopened_from_disk(tmp_path):
    shutil.copytree(DATA / "e50e357", tmp_path / "data")
    expected = json.loads((tmp_path / "data" / "expected.json").read_text())
    store, ws = RunStore(tmp_path / "data"), expected["workspace"]
    run_id = next(int(i) for i, r in expected["runs"].items() if r["kind"] == "series")

    def no_disk(*args, **kwargs):
        raise AssertionError("a live run was read from disk")

    live = Live()
    opened = reopen.open_series_run(store, ws, run_id, no_disk, live=live)
    assert opened.trainer is live and opened.model is Live.model and opened.damaged == ""
    assert len(opened.series.values) == 120  # the series and windows still come from the store


def test_without_a_live_trainer_it_is_reopened_from_disk(tmp_path):
    """The other side of the test above: with no live trainer, the trainer factory is called (so it can fail there)."""
    shutil.copytree(DATA / "e50e357", tmp_path / "data")
    expected = json.loads((tmp_path / "data" / "expected.json").read_text())
    store, ws = RunStore(tmp_path / "data"), expected["workspace"]
    run_id = next(int(i) for i, r in expected["runs"].items() if r["kind"] == "series")
    made = []
    reopen.open_series_run(store, ws, run_id, lambda *a: made.append(a) or Live())
    assert len(made) == 1

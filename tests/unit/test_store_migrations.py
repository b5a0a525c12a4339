"""Upgrades keep data: data folders written by earlier releases (tests/data/, made by tests/data/make_old_stores.py
and, for schema version 4, make_v4_store.py) open with every run intact, a failed or impossible upgrade says so
without blaming the disk, and changes nothing."""

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from core.config import TrainConfig
from core.nn.language_model import build_model
from core.runs import reopen, schema
from core.runs.sqlite_store import RunStore
from core.runs.store import SchemaError, StoreError
from core.workers.remote_trainer import RemoteSeriesTrainer, RemoteTrainer
from tests.helpers import sql

DATA = Path(__file__).resolve().parents[1] / "data"


def copied(name: str, tmp_path: Path) -> tuple[Path, dict]:
    folder = tmp_path / name
    shutil.copytree(DATA / name, folder)
    return folder, json.loads((folder / "expected.json").read_text())


def old_weights(path: Path, build):
    """The first weight array of an old `.keras` file, read from the file in tests/data itself."""
    model = build()
    model.load_weights(str(path))
    return model.get_weights()[0]


OLD = ["e50e357", "v1-56f385c", "v4-bce38b2"]


@pytest.mark.parametrize("name", OLD)
def test_a_data_folder_of_an_earlier_release_opens_with_every_run_intact(tmp_path, name):
    folder, expected = copied(name, tmp_path)
    store = RunStore(folder)
    ws = expected["workspace"]
    runs = {str(r["id"]): r for r in store.runs(ws)}
    assert sorted(runs) == sorted(expected["runs"]) and len(runs) == (3 if name == "e50e357" else 2)
    assert store.workspace_state(ws)["run"] == 1
    for run_id, want in expected["runs"].items():
        run = runs[run_id]
        assert (run["name"], run["kind"], run["status"], run["note"], run["text_name"]) == \
            (want["name"], want["kind"], want["status"], want["note"], want["text_name"])
        assert json.loads(run["model"]) == want["model"] and json.loads(run["train"]) == want["train"]
        rows = store.rows(ws, int(run_id))
        assert rows["steps"].tolist() == want["steps"] and rows["loss"].tolist() == want["loss"]
        assert [w.step for w in store.weights(ws, int(run_id))] == want["weights_steps"]
        assert json.loads(run["extras"])["val"] == want["val"] and not run["damaged"]
        assert run["sweep_id"] == want.get("sweep_id") and run["class_id"] is None
        if run["kind"] == "text":
            opened = reopen.open_run(store, ws, int(run_id), RemoteTrainer)
            assert opened.config.cell == "gru" and opened.text_name == "old text" and not opened.damaged
            first = opened.model.get_weights()[0]
            original = DATA / name / "weights" / run_id / store.weights(ws, int(run_id))[0].path.name
            assert np.array_equal(first, old_weights(original, lambda: build_model(opened.config)))
        else:
            assert (run["data_kind"], run["vocab"]) == ("series_csv", None)  # it held "{}": N20
            opened = reopen.open_series_run(store, ws, int(run_id), RemoteSeriesTrainer)
            assert opened.config.cell == "lstm" and opened.windows.config.lookback == 6 and len(opened.series.values) == 120
            first = opened.model.get_weights()[0]
        assert np.array_equal(first, np.array(want["first_weights"], np.float32))
        p = opened.trainer.progress()
        assert list(p.steps) == want["steps"] and list(p.val_steps) == [v[0] for v in want["val"]]
    if "sweeps" in expected:  # version 4's sweep, its trial (run 2) and its best run
        assert [{k: s[k] for k in ("id", "spec", "status", "message", "best_run")} for s in store.sweeps(ws)] == \
            expected["sweeps"] and [r["id"] for r in store.sweep_runs(ws, 1)] == [2]
    assert store.classes(ws) == [] and store.class_of(ws) is None
    assert sql(store.folder, "PRAGMA user_version") == [(schema.LATEST,)]
    assert sql(store.folder, "PRAGMA foreign_key_check") == [] and sql(store.folder, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.parametrize("name", OLD)
def test_an_upgraded_store_starts_a_class_whose_students_runs_carry_it(tmp_path, name):
    """Migration 5: classes, students and runs.class_id, on a folder of each earlier schema."""
    folder, expected = copied(name, tmp_path)
    store = RunStore(folder)
    ws = expected["workspace"]
    old = store.runs(ws)
    setup = dict(store.workspace_state(ws), text=old[0]["text_hash"], model=json.loads(old[0]["model"]),
                 train=json.loads(old[0]["train"]), vocab_cap=0)
    made = store.create_class(ws, setup)
    student = store.join_class(made["id"], "Ada")
    assert store.class_of(student) == made["id"] and store.workspace_state(student) == setup
    run_id = store.create_run(student, "run 1 · GRU 4u", setup["text"], "old text", setup["model"], TrainConfig(), "{}")
    assert run_id > max(r["id"] for r in old) and store.run(student, run_id)["class_id"] == made["id"]
    for run in old:
        store.delete_run(ws, run["id"])  # the teacher's runs go; the class's text stays for the next student
    assert store.text(setup["text"]) is not None and RunStore(folder).class_by_join(made["join"])["students"] == 1


def test_an_upgraded_store_keeps_working_and_deleting_takes_history_and_weights_along(tmp_path):
    folder, expected = copied("v1-56f385c", tmp_path)
    store = RunStore(folder)
    ws = expected["workspace"]
    store.delete_run(ws, 1)
    assert sql(store.folder, "SELECT COUNT(*) FROM rows WHERE run = 1") == [(0,)]
    assert sql(store.folder, "SELECT COUNT(*) FROM weights WHERE run = 1") == [(0,)]
    new = store.create_run(ws, store.next_run_name(ws, "GRU 4u"), store.put_text("new text"), "t",
                           json.loads(store.runs(ws)[0]["model"]), TrainConfig(), "{}")
    assert new > 2 and store.run(ws, new)["name"].startswith("run 3 ")  # "run 2" is still there
    again = RunStore(folder)  # opening an upgraded folder again changes nothing
    assert len(again.runs(ws)) == 2 and sql(again.folder, "PRAGMA user_version") == [(schema.LATEST,)]


def test_a_store_from_a_newer_release_says_so_and_is_left_alone(tmp_path):
    folder, _ = copied("e50e357", tmp_path)
    db = sqlite3.connect(folder / "store.sqlite")
    db.execute(f"PRAGMA user_version = {schema.LATEST + 1}")
    db.commit(), db.close()
    with pytest.raises(SchemaError) as caught:
        RunStore(folder)
    assert "newer release" in str(caught.value) and "disk" not in str(caught.value)


def test_a_failed_upgrade_to_classes_leaves_version_4_as_it_was(tmp_path, monkeypatch):
    folder, expected = copied("v4-bce38b2", tmp_path)
    real = schema.MIGRATIONS[5]

    def broken(db):
        real(db)
        db.execute("INSERT INTO students (class_id, name, workspace, joined) VALUES (99, 'x', 'y', 0)")  # no class 99

    monkeypatch.setitem(schema.MIGRATIONS, 5, broken)
    with pytest.raises(SchemaError, match=r"from schema version 4 to 5 \(1 rows of students point to rows that are gone"):
        RunStore(folder)
    db = sqlite3.connect(folder / "store.sqlite")
    assert db.execute("PRAGMA user_version").fetchone() == (4,)
    assert db.execute("SELECT name FROM sqlite_master WHERE name IN ('classes', 'students')").fetchall() == []
    assert "class_id" not in {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    db.close()
    monkeypatch.undo()
    assert [r["class_id"] for r in RunStore(folder).runs(expected["workspace"])] == [None, None]


def test_a_failed_upgrade_changes_nothing_and_does_not_blame_the_disk(tmp_path, monkeypatch):
    """N4: "no such column: kind" was reported as "free some disk space"."""
    folder, expected = copied("v1-56f385c", tmp_path)

    def broken(db):
        db.execute("ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'text'")
        db.execute("SELECT no_such_column FROM runs")

    monkeypatch.setitem(schema.MIGRATIONS, 2, broken)
    with pytest.raises(SchemaError) as caught:
        RunStore(folder)
    message = str(caught.value)
    assert "could not be upgraded from schema version 1" in message and "no such column" in message
    assert "disk space" not in message and "left as it was" in message
    db = sqlite3.connect(folder / "store.sqlite")
    assert db.execute("PRAGMA user_version").fetchone() == (0,)
    assert "kind" not in {row[1] for row in db.execute("PRAGMA table_info(runs)")}  # rolled back
    db.close()
    monkeypatch.undo()
    assert len(RunStore(folder).runs(expected["workspace"])) == 2  # and the next start upgrades it


def test_an_unexpected_database_error_is_not_blamed_on_the_disk(tmp_path):
    store = RunStore(tmp_path)
    with pytest.raises(StoreError) as caught:
        store._sql("SELECT kind_of_nothing FROM runs")
    assert "disk" not in str(caught.value) and "no such column" in str(caught.value)

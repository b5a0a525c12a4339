"""The store's REVIEW defects: damaged marks per weights file and only for a damaged file (N5), a run id reaches
nothing outside its workspace (N17), the limit check and the INSERT in one transaction, names that never repeat,
and a forecaster's series told apart from a text (N20). No Ray: trainers here never start."""

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core.config import ModelConfig, TrainConfig
from core.nn.language_model import build_model
from core.runs import reopen, weights_files
from core.runs.reopen import vocab_json
from core.runs.sqlite_store import LimitReached, Limits, RunStore
from core.runs.store import StoreError
from core.text.vocabulary import Vocabulary
from core.workers.remote_trainer import RemoteTrainer

TEXT = "each file is damaged on its own.\n" * 10
VOCAB = Vocabulary.build(TEXT)
CONFIG = ModelConfig(vocab_size=len(VOCAB), embedding_dim=3, rnn_units=4, batch_size=2, seq_len=5)


def new_run(store: RunStore, ws: str) -> int:
    return store.create_run(ws, store.next_run_name(ws, "SimpleRNN 4u"), store.put_text(TEXT), "t", CONFIG,
                            TrainConfig(), vocab_json(VOCAB))


def with_checkpoints(tmp_path, steps=(5, 10)):
    """A run with a real `.keras` checkpoint per step, each of different weights: (store, ws, run id, weights by step)."""
    store = RunStore(tmp_path, Limits(runs=10, megabytes=100, keep=5))
    ws = store.create_workspace()
    run_id, saved = new_run(store, ws), {}
    for step in steps:
        model = build_model(CONFIG)
        model.set_weights([np.full(w.shape, step, np.float32) for w in model.get_weights()])
        store.save_weights(ws, run_id, step, step // 5, 0, 1.0, model.save)
        saved[step] = model.get_weights()
    store.update_run(ws, run_id, status="finished", step=max(steps))
    return store, ws, run_id, saved


def opened(store, ws, run_id):
    return reopen.open_run(store, ws, run_id, RemoteTrainer)


def test_n5_a_damaged_file_is_marked_alone_and_the_mark_goes_once_it_reads(tmp_path):
    store, ws, run_id, saved = with_checkpoints(tmp_path)
    newest = store.weights(ws, run_id)[0].path
    good = newest.read_bytes()
    newest.write_bytes(b"PK half a zip")
    o = opened(store, ws, run_id)
    assert "step 10" in o.damaged and np.array_equal(o.model.get_weights()[0], saved[5][0])
    marks = [(w.step, bool(w.damaged)) for w in store.weights(ws, run_id)]
    assert marks == [(10, True), (5, False)] and "step 10" in store.run(ws, run_id)["damaged"]
    newest.write_bytes(good)  # whatever made it unreadable is gone (a restored backup, a Keras that reads it)
    o = opened(store, ws, run_id)
    assert not o.damaged and not store.run(ws, run_id)["damaged"] and np.array_equal(o.model.get_weights()[0], saved[10][0])


@pytest.mark.parametrize("fault", [MemoryError("out of memory"), OSError(5, "Input/output error"), RuntimeError("TF")])
def test_n5_a_read_that_fails_marks_nothing(tmp_path, monkeypatch, fault):
    store, ws, run_id, _ = with_checkpoints(tmp_path)
    real = weights_files.load

    def load(model, path):
        raise fault

    monkeypatch.setattr(weights_files, "load", load)
    with pytest.raises(StoreError, match="could not be read just now.*open it again"):
        opened(store, ws, run_id)
    assert not store.run(ws, run_id)["damaged"] and not any(w.damaged for w in store.weights(ws, run_id))
    monkeypatch.setattr(weights_files, "load", real)
    assert not opened(store, ws, run_id).damaged  # and the next try reads it


def test_n5_a_missing_file_marks_nothing(tmp_path):
    store, ws, run_id, saved = with_checkpoints(tmp_path)
    newest = store.weights(ws, run_id)[0].path
    moved = newest.rename(newest.with_suffix(".away"))  # a network mount that is briefly gone
    o = opened(store, ws, run_id)
    assert "missing" in o.damaged and np.array_equal(o.model.get_weights()[0], saved[5][0])
    assert not store.run(ws, run_id)["damaged"] and not any(w.damaged for w in store.weights(ws, run_id))
    moved.rename(newest)
    assert not opened(store, ws, run_id).damaged


def test_n5_what_keras_raises_for_a_damaged_file_is_damage(tmp_path):
    model = build_model(CONFIG)
    path = tmp_path / "m.keras"
    model.save(path)
    data = path.read_bytes()
    for bad in (b"", b"not a zip", data[: len(data) // 2], data[:-200] + bytes(200)):
        path.write_bytes(bad)
        with pytest.raises(weights_files.Damaged):
            weights_files.load(model, path)
    other = build_model(ModelConfig(vocab_size=len(VOCAB), embedding_dim=3, rnn_units=6, batch_size=2, seq_len=5))
    other.save(tmp_path / "other.keras")
    with pytest.raises(weights_files.Damaged):  # another architecture's weights
        weights_files.load(model, tmp_path / "other.keras")
    with pytest.raises(FileNotFoundError):
        weights_files.load(model, tmp_path / "gone.keras")


def test_n17_a_run_id_reaches_nothing_outside_its_workspace(tmp_path):
    store, ws, run_id, _ = with_checkpoints(tmp_path)
    store.append_rows(ws, run_id, 0, dict(steps=[1, 2], loss=[1, 1], accuracy=[0, 0], seconds=[0, 0], norms=[[1], [1]]))
    theirs = store.create_workspace()
    store.update_run(theirs, run_id, name="taken", note="over")
    store.truncate_rows(theirs, run_id, 0)
    store.append_rows(theirs, run_id, 2, dict(steps=[3], loss=[9], accuracy=[9], seconds=[9], norms=[[9]]))
    assert store.rows(theirs, run_id)["steps"].size == 0 and store.weights(theirs, run_id) == []
    with pytest.raises(StoreError):
        store.save_weights(theirs, run_id, 20, 4, 0, 1.0, lambda path: Path(path).write_bytes(b"w"))
    store.mark_damaged(theirs, run_id, store.weights(ws, run_id)[0], "by someone else")
    store.delete_run(theirs, run_id)
    run = store.run(ws, run_id)
    assert (run["name"], run["note"], run["damaged"]) == ("run 1 · SimpleRNN 4u", "", "")
    assert store.rows(ws, run_id)["steps"].tolist() == [1, 2] and [w.step for w in store.weights(ws, run_id)] == [10, 5]


def test_n20_the_limit_check_and_the_insert_are_one_transaction(tmp_path, monkeypatch):
    store = RunStore(tmp_path, Limits(runs=1, megabytes=100, keep=2))
    ws = store.create_workspace()
    slow = store._usage

    def usage(db, workspace):
        time.sleep(0.3)  # both tabs pass the count before either inserts, unless the check holds the transaction
        return slow(db, workspace)

    monkeypatch.setattr(store, "_usage", usage)
    outcomes = []

    def create():
        try:
            outcomes.append(new_run(store, ws))
        except LimitReached:
            outcomes.append("full")

    tabs = [threading.Thread(target=create) for _ in range(2)]
    [t.start() for t in tabs], [t.join(30) for t in tabs]
    assert sorted(map(str, outcomes))[-1] == "full" and len(store.runs(ws)) == 1


def test_n20_run_names_do_not_repeat_after_a_delete(tmp_path):
    store = RunStore(tmp_path)
    ws = store.create_workspace()
    first, second, third = (new_run(store, ws) for _ in range(3))
    store.delete_run(ws, second)
    fourth = new_run(store, ws)  # "run 3" again before the fix: two runs of that name
    store.update_run(ws, third, name="baseline")
    new_run(store, ws)
    names = [r["name"] for r in store.runs(ws)]
    assert names == ["run 1 · SimpleRNN 4u", "baseline", "run 4 · SimpleRNN 4u", "run 5 · SimpleRNN 4u"]
    assert store.run(ws, fourth)["data_kind"] == "text" and store.run(ws, fourth)["vocab"] == vocab_json(VOCAB)


def test_n20_a_forecaster_says_its_data_is_a_series_and_has_no_vocabulary(tmp_path):
    store = RunStore(tmp_path)
    ws = store.create_workspace()
    csv = "time,value\n0,1.0\n1,2.0\n"
    run_id = store.create_run(ws, "f", store.put_text(csv), "series", {"config": {}}, TrainConfig(), "{}", kind="series")
    run = store.run(ws, run_id)
    assert (run["kind"], run["data_kind"], run["vocab"]) == ("series", "series_csv", None)
    assert store.text(run["text_hash"]) == csv

"""The run store: round trips bit for bit, atomic checkpoints, tokens that stay inside the data folder, limits,
damaged files, interrupted runs and a disk that cannot be written. No Ray: trainers here never start."""

import errno
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from core.config import ModelConfig, TrainConfig
from core.nn.language_model import build_model
from core.training.progress import History
from core.runs.recorder import Recorder
from core.workers.client import KeepAlive
from core.workers.remote_trainer import RemoteTrainer
from core.runs import reopen
from core.runs.reopen import vocab_json
from core.runs.sqlite_store import LimitReached, Limits, RunStore, StoreError, new_token, valid_token
from core.text.vocabulary import Vocabulary
from core.training.trainer import Checkpoint
from tests.helpers import until

ROOT = Path(__file__).resolve().parents[2]
TEXT = "a stored run keeps its text once.\n" * 20
VOCAB = Vocabulary.build(TEXT)
IDS = VOCAB.encode(TEXT)
CONFIG = ModelConfig(vocab_size=len(VOCAB), embedding_dim=3, rnn_units=4, batch_size=2, seq_len=5)
TRAIN = TrainConfig(epochs=4, max_steps_per_epoch=5)


def open_run(store: RunStore, ws: str, run_id: int):
    return reopen.open_run(store, ws, run_id, RemoteTrainer)


def bits(a) -> bytes:
    return np.ascontiguousarray(a, np.float64).tobytes()


def new_run(store: RunStore, ws: str) -> int:
    return store.create_run(ws, "run 1", store.put_text(TEXT), "a text", CONFIG, TRAIN, vocab_json(VOCAB))


def trained(steps: int, epoch: int, batch: int = 0, seed: int = 0):
    """A trainer as a finished or stopped training leaves it: a random history of `steps` rows and a checkpoint."""
    rng = np.random.default_rng(seed)
    model = build_model(CONFIG)
    model.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()])
    h = History()
    for s in range(1, steps + 1):
        h.add_step(s, rng.random() * 4, rng.random(), rng.random(1), s * 0.1 + rng.random() * 1e-9)
        if s % 5 == 0:
            h.val_steps.append(s), h.val_loss.append(rng.random()), h.val_accuracy.append(rng.random())
            h.samples.append((s // 5, f"sample {s}")), h.grad_curves.append((s // 5, rng.random(7)))
    ckpt = Checkpoint(tuple(model.get_weights()), (epoch, batch), steps, steps * 0.1)
    t = RemoteTrainer(model, CONFIG, TRAIN, IDS, VOCAB)
    t.restore(h, ckpt, "stopped", "Stopped by you.", layer_names=("simple_rnn",))
    return t


def record(store: RunStore, ws: str, run_id: int, trainer, rows: int = 0) -> Recorder:
    """Record `trainer` as a training that reached its checkpoint after it was tracked."""
    rec, ckpt = Recorder(store, every_s=3600), trainer.checkpoint
    trainer.checkpoint = None
    rec.track(run_id, trainer, ws, rows=rows)
    trainer.checkpoint = ckpt
    rec.flush()
    assert rec.error is None, rec.error
    return rec


def recorded(folder: Path):
    """A store in `folder` with one run recorded up to step 10 (the end of epoch 2): (store, workspace, run id, trainer)."""
    store = RunStore(folder)
    ws = store.create_workspace()
    run_id, t = new_run(store, ws), trained(10, 2)
    record(store, ws, run_id, t)
    return store, ws, run_id, t


def test_a_round_trip_keeps_the_history_and_the_weights_bit_for_bit(tmp_path):
    store, ws, run_id, t = recorded(tmp_path)
    opened = open_run(RunStore(tmp_path), ws, run_id)  # a second store on the folder: what a restarted server reads
    p, q = t.progress(), opened.trainer.progress()
    for name in ("steps", "loss", "accuracy", "seconds", "layer_norms"):
        assert bits(getattr(q, name)) == bits(getattr(p, name)), name
    assert q.val_steps == p.val_steps and bits(q.val_loss) == bits(p.val_loss) and q.samples == p.samples
    assert [bits(c) for _, c in q.grad_curves] == [bits(c) for _, c in p.grad_curves]
    assert [w.tobytes() for w in opened.model.get_weights()] == [w.tobytes() for w in t.model.get_weights()]
    assert (q.status, q.step, q.layer_names) == ("stopped", 10, ("simple_rnn",))
    assert opened.vocab == VOCAB and opened.text == TEXT and opened.config == CONFIG and opened.train == TRAIN
    assert opened.trainer.checkpoint.position == (2, 0) and not opened.damaged


def test_a_writer_killed_mid_write_leaves_the_previous_checkpoint_readable(tmp_path):
    store, ws, run_id, t = recorded(tmp_path)
    started = tmp_path / "writing"
    writer = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from core.runs.sqlite_store import RunStore
def write(path):
    with open(path, "wb") as f:
        f.write(b"PK" + b"half a file" * 1000)
        f.flush()
        open({str(started)!r}, "w").close()
        time.sleep(120)
RunStore({str(tmp_path)!r}).save_weights({ws!r}, {run_id}, 20, 4, 0, 2.0, write)
"""])
    until(lambda: started.exists() or writer.poll() is not None, 60, "the writer to begin writing")
    assert writer.poll() is None, "the writer ended before it began writing"
    writer.send_signal(signal.SIGKILL)
    writer.wait(30)
    assert any(p.name.startswith(".tmp-") for p in (tmp_path / "weights" / str(run_id)).iterdir())
    again = RunStore(tmp_path)  # a restarted server
    assert [w.step for w in again.weights(ws, run_id)] == [10]
    assert not any(p.name.startswith(".tmp-") for p in (tmp_path / "weights" / str(run_id)).iterdir())
    opened = open_run(again, ws, run_id)
    assert not opened.damaged
    assert [w.tobytes() for w in opened.model.get_weights()] == [w.tobytes() for w in t.model.get_weights()]


@pytest.mark.parametrize("token", ["", "../../etc/passwd", "a" * 21, "a" * 65, "abc/def" * 5, "x" * 30 + "\x00",
                                   "%2e%2e%2f" * 4, None, 12345678901234567890123])
def test_a_tampered_token_cannot_leave_the_data_folder_or_reach_a_workspace(tmp_path, token):
    store = RunStore(tmp_path / "data")
    ws = store.create_workspace()
    assert valid_token(ws) and valid_token(new_token()) and len(new_token()) * 6 >= 128
    assert not valid_token(token) and not store.workspace_exists(token)
    assert store.workspace_state(token) == {} and store.runs(token) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # nothing was made outside the folder


def test_a_workspace_never_reaches_another_ones_runs(tmp_path):
    store = RunStore(tmp_path)
    mine, theirs = store.create_workspace(), store.create_workspace()
    run_id = new_run(store, mine)
    assert store.run(theirs, run_id) is None and open_run(store, theirs, run_id) is None
    store.delete_run(theirs, run_id)
    assert store.run(mine, run_id) is not None


def test_limits_say_what_to_delete_and_deleting_frees_the_disk(tmp_path):
    store = RunStore(tmp_path, Limits(runs=2, megabytes=1, keep=2))
    ws = store.create_workspace()
    first, second = new_run(store, ws), new_run(store, ws)
    with pytest.raises(LimitReached, match="Delete runs .* on the Runs page"):
        new_run(store, ws)
    for step in (5, 10, 15):
        store.save_weights(ws, first, step, step // 5, 0, 1.0, lambda path: Path(path).write_bytes(os.urandom(600_000)))
    assert [w.step for w in store.weights(ws, first)] == [15, 10]  # only the newest `keep`
    assert len(list((tmp_path / "weights" / str(first)).iterdir())) == 2
    store.delete_run(ws, second)
    with pytest.raises(LimitReached, match="MB of disk"):
        new_run(store, ws)
    before = store.usage(ws)
    store.delete_run(ws, first)
    assert store.usage(ws) < before - 1_100_000 and not (tmp_path / "weights" / str(first)).exists()
    assert store.text(store.put_text("unused")) == "unused"
    new_run(store, ws)  # room again


def test_a_damaged_weights_file_marks_the_run_and_the_rest_loads(tmp_path):
    store = RunStore(tmp_path)
    ws = store.create_workspace()
    run_id = new_run(store, ws)
    early, late = trained(5, 1, seed=1), trained(10, 2, seed=2)
    record(store, ws, run_id, early)
    record(store, ws, run_id, late)
    newest = store.weights(ws, run_id)[0].path
    newest.write_bytes(b"this is not a zip file")
    opened = open_run(store, ws, run_id)
    assert "damaged" in opened.damaged and "step 10" in opened.damaged and "step 5" in opened.damaged
    assert [w.tobytes() for w in opened.model.get_weights()] == [w.tobytes() for w in early.model.get_weights()]
    assert opened.trainer.progress().step == 5 and len(opened.trainer.progress().steps) == 5
    assert store.run(ws, run_id)["damaged"]
    store.weights(ws, run_id)[1].path.unlink()  # now no file can be read
    opened = open_run(store, ws, run_id)
    assert opened.trainer.progress().status == "damaged" and len(opened.trainer.progress().steps) == 10


def test_a_run_live_when_its_server_died_comes_back_interrupted_at_its_last_checkpoint(tmp_path):
    store, ws, run_id, _ = recorded(tmp_path)
    store.append_rows(ws, run_id, 10, dict(steps=[11, 12], loss=[1.0, 1.0], accuracy=[0.5, 0.5], seconds=[1.1, 1.2],
                                       norms=[[0.1], [0.1]]))
    store.update_run(ws, run_id, status="running", server="a server that is gone", step=12)
    assert store.run(ws, run_id)["status"] == "interrupted"
    opened = open_run(store, ws, run_id)
    p = opened.trainer.progress()
    assert p.status == "interrupted" and "epoch 2" in p.message and "Start training continues" in p.message
    assert p.step == 10 and len(p.steps) == 10 and opened.trainer.checkpoint.step == 10
    rec = Recorder(store, every_s=3600)
    rec.track(run_id, opened.trainer, ws, rows=10)  # continuing: the steps after the checkpoint leave the store
    rec.flush()
    assert len(store.rows(ws, run_id)["steps"]) == 10 and rec.live(run_id) is None and [w.step for w in store.weights(ws, run_id)] == [10]


def test_a_full_disk_is_a_sentence_and_the_history_is_still_written(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    ws = store.create_workspace()
    run_id = new_run(store, ws)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("core.runs.sqlite_store.os.replace", full)
    rec = Recorder(store, every_s=3600)
    t = trained(10, 2)
    ckpt, t.checkpoint = t.checkpoint, None
    rec.track(run_id, t, ws)
    t.checkpoint = ckpt
    rec.flush()
    assert "disk is full" in rec.error and "Training goes on in memory" in rec.error
    assert len(store.rows(ws, run_id)["steps"]) == 10 and store.weights(ws, run_id) == []
    assert not [p for p in (tmp_path / "weights" / str(run_id)).iterdir()]  # no half-written file left


def test_a_folder_that_cannot_be_made_is_a_sentence(tmp_path):
    (tmp_path / "a file").write_text("not a folder")
    with pytest.raises(StoreError, match="RNN_PLAYGROUND_DATA"):
        RunStore(tmp_path / "a file" / "data")


def test_watchers_keep_a_training_for_a_grace_after_the_last_tab_closes():
    open_ = [True]
    w = KeepAlive(grace_s=0.3)
    w.add(lambda: open_[0])
    assert w()
    open_[0] = False
    assert w()  # a reload: the new tab has a moment to attach
    until(lambda: not w(), 10, "the grace to end")
    w.add(lambda: True)
    assert w()


def test_two_writers_on_one_workspace_do_not_corrupt_it(tmp_path):
    """Two tabs (or two servers) on one workspace write at the same time: every write lands, the database stays whole."""
    store = RunStore(tmp_path)
    ws = store.create_workspace()
    script = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(ROOT)!r})
from core.config import ModelConfig, TrainConfig
from core.runs.reopen import vocab_json
from core.runs.sqlite_store import RunStore
from core.text.vocabulary import Vocabulary
TEXT = {TEXT!r}
VOCAB, TRAIN = Vocabulary.build(TEXT), TrainConfig()
CONFIG = ModelConfig(vocab_size=len(VOCAB))
store, me = RunStore({str(tmp_path)!r}), sys.argv[1]
for i in range(25):
    store.save_workspace({ws!r}, {{"writer": me, "i": i}}, store.put_text(TEXT))
    run = store.create_run({ws!r}, f"{{me}} {{i}}", store.put_text(TEXT), "t", CONFIG, TRAIN, vocab_json(VOCAB))
    store.append_rows({ws!r}, run, 0, dict(steps=list(range(1, 41)), loss=[1.5] * 40, accuracy=[0.5] * 40, seconds=[0.1] * 40,
                                   norms=[[0.1, 0.2]] * 40))
    store.save_weights({ws!r}, run, 40, 1, 0, 4.0, lambda path: Path(path).write_bytes(b"w" * 5000))
    store.update_run({ws!r}, run, status="finished", step=40)
"""
    writers = [subprocess.Popen([sys.executable, "-c", script, name], cwd=ROOT) for name in ("left", "right")]
    assert [w.wait(120) for w in writers] == [0, 0]
    again = RunStore(tmp_path)
    with closing(sqlite3.connect(again.folder / "store.sqlite")) as db:  # its own connection, as any SQLite tool
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    runs = again.runs(ws)
    assert len(runs) == 50 and all(r["status"] == "finished" for r in runs)
    assert all(len(again.rows(ws, r["id"])["steps"]) == 40 and len(again.weights(ws, r["id"])) == 1 for r in runs)
    assert again.workspace_state(ws)["i"] == 24

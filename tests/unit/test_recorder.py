"""The recorder: sentences per workspace (N3), a delete it hears of (N11), finished runs that leave memory when
saving keeps failing (N12), and a page's flush that writes only its own workspace (N13). Fake trainers: no
TensorFlow, no Ray."""

import errno
import sqlite3
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from core.config import TrainConfig
from core.runs import recorder as recorder_module
from core.runs.recorder import TRIES, Recorder
from core.runs.sqlite_store import Limits, RunStore
from core.runs.store import StoreError
from core.training.progress import Progress
from tests.helpers import sql, until


class FakeTrainer:
    """A finished (or still running) training with `steps` history rows and no checkpoint."""

    def __init__(self, steps: int = 3, running: bool = False):
        self.running, self.checkpoint, self.tokens_per_step = running, None, 10
        z = np.arange(1, steps + 1, dtype=np.float64)
        self.p = Progress(steps=z, loss=z, accuracy=z, seconds=z, layer_norms=np.ones((steps, 1)), status="finished",
                          step=steps, epoch=1, elapsed_s=1.0, layer_names=("rnn",))

    def progress(self):
        return self.p

    def active(self) -> bool:
        return self.running


def new_run(store: RunStore, ws: str) -> int:
    return store.create_run(ws, store.next_run_name(ws, "fake"), store.put_text("abc"), "t", {"a": 1}, TrainConfig(), "{}")


@pytest.fixture
def two(tmp_path):
    """A store with workspaces A and B, one run each, both tracked by one recorder."""
    store = RunStore(tmp_path, Limits(runs=10, megabytes=100, keep=2))
    a, b = store.create_workspace(), store.create_workspace()
    ra, rb = new_run(store, a), new_run(store, b)
    rec = Recorder(store, every_s=3600)
    rec.track(ra, FakeTrainer(), a)
    rec.track(rb, FakeTrainer(), b)
    return store, rec, (a, ra), (b, rb)


def failing_for(store: RunStore, monkeypatch, workspace: str):
    """Writes of `workspace`'s history fail as on a full disk; the other workspaces' land."""
    real = store.append_rows

    def append_rows(ws, *args):
        if ws == workspace:
            raise StoreError(f"Runs cannot be saved: the disk is full ({errno.ENOSPC}).")
        return real(ws, *args)

    monkeypatch.setattr(store, "append_rows", append_rows)


def test_n3_a_workspaces_error_is_its_own(two, monkeypatch):
    store, rec, (a, ra), (b, rb) = two
    failing_for(store, monkeypatch, a)
    rec.flush()
    assert "disk is full" in rec.error_for(a) and rec.error_for(b) is None and rec.error_for(None) is None
    rec.flush()  # B's writes working again does not clear A's sentence
    assert "disk is full" in rec.error_for(a)
    monkeypatch.undo()
    rec.flush()
    assert rec.error_for(a) is None and len(store.rows(a, ra)["steps"]) == 3


def test_n13_a_pages_flush_writes_only_its_workspace(two):
    store, rec, (a, ra), (b, rb) = two
    rec.flush(b)
    assert len(store.rows(b, rb)["steps"]) == 3 and len(store.rows(a, ra)["steps"]) == 0
    assert rec.live(ra) is not None and rec.live(rb) is None  # B's finished run is written, so no longer held
    rec.flush()
    assert len(store.rows(a, ra)["steps"]) == 3


def test_n12_a_finished_run_leaves_memory_after_failed_writes(two, monkeypatch):
    store, rec, (a, ra), (b, rb) = two
    failing_for(store, monkeypatch, a)
    running = FakeTrainer(running=True)
    other = new_run(store, a)
    rec.track(other, running, a)
    for _ in range(TRIES - 1):
        rec.flush(a)
    assert rec.live(ra) is not None  # a few failures: still kept, the next write may work
    rec.flush(a)
    assert rec.live(ra) is None and rec.live(other) is running  # a training under way is always kept
    assert "disk is full" in rec.error_for(a)


def test_n11_a_deleted_run_is_forgotten_and_nothing_of_it_comes_back(two, monkeypatch):
    store, rec, (a, ra), (b, rb) = two
    failing_for(store, monkeypatch, a)
    rec.flush()  # a full disk: the finished run stays tracked, which is when users delete runs
    assert rec.live(ra) is not None
    rec.forget(ra)
    store.delete_run(a, ra)
    monkeypatch.undo()
    rec.flush()
    assert rec.live(ra) is None and store.run(a, ra) is None
    assert sql(store.folder, "SELECT COUNT(*) FROM rows WHERE run = ?", (ra,)) == [(0,)]
    store.append_rows(a, ra, 0, dict(steps=[1], loss=[1.0], accuracy=[1.0], seconds=[1.0], norms=[[1.0]]))
    assert sql(store.folder, "SELECT COUNT(*) FROM rows WHERE run = ?", (ra,)) == [(0,)]  # a late write reaches nothing
    with pytest.raises(StoreError, match="no longer|not in this workspace|deleted"):
        store.save_weights(a, ra, 5, 1, 0, 1.0, lambda path: open(path, "wb").write(b"w"))
    assert not (store.folder / "weights" / str(ra)).exists()
    with pytest.raises(sqlite3.IntegrityError):  # and the database itself refuses rows of a run that is gone
        sql(store.folder, "INSERT INTO rows VALUES (?, 0, 1, 1.0, 1.0, 1.0, NULL)", (ra,))


def test_n11_a_file_landing_while_a_run_is_deleted_does_not_raise(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    ws = store.create_workspace()
    run_id = new_run(store, ws)
    store.save_weights(ws, run_id, 5, 1, 0, 1.0, lambda path: open(path, "wb").write(b"w"))

    def not_empty(path, *args, **kwargs):
        raise OSError(errno.ENOTEMPTY, "Directory not empty", str(path))

    monkeypatch.setattr("shutil.os.rmdir", not_empty)
    store.delete_run(ws, run_id)  # the recorder wrote a file meanwhile: logged, never raised
    assert store.run(ws, run_id) is None


def test_forget_waits_for_a_write_under_way(two):
    store, rec, (a, ra), _ = two
    entry = rec._runs[ra]
    assert entry.writing.acquire(timeout=1)
    done = threading.Event()
    threading.Thread(target=lambda: (rec.forget(ra), done.set()), daemon=True).start()
    assert not done.wait(0.3)  # the delete waits for the write
    entry.writing.release()
    assert done.wait(5) and rec.live(ra) is None


def test_the_run_store_never_imports_the_workers():
    """reopen.py imported core.workers.remote_trainer: the store knew about Ray. The caller passes the trainer now."""
    import ast
    from pathlib import Path

    for path in Path(recorder_module.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.startswith(("core.workers", "ray", "streamlit")) for n in names), (path.name, names)


def test_a_training_runs_newest_checkpoint_is_written_at_most_every_weights_every_s_and_at_once_when_it_ends(
        tmp_path, monkeypatch):
    """A class of Quick demos makes a checkpoint a second per run; a `.keras` file costs the server ~50 ms, so while a
    run trains only its first checkpoint and then one per `weights_every_s` are written, and its last one as soon as
    the training has ended (nothing of the end is lost)."""
    store = RunStore(tmp_path)
    ws = store.create_workspace()
    run = new_run(store, ws)
    clock = [100.0]
    monkeypatch.setattr(recorder_module, "time", SimpleNamespace(monotonic=lambda: clock[0], sleep=lambda s: None))
    rec, written = Recorder(store, every_s=3600, weights_every_s=10.0), []
    monkeypatch.setattr(rec, "_save_weights", lambda run_id, entry, ckpt: written.append(ckpt.step))
    t = FakeTrainer(running=True)
    rec.track(run, t, ws)

    def checkpoint_at(step: int, seconds: float) -> None:
        t.checkpoint, clock[0] = SimpleNamespace(step=step), clock[0] + seconds
        rec.flush()

    checkpoint_at(1, 1)
    checkpoint_at(2, 1)
    checkpoint_at(3, 8)  # 9 s after the first was written
    assert written == [1]
    checkpoint_at(4, 1)  # 10 s after
    assert written == [1, 4]
    checkpoint_at(5, 1)
    t.running = False  # the training ended: its last checkpoint is written at the next flush
    rec.flush()
    assert written == [1, 4, 5]
    rec.flush()
    assert written == [1, 4, 5]  # and only once


def test_close_lets_the_threads_write_finish_ends_the_thread_and_writes_what_is_new(tmp_path, monkeypatch):
    """At the process's exit (`close` runs for every recorder whose thread ran): the recording thread was a daemon,
    and one still inside Keras when the interpreter ended aborted the whole process (seen in the cluster test),
    leaving the last steps unwritten. `close` waits for the thread's write under way, ends it and writes once more."""
    store = RunStore(tmp_path, Limits(runs=10, megabytes=100, keep=2))
    a = store.create_workspace()
    ra = new_run(store, a)
    started, release = threading.Event(), threading.Event()
    real = store.append_rows

    def slow_append(ws, *args):  # the recording thread's own write is under way when close is called
        started.set()
        release.wait(10)
        return real(ws, *args)

    monkeypatch.setattr(store, "append_rows", slow_append)
    rec = Recorder(store, every_s=0.05)
    rec.track(ra, FakeTrainer(), a)
    assert rec in recorder_module._OPEN and started.wait(10)
    writer = rec._thread
    closer = threading.Thread(target=rec.close)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive() and writer.is_alive(), "close returned while the thread was writing"
    release.set()
    closer.join(10)
    assert not closer.is_alive() and not writer.is_alive()
    assert len(store.rows(a, ra)["steps"]) == 3
    rec.track(ra, FakeTrainer(steps=4), a)  # tracked again: a new thread, closed again at exit
    assert rec._thread.is_alive() and rec._thread is not writer
    rec.close()
    assert not rec._thread.is_alive() and len(store.rows(a, ra)["steps"]) == 4


def test_close_does_not_hang_behind_a_write_that_never_ends(two, monkeypatch):
    store, rec, (a, ra), _ = two
    stuck = threading.Event()
    monkeypatch.setattr(store, "append_rows", lambda *args: stuck.wait(30))
    rec.every_s = 0.01
    rec._closing.set(), rec._thread.join(5)  # restart the thread at the new pace
    rec.track(ra, FakeTrainer(steps=5), a)
    until(lambda: rec._runs[ra].writing.locked(), 10, "the thread's write to start")
    t = time.monotonic()
    rec.close(timeout=0.5)
    assert time.monotonic() - t < 5
    stuck.set()

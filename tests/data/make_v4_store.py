"""Write tests/data/v4-bce38b2: a data folder of schema version 4 (sweeps, runs.sweep_id), so that tests can open it
once later migrations exist. The companion of make_old_stores.py, for the layout since core/runs/ (1e5871b).

Run from a checkout of that release, with this repository's virtual environment:

    git worktree add /tmp/bce38b2 bce38b2
    cd /tmp/bce38b2 && /work/main/.venv/bin/python /work/main/tests/data/make_v4_store.py /work/main/tests/data/v4-bce38b2

It uses only that release's own API (`core.runs.sqlite_store.RunStore`, `core.runs.recorder.Recorder`,
`core.workers.remote_trainer.RemoteTrainer`) and writes what make_old_stores.py writes for a text workspace: two GRU
runs ("run 1" finished, "run 2" cut off by a restart), plus a finished sweep whose trial is run 2. `expected.json`
lists what the test compares, with each run's sweep_id and the sweep.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path.cwd()))

from core.config import ModelConfig, TrainConfig  # noqa: E402
from core.nn.language_model import build_model  # noqa: E402
from core.runs.recorder import Recorder  # noqa: E402
from core.runs.reopen import vocab_json  # noqa: E402
from core.runs.sqlite_store import Limits, RunStore  # noqa: E402
from core.sweeps.plan import make_spec  # noqa: E402
from core.text.vocabulary import Vocabulary  # noqa: E402
from core.training.progress import History  # noqa: E402
from core.training.trainer import Checkpoint  # noqa: E402
from core.workers.remote_trainer import RemoteTrainer  # noqa: E402

TEXT = "an old release wrote this run.\n" * 12
VOCAB = Vocabulary.build(TEXT)
CONFIG = ModelConfig(vocab_size=len(VOCAB), embedding_dim=3, rnn_units=4, batch_size=2, seq_len=5, cell="gru")
TRAIN = TrainConfig(epochs=4, max_steps_per_epoch=5)


def history(steps: int, rng) -> History:
    h = History()
    for s in range(1, steps + 1):
        h.add_step(s, rng.random() * 4, rng.random(), rng.random(1), s * 0.1)
        if s % 5 == 0:
            h.val_steps.append(s), h.val_loss.append(rng.random()), h.val_accuracy.append(rng.random())
            h.samples.append((s // 5, f"sample {s}")), h.grad_curves.append((s // 5, rng.random(7)))
    return h


def text_run(store, ws, name, steps, seed):
    """A run recorded as a training that reached its checkpoint after it was tracked."""
    rng = np.random.default_rng(seed)
    model = build_model(CONFIG)
    model.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()])
    run_id = store.create_run(ws, name, store.put_text(TEXT), "old text", CONFIG, TRAIN, vocab_json(VOCAB))
    t = RemoteTrainer(model, CONFIG, TRAIN, VOCAB.encode(TEXT), VOCAB)
    ckpt = Checkpoint(tuple(model.get_weights()), (steps // 5, 0), steps, steps * 0.1)
    t.restore(history(steps, rng), ckpt, "stopped", "Stopped by you.", layer_names=("gru",))
    rec = Recorder(store, every_s=3600)
    t.checkpoint = None
    rec.track(run_id, t, ws)
    t.checkpoint = ckpt
    rec.flush()
    assert rec.error is None, rec.error
    return run_id, model


def main(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    store = RunStore(folder, Limits(runs=10, megabytes=100, keep=2))
    ws = store.create_workspace()
    made = {}
    first, made[1] = text_run(store, ws, "run 1 · GRU 4u", 10, seed=1)
    store.update_run(ws, first, status="finished", message="Finished.")
    sweep = store.create_sweep(ws, make_spec({"units": "4"}, epochs=2).to_json())
    second, made[2] = text_run(store, ws, "sweep 1 · trial 1 · GRU 4u", 5, seed=2)
    store.update_run(ws, second, status="running", server="a server that is gone", note="cut off by a restart",
                     sweep_id=sweep)
    store.update_sweep(ws, sweep, status="finished", message="1 trial finished.", best_run=second)
    store.save_workspace(ws, {"text_name": "old text", "level": "char", "run": first}, store.put_text(TEXT))
    expected = {"workspace": ws, "runs": {}, "sweeps": [{k: s[k] for k in ("id", "spec", "status", "message", "best_run")}
                                                        for s in store.sweeps(ws)]}
    for run in store.runs(ws):
        rows = store.rows(ws, run["id"])
        expected["runs"][str(run["id"])] = dict(
            name=run["name"], kind=run["kind"], status=run["status"], note=run["note"], sweep_id=run["sweep_id"],
            model=json.loads(run["model"]), train=json.loads(run["train"]), text_name=run["text_name"],
            steps=rows["steps"].tolist(), loss=rows["loss"].tolist(), val=json.loads(run["extras"])["val"],
            weights_steps=[w.step for w in store.weights(ws, run["id"])],
            first_weights=made[run["id"]].get_weights()[0].tolist())
    (folder / "expected.json").write_text(json.dumps(expected, indent=1))
    store._db.sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store._db.close()
    for extra in ("store.sqlite-wal", "store.sqlite-shm"):
        (folder / extra).unlink(missing_ok=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())

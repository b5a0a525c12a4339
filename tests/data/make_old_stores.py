"""Write the data folders in tests/data/ with the code of an earlier release, so that tests can open them.

Run from a checkout of that release, with this repository's virtual environment, e.g.

    git worktree add /tmp/e50e357 e50e357
    cd /tmp/e50e357 && /work/main/.venv/bin/python /work/main/tests/data/make_old_stores.py /work/main/tests/data/e50e357
    git worktree add /tmp/56f385c 56f385c
    cd /tmp/56f385c && /work/main/.venv/bin/python /work/main/tests/data/make_old_stores.py /work/main/tests/data/v1-56f385c

It uses only that release's own API: `core.store.RunStore`, `core.recorder.Recorder` and `core.remote_trainer`
(as that release's tests did: a trainer restored with a history and a checkpoint, recorded once). Each folder gets a
workspace with two text runs (one finished, one interrupted while running); e50e357 also gets a forecaster run.
Sizes are tiny (a few kB per .keras file). `expected.json` lists what the test compares: per run its name, kind,
status, settings, history and the first weight array of its newest checkpoint.
"""

import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path.cwd()))

from core.config import ModelConfig, TrainConfig  # noqa: E402
from core.model import build_model  # noqa: E402
from core.progress import History  # noqa: E402
from core.recorder import Recorder  # noqa: E402
from core.remote_trainer import RemoteTrainer  # noqa: E402
from core.runs import vocab_json  # noqa: E402
from core.store import Limits, RunStore  # noqa: E402
from core.text import Vocabulary  # noqa: E402
from core.trainer import Checkpoint  # noqa: E402

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


def record(store, ws, run_id, trainer, layer_names):
    """What the recorder writes for a training that reached its checkpoint after it was tracked."""
    rec, ckpt = Recorder(store, every_s=3600), trainer.checkpoint
    trainer.checkpoint = None
    rec.track(run_id, trainer, ws)
    trainer.checkpoint = ckpt
    rec.flush()
    assert rec.error is None, rec.error


def text_run(store, ws, name, steps, seed):
    rng = np.random.default_rng(seed)
    model = build_model(CONFIG)
    model.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()])
    run_id = store.create_run(ws, name, store.put_text(TEXT), "old text", CONFIG, TRAIN, vocab_json(VOCAB))
    t = RemoteTrainer(model, CONFIG, TRAIN, VOCAB.encode(TEXT), VOCAB)
    ckpt = Checkpoint(tuple(model.get_weights()), (steps // 5, 0), steps, steps * 0.1)
    t.restore(history(steps, rng), ckpt, "stopped", "Stopped by you.", layer_names=("gru",))
    record(store, ws, run_id, t, ("gru",))
    return run_id, model


def series_run(store, ws):
    from core.remote_trainer import RemoteSeriesTrainer
    from core.series import WindowConfig, synthetic, windows
    from core.series_model import SeriesModelConfig, build_series_model
    from core.series_trainer import SeriesData

    rng = np.random.default_rng(7)
    s = synthetic(n=120, period=20, seed=3)
    config, window = SeriesModelConfig(cell="lstm", rnn_units=3, batch_size=8), WindowConfig(lookback=6, horizon=2)
    model = build_series_model(config, window)
    model.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()])
    csv = "time,value\n" + "".join(f"{t},{float(v)!r}\n" for t, v in zip(s.time, s.values))
    saved = {"config": asdict(config), "window": asdict(window), "unit": s.unit}
    run_id = store.create_run(ws, "run 3 · LSTM 3u · synthetic", store.put_text(csv), s.name, saved, TRAIN, "{}", kind="series")
    w = windows(s.values, window)
    t = RemoteSeriesTrainer(model, config, window, TRAIN, SeriesData(w.x["train"], w.y["train"], w.x["val"], w.y["val"]))
    t.restore(history(10, rng), Checkpoint(tuple(model.get_weights()), (2, 0), 10, 1.0), "finished", "Finished.",
              layer_names=("rnn_1",))
    record(store, ws, run_id, t, ("rnn_1",))
    return run_id, model


def main(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    store = RunStore(folder, Limits(runs=10, megabytes=100, keep=2))
    ws = store.create_workspace()
    made = {}
    first, m1 = text_run(store, ws, "run 1 · GRU 4u", 10, seed=1)
    store.update_run(first, status="finished", message="Finished.")
    second, m2 = text_run(store, ws, "run 2 · GRU 4u", 5, seed=2)
    store.update_run(second, status="running", server="a server that is gone", note="cut off by a restart")
    made[first], made[second] = m1, m2
    if "kind" in RunStore.create_run.__code__.co_varnames:
        third, m3 = series_run(store, ws)
        made[third] = m3
    store.save_workspace(ws, {"text_name": "old text", "level": "char", "run": first}, store.put_text(TEXT))
    expected = {"workspace": ws, "runs": {}}
    for run in store.runs(ws):
        rows = store.rows(run["id"])
        expected["runs"][str(run["id"])] = dict(
            name=run["name"], kind=run.get("kind", "text"), status=run["status"], note=run["note"],
            model=json.loads(run["model"]), train=json.loads(run["train"]), text_name=run["text_name"],
            steps=rows["steps"].tolist(), loss=rows["loss"].tolist(), val=json.loads(run["extras"])["val"],
            weights_steps=[w.step for w in store.weights(run["id"])],
            first_weights=made[run["id"]].get_weights()[0].tolist())
    (folder / "expected.json").write_text(json.dumps(expected, indent=1))
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store._db.close()
    for extra in ("store.sqlite-wal", "store.sqlite-shm"):
        (folder / extra).unlink(missing_ok=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())

"""Runs as the pages use them: what a new run stores, and a stored run opened again with its weights and history.

Nothing here knows how a training runs: the caller passes the factory of the trainer a reopened run gets (the
pages pass `core.workers.remote_trainer`'s, with their keep-alive)."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from core.config import ModelConfig, TrainConfig
from core.training.progress import History
from core.runs import weights_files
from core.runs.store import AbstractRunStore, StoreError
from core.text.vocabulary import LoadedText, Vocabulary

log = logging.getLogger(__name__)


def vocab_json(vocab: Vocabulary) -> str:
    """The vocabulary with its counts, as the store keeps it."""
    return json.dumps({"level": vocab.level, "tokens": list(vocab.tokens), "counts": list(vocab.counts)}, ensure_ascii=False)


def vocab_from_json(raw: str) -> Vocabulary:
    data = json.loads(raw)
    return Vocabulary(tuple(data["tokens"]), data["level"], tuple(data["counts"]))


def settings(run: dict) -> tuple[ModelConfig, TrainConfig]:
    """The model and training settings of a stored run."""
    return ModelConfig(**json.loads(run["model"])), TrainConfig(**json.loads(run["train"]))


@dataclass
class Opened:
    """A stored run, ready to be the current run of a session."""

    run_id: int
    name: str
    model: object  # keras.Model with the newest readable checkpoint's weights (fresh ones when there is none)
    config: ModelConfig
    train: TrainConfig
    vocab: Vocabulary
    text: LoadedText
    text_name: str
    trainer: object  # core.workers.remote_trainer.RemoteTrainer showing the stored history; Start continues it
    damaged: str  # a sentence when a weights file could not be read, else ""


def _history(store: AbstractRunStore, run: dict, up_to_step: int | None) -> tuple[History, dict]:
    """The run's stored history, cut after `up_to_step` (the checkpoint a continued training starts from)."""
    extras = json.loads(run["extras"] or "{}")
    h = History()
    rows = store.rows(run["workspace"], run["id"])
    if up_to_step is not None:
        keep = int(np.searchsorted(rows["steps"], up_to_step, side="right"))
        rows = {k: v[:keep] for k, v in rows.items()}
    h.add_rows(rows)
    for s, loss, acc in extras.get("val", ()):
        if up_to_step is None or s <= up_to_step:
            h.val_steps.append(s), h.val_loss.append(loss), h.val_accuracy.append(acc)
    last_epoch = None if up_to_step is None else len(h.val_steps)
    h.samples.extend((e, t) for e, t in extras.get("samples", ()) if last_epoch is None or e <= last_epoch)
    h.grad_curves.extend((e, np.asarray(c)) for e, c in extras.get("curves", ()) if last_epoch is None or e <= last_epoch)
    return h, extras


def _restore(store: AbstractRunStore, run: dict, build: Callable, make_trainer: Callable) -> tuple[object, object, str]:
    """A stored run's model (its newest readable weights) and a trainer showing its history: (model, trainer, damaged).

    Args:
        build: makes a fresh model of the run's architecture.
        make_trainer: makes the remote trainer for a model.
    """
    from core.training.checkpoint import Checkpoint

    model, loaded, unread, note = build(), None, [], ""
    for saved in store.weights(run["workspace"], run["id"]):
        try:
            weights_files.load(model, saved.path)
        except weights_files.Damaged as err:  # the file itself: marked, and the one before it is tried
            why = f"the weights file of step {saved.step:,} could not be read ({err})"
            log.warning("Run %s: %s", run["id"], why, exc_info=err)
            store.mark_damaged(run["workspace"], run["id"], saved, why)
            unread.append(why)
        except FileNotFoundError as err:  # maybe only for now (a network mount): nothing is marked
            log.warning("Run %s: weights file %s is missing", run["id"], saved.path, exc_info=err)
            unread.append(f"the weights file of step {saved.step:,} is missing")
        except Exception as err:  # the read failed, not the file (memory short, an I/O error): nothing is marked
            log.exception("Run %s: weights file %s could not be read", run["id"], saved.path)
            raise StoreError(f"The weights of this run could not be read just now ({type(err).__name__}: {err}). "
                             "Nothing was changed; open it again in a moment.") from None
        else:
            if saved.damaged:  # read after all (a Keras version that reads it again): no longer damaged
                store.mark_damaged(run["workspace"], run["id"], saved, "")
            loaded = saved
            break
    if unread:
        model = build() if loaded is None else model  # a failed load may have left some layers set
        kept = (f"the weights of step {loaded.step:,} are loaded instead, and its charts go up to that step" if loaded
                else "it has fresh weights; its charts are as they were. Train again with its settings")
        note = f"This run is damaged: {'; '.join(unread)}, so {kept}."
    status, message = run["status"], run["message"]
    ckpt = Checkpoint(tuple(model.get_weights()), (loaded.epoch, loaded.batch), loaded.step, loaded.elapsed_s) if loaded else None
    cut = None
    if status == "interrupted":
        cut = loaded.step if loaded else 0
        where = (f"epoch {loaded.epoch}" if loaded.batch == 0 else f"epoch {loaded.epoch + 1}, step {loaded.step:,}") if loaded else ""
        message = (f"Interrupted: the server stopped while this run trained. It has the weights of {where}; "
                   "Start training continues from there (the optimizer starts afresh)." if loaded else
                   "Interrupted: the server stopped before this run's first epoch ended, so it has no saved weights. "
                   "Start training trains it from the beginning.")
    elif status in ("waiting", "running", "paused", "idle"):
        status, message = "stopped", "This run stopped without saying why; Start training continues from its last saved weights."
    if note and loaded is None:
        status, message = "damaged", note
    elif unread:
        cut = loaded.step  # go on from the weights that were read, without the steps that came after them
    history, extras = _history(store, run, cut)
    trainer = make_trainer(model)
    trainer.restore(history, ckpt, status, message, layer_names=tuple(extras.get("layer_names", ())),
                    fast_path=bool(extras.get("fast_path", False)))
    return model, trainer, note


def open_run(store: AbstractRunStore, workspace: str, run_id: int, make_trainer: Callable) -> Opened | None:
    """Open a stored text run of `workspace`: its newest readable weights, its history and its settings.

    Args:
        make_trainer: `(model, config, train, ids, vocab)` -> the trainer that shows it and continues it
            (`core.workers.remote_trainer.RemoteTrainer`, say).

    Returns:
        None when the workspace has no such run (or its text is gone).

    Raises:
        StoreError: the store, or its weights, cannot be read just now (nothing was changed).
    """
    from core.nn.language_model import build_model

    run = store.run(workspace, run_id)
    body = store.text(run["text_hash"]) if run else None
    if run is None or body is None or run["kind"] != "text":
        return None
    config, train = settings(run)
    vocab, text = vocab_from_json(run["vocab"]), LoadedText(body)
    model, trainer, note = _restore(store, run, lambda: build_model(config),
                                    lambda m: make_trainer(m, config, train, vocab.encode(text), vocab))
    return Opened(run_id, run["name"], model, config, train, vocab, text, run["text_name"], trainer, note)


@dataclass
class OpenedSeries:
    """A stored forecaster run, ready to be the Time series page's current run."""

    run_id: int
    series: object  # core.forecast.series.Series
    windows: object  # core.forecast.series.Windows
    config: object  # core.forecast.model.SeriesModelConfig
    train: TrainConfig
    model: object
    trainer: object  # core.workers.remote_trainer.RemoteSeriesTrainer
    damaged: str


def open_series_run(store: AbstractRunStore, workspace: str, run_id: int, make_trainer: Callable,
                    live=None) -> OpenedSeries | None:
    """Open a stored forecaster run of `workspace`: its series, windows, weights and history (None when it is gone).

    Args:
        make_trainer: `(model, config, window, train, data)` -> the trainer that shows it and continues it
            (`core.workers.remote_trainer.RemoteSeriesTrainer`, say).
        live: the trainer of this run when this server trains it now: its model and progress are used as they
            are, and no weights file is read (a live run is never reopened from disk, N5).
    """
    from core.forecast.series import Series, WindowConfig, windows
    from core.forecast.model import SeriesModelConfig, build_series_model
    from core.forecast.trainer import SeriesData

    run = store.run(workspace, run_id)
    body = store.text(run["text_hash"]) if run else None
    if run is None or body is None or run["kind"] != "series":
        return None
    saved = json.loads(run["model"])
    config, window = SeriesModelConfig(**saved["config"]), WindowConfig(**saved["window"])
    train = TrainConfig(**json.loads(run["train"]))
    df = pd.read_csv(io.StringIO(body))
    time = pd.to_datetime(df["time"]).to_numpy() if not pd.api.types.is_numeric_dtype(df["time"]) else df["time"].to_numpy()
    series = Series(run["text_name"], time, df["value"].to_numpy(np.float64), saved.get("unit", ""), window.season)
    w = windows(series.values, window)
    data = SeriesData(w.x["train"], w.y["train"], w.x["val"], w.y["val"])
    if live is not None:
        return OpenedSeries(run_id, series, w, config, train, live.model, live, "")
    model, trainer, note = _restore(store, run, lambda: build_series_model(config, window),
                                    lambda m: make_trainer(m, config, window, train, data))
    return OpenedSeries(run_id, series, w, config, train, model, trainer, note)

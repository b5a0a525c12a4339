"""Stored runs side by side: the Runs page's table, loss curves for the overlay, and a run's history as CSV."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from core.config import ModelConfig, TrainConfig
from core.runs.store import AbstractRunStore


STATUS_WORDS = {"idle": "not started", "waiting": "waiting", "running": "training", "paused": "paused",
                "finished": "finished", "stopped": "stopped", "failed": "failed", "interrupted": "interrupted",
                "damaged": "damaged", "lost": "worker lost"}


def table(runs: list[dict], kind: str = "text") -> pd.DataFrame:
    """One row per stored run of `kind` ("text" or "series"), newest first: the Runs page's table (and the parallel
    coordinates' numbers)."""
    from core.config import CELL_NAMES

    out = []
    for run in reversed([r for r in runs if r["kind"] == kind]):
        train = TrainConfig(**json.loads(run["train"]))
        row = {"id": run["id"], "name": run["name"], "started": pd.Timestamp(run["created"], unit="s").floor("s")}
        if kind == "text":
            model = ModelConfig(**json.loads(run["model"]))
            row |= {"text": run["text_name"], "cell": CELL_NAMES[model.cell], "E": model.embedding_dim,
                    "U": model.rnn_units, "B": model.batch_size, "S": model.seq_len, "layers": model.num_layers}
        else:
            saved = json.loads(run["model"])
            model, window = saved["config"], saved["window"]
            row |= {"series": run["text_name"], "cell": CELL_NAMES[model["cell"]], "U": model["rnn_units"],
                    "layers": model["num_layers"], "B": model["batch_size"], "lookback": window["lookback"],
                    "horizon": window["horizon"], "differencing": "yes" if window["difference"] else "no"}
        row |= {"learning rate": train.learning_rate, "optimizer": train.optimizer, "epochs": f"{run['epoch']} of {train.epochs}",
                "epochs done": run["epoch"], "best val. loss": run["best_val"], "final loss": run["final_loss"],
                ("tokens/s" if kind == "text" else "values/s"): round(run["tokens_per_s"]),
                "duration (s)": round(run["elapsed_s"], 1),
                "status": "damaged" if run["damaged"] else STATUS_WORDS.get(run["status"], run["status"]), "note": run["note"]}
        out.append(row)
    return pd.DataFrame(out)


def per_step(run: dict) -> int:
    """Tokens (or values) one training step of the run reads."""
    saved = json.loads(run["model"])
    if run["kind"] == "series":
        return saved["config"]["batch_size"] * saved["window"]["lookback"]
    return saved["batch_size"] * saved["seq_len"]


def curves(store: AbstractRunStore, run: dict, x: str) -> dict:
    """A run's loss curves for the overlay, against `x`: "steps", "tokens seen" or "seconds"."""
    rows, extras = store.rows(run["workspace"], run["id"]), json.loads(run["extras"] or "{}")
    scale = per_step(run) if x == "tokens seen" else 1
    val = extras.get("val", [])
    val_steps = np.array([v[0] for v in val], np.float64)
    if x == "seconds":  # a validation point sits at the time of the step it followed
        idx = np.clip(np.searchsorted(rows["steps"], val_steps), 0, max(len(rows["steps"]) - 1, 0))
        val_x = rows["seconds"][idx] if len(rows["steps"]) else val_steps[:0]
        train_x = rows["seconds"]
    else:
        train_x, val_x = rows["steps"] * scale, val_steps * scale
    return dict(name=run["name"], x=train_x, loss=rows["loss"], val_x=val_x, val_loss=np.array([v[1] for v in val]))


def history_csv(store: AbstractRunStore, run: dict) -> str:
    """A run's whole history as CSV: one line per step, validation loss and accuracy on the steps that have them."""
    rows, extras = store.rows(run["workspace"], run["id"]), json.loads(run["extras"] or "{}")
    names = extras.get("layer_names") or [f"layer {i}" for i in range(rows["norms"].shape[1])]
    df = pd.DataFrame({"step": rows["steps"].astype(int), "seconds": rows["seconds"], "loss": rows["loss"],
                       "accuracy": rows["accuracy"]})
    for i, name in enumerate(names[: rows["norms"].shape[1]]):
        df[f"grad norm {name}"] = rows["norms"][:, i]
    val = pd.DataFrame(extras.get("val", []), columns=["step", "val_loss", "val_accuracy"])
    return df.merge(val, on="step", how="left").to_csv(index=False)

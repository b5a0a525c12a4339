"""A sweep's trials side by side, from their stored runs: the table, the best trial, and the sentence that names it."""

from __future__ import annotations

import json
import math

import pandas as pd

from core.runs.compare import STATUS_WORDS
from core.sweeps.plan import SweepSpec
from core.sweeps.space import SETTINGS

EARLY = "Stopped early at epoch"  # how a trial that ASHA stopped begins its message (core.workers.sweep_trial)


def trial_status(run: dict) -> str:
    """"stopped early at epoch 2 (ASHA)", "training, epoch 3 of 5", or the Runs table's word for its status."""
    message = run["message"] or ""
    if run["status"] == "stopped" and message.startswith(EARLY):
        return message.split(":")[0].replace("Stopped", "stopped")
    if run["status"] == "running":
        return f"training, epoch {max(run['epoch'], 1)} of {json.loads(run['train'])['epochs']}"
    return STATUS_WORDS.get(run["status"], run["status"])


def changes(run: dict, spec: SweepSpec) -> dict:
    """The trial's value of each varied setting, read from its stored settings."""
    saved = {"model": json.loads(run["model"]), "train": json.loads(run["train"])}
    return {a.key: saved[SETTINGS[a.key].config][SETTINGS[a.key].field] for a in spec.axes}


def best(runs: list[dict]) -> dict | None:
    """The trial with the lowest best validation loss (None before any has one)."""
    scored = [r for r in runs if r["best_val"] is not None and math.isfinite(r["best_val"])]
    return min(scored, key=lambda r: r["best_val"]) if scored else None


def table(runs: list[dict], spec: SweepSpec) -> pd.DataFrame:
    """One row per trial, in trial order: the varied settings, status, epochs done, best validation loss, and a star on
    the best trial so far."""
    top = best(runs)
    rows = []
    for i, run in enumerate(runs):
        row = {"id": run["id"], "trial": i + 1, "best": "★" if top is not None and run["id"] == top["id"] else ""}
        row |= {SETTINGS[k].label: v for k, v in changes(run, spec).items()}
        row |= {"status": trial_status(run), "epochs done": run["epoch"], "best val. loss": run["best_val"]}
        rows.append(row)
    return pd.DataFrame(rows)


def label(run: dict, spec: SweepSpec) -> str:
    """"learning rate 0.003, units 128"."""
    return ", ".join(f"{SETTINGS[k].label} {v:g}" if isinstance(v, float) else f"{SETTINGS[k].label} {v}"
                     for k, v in changes(run, spec).items())


def best_sentence(runs: list[dict], spec: SweepSpec) -> str | None:
    """The sentence that names the best settings once a sweep has ended (None when no trial has a validation loss)."""
    top = best(runs)
    if top is None:
        return None
    n = next(i for i, r in enumerate(runs) if r["id"] == top["id"]) + 1
    early = sum(trial_status(r).startswith("stopped early") for r in runs)
    stopped = f" ASHA stopped {early} of the {len(runs)} trials early." if early else ""
    return (f"The best settings were {label(top, spec)} (trial {n}): its best validation loss was {top['best_val']:.3f}, "
            f"after {top['epoch']} epoch{'s' if top['epoch'] != 1 else ''}.{stopped}")

"""A class's board: one row per student, from the runs of their own workspace, and the table as CSV.

Pure Python, no Streamlit and no store: the page reads the class, its students and their runs, and passes them in.
A run is a dict as `core.runs.store.AbstractRunStore.runs` gives it (`model` and `train` as JSON or dicts).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field, fields

from core.config import CELL_NAMES, ModelConfig, TrainConfig
from core.sweeps.space import SETTINGS
from core.wording import ordinal

# Fields that never change how a model trains: the text decides the vocabulary, the rest is epoch-end display work.
IGNORED = ("vocab_size", "sample_length", "sample_temperature", "grad_curve_len")
# How a difference is named: the sweeps' labels first (same words on both pages), then the other fields.
LABELS = {s.field: s.label for s in SETTINGS.values()} | {
    "epochs": "epochs", "max_steps_per_epoch": "steps per epoch", "val_fraction": "validation share",
    "activation": "activation", "recurrent_initializer": "recurrent init", "recurrent_init_scale": "init scale",
    "stateful": "stateful", "seed": "seed"}
DEFAULTS = {f.name: f.default for config in (ModelConfig, TrainConfig) for f in fields(config)}
COLUMNS = ("name", "status", "progress", "differences", "best val. loss", "best run", "tokens/s", "latest run")
FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula


@dataclass(frozen=True)
class StudentRow:
    """One student's line on the class board."""

    student_id: int  # the student's id in the class
    name: str  # as the student typed it (escape it before it reaches Markdown or Plotly)
    status: str  # "joined" before any run, else waiting, training, finished, stopped or failed (`STATUS`)
    progress: str  # a short text: "epoch 3 of 20 · 42%", "3rd in the queue", "no run yet", ...
    differences: str  # the latest run's settings that differ from the class's ("" when none)
    best_val: float | None = None  # lowest best validation loss over the student's runs
    best_run: int | None = None  # the id of the run with that loss
    tokens_per_s: float | None = None  # the latest run's speed while it trains
    latest_run: int | None = None  # the id of the newest run
    best_settings: dict = field(default_factory=dict, hash=False)  # the model and train fields of `best_run`, in one dict


def _loads(value) -> dict:
    """A config stored as JSON text, or already a dict."""
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def _shown(name: str, value) -> str:
    """"learning rate 0.003", "cell LSTM", "clipping off", "stateful off"."""
    label = LABELS.get(name, name.replace("_", " "))
    if name == "cell":
        return f"{label} {CELL_NAMES.get(value, value)}"
    if isinstance(value, bool):
        return f"{label} {'on' if value else 'off'}"
    if name == "clip_norm" and value == 0:
        return "clipping off"
    if name == "max_steps_per_epoch" and value == 0:
        return "whole text per epoch"
    if name == "val_fraction":
        return f"{label} {value * 100:g}%"
    return f"{label} {value:g}" if isinstance(value, float) else f"{label} {value}"


def differences(setup_model: dict, setup_train: dict, model: dict, train: dict) -> str:
    """The settings of a run that differ from the class's setup, for a teacher to read at a glance.

    Args:
        setup_model, setup_train: the class's `ModelConfig` and `TrainConfig` fields (dicts, or their JSON).
        model, train: the run's, the same way. A field missing on either side counts as its default.

    Returns:
        "learning rate 0.01, units 256" (the sweeps' settings first, in their order), or "" when none differ.
        The vocabulary size and the epoch-end sample and gradient curve are left out: they do not change training.
    """
    setup, mine = _loads(setup_model) | _loads(setup_train), _loads(model) | _loads(train)
    order = [n for n in LABELS if n in DEFAULTS] + [n for n in DEFAULTS if n not in LABELS]
    return ", ".join(_shown(n, mine.get(n, DEFAULTS[n])) for n in order
                     if n not in IGNORED and mine.get(n, DEFAULTS[n]) != setup.get(n, DEFAULTS[n]))


# The board's five statuses (issue 18); the progress text keeps the run's own word (paused, worker lost, interrupted).
STATUS = {"running": "training", "paused": "training", "interrupted": "stopped", "lost": "failed"}


def _steps_per_epoch(run: dict, train: dict) -> int:
    """Batches in one epoch: the step of the first validation (an epoch end), else the cap (0 when unknown)."""
    val = _loads(run.get("extras")).get("val") or []
    return int(val[0][0]) if val and val[0][0] > 0 else int(train.get("max_steps_per_epoch", 0))


def _progress(run: dict, place: int | None) -> str:
    """The row's progress text for the student's latest run."""
    train = _loads(run["train"])
    epochs, epoch, status = train.get("epochs", DEFAULTS["epochs"]), run.get("epoch") or 0, run["status"]
    if status == "waiting":
        return f"{ordinal(place)} in the queue" if place else "waiting for a worker"
    if status == "running":
        text = f"epoch {max(epoch, 1)} of {epochs}"
        per_epoch = _steps_per_epoch(run, train)
        if per_epoch:
            text += f" · {min(99, int(100 * (run.get('step') or 0) / (per_epoch * epochs)))}%"
        return text
    if status == "finished":
        return f"finished {epochs} epoch{'s' if epochs != 1 else ''}"
    if status == "failed":
        message = (run.get("message") or "no reason given").strip()
        return "failed: " + (message if len(message) <= 80 else message[:79] + "…")
    words = {"paused": "paused", "stopped": "stopped", "interrupted": "interrupted by a server restart",
             "lost": "worker lost"}
    return f"{words.get(status, status)} at epoch {epoch} of {epochs}"


def _best(runs: list[dict]) -> dict | None:
    """The run with the lowest finite best validation loss (None when none has one)."""
    scored = [r for r in runs if r.get("best_val") is not None and math.isfinite(r["best_val"])]
    return min(scored, key=lambda r: (r["best_val"], r["id"])) if scored else None


def _row(setup: dict, student: dict, runs: list[dict], queue: dict) -> StudentRow:
    model, train = _loads(setup.get("model")), _loads(setup.get("train"))
    runs = [r for r in runs if r.get("kind", "text") == "text"]
    if not runs:
        return StudentRow(student["id"], student["name"], "joined", "no run yet", differences(model, train, model, train))
    latest, best = max(runs, key=lambda r: r["id"]), _best(runs)
    return StudentRow(
        student["id"], student["name"], STATUS.get(latest["status"], latest["status"]), _progress(latest, queue.get(student.get("workspace"))),
        differences(model, train, latest["model"], latest["train"]),
        best_val=best["best_val"] if best else None, best_run=best["id"] if best else None,
        tokens_per_s=latest.get("tokens_per_s") if latest["status"] == "running" else None, latest_run=latest["id"],
        best_settings=(_loads(best["model"]) | _loads(best["train"])) if best else {})


def board_rows(setup: dict, students: list[dict], runs_by_student: dict[int, list[dict]],
               queue: dict | None = None) -> list[StudentRow]:
    """The class board: one row per student who is not hidden.

    Args:
        setup: the class's settings, {"model": ModelConfig fields, "train": TrainConfig fields} (dicts or JSON).
        students: dicts with `id`, `name`, `workspace` and optionally `hidden` (True leaves the student out).
        runs_by_student: student id -> the runs of their workspace (as the store gives them; forecaster runs are
            left out, since a class trains a language model).
        queue: workspace -> place in the queue of waiting trainings, from 1 (None: no queue known).

    Returns:
        The rows, lowest best validation loss first; students without one last, then by name.
    """
    rows = [_row(setup, s, runs_by_student.get(s["id"], []), queue or {}) for s in students if not s.get("hidden")]
    return sorted(rows, key=lambda r: (r.best_val is None, r.best_val or 0.0, r.name.casefold(), r.student_id))


def _cell(value) -> object:
    """A cell a spreadsheet shows as text: a formula's first character gets an apostrophe in front."""
    if isinstance(value, str) and value.startswith(FORMULA):
        return "'" + value
    return "" if value is None else value


def to_csv(rows: list[StudentRow]) -> str:
    """The board as CSV text with a header row, for a spreadsheet.

    Names are written as typed (the csv module quotes commas, quotes and line breaks); text that a spreadsheet
    would run as a formula (starting with =, +, -, @, a tab or a carriage return) starts with an apostrophe.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for r in rows:
        best = round(r.best_val, 4) if r.best_val is not None else None
        speed = round(r.tokens_per_s) if r.tokens_per_s is not None else None
        writer.writerow([_cell(v) for v in (r.name, r.status, r.progress, r.differences, best, r.best_run, speed,
                                            r.latest_run)])
    return out.getvalue()

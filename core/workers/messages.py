"""The plain messages that cross the process boundary between the web server and a training worker.

Only these travel (pickled by Ray): a job to start, the progress deltas a worker answers polls with, and the
checkpoints inside them. They hold settings, NumPy arrays and tuples, never a model, a lock or a callback. The
server side (`core.workers.client`, `core.workers.remote_trainer`) imports this module, never the trainer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.training.checkpoint import Checkpoint
from core.training.progress import STATUSES, STOPPED_BY_YOU, TAB_CLOSED, Progress

if TYPE_CHECKING:  # annotations only: the server never imports the worker's modules for them
    from core.config import ModelConfig, TrainConfig
    from core.forecast.model import SeriesModelConfig
    from core.forecast.series import WindowConfig
    from core.forecast.trainer import SeriesData
    from core.text.vocabulary import Vocabulary

__all__ = ["Checkpoint", "Delta", "LOST", "STATUSES", "STOPPED_BY_YOU", "SeriesJob", "TAB_CLOSED", "TrainJob"]
LOST = "lost"  # the status of a training whose worker died under it


@dataclass(frozen=True)
class TrainJob:
    """Everything a worker needs to train on a text, as plain data."""

    config: ModelConfig
    train: TrainConfig
    ids: np.ndarray  # token ids of the whole text
    vocab: Vocabulary
    resume: Checkpoint | None = None  # continue from here; None starts from the config's seeded weights
    paused: bool = False  # start paused (the user pressed Pause while the job waited for a worker)
    job_id: str = ""  # the server's id of this job; the worker's `weights` answers only to it


@dataclass(frozen=True, eq=False)
class SeriesJob:
    """Everything a worker needs to train a forecaster, as plain data."""

    config: SeriesModelConfig
    window: WindowConfig
    train: TrainConfig
    data: SeriesData
    resume: Checkpoint | None = None
    paused: bool = False
    job_id: str = ""


@dataclass(frozen=True)
class Delta:
    """What changed in a worker's training since the caller's last poll."""

    progress: Progress  # the latest snapshot with its history fields emptied (they travel as rows below)
    rows: dict  # steps, loss, accuracy, norms: the new rows only
    val: tuple  # (steps, losses, accuracies) of the validation points not yet seen
    samples: tuple  # new (epoch, text) samples
    grad_curves: tuple  # new (epoch, curve) gradient curves
    checkpoint: Checkpoint | None  # a newer epoch-end or final checkpoint, else None
    alive: bool  # False once the training thread has ended (the final checkpoint is then in place)

"""What a training run reports: one immutable snapshot for the pages, and the worker's growing history."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Progress:
    """One immutable snapshot of a training run; pages draw from it and never change it."""

    status: str = "idle"  # idle, waiting, running, paused, finished, stopped, failed
    message: str = ""  # a sentence for the page (why it stopped, what to try)
    step: int = 0  # batches trained so far
    total_steps: int = 0  # batches in the whole run
    epoch: int = 0  # the current epoch, from 1
    epochs: int = 0
    steps_per_epoch: int = 0
    tokens_per_s: float = 0.0
    eta_s: float | None = None
    elapsed_s: float = 0.0
    steps: tuple[int, ...] = ()  # step number of each recorded training point
    loss: tuple[float, ...] = ()
    accuracy: tuple[float, ...] = ()
    val_steps: tuple[int, ...] = ()  # step at which each validation point was taken (epoch ends)
    val_loss: tuple[float, ...] = ()
    val_accuracy: tuple[float, ...] = ()
    layer_names: tuple[str, ...] = ()
    layer_norms: tuple[tuple[float, ...], ...] = ()  # gradient norm per layer, one row per recorded step
    samples: tuple[tuple[int, str], ...] = ()  # (epoch, generated text) at each epoch end
    grad_curves: tuple[tuple[int, np.ndarray], ...] = ()  # (epoch, ||dL/dh_t|| by step) at each epoch end
    fast_path: bool = False  # whether the fused SimpleRNN path trains this model

    @property
    def perplexity(self) -> float | None:
        """exp(last training loss): how many tokens the model is choosing between, on average."""
        return math.exp(min(self.loss[-1], 50)) if self.loss else None

    @property
    def active(self) -> bool:
        return self.status in ("waiting", "running", "paused")


@dataclass
class History:
    """The lists the worker appends to; only the trainer thread touches them."""

    steps: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    val_steps: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    layer_norms: list = field(default_factory=list)
    samples: list = field(default_factory=list)
    grad_curves: list = field(default_factory=list)

"""Where a training stands, as plain data: what a worker sends back and what the next job continues from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Checkpoint:
    """Where a training stands, as plain data: enough to continue it in another process.

    `optimizer` is None at epoch ends (the optimizer's moments are only sent when a training stops).
    """

    weights: tuple  # model.get_weights(): NumPy arrays
    position: tuple[int, int]  # (epoch, batch) where the next step starts
    step: int  # batches trained so far
    elapsed_s: float  # training seconds so far, pauses excluded
    optimizer: tuple | None = None  # the optimizer's variables (moments, iteration count)
    version: int = 0  # grows with each checkpoint of one training
    carried: tuple = ()  # the hidden states a stateful model carries into its next batch (mid-epoch only)

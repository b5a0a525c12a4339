"""The plan of a training not yet started: its epochs and steps, known before any worker has the job."""

from __future__ import annotations

import numpy as np

from core.config import ModelConfig, TrainConfig
from core.text.batches import num_batches, split
from core.training.progress import Progress


def steps_per_epoch(train_ids: np.ndarray, config: ModelConfig, train: TrainConfig) -> int:
    """Batches in one epoch over `train_ids` (the text without its validation end), capped as `train` says."""
    per_epoch = num_batches(len(train_ids), config.batch_size, config.seq_len)
    return min(per_epoch, train.max_steps_per_epoch) if train.max_steps_per_epoch else per_epoch


def planned(config: ModelConfig, train: TrainConfig, ids: np.ndarray) -> Progress:
    """The snapshot of a training not yet started: its epochs and steps, nothing trained."""
    train_ids, _ = split(np.asarray(ids, np.int32), train.val_fraction, config.batch_size, config.seq_len)
    per_epoch = steps_per_epoch(train_ids, config, train)
    return Progress(epochs=train.epochs, steps_per_epoch=per_epoch, total_steps=per_epoch * train.epochs)

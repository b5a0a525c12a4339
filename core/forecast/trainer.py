"""Training a forecaster on a series' windows: the same background trainer as text (pause, resume, stop, snapshots,
checkpoints), with shuffled windows for batches, mean squared error for the loss, and validation MSE at epoch ends."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.config import TrainConfig
from core.training.progress import Progress
from core.forecast.series import WindowConfig
from core.forecast.model import SeriesModelConfig
from core.training.checkpoint import Checkpoint
from core.training.loop import TrainingLoop
from core.training.progress import History


@dataclass(frozen=True, eq=False)
class SeriesData:
    """The scaled windows a forecaster trains and validates on (`core.forecast.series.windows`' train and val parts)."""

    x_train: np.ndarray  # (n, lookback)
    y_train: np.ndarray  # (n, horizon)
    x_val: np.ndarray
    y_val: np.ndarray


def series_steps_per_epoch(n_windows: int, config: SeriesModelConfig, train: TrainConfig) -> int:
    """Batches in one epoch over `n_windows` training windows (`full_batches`), capped as `train` says."""
    per_epoch = -(-n_windows // config.batch_size)
    return min(per_epoch, train.max_steps_per_epoch) if train.max_steps_per_epoch else per_epoch


def full_batches(order: np.ndarray, size: int) -> list[np.ndarray]:
    """`order` in batches of `size`, the last one topped up with the order's first windows, so every batch has `size`
    windows (all of them when there are fewer). A small last batch made a spike or a dip in the loss curve at every
    epoch's end, and its shape a graph of its own."""
    chunks = [order[i:i + size] for i in range(0, len(order), size)]
    if len(chunks) > 1 and len(chunks[-1]) < size:
        chunks[-1] = np.concatenate([chunks[-1], order[:size - len(chunks[-1])]])
    return chunks


def series_planned(config: SeriesModelConfig, train: TrainConfig, data: SeriesData) -> Progress:
    """The snapshot of a series training not yet started."""
    per_epoch = series_steps_per_epoch(len(data.x_train), config, train)
    return Progress(epochs=train.epochs, steps_per_epoch=per_epoch, total_steps=per_epoch * train.epochs)


class SeriesValidation:
    """The epoch-end work of a forecaster: the validation windows' mean squared error (scaled units)."""

    def __init__(self, data: SeriesData):
        self.data = data

    def __call__(self, model, epoch: int, step: int, history: History) -> None:
        from core.forecast.model import predict

        if len(self.data.x_val):
            err = predict(model, self.data.x_val) - self.data.y_val
            history.val_steps.append(step), history.val_loss.append(float(np.mean(err * err))), history.val_accuracy.append(0.0)


class SeriesTrainer(TrainingLoop):
    """Trains a model from `build_series_model` in a background thread; the requests and snapshots of text training.

    Args:
        model: the Keras forecaster (its weights change in place).
        config: its settings.
        window: lookback and horizon.
        train: optimizer, epochs, clipping (the sample and gradient-curve fields are not used).
        data: the scaled training and validation windows.
        keep_alive, resume: as for `core.training.trainer.Trainer`.
    """

    def __init__(self, model, config: SeriesModelConfig, window: WindowConfig, train: TrainConfig, data: SeriesData,
                 keep_alive=None, resume: Checkpoint | None = None):
        self.window, self.data = window, data
        self._begin(model, config, train, keep_alive, resume, series_steps_per_epoch(len(data.x_train), config, train),
                    [SeriesValidation(data)])
        self.tokens_per_step = config.batch_size * window.lookback  # values read per step

    def _make_step(self):
        from core.nn.train_step import make_regression_step

        return (*make_regression_step(self.model, self.train), False)

    def _batches(self, epoch: int):
        order = np.random.default_rng(self.config.seed + epoch).permutation(len(self.data.x_train))
        for idx in full_batches(order, self.config.batch_size):
            yield self.data.x_train[idx, :, None].astype(np.float32), self.data.y_train[idx].astype(np.float32)

    def _epoch_start(self) -> None:
        pass  # windows carry no state from one batch to the next

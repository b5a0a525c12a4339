"""The forecasting network: windows of a series -> a recurrent layer (or several) -> Dense(horizon).

The same cells as the language model, fed one value per step instead of an embedded token, with a linear head
that reads the last hidden state and outputs the next `horizon` values (scaled, as `core.series.windows` makes them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.config import ACTIVATIONS, CELL_NAMES, CELLS, _check_choice, _check_float, _check_int
from core.series import WindowConfig


@dataclass(frozen=True)
class SeriesModelConfig:
    """Shape of the forecasting network."""

    cell: str = "simple_rnn"  # recurrent cell: simple_rnn, lstm or gru
    rnn_units: int = 32  # size of the hidden state h_t of each recurrent layer
    num_layers: int = 1  # recurrent layers stacked on top of each other
    activation: str = "tanh"  # nonlinearity of the hidden state
    batch_size: int = 32  # windows per training step
    dropout: float = 0.0  # share of each recurrent layer's inputs dropped while training
    seed: int = 42  # seeds the initializers and the shuffle of the windows

    def __post_init__(self) -> None:
        _check_choice("cell", self.cell, CELLS)
        _check_int("rnn_units", self.rnn_units, 1, 1024)
        _check_int("num_layers", self.num_layers, 1, 4)
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_int("batch_size", self.batch_size, 1, 4096)
        _check_float("dropout", self.dropout, 0.0, 0.9)
        _check_int("seed", self.seed, 0, 2**31 - 1)


def build_series_model(config: SeriesModelConfig, window: WindowConfig):
    """A Keras model from (batch, lookback, 1) scaled values to (batch, horizon) scaled forecasts.

    Args:
        config: cell, sizes and seed.
        window: lookback and horizon.

    Returns:
        An uncompiled `keras.Model` whose recurrent layers are named rnn_1, rnn_2, ... and whose head is `forecast`.
    """
    from core.tf import keras

    layer_cls = {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[config.cell]
    inputs = keras.Input(shape=(window.lookback, 1), name="values")  # (batch, lookback, 1)
    x = inputs
    for i in range(config.num_layers):
        extra = {"activation": config.activation} if config.cell == "simple_rnn" else {}
        x = layer_cls(config.rnn_units, return_sequences=i < config.num_layers - 1, dropout=config.dropout,
                      kernel_initializer=keras.initializers.GlorotUniform(seed=config.seed + 2 * i),
                      recurrent_initializer=keras.initializers.Orthogonal(seed=config.seed + 2 * i + 1),
                      name=f"rnn_{i + 1}", **extra)(x)  # (batch, [lookback,] units)
    outputs = keras.layers.Dense(window.horizon, name="forecast",
                                 kernel_initializer=keras.initializers.GlorotUniform(seed=config.seed + 100))(x)
    return keras.Model(inputs, outputs, name=f"{CELL_NAMES[config.cell]}_forecaster")


def predict(model, x: np.ndarray, batch: int = 1024) -> np.ndarray:
    """Scaled forecasts (n, horizon) for scaled windows (n, lookback), in batches, without training behaviour."""
    out = [np.asarray(model(x[i:i + batch, :, None], training=False)) for i in range(0, len(x), batch)]
    return np.concatenate(out) if out else np.zeros((0, model.output_shape[-1]))


def roll_forward(model, window: np.ndarray, steps: int) -> np.ndarray:
    """Forecast `steps` values by feeding each first forecast back in as the newest input (scaled values)."""
    history = list(np.asarray(window, np.float64))
    out = []
    for _ in range(steps):
        nxt = float(predict(model, np.asarray(history[-len(window):])[None, :])[0, 0])
        out.append(nxt)
        history.append(nxt)
    return np.array(out)

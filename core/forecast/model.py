"""The forecasting network: windows of a series -> a recurrent layer (or several) -> Dense(horizon).

The same cells as the language model, fed one value per step instead of an embedded token, with a linear head
that reads the last hidden state and outputs the next `horizon` values (scaled, as `core.forecast.series.windows` makes them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.cells import cell_spec
from core.config import ACTIVATIONS, CELLS
from core.validation import check_choice, check_float, check_int
from core.forecast.series import WindowConfig


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
        check_choice("cell", self.cell, CELLS)
        check_int("rnn_units", self.rnn_units, 1, 1024)
        check_int("num_layers", self.num_layers, 1, 4)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_int("batch_size", self.batch_size, 1, 4096)
        check_float("dropout", self.dropout, 0.0, 0.9)
        check_int("seed", self.seed, 0, 2**31 - 1)


def build_series_model(config: SeriesModelConfig, window: WindowConfig):
    """A Keras model from (batch, lookback, 1) scaled values to (batch, horizon) scaled forecasts.

    Args:
        config: cell, sizes and seed.
        window: lookback and horizon.

    Returns:
        An uncompiled `keras.Model` whose recurrent layers are named rnn_1, rnn_2, ... and whose head is `forecast`.
    """
    from core.nn.tf import keras

    layer_cls = cell_spec(config.cell).layer_class()
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
    return keras.Model(inputs, outputs, name=f"{cell_spec(config.cell).name}_forecaster")


def predict(model, x: np.ndarray, batch: int = 1024) -> np.ndarray:
    """Scaled forecasts (n, horizon) for scaled windows (n, lookback), in batches, without training behaviour."""
    out = [np.asarray(model(x[i:i + batch, :, None], training=False)) for i in range(0, len(x), batch)]
    return np.concatenate(out) if out else np.zeros((0, model.output_shape[-1]))


def roll_forward(model, window: np.ndarray, steps: int) -> np.ndarray:
    """Forecast `steps` values by feeding each first forecast back in as the newest input (scaled values).

    One step is a graph call (a `tf.function`, traced once per call of roll_forward): called eagerly, a recurrent
    layer runs its loop op by op, and a year of steps took 12.8 s of CPU in the web server instead of 0.6 s, tracing
    included (a 32-unit SimpleRNN, lookback 30; `bench/forecast_report.py`).
    """
    from core.nn.tf import graph

    one = graph(lambda x: model(x, training=False))
    history = list(np.asarray(window, np.float64))
    out = []
    for _ in range(steps):
        nxt = float(one(np.asarray(history[-len(window):], np.float32)[None, :, None]).numpy()[0, 0])
        out.append(nxt)
        history.append(nxt)
    return np.array(out)


@dataclass(frozen=True, eq=False)
class Report:
    """How a forecaster did on the test period, next to the baselines."""

    table: dict  # name -> (MAE, RMSE) in the series' units, baselines first, the network last
    one_step: tuple  # (series indices, the network's forecast one step ahead)
    rolled: tuple  # (series indices, the network fed its own forecasts from the test period's start)
    residuals: dict  # name -> (series indices, forecast − actual one step ahead)


def report(model, values: np.ndarray, w, name: str, rolled_steps: int = 365) -> Report:
    """Forecast the test windows and compare with persistence, seasonal naive and linear AR on the same split.

    Args:
        model: a trained forecaster for `w`'s windows.
        values: the whole series.
        w: its `core.forecast.series.Windows`.
        name: the network's row name (its cell's name).
        rolled_steps: how many steps the fed-back forecast runs at most.
    """
    from core.forecast.series import baselines, errors, to_levels, truth

    o, h = w.origin["test"], w.config.horizon
    actual = truth(values, o, h)
    forecasts = baselines(values, w) | {name: to_levels(w, values, predict(model, w.x["test"]), o)}
    start = o[0]  # the last known value before the test period
    steps = min(rolled_steps, len(values) - 1 - start)
    z = roll_forward(model, w.x["test"][0], steps)
    rolled = z * w.std + w.mean
    if w.config.difference:
        rolled = values[start] + np.cumsum(rolled)
    return Report(table={k: errors(f, actual) for k, f in forecasts.items()},
                  one_step=(o + 1, forecasts[name][:, 0]), rolled=(start + 1 + np.arange(steps), rolled),
                  residuals={k: (o + 1, f[:, 0] - actual[:, 0]) for k, f in forecasts.items()})


def hidden_states(model, z: np.ndarray) -> list[np.ndarray]:
    """Each recurrent layer's h_t while the forecaster reads the scaled values `z` from a zero state.

    Returns:
        One (T, units) array per recurrent layer, bottom first (twins of the layers with `return_sequences=True`, so
        any length can be read, not only the lookback).
    """
    x = np.asarray(z, np.float32)[None, :, None]  # (1, T, 1)
    out = []
    for layer in [layer for layer in model.layers if layer.name.startswith("rnn_")]:
        twin = type(layer).from_config(layer.get_config() | {"return_sequences": True, "name": f"{layer.name}_all"})
        twin.build(x.shape)
        twin.set_weights(layer.get_weights())
        x = np.asarray(twin(x, training=False))  # (1, T, units)
        out.append(x[0])
    return out

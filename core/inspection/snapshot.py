"""A copy of a language model's weights in NumPy, and one step of its cell, for the inspection views.

A snapshot is read once per call and never changes, so the views that use it (`core.inspection.unroll`,
`core.inspection.connectivity`) are safe while the model trains; see `core.inspection.unroll` for why they never call
the Keras model itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from core.cells import key_of_layer
from core.nn.language_model import rnn_layers
from core.nn.tf import keras, tf

@dataclass(frozen=True)
class LayerWeights:
    """One recurrent layer's weights, copied to NumPy."""

    kernel: np.ndarray  # (inputs, gates * units)
    recurrent: np.ndarray  # (units, gates * units)
    bias: np.ndarray  # (gates * units,) added to x @ kernel
    recurrent_bias: np.ndarray  # (gates * units,) added to h @ recurrent (GRU only; zeros otherwise)


@dataclass(frozen=True)
class Snapshot:
    """Copies of the weights of a model from `build_model`, safe to use while it trains."""

    kind: str  # simple_rnn, lstm or gru
    activation: Callable  # the cell's nonlinearity (a Keras activation function)
    recurrent_activation: Callable | None  # gate nonlinearity of LSTM/GRU; None for SimpleRNN
    embeddings: np.ndarray  # (vocab, embedding)
    layers: tuple[LayerWeights, ...]  # bottom first
    logits_kernel: np.ndarray  # (units, vocab)
    logits_bias: np.ndarray  # (vocab,)


def snapshot(model: keras.Model) -> Snapshot:
    """Copy the weights of `model` into NumPy arrays.

    Args:
        model: a model from `core.nn.language_model.build_model`, stateful or not.

    Returns:
        A `Snapshot`; later training steps do not change it.
    """
    layers = rnn_layers(model)
    if not layers:
        raise ValueError("This model has no recurrent layer. Build it with core.nn.language_model.build_model.")
    kind = key_of_layer(layers[0])
    if kind is None:
        raise ValueError(f"Cannot inspect a {type(layers[0]).__name__} layer; use SimpleRNN, LSTM or GRU.")
    copied = []
    for layer in layers:
        cell = layer.cell
        if kind == "gru" and not cell.reset_after:
            raise ValueError("Only GRU(reset_after=True), the Keras default, can be inspected.")
        kernel, recurrent = np.array(cell.kernel.numpy()), np.array(cell.recurrent_kernel.numpy())
        width = recurrent.shape[1]
        bias = np.zeros((2, width), np.float32) if cell.bias is None else np.array(cell.bias.numpy())
        bias = bias.reshape(-1, width)  # (1 or 2, gates * units): GRU keeps input and recurrent biases
        rec_bias = bias[1] if bias.shape[0] == 2 else np.zeros(width, np.float32)
        copied.append(LayerWeights(kernel, recurrent, bias[0], rec_bias))
    cell = layers[0].cell
    dense = model.get_layer("logits")
    return Snapshot(
        kind=kind,
        activation=cell.activation,
        recurrent_activation=getattr(cell, "recurrent_activation", None),
        embeddings=np.array(model.get_layer("embedding").embeddings.numpy()),
        layers=tuple(copied),
        logits_kernel=np.array(dense.kernel.numpy()),
        logits_bias=np.array(dense.bias.numpy()),
    )


def cell_step(kind: str, act: Callable, ract: Callable, x, h, c, recurrent, rec_bias):
    """One step of a SimpleRNN, LSTM or GRU (reset_after=True) cell on a batch: (h, c) after input projection `x`.

    `x` is x_t @ kernel + bias, (batch, gates * units); h and c are (batch, units); c is used by the LSTM only.
    """
    if kind == "simple_rnn":
        return act(x + tf.matmul(h, recurrent)), c
    if kind == "lstm":
        i, f, g, o = tf.split(x + tf.matmul(h, recurrent), 4, axis=1)  # (batch, units) each
        c = ract(f) * c + ract(i) * act(g)
        return ract(o) * act(c), c
    x_z, x_r, x_h = tf.split(x, 3, axis=1)  # GRU: the reset gate multiplies (h @ U_h + b_h)
    r_z, r_r, r_h = tf.split(tf.matmul(h, recurrent) + rec_bias, 3, axis=1)
    z, r = ract(x_z + r_z), ract(x_r + r_r)
    return z * h + (1.0 - z) * act(x_h + r * r_h), c


def layer_specs(n: int) -> list:
    """tf.function input signatures for `n` layers' (kernel, recurrent, bias, recurrent bias), any size."""
    spec = tf.TensorSpec
    return [(spec([None, None]), spec([None, None]), spec([None]), spec([None])) for _ in range(n)]


def check_ids(ids, vocab: int, minimum: int) -> np.ndarray:
    """`ids` as int32 after checking it is 1-D, at least `minimum` long and inside a vocabulary of `vocab`."""
    arr = np.asarray(ids)
    if arr.ndim != 1 or arr.size < minimum or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"Received invalid token ids: expected a 1-D array of at least {minimum} whole numbers, "
            f"got shape {arr.shape} of {arr.dtype}. Encode a longer text with the model's vocabulary."
        )
    if arr.min() < 0 or arr.max() >= vocab:
        raise ValueError(
            f"Received token id {int(arr.max() if arr.max() >= vocab else arr.min())}, outside the model's "
            f"vocabulary of {vocab}. Encode the text with the vocabulary the model was trained on."
        )
    return arr.astype(np.int32)


def layer_args(snap: Snapshot, n: int) -> list:
    """The first `n` layers' weights as the (kernel, recurrent, bias, recurrent bias) tuples the traced steps take."""
    return [(l.kernel, l.recurrent, l.bias, l.recurrent_bias) for l in snap.layers[:n]]

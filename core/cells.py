"""The recurrent cells the playground offers, one row per kind: everything that differs between them is here.

The config key is what `ModelConfig.cell` holds and links carry; the name is Keras' layer class and what the pages
show. The gates are the square blocks of Keras' kernels, in Keras' order (`kernel` is (inputs, gates · units)).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    """One kind of recurrent cell."""

    key: str  # the config value: simple_rnn, lstm or gru
    name: str  # Keras' layer class, also the name the pages show: SimpleRNN, LSTM, GRU
    gates: tuple[str, ...]  # labels of the kernel's blocks, in Keras' order (one block U for SimpleRNN)
    biases: int  # bias vectors per block: 2 for Keras' GRU (reset_after=True), else 1
    kept_per_step: int  # (batch, units) tensors one layer keeps per time step for the backward pass

    @property
    def gate_count(self) -> int:
        """Blocks of units in each kernel: 1, 4 or 3."""
        return len(self.gates)

    def layer_class(self) -> type:
        """The Keras layer class (`keras.layers.SimpleRNN`, `LSTM` or `GRU`)."""
        from core.nn.tf import keras

        return getattr(keras.layers, self.name)


CELLS = {
    "simple_rnn": Cell("simple_rnn", "SimpleRNN", ("U",), 1, 3),
    "lstm": Cell("lstm", "LSTM", ("i", "f", "c", "o"), 1, 12),
    "gru": Cell("gru", "GRU", ("z", "r", "h"), 2, 10),
}
KEYS = tuple(CELLS)  # simple_rnn, lstm, gru: the order of every menu
NAMES = {key: cell.name for key, cell in CELLS.items()}  # config key -> name shown


def cell_spec(key: str) -> Cell:
    """The row of the cell whose config key is `key`.

    Raises:
        ValueError: `key` is not one of `KEYS`; the message lists them.
    """
    if key not in CELLS:
        raise ValueError(f"Received an invalid cell `{key}`: expected one of {', '.join(KEYS)}.")
    return CELLS[key]


def key_of_layer(layer) -> str | None:
    """The config key of a Keras recurrent layer (by its class), or None for any other layer."""
    return {c.name: c.key for c in CELLS.values()}.get(type(layer).__name__)

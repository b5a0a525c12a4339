"""The settings of a run: one frozen dataclass for the model, one for training.

Pages build these from widgets and change them with `dataclasses.replace`; both round-trip
through a URL query string so a link reproduces a set-up.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any, Mapping

CELLS = ("simple_rnn", "lstm", "gru")
CELL_NAMES = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}  # as Keras names the layers
ACTIVATIONS = ("tanh", "relu")
RECURRENT_INITIALIZERS = ("orthogonal", "random_normal", "glorot_uniform", "identity")
OPTIMIZERS = ("adam", "rmsprop", "sgd")


def _check_int(name: str, value: Any, low: int, high: int, fix: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(
            f"Received an invalid value for `{name}`: expected a whole number from {low} to {high}, "
            f"got {value!r}.{(' ' + fix) if fix else ''}"
        )


def _check_float(name: str, value: Any, low: float, high: float, *, low_open: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    ok = ok and (low < value if low_open else low <= value) and value <= high
    if not ok:
        bound = f"above {low}" if low_open else f"from {low}"
        raise ValueError(
            f"Received an invalid value for `{name}`: expected a number {bound} to {high}, got {value!r}."
        )


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(
            f"Received an invalid value for `{name}`: expected one of {', '.join(choices)}, got {value!r}."
        )


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the language model: Embedding -> RNN layer(s) -> Dense(vocab) logits."""

    vocab_size: int = 65  # number of distinct tokens; set from the loaded text's vocabulary
    embedding_dim: int = 32  # length of the learned vector that stands for each token
    rnn_units: int = 128  # size of the hidden state h_t of each recurrent layer
    batch_size: int = 32  # sequences trained side by side; fixed into a stateful model
    seq_len: int = 64  # time steps per training window (how far back gradients flow)
    cell: str = "simple_rnn"  # recurrent cell: simple_rnn, lstm or gru
    num_layers: int = 1  # recurrent layers stacked on top of each other
    activation: str = "tanh"  # nonlinearity of the hidden state: tanh or relu
    recurrent_initializer: str = "orthogonal"  # starting recurrent matrix U
    recurrent_init_scale: float = 1.0  # stddev of U for random_normal, gain otherwise
    dropout: float = 0.0  # share of the inputs to each recurrent layer dropped while training
    stateful: bool = True  # carry the hidden state from one batch to the next
    seed: int = 42  # seeds every initializer, dropout mask and shuffle

    def __post_init__(self) -> None:
        _check_int("vocab_size", self.vocab_size, 2, 50_000, "A text needs at least two different tokens; above the limit, lower the vocabulary cap on the Text page.")
        _check_int("embedding_dim", self.embedding_dim, 1, 4096)
        _check_int("rnn_units", self.rnn_units, 1, 4096)
        _check_int("batch_size", self.batch_size, 1, 1024)
        _check_int("seq_len", self.seq_len, 1, 2000)
        _check_choice("cell", self.cell, CELLS)
        _check_int("num_layers", self.num_layers, 1, 4)
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_choice("recurrent_initializer", self.recurrent_initializer, RECURRENT_INITIALIZERS)
        _check_float("recurrent_init_scale", self.recurrent_init_scale, 0.0, 10.0, low_open=True)
        _check_float("dropout", self.dropout, 0.0, 0.9)
        if not isinstance(self.stateful, bool):
            raise ValueError(f"Received an invalid value for `stateful`: expected True or False, got {self.stateful!r}.")
        _check_int("seed", self.seed, 0, 2**31 - 1)


@dataclass(frozen=True)
class TrainConfig:
    """How the model is trained."""

    learning_rate: float = 0.003  # step size of the optimizer
    optimizer: str = "adam"  # adam, rmsprop or sgd
    epochs: int = 3  # passes over the training text
    clip_norm: float = 5.0  # largest global gradient norm applied; 0 turns clipping off
    val_fraction: float = 0.1  # share of the text, taken from its end, kept for validation
    max_steps_per_epoch: int = 0  # stop an epoch after this many batches; 0 means the whole text
    sample_length: int = 200  # tokens generated at the end of each epoch
    sample_temperature: float = 0.8  # randomness of the epoch-end sample
    grad_curve_len: int = 100  # steps of the gradient-vs-lag curve recorded at each epoch end; 0 skips it

    def __post_init__(self) -> None:
        _check_float("learning_rate", self.learning_rate, 0.0, 100.0, low_open=True)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_int("epochs", self.epochs, 1, 1000)
        _check_float("clip_norm", self.clip_norm, 0.0, 1e6)
        _check_float("val_fraction", self.val_fraction, 0.0, 0.5)
        _check_int("max_steps_per_epoch", self.max_steps_per_epoch, 0, 10**7)
        _check_int("sample_length", self.sample_length, 0, 5000)
        _check_float("sample_temperature", self.sample_temperature, 0.0, 10.0, low_open=True)
        _check_int("grad_curve_len", self.grad_curve_len, 0, 1000)


# One click away from the page: a model that learns visibly in a minute, and the reference sizes.
QUICK_DEMO = ModelConfig(embedding_dim=32, rnn_units=128, batch_size=32, seq_len=64)
ARTICLE = ModelConfig(embedding_dim=256, rnn_units=1024, batch_size=64, seq_len=100)
QUICK_DEMO_TRAIN = TrainConfig(learning_rate=0.003, epochs=20, max_steps_per_epoch=100)
ARTICLE_TRAIN = TrainConfig(learning_rate=0.001, epochs=3, max_steps_per_epoch=0)


def _parse(kind: type, raw: str) -> Any:
    if kind is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {raw!r}")
    return kind(raw)


def to_query(config: ModelConfig | TrainConfig) -> dict[str, str]:
    """The fields that differ from the defaults, as strings for a URL query."""
    default = type(config)()
    return {
        f.name: str(getattr(config, f.name)).lower() if isinstance(getattr(config, f.name), bool) else str(getattr(config, f.name))
        for f in fields(config)
        if getattr(config, f.name) != getattr(default, f.name)
    }


def from_query(cls: type, query: Mapping[str, str], base: Any = None) -> Any:
    """Build `cls` from a URL query; unknown keys are ignored, bad values raise ValueError naming the field."""
    base = base if base is not None else cls()
    changes = {}
    for f in fields(cls):
        if f.name in query:
            kind = type(getattr(base, f.name))
            try:
                changes[f.name] = _parse(kind, str(query[f.name]))
            except ValueError as err:
                raise ValueError(f"Received an invalid value for `{f.name}` in the link: {err}.") from None
    return dataclasses.replace(base, **changes)

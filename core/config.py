"""The settings of a run: one frozen dataclass for the model, one for training.

Pages build these from widgets and change them with `dataclasses.replace`; both round-trip
through a URL query string so a link reproduces a set-up.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any, Mapping

from core import cells
from core.validation import check_choice, check_float, check_int

CELLS = cells.KEYS  # the config keys of the cells (core.cells holds everything else about them)
CELL_NAMES = cells.NAMES  # config key -> the name Keras gives the layer, as the pages show it
ACTIVATIONS = ("tanh", "relu")
RECURRENT_INITIALIZERS = ("orthogonal", "random_normal", "glorot_uniform", "identity")
OPTIMIZERS = ("adam", "rmsprop", "sgd")


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
        check_int("vocab_size", self.vocab_size, 2, 50_000, "A text needs at least two different tokens; above the limit, lower the vocabulary cap on the Text page.")
        check_int("embedding_dim", self.embedding_dim, 1, 4096)
        check_int("rnn_units", self.rnn_units, 1, 4096)
        check_int("batch_size", self.batch_size, 1, 1024)
        check_int("seq_len", self.seq_len, 1, 2000)
        check_choice("cell", self.cell, CELLS)
        check_int("num_layers", self.num_layers, 1, 4)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("recurrent_initializer", self.recurrent_initializer, RECURRENT_INITIALIZERS)
        check_float("recurrent_init_scale", self.recurrent_init_scale, 0.0, 10.0, low_open=True)
        check_float("dropout", self.dropout, 0.0, 0.9)
        if not isinstance(self.stateful, bool):
            raise ValueError(f"Received an invalid value for `stateful`: expected True or False, got {self.stateful!r}.")
        check_int("seed", self.seed, 0, 2**31 - 1)


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
        check_float("learning_rate", self.learning_rate, 1e-5, 100.0)  # the Train page's range
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_int("epochs", self.epochs, 1, 1000)
        check_float("clip_norm", self.clip_norm, 0.0, 1e6)
        check_float("val_fraction", self.val_fraction, 0.0, 0.5)
        check_int("max_steps_per_epoch", self.max_steps_per_epoch, 0, 10**7)
        check_int("sample_length", self.sample_length, 0, 5000)
        check_float("sample_temperature", self.sample_temperature, 0.0, 10.0, low_open=True)
        check_int("grad_curve_len", self.grad_curve_len, 0, 1000)


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


# Settings that change how a model is trained but not its weights: a trained model keeps its weights.
TRAINING_ONLY = ("batch_size", "seq_len", "stateful", "dropout")


def same_weights(a: ModelConfig, b: ModelConfig) -> bool:
    """True when a model built for `a` can carry the trained weights of one built for `b`."""
    keep = [f.name for f in fields(ModelConfig) if f.name not in (*TRAINING_ONLY, "seed")]
    return all(getattr(a, name) == getattr(b, name) for name in keep)


def needs_confirmation(new: ModelConfig, current: ModelConfig | None, trained_steps: int, training: bool, stored: bool,
                       fresh: bool = False) -> bool:
    """Whether to ask before settings `new` replace the current model.

    Args:
        current: the current model's settings (None: there is no model).
        trained_steps: batches the current model has been trained on.
        training: whether its training is under way (a new model stops it).
        stored: whether the run store keeps it (then nothing trained is lost).
        fresh: a one-click start, which always begins from a new model.

    Returns:
        True when applying `new` would stop a training under way, or throw away a trained model the run store does
        not keep: other sizes, or `fresh`.
    """
    if current is None or trained_steps == 0:
        return False
    if not fresh and same_weights(new, current):
        return False
    return training or not stored

"""The language model: Embedding -> recurrent layer(s) -> Dense logits, in its Keras 3 form.

The classic Keras 2 code passed `batch_input_shape` to the Embedding and called `model.reset_states()`;
Keras 3 needs `keras.Input(batch_shape=...)` for a stateful RNN and resets each layer instead.
"""

from __future__ import annotations

import contextvars
import io
import os
import types
from dataclasses import dataclass

from core.cells import cell_spec
from core.config import ModelConfig
from core.nn.tf import keras

_SUMMARY_WIDTH = contextvars.ContextVar("summary_width", default=None)


def _recurrent_initializer(config: ModelConfig, seed: int):
    scale = config.recurrent_init_scale
    init = keras.initializers
    return {
        "orthogonal": lambda: init.Orthogonal(gain=scale, seed=seed),
        "random_normal": lambda: init.RandomNormal(stddev=scale / config.rnn_units**0.5, seed=seed),
        "glorot_uniform": lambda: init.GlorotUniform(seed=seed),
        "identity": lambda: init.Identity(gain=scale),
    }[config.recurrent_initializer]()


def _rnn_layer(config: ModelConfig, index: int, stateful: bool, zeros: bool = False):
    seed = config.seed + 10 * (index + 1)
    cls = cell_spec(config.cell).layer_class()
    kwargs = dict(
        units=config.rnn_units,
        return_sequences=True,
        stateful=stateful,
        kernel_initializer="zeros" if zeros else keras.initializers.GlorotUniform(seed=seed),
        recurrent_initializer="zeros" if zeros else _recurrent_initializer(config, seed + 1),
        dropout=config.dropout,
        seed=seed + 2,
        activation=config.activation,  # LSTM/GRU gates stay sigmoid; this is the candidate nonlinearity
        name=f"rnn_{index + 1}",
    )
    return cls(**kwargs)


def build_model(config: ModelConfig, *, stateful: bool | None = None, batch_size: int | None = None,
                zeros: bool = False) -> keras.Model:
    """Build the language model described by `config`.

    Args:
        config: the model settings.
        stateful: overrides `config.stateful`; a stateless twin accepts any batch size.
        batch_size: overrides `config.batch_size` for a stateful model (e.g. 1 for generation).
        zeros: every weight starts at zero: the same layers, shapes and summary, built fast (an orthogonal
            4096 × 16384 LSTM kernel takes half a minute), for showing the model before training it.

    Returns:
        An uncompiled `keras.Model` mapping int token ids (batch, time) to logits (batch, time, vocab).
        Built with seeded initializers, so the same config gives the same weights.

    Sessions build at the same time without a lock: the model is new, every random initializer has its own integer
    seed (stateless draws, no global random state), every layer is named, and what Keras keeps while building (name
    counters, scopes, the scratch graph of the functional API) is per thread (`keras.src.backend.common.global_state`
    is a `threading.local`). What is not safe is calling one model from two threads at once; that is for the callers
    to avoid (the trainer owns its model; the inspection views read weight snapshots).
    """
    stateful = config.stateful if stateful is None else stateful
    batch = (batch_size or config.batch_size) if stateful else None
    tokens = keras.Input(batch_shape=(batch, None), dtype="int32", name="tokens")
    x = keras.layers.Embedding(
        config.vocab_size,
        config.embedding_dim,
        embeddings_initializer="zeros" if zeros else keras.initializers.RandomUniform(-0.05, 0.05, seed=config.seed),
        name="embedding",
    )(tokens)  # (batch, time, embedding)
    for i in range(config.num_layers):
        x = _rnn_layer(config, i, stateful, zeros)(x)  # (batch, time, units)
    logits = keras.layers.Dense(
        config.vocab_size, kernel_initializer="zeros" if zeros else keras.initializers.GlorotUniform(seed=config.seed + 1),
        name="logits"
    )(x)  # (batch, time, vocab)
    return keras.Model(tokens, logits, name=f"{config.cell}_language_model")


def rnn_layers(model: keras.Model) -> list:
    """The recurrent layers of a model from `build_model`, bottom first."""
    return [layer for layer in model.layers if hasattr(layer, "cell")]


def reset_states(model: keras.Model) -> None:
    """Zero the carried hidden state of every stateful layer (Keras 3 Models have no `reset_states`)."""
    for layer in rnn_layers(model):
        if getattr(layer, "stateful", False):
            layer.reset_states()


def twin(model: keras.Model, config: ModelConfig, **overrides) -> keras.Model:
    """A second model of the same architecture holding a copy of `model`'s current weights."""
    other = build_model(config, **overrides)
    other.set_weights(model.get_weights())
    return other


def _console_at_summary_width() -> None:
    """Keras makes a rich Console inside `summary()` with no width, so rich sizes it from $COLUMNS or the server's
    terminal and cuts the table's right-hand columns. Give Keras's summary module a Console that takes the width
    `summary_text` set in this thread's context; anywhere else (no width set) it is rich's own Console unchanged."""
    from keras.src.utils import summary_utils

    rich = summary_utils.rich
    if getattr(rich, "sized_by_summary_text", False):
        return

    class Console(rich.console.Console):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("width", _SUMMARY_WIDTH.get())
            super().__init__(*args, **kwargs)

    class Forward(types.ModuleType):
        def __getattr__(self, name):
            return getattr(self.real, name)

    console, package = Forward("rich.console"), Forward("rich")
    console.real, console.Console = rich.console, Console
    package.real, package.console, package.sized_by_summary_text = rich, console, True
    summary_utils.rich = package


def summary_text(model: keras.Model, line_length: int = 100) -> str:
    """`model.summary()` as plain text, `line_length` wide whatever the server's terminal or $COLUMNS (N23: this
    once set $COLUMNS for the whole process while it ran)."""
    _console_at_summary_width()
    out = io.StringIO()
    token = _SUMMARY_WIDTH.set(line_length)
    try:
        model.summary(line_length=line_length, print_fn=lambda s, line_break=True: out.write(s + ("\n" if line_break else "")))
    finally:
        _SUMMARY_WIDTH.reset(token)
    return out.getvalue()


def keras_file(model: keras.Model) -> bytes:
    """The model saved as a `.keras` file (a zip of its config and weights), as bytes.

    It holds only stock Keras layers, so plain Keras loads it with `keras.saving.load_model`, without
    this project's code. A stateful model keeps its fixed batch size; its carried state is not saved,
    so the loaded model starts from zeros.
    """
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def load_snippet(config: ModelConfig, level: str, prompt: str, model_file: str, vocab_file: str) -> str:
    """Python that loads the downloaded model and vocabulary in plain Keras and prints its most likely
    token after `prompt` (which should use only tokens of the vocabulary)."""
    split = "list(prompt)" if level == "char" else "prompt.split()"
    rows = f"[ids] * {config.batch_size}" if config.stateful else "[ids]"
    return f'''import json
import keras
import numpy as np

model = keras.saving.load_model("{model_file}")
tokens = json.load(open("{vocab_file}", encoding="utf-8"))["tokens"]
prompt = {prompt!r}
ids = [tokens.index(t) for t in {split} if t in tokens]
logits = model.predict(np.array({rows}), verbose=0)  # (batch, time, vocab){"; a stateful model takes its whole batch" if config.stateful else ""}
print(repr(tokens[int(np.argmax(logits[0, -1]))]))  # the most likely next token
'''


@dataclass(frozen=True)
class ParamRow:
    """One layer's parameter count and the formula it comes from."""

    layer: str
    formula: str
    values: str
    count: int


def parameter_rows(config: ModelConfig) -> list[ParamRow]:
    """Where every parameter comes from, computed by hand from the config (not from Keras)."""
    V, E, U = config.vocab_size, config.embedding_dim, config.rnn_units
    cell = cell_spec(config.cell)
    g, b = cell.gate_count, cell.biases  # Keras' GRU keeps two bias vectors per gate (reset_after=True)
    times = "" if g == 1 else f"{g}·"
    rows = [ParamRow("embedding", "V·E", f"{V:,}·{E:,}", V * E)]
    for i in range(config.num_layers):
        d = E if i == 0 else U
        din = "E" if i == 0 else "U"
        rows.append(ParamRow(f"rnn_{i + 1} ({cell.name})", f"{times}U·({din}+U+{b})", f"{times}{U:,}·({d:,}+{U:,}+{b})",
                             g * U * (d + U + b)))
    rows.append(ParamRow("logits (Dense)", "(U+1)·V", f"({U:,}+1)·{V:,}", (U + 1) * V))
    return rows


def count_params(config: ModelConfig) -> int:
    """Total trainable parameters of `build_model(config)`, by the formulas of `parameter_rows`."""
    return sum(row.count for row in parameter_rows(config))


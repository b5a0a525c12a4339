"""The exported training code: one readable template per kind of run (`templates/`), the run's settings filled in.

The templates are plain Python with `$name` placeholders (`string.Template`); each value is written as a Python
literal, so the script a student reads holds the run's own numbers and nothing of the app.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template

from core.cells import cell_spec
from core.config import ModelConfig, TrainConfig

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEXT_FILE = "text.txt"
SERIES_FILE = "series.csv"
OPTIMIZER_CLASSES = {"adam": "Adam", "rmsprop": "RMSprop", "sgd": "SGD"}


def optimizer_code(train: TrainConfig) -> str:
    """The Keras optimizer `train` names, as code (its other settings are Keras' defaults, as in the app)."""
    return f"keras.optimizers.{OPTIMIZER_CLASSES[train.optimizer]}(learning_rate=LEARNING_RATE)"


def recurrent_initializer_code(config: ModelConfig) -> str:
    """The recurrent initializer of `core.nn.language_model` for `config`, as code reading a local `seed`."""
    scale = config.recurrent_init_scale
    return {
        "orthogonal": f"keras.initializers.Orthogonal(gain={scale!r}, seed=seed + 1)",
        "random_normal": f"keras.initializers.RandomNormal(stddev={scale!r} / RNN_UNITS**0.5, seed=seed + 1)",
        "glorot_uniform": "keras.initializers.GlorotUniform(seed=seed + 1)",
        "identity": f"keras.initializers.Identity(gain={scale!r})",
    }[config.recurrent_initializer]


def _quoted(text: str) -> str:
    """A string literal in double quotes, as the rest of the script writes them."""
    return json.dumps(text, ensure_ascii=False)


def _fill(template: str, **values) -> str:
    return Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(**values)


def text_script(config: ModelConfig, train: TrainConfig, level: str, title: str) -> str:
    """train.py for a text run.

    Args:
        config: the run's model settings (`core.nn.language_model.build_model` built its model from them).
        train: its training settings.
        level: "char" or "word", the vocabulary's level.
        title: what the script's first line calls the run.

    Returns:
        The script's source: settings, data, model, training and sampling sections, each under a `# %%` marker.
    """
    return _fill(
        "text_train.py.tmpl", title=title, level=_quoted(level), cell=_quoted(cell_spec(config.cell).name),
        embedding_dim=config.embedding_dim, rnn_units=config.rnn_units, num_layers=config.num_layers,
        activation=_quoted(config.activation), dropout=repr(config.dropout), stateful=config.stateful,
        batch_size=config.batch_size, seq_len=config.seq_len, seed=config.seed, epochs=train.epochs,
        max_steps_per_epoch=train.max_steps_per_epoch, learning_rate=repr(train.learning_rate),
        clip_norm=repr(float(train.clip_norm)), val_fraction=repr(train.val_fraction),
        sample_length=train.sample_length, sample_temperature=repr(train.sample_temperature),
        text_file=_quoted(TEXT_FILE), recurrent_initializer=recurrent_initializer_code(config),
        model_name=_quoted(f"{config.cell}_language_model"), optimizer=optimizer_code(train),
    )


def series_script(config, window, train: TrainConfig, title: str) -> str:
    """train.py for a forecaster.

    Args:
        config: its `core.forecast.model.SeriesModelConfig`.
        window: its `core.forecast.series.WindowConfig` (lookback, horizon, split, differencing, season).
        train: its training settings.
        title: what the script's first line calls the run.

    Returns:
        The script's source: settings, data, model, training, and forecasts with the baselines.
    """
    name = cell_spec(config.cell).name
    return _fill(
        "series_train.py.tmpl", title=title, lookback=window.lookback, horizon=window.horizon,
        val_fraction=repr(window.val_fraction), test_fraction=repr(window.test_fraction), difference=window.difference,
        season=window.season, cell=_quoted(name), rnn_units=config.rnn_units, num_layers=config.num_layers,
        activation=_quoted(config.activation), dropout=repr(config.dropout), batch_size=config.batch_size, seed=config.seed,
        epochs=train.epochs, max_steps_per_epoch=train.max_steps_per_epoch, learning_rate=repr(train.learning_rate),
        clip_norm=repr(float(train.clip_norm)), series_file=_quoted(SERIES_FILE), model_name=_quoted(f"{name}_forecaster"),
        optimizer=optimizer_code(train),
    )

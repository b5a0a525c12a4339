"""The compiled train step and the validation pass, shared by the trainer and the benchmarks."""

from __future__ import annotations

from typing import Callable

import numpy as np

from core.config import ModelConfig, TrainConfig
from core.text.batches import eval_rows
from core.nn.language_model import build_model
from core.nn.tf import graph, keras, tf

VAL_MAX_TOKENS = 20_000  # validation reads at most this many tokens from the end of the text


def make_optimizer(train: TrainConfig) -> keras.optimizers.Optimizer:
    """The optimizer named in `train`, with its learning rate."""
    cls = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop, "sgd": keras.optimizers.SGD}
    return cls[train.optimizer](learning_rate=train.learning_rate)


def layer_groups(model: keras.Model) -> tuple[list[str], list[int]]:
    """Names of the layers that own weights, and the group index of each trainable variable."""
    names, index = [], []
    for layer in model.layers:
        if layer.trainable_variables:
            names.append(layer.name)
            index.extend([len(names) - 1] * len(layer.trainable_variables))
    return names, index


def fast_path_available(config: ModelConfig) -> bool:
    """True when the fused SimpleRNN path (core.nn.fused_rnn) can train this configuration."""
    from core.nn import fused_rnn

    return fused_rnn.supports(config)


def make_forward(model: keras.Model, config: ModelConfig, fast: bool | None = None) -> Callable:
    """forward(x) -> logits for training: the fused SimpleRNN path when it applies, else stock Keras."""
    if fast is None:
        fast = fast_path_available(config)
    if fast:
        from core.nn import fused_model as fastmodel

        return fastmodel.make_forward(model, config)
    return lambda x: model(x, training=True)


def mean_cross_entropy(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """The mean cross-entropy of int `labels` (...) under `logits` (..., vocab): the loss every text model trains on."""
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def mean_accuracy(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """The share of positions where the likeliest token of `logits` (..., vocab) is the int label (...)."""
    return tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), labels), tf.float32))


def densify_gradient(grad) -> tf.Tensor:
    """A gradient as one dense tensor: the embedding's sparse rows (one per token) are added up per word.

    Keras 3's Adam and RMSprop square an `IndexedSlices` gradient row by row (`ops.square` on its
    values) before adding the rows up, so a token seen n times in a batch feeds Σ g_i² to the second
    moment instead of (Σ g_i)²: not Adam, and not what Keras 2 or PyTorch do. Summing first gives every
    path, stock and fast, the textbook update.
    """
    return tf.convert_to_tensor(grad) if isinstance(grad, tf.IndexedSlices) else grad


def make_train_step(model: keras.Model, config: ModelConfig, train: TrainConfig, fast: bool | None = None):
    """Build a compiled train step for `model`.

    Args:
        model: a model from `build_model(config)`.
        config: its settings (decides whether the fused SimpleRNN path applies).
        train: learning rate, optimizer and gradient clipping.
        fast: force the fused path on or off; None picks it whenever it applies.

    Returns:
        (step, optimizer): `step(x, y)` takes int32 (batch, time) inputs and targets, applies one update
        and returns a dict of scalars `loss`, `accuracy`, `grad_norm` (before clipping) and the vector
        `layer_norms` (gradient norm of each weighted layer, in `layer_groups(model)` order).
    """
    forward = make_forward(model, config, fast)
    optimizer, variables, group_of, n_groups, clip = _prepared(model, train)

    @graph(reduce_retracing=True)
    def step(x, y):
        with tf.GradientTape() as tape:
            logits = forward(x)  # (batch, time, vocab)
            loss = mean_cross_entropy(y, logits)
        grad_norm, layer_norms = _update(tape, loss, variables, optimizer, group_of, n_groups, clip)
        return {"loss": loss, "accuracy": mean_accuracy(y, logits), "grad_norm": grad_norm, "layer_norms": layer_norms}

    return step, optimizer


def _prepared(model: keras.Model, train: TrainConfig):
    """(optimizer built for the model's trainable variables, those variables, the layer group of each, the number of
    groups, the clip norm): what both train steps set up."""
    optimizer = make_optimizer(train)
    variables = model.trainable_variables
    optimizer.build(variables)
    _, group_of = layer_groups(model)
    return optimizer, variables, group_of, max(group_of) + 1, float(train.clip_norm)


def _update(tape, loss, variables, optimizer, group_of, n_groups: int, clip: float):
    """Apply one clipped optimizer update from `tape`; (global gradient norm, norm per layer group), before clipping."""
    grads = [densify_gradient(g) for g in tape.gradient(loss, variables)]
    squares = tf.stack([2.0 * tf.nn.l2_loss(g) for g in grads])  # Σ g², one op each
    layer_norms = tf.sqrt(tf.math.unsorted_segment_sum(squares, group_of, n_groups))
    grad_norm = tf.sqrt(tf.reduce_sum(squares))
    if clip > 0:
        grads, _ = tf.clip_by_global_norm(grads, clip, use_norm=grad_norm)
    optimizer.apply_gradients(zip(grads, variables))
    return grad_norm, layer_norms


def make_regression_step(model: keras.Model, train: TrainConfig):
    """A compiled train step for a forecasting model (`core.forecast.model`): mean squared error on scaled values.

    Returns:
        (step, optimizer): `step(x, y)` takes float32 (batch, lookback, 1) windows and (batch, horizon) targets and
        returns the same dict as `make_train_step`'s step (its `accuracy` is 0: a forecast has none).
    """
    optimizer, variables, group_of, n_groups, clip = _prepared(model, train)

    @graph(reduce_retracing=True)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        grad_norm, layer_norms = _update(tape, loss, variables, optimizer, group_of, n_groups, clip)
        return {"loss": loss, "accuracy": tf.zeros(()), "grad_norm": grad_norm, "layer_norms": layer_norms}

    return step, optimizer


class Evaluator:
    """Validation loss and accuracy on a stateless copy of the model, one long stretch of the text per row."""

    def __init__(self, config: ModelConfig, val_ids: np.ndarray):
        self.x, self.y = eval_rows(val_ids, config.batch_size, VAL_MAX_TOKENS)  # (rows, row length)
        self.model = build_model(config, stateful=False)

        @graph(reduce_retracing=True)
        def evaluate(x, y):
            logits = self.model(x, training=False)
            return mean_cross_entropy(y, logits), mean_accuracy(y, logits)

        self._evaluate = evaluate

    def __call__(self, model: keras.Model) -> tuple[float, float]:
        """(loss, accuracy) of `model`'s current weights on the validation text."""
        for mine, theirs in zip(self.model.weights, model.weights):
            mine.assign(theirs)
        loss, acc = self._evaluate(tf.constant(self.x), tf.constant(self.y))
        return float(loss), float(acc)

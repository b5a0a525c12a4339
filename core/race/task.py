"""The long-range key task of the race: where the keys are, batches of whole lines, the accuracy of
the copied key by lag, the gradient reaching back to the key, and a train step on the key alone.

The text is sample_texts/long_range.txt, one task per line, `K:FILLER>K`; only the key K at the start
of a line predicts the character after ">". `core.race.race.Race` trains two models on it.
"""

from __future__ import annotations

import re
from typing import Callable

import numpy as np

from core.config import TrainConfig

LAG_BINS = ((10, 19), (20, 29), (30, 39), (40, 49), (50, 60))  # inclusive lag ranges of the task
GRAD_MIN_LAG = 55  # the gradient curve averages lines whose key is at least this far back
CHANCE = 1 / 8  # eight possible keys
_LINE = re.compile(r"^([a-h]):([xyz]*)>([a-h])$", re.M)


def key_targets(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Where the copied keys are in a long-range text.

    Args:
        text: text in the `K:FILLER>K` line format.

    Returns:
        (positions, lags): int arrays; text[positions[i]] is a copied key and the key it copies is
        lags[i] characters earlier, at the start of its line.
    """
    pos, lags = [], []
    for m in _LINE.finditer(text):
        pos.append(m.end(3) - 1)
        lags.append(m.end(3) - 1 - m.start(1))
    return np.array(pos, dtype=np.int64), np.array(lags, dtype=np.int64)


def line_batch(ids: np.ndarray, positions: np.ndarray, lags: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lines as a batch: each row reads a line from its key up to ">", right-padded with id 0.

    Returns:
        (x, last, y): x (lines, max lag) int32 inputs; last (lines,) index of the step that must
        name the key (padding comes after it, so it never leaks into the guess); y (lines,) the keys.
    """
    x = np.zeros((len(positions), int(lags.max())), np.int32)  # (lines, width)
    for i, (p, lag) in enumerate(zip(positions, lags)):
        x[i, :lag] = ids[p - lag:p]
    return x, (lags - 1).astype(np.int32), ids[positions].astype(np.int32)


def key_accuracy(model, ids: np.ndarray, positions: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """How often a model names the copied key, per lag bin, reading each line from a zero state.

    Args:
        model: a stateless model from `build_model` (any batch size).
        ids: the token ids of the text.
        positions, lags: from `key_targets`.

    Returns:
        (len(LAG_BINS),) accuracies; nan for a bin without lines.
    """
    if len(positions) == 0:
        return np.full(len(LAG_BINS), np.nan)
    x, last, y = line_batch(ids, positions, lags)
    logits = np.asarray(model(x, training=False))  # (lines, width, vocab)
    right = logits[np.arange(len(last)), last].argmax(axis=-1) == y  # (lines,)
    out = [right[(lags >= lo) & (lags <= hi)] for lo, hi in LAG_BINS]
    return np.array([r.mean() if r.size else np.nan for r in out])


def mean_gradient_curve(model, ids: np.ndarray, positions: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Mean ||dL/dh_t|| over lines, L being the loss of the copied key, each line read from its key.

    Args:
        model: a model from `build_model` or a `core.inspection.unroll.Snapshot`.
        ids: the token ids of the text.
        positions, lags: the lines to average (from `key_targets`).

    Returns:
        (min(lags),) mean norms in time order, cut to the shortest line; the last entry is the step
        right before the copied key (lag 0); each key sits at lag (its line's lag - 1).
    """
    from core.inspection.unroll import Snapshot, gradient_norms, snapshot

    snap = model if isinstance(model, Snapshot) else snapshot(model)
    n = int(lags.min())
    return np.mean([gradient_norms(snap, ids[p - lag:p + 1])[-n:] for p, lag in zip(positions, lags)], axis=0)


def make_key_step(model, learning_rate: float, clip_norm: float) -> Callable:
    """A compiled step: Adam on the cross-entropy of the copied key only; step(x, last, y) -> loss."""
    from core.nn.train_step import densify_gradient, make_optimizer, mean_cross_entropy
    from core.nn.tf import graph, tf

    optimizer = make_optimizer(TrainConfig(learning_rate=learning_rate, clip_norm=clip_norm))
    variables = model.trainable_variables
    optimizer.build(variables)

    @graph(reduce_retracing=True)
    def step(x, last, y):
        with tf.GradientTape() as tape:
            logits = tf.gather(model(x, training=True), last, batch_dims=1)  # (lines, vocab) at each line's ">"
            loss = mean_cross_entropy(y, logits)
        grads, _ = tf.clip_by_global_norm([densify_gradient(g) for g in tape.gradient(loss, variables)], clip_norm)
        optimizer.apply_gradients(zip(grads, variables))
        return loss

    return step

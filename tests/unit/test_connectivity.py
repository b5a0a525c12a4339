"""Connectivity against Keras autodiff on a stateless copy and against NumPy finite differences (5 units, 12 steps)."""

from dataclasses import replace

import numpy as np
import pytest

from core.inspection.connectivity import connectivity
from core.nn.language_model import build_model, rnn_layers
from core.nn.tf import tf
from tests.unit.test_inspect import TINY, built, close, np_weights, np_layer

IDS = np.array([1, 4, 2, 6, 0, 3, 3, 5, 1, 2, 6, 4, 0])  # 13 ids: 12 inputs, 12 targets


def keras_connectivity(model, ids):
    """Row s by GradientTape through the stateless copy's own layers, one target at a time."""
    emb = model.get_layer("embedding")
    T = len(ids) - 1
    out = np.zeros((T, T))
    for s in range(T):
        x = tf.Variable(emb(ids[None, :-1]))  # (1, T, embedding)
        with tf.GradientTape() as tape:
            h = x
            for layer in rnn_layers(model):
                h = layer(h)  # (1, T, units)
            z = model.get_layer("logits")(h)[0, s, ids[s + 1]]
        out[s] = tf.norm(tape.gradient(z, x)[0], axis=1).numpy()
    return out


def numpy_connectivity(model, ids, kind, eps=1e-5):
    """Central finite differences on every coordinate of every input vector, through float64 NumPy cells."""
    emb, layers, w_out, b_out = np_weights(model)
    x0 = emb[ids[:-1]]

    def logits(x):
        for w in layers:
            x = np_layer(kind, x, *w)
        return x @ w_out + b_out  # (T, vocab)

    T, targets = len(x0), ids[1:]
    grads = np.zeros((T, T, x0.shape[1]))  # (target s, source t, embedding dim)
    for t in range(T):
        for k in range(x0.shape[1]):
            up, down = x0.copy(), x0.copy()
            up[t, k] += eps
            down[t, k] -= eps
            grads[:, t, k] = (logits(up)[np.arange(T), targets] - logits(down)[np.arange(T), targets]) / (2 * eps)
    return np.linalg.norm(grads, axis=2)


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_connectivity_matches_keras_autodiff_and_numpy(kind, layers):
    config = replace(TINY, cell=kind, num_layers=layers)
    model = built(config)
    c = connectivity(model, IDS, chunk=5)  # several chunks, the last one short
    assert c.shape == (12, 12) and c.dtype == np.float32 and np.isfinite(c).all()
    assert np.all(np.triu(c, 1) == 0) and np.all(np.diag(c) > 0)
    stateless = build_model(replace(config, stateful=False))
    stateless.set_weights(model.get_weights())
    close(c, np.tril(keras_connectivity(stateless, IDS)), rtol=1e-4)
    close(c, np.tril(numpy_connectivity(model, IDS, kind)), rtol=2e-3)
    assert np.allclose(connectivity(model, IDS, chunk=100), c, rtol=1e-5, atol=1e-7)  # one chunk: the same numbers

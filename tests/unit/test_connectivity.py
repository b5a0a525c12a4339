"""Connectivity against Keras autodiff on a stateless copy and against NumPy finite differences (5 units, 12 steps)."""

from dataclasses import replace

import numpy as np
import pytest

from core.inspection.connectivity import connectivity
from core.nn.language_model import build_model, rnn_layers
from core.nn.tf import tf
from tests import reference as R
from tests.helpers import TINY, built
from tests.reference import close

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


def numpy_connectivity(model, ids):
    """||d logit_s[target] / d x_t|| by central finite differences on every coordinate of every input vector,
    through tests/reference.py's float64 cells."""
    emb, layers, w_out, b_out = R.lm_weights(model)
    x0, T = emb[ids[:-1]], len(ids) - 1

    def chosen_logits(x):  # (T,): each step's logit of its own target
        for kind, activation, kernel, recurrent, bias in layers:
            x, _ = R.forward(kind, x, kernel, recurrent, bias, activation=activation)
        return (x @ w_out + b_out)[np.arange(T), ids[1:]]

    jacobian = R.numeric_grad(chosen_logits, x0)  # (source t, embedding dim, target s)
    return np.linalg.norm(jacobian, axis=1).T  # (target s, source t)


@pytest.mark.parametrize("kind, layers", [("simple_rnn", 1), ("lstm", 1), pytest.param("gru", 1, marks=pytest.mark.slow),
                                          ("simple_rnn", 2),
                                          pytest.param("lstm", 2, marks=pytest.mark.slow),  # the fast tier keeps one
                                          pytest.param("gru", 2, marks=pytest.mark.slow)])  # two-layer case
def test_connectivity_matches_keras_autodiff_and_numpy(kind, layers):
    config = replace(TINY, cell=kind, num_layers=layers, rnn_units=5, stateful=False, seed=3)
    model = built(config)
    c = connectivity(model, IDS, chunk=5)  # several chunks, the last one short
    assert c.shape == (12, 12) and c.dtype == np.float32 and np.isfinite(c).all()
    assert np.all(np.triu(c, 1) == 0) and np.all(np.diag(c) > 0)
    stateless = build_model(replace(config, stateful=False))
    stateless.set_weights(model.get_weights())
    close(c, np.tril(keras_connectivity(stateless, IDS)), rtol=1e-4)
    close(c, np.tril(numpy_connectivity(model, IDS)), rtol=2e-3)
    assert np.allclose(connectivity(model, IDS, chunk=100), c, rtol=1e-5, atol=1e-7)  # one chunk: the same numbers

"""Looking inside a trained model: hidden states, gradients through time, next-token guesses.

Everything here works on a *snapshot* of the weights (NumPy copies read once per call) and steps
its own copy of the Keras cell equations under `tf.function`. It never calls the Keras model or
its layers, because:
  * a Keras model is not safe to call from two threads, and the trainer may be running one;
  * calling `layer.cell` would read the live variables, which the optimizer may update mid-sequence;
  * a stateful layer keeps its carried state in variables that a call would overwrite.
The handwritten steps match `SimpleRNNCell`, `LSTMCell` and `GRUCell(reset_after=True)` exactly
(the tests check them against NumPy and against Keras). Weights enter the traced functions as
arguments with `None` dimensions, so one trace serves every length, size and weight value.

Numbers derived from these (eigenvalues, decay fits, saturation, unit ordering, the cell
comparison of the Gradients page) live in `core.inspection.vanishing`; figures in `core.figures.inspection`.
"""

from __future__ import annotations

import threading
from typing import Callable

import numpy as np

from core.inspection.snapshot import Snapshot, cell_step, check_ids, layer_args, layer_specs, snapshot
from core.nn.tf import graph, keras, tf

_FN_CACHE: dict[tuple, Callable] = {}
_FN_LOCK = threading.Lock()


def _scan(kind: str, act: Callable, ract: Callable, xproj, recurrent, rec_bias, probe):
    """Unroll one layer from a zero state; returns h for every step, (time, units).

    `xproj` is x @ kernel + bias for all steps, (time, gates * units). `probe` (time, units) is
    added to each h_t as it is produced: it is zero, but dL/dprobe_t is exactly dL/dh_t, the
    gradient through every later step, which a return_sequences output would miss.
    """
    units = tf.shape(recurrent)[0]
    h0 = tf.zeros((1, units), xproj.dtype)  # (1, units)

    def step(state, elems):
        x, p = elems[0][None, :], elems[1][None, :]  # (1, gates * units), (1, units)
        h, c = cell_step(kind, act, ract, x, *state, recurrent, rec_bias)
        return h + p, c

    hs, _ = tf.scan(step, (xproj, probe), initializer=(h0, h0))  # (time, 1, units)
    return hs[:, 0, :]


def _compiled(snap: Snapshot, n_layers: int, grad: bool) -> Callable:
    """A traced unroll for this cell kind and depth, cached: lengths and sizes never retrace."""
    key = (snap.kind, snap.activation, snap.recurrent_activation, n_layers, grad)
    with _FN_LOCK:
        fn = _FN_CACHE.get(key)
        if fn is not None:
            return fn
        kind, act, ract = key[:3]

        def run(x, layers, probes):
            outs = []
            for (kernel, recurrent, bias, rec_bias), probe in zip(layers, probes):
                xproj = tf.matmul(x, kernel) + bias  # (time, gates * units), all steps at once
                x = _scan(kind, act, ract, xproj, recurrent, rec_bias, probe)  # (time, units)
                outs.append(x)
            return outs

        def zeros_for(x, layers):
            return [tf.zeros((tf.shape(x)[0], tf.shape(rk)[0])) for _, rk, _, _ in layers]  # (time, units)

        spec = tf.TensorSpec
        if grad:
            def fn(x, layers, w_out, b_out, target):
                probes = zeros_for(x, layers)
                with tf.GradientTape() as tape:
                    tape.watch(probes)
                    top = run(x, layers, probes)[-1]  # (time, units)
                    logits = tf.matmul(top[-1:], w_out) + b_out  # (1, vocab)
                    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(target[None], logits)[0]
                grads = tape.gradient(loss, probes)  # dL/dh_t per layer, (time, units) each
                return tf.stack([tf.norm(g, axis=1) for g in grads]), loss  # (layers, time), ()

            sig = [spec([None, None]), layer_specs(n_layers), spec([None, None]), spec([None]), spec([], tf.int32)]
        else:
            def fn(x, layers):
                return run(x, layers, zeros_for(x, layers))

            sig = [spec([None, None]), layer_specs(n_layers)]
        fn = graph(fn, input_signature=sig, reduce_retracing=True)
        _FN_CACHE[key] = fn
        return fn


def tracing_count() -> int:
    """How many graphs the unrolls have traced in this process. Each costs about a second; new lengths and sizes of the
    same cell kind and depth must not add one (tests/unit/test_inspect.py)."""
    with _FN_LOCK:
        return sum(fn.experimental_get_tracing_count() for fn in _FN_CACHE.values())


def all_hidden_states(model: keras.Model | Snapshot, ids, num_layers: int | None = None) -> list[np.ndarray]:
    """Hidden states of the recurrent layers after each token, from a zero state.

    Args:
        model: a model from `build_model`, or a `Snapshot` of one.
        ids: 1-D int token ids, length T >= 1.
        num_layers: how many layers from the bottom to run; all of them when None.

    Returns:
        A list with one (T, units) float32 array per layer, bottom first.
    """
    snap = model if isinstance(model, Snapshot) else snapshot(model)
    n = len(snap.layers) if num_layers is None else num_layers
    if not 1 <= n <= len(snap.layers):
        raise ValueError(f"Received layer {n}, but this model has recurrent layers 1 to {len(snap.layers)}.")
    arr = check_ids(ids, len(snap.embeddings), 1)
    outs = _compiled(snap, n, grad=False)(snap.embeddings[arr], layer_args(snap, n))
    return [o.numpy() for o in outs]


def hidden_states(model: keras.Model | Snapshot, ids, layer: int = 1) -> np.ndarray:
    """Hidden state h_t of one recurrent layer after each token of `ids`, from a zero state.

    Args:
        model: a model from `build_model` (stateful or not; its carried state is left untouched).
        ids: 1-D int token ids, length T.
        layer: which recurrent layer, 1 = the first (bottom) one.

    Returns:
        A (T, units) float32 array; row t is h_t after reading ids[t].
    """
    return all_hidden_states(model, ids, num_layers=layer)[-1]


def gradient_norms_by_layer(model: keras.Model | Snapshot, ids) -> np.ndarray:
    """||dL/dh_t|| for every recurrent layer, in one backward pass.

    L is the cross-entropy of predicting ids[-1] from the last step's logits after reading
    ids[:-1] from a zero state; h_t is a layer's hidden state after input t.

    Args:
        model: a model from `build_model`, or a `Snapshot` of one.
        ids: 1-D int token ids, length T + 1 >= 2.

    Returns:
        A (layers, T) float32 array; entry [l, t] is the L2 norm of dL/dh_t of layer l + 1.
    """
    snap = model if isinstance(model, Snapshot) else snapshot(model)
    arr = check_ids(ids, len(snap.embeddings), 2)
    fn = _compiled(snap, len(snap.layers), grad=True)
    norms, _ = fn(snap.embeddings[arr[:-1]], layer_args(snap, len(snap.layers)),
                  snap.logits_kernel, snap.logits_bias, tf.constant(arr[-1]))
    return norms.numpy()


def gradient_norms(model: keras.Model | Snapshot, ids) -> np.ndarray:
    """||dL/dh_t|| of the first recurrent layer for each input step (see `gradient_norms_by_layer`).

    Args:
        model: a model from `build_model`, or a `Snapshot` of one.
        ids: 1-D int token ids; the inputs are ids[:-1] and the target is ids[-1].

    Returns:
        A (len(ids) - 1,) float32 array; entry t is the norm for the state after input t, so the
        lag from the prediction is len(ids) - 2 - t.
    """
    return gradient_norms_by_layer(model, ids)[0]


def next_token_topk(model: keras.Model | Snapshot, ids, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The model's k likeliest next tokens after each position of `ids`, from a zero state.

    Args:
        model: a model from `build_model`, or a `Snapshot` of one.
        ids: 1-D int token ids, length T.
        k: guesses per position (at most the vocabulary size).

    Returns:
        (ids, probs), both (T, k): row t holds the guesses for the token after ids[t], likeliest first.
    """
    snap = model if isinstance(model, Snapshot) else snapshot(model)
    vocab = len(snap.logits_bias)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= vocab:
        raise ValueError(f"Received k={k!r}: expected a whole number from 1 to the vocabulary size {vocab}.")
    top = all_hidden_states(snap, ids)[-1]  # (T, units)
    logits = top @ snap.logits_kernel + snap.logits_bias  # (T, vocab)
    logits = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)  # (T, vocab)
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]  # (T, k)
    return order.astype(np.int32), np.take_along_axis(probs, order, axis=1)


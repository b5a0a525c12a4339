"""Connectivity: which earlier tokens the network used to predict each next one (Madsen, "Visualizing memorization in
RNNs", Distill 2019).

    C[s, t] = || d z_s[ids[s+1]] / d e_t ||_2     for t <= s, and 0 for t > s,

where z_s are the logits after reading ids[0..s] from a zero state and e_t is the embedded vector fed in at position
t (position-specific, even where a token repeats). One backward pass gives every source t for one target s. To give
many targets at once, the sequence is read by a batch of copies, copy i ending in target a + i: the gradient that
reaches copy i's inputs is exactly row a + i. A chunk of targets [a, b) reads only the first b inputs, so the work
adds up to about T²/2 steps instead of T². Works on a weights snapshot (`core.inspection.snapshot.snapshot`), so it is safe while
the model trains, for SimpleRNN, LSTM and GRU, one layer or several.
"""

from __future__ import annotations

import threading
from typing import Callable

import numpy as np

from core.inspection.snapshot import Snapshot, cell_step, check_ids, layer_args, layer_specs, snapshot
from core.nn.tf import graph, tf

CHUNK = 100  # targets per batch of copies: smaller skips more of the square, larger runs fewer, wider steps (bench/)
_FNS: dict[tuple, Callable] = {}
_LOCK = threading.Lock()


def _compiled(snap: Snapshot, n_layers: int) -> Callable:
    """A traced function (inputs, layers, head, targets, start) -> (copies, inputs) gradient norms, cached per cell."""
    key = (snap.kind, snap.activation, snap.recurrent_activation, n_layers)
    with _LOCK:
        if key in _FNS:
            return _FNS[key]
        kind, act, ract = key[:3]

        def fn(x, layers, w_out, b_out, targets, start):
            n = tf.shape(targets)[0]
            xs = tf.tile(x[:, None, :], [1, n, 1])  # (time, copies, embedding): every copy reads the same inputs
            with tf.GradientTape() as tape:
                tape.watch(xs)
                h = xs
                for kernel, recurrent, bias, rec_bias in layers:
                    xproj = tf.einsum("tbe,eg->tbg", h, kernel) + bias  # (time, copies, gates * units)
                    h0 = tf.zeros((n, tf.shape(recurrent)[0]))  # (copies, units)
                    h, _ = tf.scan(lambda state, xt: cell_step(kind, act, ract, xt, *state, recurrent, rec_bias),
                                   xproj, initializer=(h0, h0))  # (time, copies, units)
                copy = tf.range(n)
                picked = tf.gather_nd(h, tf.stack([start + copy, copy], axis=1))  # (copies, units): h at each target
                z = tf.reduce_sum(picked * tf.transpose(tf.gather(w_out, targets, axis=1)), axis=1)  # (copies,)
                total = tf.reduce_sum(z + tf.gather(b_out, targets))
            return tf.transpose(tf.norm(tape.gradient(total, xs), axis=2))  # (copies, time)

        spec = tf.TensorSpec
        sig = [spec([None, None]), layer_specs(n_layers), spec([None, None]), spec([None]), spec([None], tf.int32),
               spec([], tf.int32)]
        _FNS[key] = graph(fn, input_signature=sig, reduce_retracing=True)
        return _FNS[key]


def connectivity(model, ids, chunk: int = CHUNK) -> np.ndarray:
    """The connectivity matrix of `model` over `ids` (see the module docstring).

    Args:
        model: a model from `core.nn.language_model.build_model` (stateful or not; untouched), or a `Snapshot` of one.
        ids: 1-D int token ids, at least 2; the model reads ids[:-1] and each step's target is the next id.
        chunk: targets computed per batch of copies.

    Returns:
        A float32 array C of shape (len(ids) - 1, len(ids) - 1): row s is the target after position s, column t the
        input position; zero above the diagonal.
    """
    snap = model if isinstance(model, Snapshot) else snapshot(model)
    arr = check_ids(ids, len(snap.embeddings), 2)
    x, targets = snap.embeddings[arr[:-1]], arr[1:]
    T, n_layers = len(x), len(snap.layers)
    fn, layers = _compiled(snap, n_layers), layer_args(snap, n_layers)
    out = np.zeros((T, T), np.float32)
    for a in range(0, T, chunk):
        b = min(T, a + chunk)
        out[a:b, :b] = fn(x[:b], layers, snap.logits_kernel, snap.logits_bias, targets[a:b], tf.constant(a)).numpy()
    return np.tril(out)

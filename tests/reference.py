"""The one NumPy reference the tests check numbers against: SimpleRNN, LSTM and GRU, forward and BPTT, in float64.

Written from the Keras 3 cell equations, one step at a time, and independent of the product (it reads a model's weights
and layer settings, nothing else). `tests/unit/test_reference.py` checks its BPTT against `numeric_grad`.

    SimpleRNN  h = act(x W + h U + b)
    LSTM       i, f, g, o = split(x W + h U + b, 4); c = σ(f) c + σ(i) act(g); h = σ(o) act(c)
    GRU        (reset_after, Keras' default; bias = (input bias, recurrent bias))
               xz, xr, xh = split(x W + b_in, 3); rz, rr, rh = split(h U + b_rec, 3)
               z = σ(xz + rz); r = σ(xr + rr); h = z h + (1 - z) act(xh + r rh)

Arrays are time-major: `x` is (T, ..., features), with any batch axes in the middle; states are (..., units).
"""

from __future__ import annotations

import numpy as np

KINDS = ("simple_rnn", "lstm", "gru")
_LAYER_KINDS = {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru"}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _act(name: str):
    """(f, f' written in terms of f's output) for tanh or relu."""
    if name == "tanh":
        return np.tanh, lambda y: 1.0 - y**2
    if name == "relu":
        return (lambda z: np.maximum(z, 0.0)), (lambda y: (y > 0).astype(y.dtype))
    raise ValueError(f"the reference knows tanh and relu, not {name!r}")


def _f64(*arrays):
    return [np.asarray(a, np.float64) for a in arrays]


def _steps(kind, x, kernel, recurrent, bias, h0, c0, activation, perturb):
    """Run the recurrence; return the per-step caches BPTT needs, and the final (h, c)."""
    act, _ = _act(activation)
    units = recurrent.shape[0]
    h = np.zeros(x.shape[1:-1] + (units,)) if h0 is None else np.asarray(h0, np.float64)
    c = np.zeros_like(h) if c0 is None else np.asarray(c0, np.float64)
    bias = bias.reshape(-1, recurrent.shape[1])  # GRU keeps (input bias, recurrent bias)
    b_in, b_rec = bias[0], (bias[1] if len(bias) == 2 else 0.0)
    caches = []
    for t in range(len(x)):
        h_prev, c_prev = h, c
        if kind == "simple_rnn":
            h = act(x[t] @ kernel + h_prev @ recurrent + b_in)
            cache = {}
        elif kind == "lstm":
            zi, zf, zg, zo = np.split(x[t] @ kernel + h_prev @ recurrent + b_in, 4, axis=-1)
            i, f, g, o = sigmoid(zi), sigmoid(zf), act(zg), sigmoid(zo)
            c = f * c_prev + i * g
            ac = act(c)
            h = o * ac
            cache = dict(i=i, f=f, g=g, o=o, ac=ac)
        elif kind == "gru":
            xz, xr, xh = np.split(x[t] @ kernel + b_in, 3, axis=-1)
            rz, rr, rh = np.split(h_prev @ recurrent + b_rec, 3, axis=-1)
            z, r = sigmoid(xz + rz), sigmoid(xr + rr)
            hh = act(xh + r * rh)
            h = z * h_prev + (1 - z) * hh
            cache = dict(z=z, r=r, rh=rh, hh=hh)
        else:
            raise ValueError(f"unknown cell {kind!r}: one of {KINDS}")
        if perturb is not None and perturb[0] == t:
            h = h + perturb[1]
        caches.append(dict(cache, h=h, h_prev=h_prev, c_prev=c_prev))
    return caches, h, c


def forward(kind, x, kernel, recurrent, bias, h0=None, c0=None, activation="tanh", perturb=None):
    """Unroll one layer.

    Args:
        kind: "simple_rnn", "lstm" or "gru".
        x: (T, ..., features) inputs.
        kernel, recurrent, bias: the layer's weights as Keras keeps them.
        h0, c0: starting states (..., units); zeros when None (c0 is the LSTM's cell state).
        activation: "tanh" or "relu" (the candidate nonlinearity; gates stay sigmoid).
        perturb: (t, vector) added to h_t as it is produced, for finite differences through a hidden state.

    Returns:
        (hs, (h_T, c_T)): every hidden state (T, ..., units) and the final states.
    """
    x, kernel, recurrent, bias = _f64(x, kernel, recurrent, bias)
    caches, h, c = _steps(kind, x, kernel, recurrent, bias, h0, c0, activation, perturb)
    return np.stack([s["h"] for s in caches]), (h, c)


def backward(kind, x, kernel, recurrent, bias, dy, dh_last=None, h0=None, c0=None, activation="tanh"):
    """Backpropagation through time of a loss with upstream gradients `dy` on every h_t and `dh_last` on h_T.

    Returns:
        A dict: "hs" (the forward's states), "dh" (T, ..., units): dL/dh_t with every later step's path included,
        and the gradients "x", "h0", "c0" (LSTM only), "kernel", "recurrent", "bias" (in Keras' shapes).
    """
    x, kernel, recurrent, bias, dy = _f64(x, kernel, recurrent, bias, dy)
    _, dact = _act(activation)
    caches, _, _ = _steps(kind, x, kernel, recurrent, bias, h0, c0, activation, None)
    bias_rows = bias.reshape(-1, recurrent.shape[1]).shape[0]
    g = {"x": np.zeros_like(x), "kernel": np.zeros_like(kernel), "recurrent": np.zeros_like(recurrent),
         "bias": np.zeros((bias_rows, recurrent.shape[1]))}
    dh = np.zeros_like(caches[-1]["h"]) if dh_last is None else np.array(dh_last, np.float64)
    dc = np.zeros_like(dh)
    dhs = np.zeros_like(dy)

    def outer(a, b):  # sum over every batch axis of a^T b
        return a.reshape(-1, a.shape[-1]).T @ b.reshape(-1, b.shape[-1])

    def sum_batch(a):
        return a.reshape(-1, a.shape[-1]).sum(0)

    for t in reversed(range(len(x))):
        s = caches[t]
        dh = dh + dy[t]
        dhs[t] = dh
        if kind == "simple_rnn":
            dz_in = dz_rec = dh * dact(s["h"])
        elif kind == "lstm":
            dc = dc + dh * s["o"] * dact(s["ac"])
            di, df, dg, do = dc * s["g"], dc * s["c_prev"], dc * s["i"], dh * s["ac"]
            dz_in = dz_rec = np.concatenate([di * s["i"] * (1 - s["i"]), df * s["f"] * (1 - s["f"]), dg * dact(s["g"]),
                                             do * s["o"] * (1 - s["o"])], axis=-1)
            dc = dc * s["f"]
        else:
            z, r = s["z"], s["r"]
            dz = dh * (s["h_prev"] - s["hh"]) * z * (1 - z)
            dah = dh * (1 - z) * dact(s["hh"])
            dr = dah * s["rh"] * r * (1 - r)
            dz_in = np.concatenate([dz, dr, dah], axis=-1)
            dz_rec = np.concatenate([dz, dr, dah * r], axis=-1)
            dh_direct = dh * z
        g["kernel"] += outer(x[t], dz_in)
        g["recurrent"] += outer(s["h_prev"], dz_rec)
        g["bias"][0] += sum_batch(dz_in)
        if bias_rows == 2:
            g["bias"][1] += sum_batch(dz_rec)
        g["x"][t] = dz_in @ kernel.T
        dh = dz_rec @ recurrent.T + (dh_direct if kind == "gru" else 0.0)
    g["bias"] = g["bias"].reshape(bias.shape)
    g["h0"], g["hs"], g["dh"] = dh, np.stack([s["h"] for s in caches]), dhs
    if kind == "lstm":
        g["c0"] = dc
    return g


def numeric_grad(f, x, eps: float = 1e-5) -> np.ndarray:
    """Central finite differences of `f` at `x` on every coordinate: shape x.shape + f(x).shape (a gradient for a
    scalar f, a Jacobian otherwise)."""
    x = np.array(x, np.float64)
    out = None
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        d = (np.asarray(f(up), np.float64) - np.asarray(f(down), np.float64)) / (2 * eps)
        if out is None:
            out = np.zeros(x.shape + d.shape)
        out[index] = d
    return out


def cross_entropy(logits, target: int) -> float:
    """-log softmax(logits)[target], computed stably."""
    logits = np.asarray(logits, np.float64) - np.max(logits)
    return float(np.log(np.exp(logits).sum()) - logits[target])


def close(actual, expected, rtol: float = 1e-3) -> None:
    """Relative closeness, with a floor far below the values so near-zero gradients still count."""
    floor = 1e-6 * np.max(np.abs(expected))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=floor)


def rel_err(a, b) -> float:
    """Largest absolute difference relative to the largest magnitude of the reference `b`."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


# ---- a whole language model (embedding -> RNN layers -> dense logits), read from a Keras model's own weights -------


def lm_weights(model):
    """(embedding, [(kind, activation, kernel, recurrent, bias) per RNN layer], dense kernel, dense bias), float64."""
    emb = np.asarray(model.get_layer("embedding").get_weights()[0], np.float64)
    layers = []
    for layer in model.layers:
        kind = _LAYER_KINDS.get(type(layer).__name__)
        if kind is not None:
            layers.append((kind, layer.get_config()["activation"], *_f64(*layer.get_weights())))
    w_out, b_out = _f64(*model.get_layer("logits").get_weights())
    return emb, layers, w_out, b_out


def lm_forward(model, ids, state=None, perturb=None):
    """The model's forward pass in NumPy.

    Args:
        ids: (T,) or (batch, T) token ids.
        state: per layer (h, c) to start from (as returned here); zeros when None.
        perturb: (layer index, t, vector) added to that layer's h_t.

    Returns:
        (logits, states, final): logits and each layer's hidden states laid out as `ids` is ((T, ...) or (batch, T, ...)),
        and each layer's final (h, c).
    """
    ids = np.asarray(ids)
    emb, layers, w_out, b_out = lm_weights(model)
    x = emb[ids.T]  # (T, [batch,] embedding)
    states, final = [], []
    for li, (kind, activation, kernel, recurrent, bias) in enumerate(layers):
        h0, c0 = state[li] if state is not None else (None, None)
        delta = perturb[1:] if perturb is not None and perturb[0] == li else None
        x, last = forward(kind, x, kernel, recurrent, bias, h0, c0, activation, delta)
        states.append(x)
        final.append(last)
    logits = x @ w_out + b_out
    if ids.ndim == 2:
        logits, states = np.swapaxes(logits, 0, 1), [np.swapaxes(s, 0, 1) for s in states]
    return logits, states, final

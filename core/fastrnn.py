"""A fast way to train with a Keras SimpleRNN's own variables: one big matmul per weight, not one per step.

Stock Keras steps the cell `T` times, projecting each input inside the step, and autodiff of its
`while_loop` adds `x_tᵀ·dp_t` and `h_{t-1}ᵀ·dp_t` into the kernel gradients one step at a time.
Here the only per-step work is what the recurrence cannot avoid:

    forward     P = X·W + b                      one matmul over all steps
                h_t = act(p_t + h_{t-1}·U)       T small matmuls
    backward    dp_t = (dy_t + dp_{t+1}·Uᵀ) ⊙ act'(h_t)    T small matmuls, fused act'
                dW = Xᵀ·dP,  dU = H_prevᵀ·dP,  db = Σ dP,  dX = dP·Wᵀ   four big matmuls

The model stays a plain Keras model (same weights, summary, save/load); `make_forward` only
computes with its variables, and equals `model(x, training=True)` up to float rounding.
"""

from __future__ import annotations

from typing import Callable

from core.config import ModelConfig
from core.tf import keras, tf

ACTIVATIONS = ("tanh", "relu")
FEATURE_MAJOR_FROM = 768  # units from which the recurrence runs on transposed states (see feature_major)
MIN_CHUNK = 10  # fewest time steps in one chunk of the recurrence
MAX_CHUNKS = 8  # most chunks per sequence; each is a while_loop forward and one backward


def supports(config: ModelConfig) -> bool:
    """Whether `make_forward` can train this model: a SimpleRNN with tanh or relu and no dropout."""
    return config.cell == "simple_rnn" and config.activation in ACTIVATIONS and config.dropout == 0


def _act_grad(activation: str, h: tf.Tensor, dh: tf.Tensor) -> tf.Tensor:
    """dL/dp from dL/dh and the activation's output h, in one fused op."""
    if activation == "tanh":
        return tf.raw_ops.TanhGrad(y=h, dy=dh)  # dh · (1 - h²)
    return tf.raw_ops.ReluGrad(gradients=dh, features=h)  # dh where h > 0 (h > 0 exactly when p > 0)


def feature_major(units: int) -> bool:
    """Whether the recurrence runs faster on transposed states (units, batch) than on (batch, units).

    Measured on a 2-core AVX-512 CPU with oneDNN: `Uᵀ·h_tᵀ` beats `h_t·U` from about 1024 units,
    where it saves more than the transposes it needs; below, those cost more than they save.
    """
    return units >= FEATURE_MAJOR_FROM


def chunks(steps: int | None) -> list[tuple[int, int]] | None:
    """(start, stop) time ranges that cut a sequence of known length into at most MAX_CHUNKS pieces."""
    if steps is None:
        return None
    size = max(MIN_CHUNK, -(-steps // MAX_CHUNKS))
    return [(lo, min(lo + size, steps)) for lo in range(0, steps, size)]


def _loop(fn, count, carry: tf.Tensor, *, reverse: bool = False) -> tuple[tf.Tensor, tf.Tensor]:
    """Run `carry, out_t = fn(t, carry)` for t in range(count) (or backwards); return (carry, stacked outs)."""
    out = tf.TensorArray(tf.float32, size=count, element_shape=carry.shape)

    def body(t, carry, out):
        carry, value = fn(t, carry)
        return t + (-1 if reverse else 1), carry, out.write(t, value)

    cond = (lambda t, *_: t >= 0) if reverse else (lambda t, *_: t < count)
    _, carry, out = tf.while_loop(cond, body, (count - 1 if reverse else 0, carry, out))
    return carry, out.stack()


def simple_rnn_sequence(
    inputs: tf.Tensor,
    h0: tf.Tensor,
    kernel: tf.Tensor,
    recurrent_kernel: tf.Tensor,
    bias: tf.Tensor,
    activation: str = "tanh",
) -> tuple[tf.Tensor, tf.Tensor]:
    """Run a SimpleRNN over a whole time-major sequence, with a hand-written backward pass.

    When the length is known while tracing, time is cut into a few chunks: the big matmuls of one
    chunk (its input projection going forward, its weight gradients going back) then run while the
    next chunk's recurrence steps, filling the cores that the small per-step matmuls leave idle.

    Args:
        inputs: float32 (time, batch, features), time-major.
        h0: float32 (batch, units), the state before the first step.
        kernel: float32 (features, units), the input weights W.
        recurrent_kernel: float32 (units, units), the recurrent weights U.
        bias: float32 (units,), the bias b.
        activation: "tanh" or "relu".

    Returns:
        `(outputs, final_state)`: every h_t as (time, batch, units) and h_T as (batch, units).
        Differentiable with respect to all five tensors.

    Raises:
        ValueError: `activation` is neither tanh nor relu.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"Received an invalid value for `activation`: expected tanh or relu, got {activation!r}.")
    act = tf.math.tanh if activation == "tanh" else tf.nn.relu
    fm = feature_major(int(recurrent_kernel.shape[-1]))
    # Inside the loops a state s is h (batch, units), or hᵀ (units, batch) when feature-major.
    swap = (lambda a: tf.transpose(a, [0, 2, 1])) if fm else (lambda a: a)  # (time, batch, units) <-> (time, units, batch)
    times = (lambda m, s: tf.matmul(m, s)) if fm else (lambda m, s: tf.matmul(s, m))  # s·m, or mᵀ·s on transposes
    flat = lambda a: tf.reshape(a, [-1, tf.shape(a)[-1]])  # noqa: E731  (time, batch, n) -> (time·batch, n)

    @tf.custom_gradient
    def run(x, h_init, w, u, b):
        bounds = chunks(x.shape[0]) or [(0, tf.shape(x)[0])]
        s = tf.transpose(h_init) if fm else h_init
        u_fwd, u_back = (tf.transpose(u), u) if fm else (u, tf.transpose(u))
        states = []  # per chunk, every state in the loop's layout
        for lo, hi in bounds:
            p = swap(tf.reshape(tf.matmul(flat(x[lo:hi]), w) + b, [hi - lo, -1, tf.shape(w)[1]]))  # X·W + b

            def step(t, s, p=p):
                s = act(p[t] + times(u_fwd, s))  # h_t = act(p_t + h_{t-1}·U)
                return s, s

            s, chunk_states = _loop(step, hi - lo, s)
            states.append(chunk_states)
        y = tf.concat([swap(c) for c in states], 0) if len(states) > 1 else swap(states[0])  # (time, batch, units)

        def grad(dy):
            ds = tf.zeros_like(s)  # dL/dh_T from later steps: none
            dxs, dws, dus, dbs = [], [], [], []
            for (lo, hi), ys in reversed(list(zip(bounds, states))):
                dys = swap(dy[lo:hi])

                def back(t, ds_next, ys=ys, dys=dys):
                    dp = _act_grad(activation, ys[t], dys[t] + ds_next)  # dL/dp_t
                    return times(u_back, dp), dp  # dL/dh_{t-1} through U

                ds, dps = _loop(back, hi - lo, ds, reverse=True)
                dps = swap(dps)  # (chunk, batch, units)
                dp = flat(dps)
                # dU = Σ_t h_{t-1}ᵀ·dp_t; slices along time share memory, so the states are not copied.
                if lo == 0:
                    dus.append(tf.matmul(flat(y[: hi - 1]), flat(dps[1:]), transpose_a=True))
                    dus.append(tf.matmul(h_init, dps[0], transpose_a=True))
                else:
                    dus.append(tf.matmul(flat(y[lo - 1 : hi - 1]), dp, transpose_a=True))
                dws.append(tf.matmul(flat(x[lo:hi]), dp, transpose_a=True))
                dbs.append(tf.matmul(tf.ones([1, tf.shape(dp)[0]]), dp))  # Σ dP: a matmul is 4x faster than reduce_sum
                dxs.append(tf.reshape(tf.matmul(dp, w, transpose_b=True), tf.shape(x[lo:hi])))
            dx = tf.concat(dxs[::-1], 0) if len(dxs) > 1 else dxs[0]
            dh0 = tf.transpose(ds) if fm else ds
            return dx, dh0, tf.add_n(dws), tf.add_n(dus), tf.reshape(tf.add_n(dbs), [-1])

        return y, grad

    outputs = run(inputs, h0, kernel, recurrent_kernel, bias)
    return outputs, outputs[-1]


def _value(variable) -> tf.Tensor:
    """The current value of a Keras variable as a tensor a GradientTape watches."""
    return variable.value if hasattr(variable, "value") else tf.convert_to_tensor(variable)


def make_forward(model: keras.Model, config: ModelConfig) -> Callable[[tf.Tensor], tf.Tensor]:
    """A function computing `model(x, training=True)` with the fast recurrence and the model's own variables.

    Args:
        model: a model from `core.model.build_model(config)` (stateful or not, any number of layers).
        config: its settings; `supports(config)` must be True.

    Returns:
        `forward(x_ids)`: int32 token ids (batch, time) -> float32 logits (batch, time, vocab). A
        stateful model starts from each layer's carried state and stores the final state back, as
        Keras does; a stateless one starts from zeros. Usable inside `tf.function` and `GradientTape`.

    Raises:
        ValueError: the config is not a tanh/relu SimpleRNN without dropout; train it the stock way.
    """
    if not supports(config):
        raise ValueError(
            f"The fast recurrence runs only a SimpleRNN with tanh or relu and no dropout, got cell={config.cell!r}, "
            f"activation={config.activation!r}, dropout={config.dropout}. Train this model with the stock Keras path."
        )
    embedding = model.get_layer("embedding")
    dense = model.get_layer("logits")
    layers = [model.get_layer(f"rnn_{i + 1}") for i in range(config.num_layers)]

    def forward(x_ids: tf.Tensor) -> tf.Tensor:
        x_ids = tf.convert_to_tensor(x_ids, tf.int32)
        steps, batch = tf.shape(x_ids)[1], tf.shape(x_ids)[0]
        h = tf.gather(_value(embedding.embeddings), tf.transpose(x_ids))  # (time, batch, embedding); sparse gradient as in Keras
        for layer in layers:
            cell = layer.cell
            if layer.stateful:
                h0 = tf.convert_to_tensor(_value(layer.states[0]))
            else:
                h0 = tf.zeros([tf.shape(h)[1], cell.units], tf.float32)
            h, h_last = simple_rnn_sequence(h, h0, _value(cell.kernel), _value(cell.recurrent_kernel),
                                            _value(cell.bias), config.activation)  # (time, batch, units)
            if layer.stateful:
                layer.states[0].assign(h_last)
        logits = tf.nn.bias_add(tf.matmul(tf.reshape(h, [steps * batch, -1]), _value(dense.kernel)), _value(dense.bias))
        return tf.transpose(tf.reshape(logits, [steps, batch, -1]), [1, 0, 2])  # (batch, time, vocab)

    return forward

"""A fast way to train with a Keras SimpleRNN's own variables: one big matmul per weight, not one per step.

Stock Keras steps the cell `T` times, projecting each input inside the step, and autodiff of its
`while_loop` adds `x_tᵀ·dp_t` and `h_{t-1}ᵀ·dp_t` into the kernel gradients one step at a time.
Here the only per-step work is what the recurrence cannot avoid:

    forward     P = X·W + b                      one matmul over all steps
                h_t = act(p_t + h_{t-1}·U)       T small matmuls
    backward    dp_t = (dy_t + dp_{t+1}·Uᵀ) ⊙ act'(h_t)    T small matmuls, fused act'
                dW = Xᵀ·dP,  dU = H_prevᵀ·dP,  db = Σ dP,  dX = dP·Wᵀ   four big matmuls

Two measured refinements: time is cut into a few chunks, each its own op, so one chunk's big
matmuls (and the next layer and the output layer) run while another chunk's recurrence steps; and
from 768 units the states are kept transposed, (units, batch), where oneDNN's per-step matmul is faster.
`core.nn.fused_model` runs a whole Keras model through this recurrence.
"""

from __future__ import annotations

from core import settings
from core.config import ModelConfig
from core.nn.tf import tf

ACTIVATIONS = ("tanh", "relu")
FEATURE_MAJOR_FROM = 768  # units from which the recurrence runs on transposed states (see feature_major)
MIN_CHUNK = 10  # fewest time steps in one chunk of the recurrence
UNROLL_MAX = settings.current().unroll_max  # longest chunk unrolled (not feature-major); 0 never
MAX_CHUNKS = 4  # most chunks per sequence; each is a while_loop forward and one backward


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

    Measured on a 2-core AVX-512 CPU with oneDNN: `Uᵀ·h_tᵀ` beats `h_t·U` from about 768 units (FEATURE_MAJOR_FROM),
    where it saves more than the transposes it needs; below, those cost more than they save.
    """
    return units >= FEATURE_MAJOR_FROM


def chunks(steps: int | None) -> list[tuple[int, int]] | None:
    """(start, stop) time ranges that cut a sequence of known length into at most MAX_CHUNKS pieces."""
    if steps is None:
        return None
    size = max(MIN_CHUNK, -(-steps // MAX_CHUNKS))
    return [(lo, min(lo + size, steps)) for lo in range(0, steps, size)]


def _unrolled(static: int | None) -> bool:
    return static is not None and static <= UNROLL_MAX


def _per_step(a: tf.Tensor, static: int | None) -> list[tf.Tensor] | tf.Tensor:
    """`a` to index by the step t: unrolled, its steps as one Unpack op (`a[t]` is a strided slice and three
    constants per step: half the ops a 64-step training step traced, and 0.7 of its 1.5 CPU-s of tracing)."""
    return tf.unstack(a, num=static) if _unrolled(static) else a


def _loop(fn, count, carry: tf.Tensor, *, reverse: bool = False, static: int | None = None) -> tuple[tf.Tensor, tf.Tensor]:
    """Run `carry, out_t = fn(t, carry)` for t in range(count) (or backwards); return (carry, stacked outs).

    A chunk of known length up to UNROLL_MAX steps is unrolled in the graph instead (`static`): without the
    loop's per-step overhead, 256 units trained ~8% faster; wide, feature-major layers stay looped.
    """
    if _unrolled(static):
        outs: list = [None] * static
        for t in range(static - 1, -1, -1) if reverse else range(static):
            carry, outs[t] = fn(t, carry)
        return carry, tf.stack(outs)
    out = tf.TensorArray(tf.float32, size=count, element_shape=carry.shape)

    def body(t, carry, out):
        carry, value = fn(t, carry)
        return t + (-1 if reverse else 1), carry, out.write(t, value)

    cond = (lambda t, *_: t >= 0) if reverse else (lambda t, *_: t < count)
    _, carry, out = tf.while_loop(cond, body, (count - 1 if reverse else 0, carry, out))
    return carry, out.stack()


def _chunk_op(activation: str, fm: bool, vocab: int | None = None):
    """The op running one chunk of the recurrence, with its hand-written gradient.

    `run(x, s_in, w, u, u_t, b)` takes the chunk's inputs x (time, batch, features), the state before
    it in the loop's layout, W, U, Uᵀ and b, and returns the chunk's outputs (time, batch, units) and
    its last state in the loop's layout, which the next chunk starts from. Each chunk is its own op,
    so the next layer, the output layer and the gradients of one chunk can run while the recurrence
    of another is still stepping.

    With `vocab` set, x is the chunk's token ids (time, batch) and w the folded table E·W (vocab, units)
    (see `core.nn.fused_model.looks_up_input_projection`): P is a row lookup, and dW a one-hot matmul that adds up dP per token.
    """
    act = tf.math.tanh if activation == "tanh" else tf.nn.relu
    # A loop state s is h (batch, units), or hᵀ (units, batch) when feature-major.
    swap = (lambda a: tf.transpose(a, [0, 2, 1])) if fm else (lambda a: a)  # (time, batch, units) <-> (time, units, batch)
    to_h = tf.transpose if fm else (lambda a: a)  # a loop state as (batch, units)
    times = (lambda m, s: tf.matmul(m, s)) if fm else (lambda m, s: tf.matmul(s, m))  # s·m, or mᵀ·s on transposes

    @tf.custom_gradient
    def run(x, s_in, w, u, u_t, b):
        count = tf.shape(x)[0]
        static = None if fm else x.shape[0]  # known chunk length: unroll it
        if vocab:
            p = swap(tf.gather(w + b, x))  # P = onehot(X)·(E·W + b)
        else:
            p = swap(tf.reshape(tf.matmul(_flat(x), w) + b, [count, -1, tf.shape(w)[1]]))  # P = X·W + b

        ps = _per_step(p, static)

        def step(t, s):
            s = act(ps[t] + times(u_t if fm else u, s))  # h_t = act(p_t + h_{t-1}·U)
            return s, s

        s_out, states = _loop(step, count, s_in, static=static)
        y = swap(states)  # (time, batch, units)

        def grad(dy, ds_out):
            hs, dys = _per_step(states, static), _per_step(swap(dy), static)

            def back(t, ds_next):
                dp = _act_grad(activation, hs[t], dys[t] + ds_next)  # dL/dp_t
                return times(u if fm else u_t, dp), dp  # dL/dh_{t-1} through U

            ds_in, dps = _loop(back, count, tf.zeros_like(s_in) if ds_out is None else ds_out, reverse=True, static=static)
            dps = swap(dps)  # (time, batch, units)
            dp = _flat(dps)
            # dU = Σ_t h_{t-1}ᵀ·dp_t: the state before the chunk pairs with dp_0, y_0..y_{K-2} with dp_1..dp_{K-1}.
            du = tf.matmul(_flat(y[:-1]), _flat(dps[1:]), transpose_a=True) + tf.matmul(to_h(s_in), dps[0], transpose_a=True)
            db = tf.reshape(tf.matmul(tf.ones([1, tf.shape(dp)[0]]), dp), [-1])  # Σ dP: 4x faster than reduce_sum
            if vocab:
                dw = tf.matmul(tf.one_hot(tf.reshape(x, [-1]), vocab), dp, transpose_a=True)  # dP summed per token
                return None, ds_in, dw, du, None, db
            dw = tf.matmul(_flat(x), dp, transpose_a=True)
            dx = tf.reshape(tf.matmul(dp, w, transpose_b=True), tf.shape(x))
            return dx, ds_in, dw, du, None, db  # Uᵀ is only U seen another way: its share is in du

        return (y, s_out), grad

    return run


def _flat(a: tf.Tensor) -> tf.Tensor:
    """(time, batch, n) -> (time·batch, n)."""
    return tf.reshape(a, [-1, tf.shape(a)[-1]])


def simple_rnn_chunks(
    inputs: list[tf.Tensor],
    h0: tf.Tensor,
    kernel: tf.Tensor,
    recurrent_kernel: tf.Tensor,
    bias: tf.Tensor,
    activation: str = "tanh",
    vocab: int | None = None,
) -> tuple[list[tf.Tensor], tf.Tensor]:
    """`simple_rnn_sequence` on a sequence given as consecutive time chunks; returns chunks too.

    Args:
        inputs: float32 (chunk_time, batch, features) pieces of one time-major sequence, in order;
            with `vocab`, int32 (chunk_time, batch) token ids instead.
        h0, kernel, recurrent_kernel, bias, activation: as in `simple_rnn_sequence`; with `vocab`,
            `kernel` is the folded table embeddings·W (vocab, units).
        vocab: the vocabulary size when the inputs are token ids.

    Returns:
        `(outputs, final_state)`: the outputs (chunk_time, batch, units) of each chunk, and h_T.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"Received an invalid value for `activation`: expected tanh or relu, got {activation!r}.")
    fm = feature_major(int(recurrent_kernel.shape[-1]))
    run = _chunk_op(activation, fm, vocab)
    u_t = tf.transpose(recurrent_kernel)
    s = tf.transpose(h0) if fm else h0
    outputs = []
    for x in inputs:
        y, s = run(x, s, kernel, recurrent_kernel, u_t, bias)
        outputs.append(y)
    # The carried state, not outputs[-1][-1]: with two lanes in a tf.function, concatenating the lanes' last
    # output slices failed at run time with mismatched shapes; the carry is the same values.
    return outputs, tf.transpose(s) if fm else s


def split_time(x: tf.Tensor) -> list[tf.Tensor]:
    """Cut a time-major tensor into the chunks of `chunks` (one piece when its length is unknown)."""
    bounds = chunks(x.shape[0])
    if bounds is None or len(bounds) == 1:
        return [x]
    return tf.split(x, [hi - lo for lo, hi in bounds], axis=0)


def simple_rnn_sequence(
    inputs: tf.Tensor,
    h0: tf.Tensor,
    kernel: tf.Tensor,
    recurrent_kernel: tf.Tensor,
    bias: tf.Tensor,
    activation: str = "tanh",
) -> tuple[tf.Tensor, tf.Tensor]:
    """Run a SimpleRNN over a whole time-major sequence, with a hand-written backward pass.

    When the length is known while tracing, time is cut into a few chunks, each its own op: the big
    matmuls of one chunk (its input projection going forward, its weight gradients going back) then
    run while the next chunk's recurrence steps, filling the cores that the small per-step matmuls
    leave idle.

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
    outputs, last = simple_rnn_chunks(split_time(inputs), h0, kernel, recurrent_kernel, bias, activation)
    return (tf.concat(outputs, 0) if len(outputs) > 1 else outputs[0]), last

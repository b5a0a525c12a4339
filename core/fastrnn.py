"""A fast way to train with a Keras SimpleRNN's own variables: one big matmul per weight, not one per step.

Stock Keras steps the cell `T` times, projecting each input inside the step, and autodiff of its
`while_loop` adds `x_tᵀ·dp_t` and `h_{t-1}ᵀ·dp_t` into the kernel gradients one step at a time.
Here the only per-step work is what the recurrence cannot avoid:

    forward     P = X·W + b                      one matmul over all steps
                h_t = act(p_t + h_{t-1}·U)       T small matmuls
    backward    dp_t = (dy_t + dp_{t+1}·Uᵀ) ⊙ act'(h_t)    T small matmuls, fused act'
                dW = Xᵀ·dP,  dU = H_prevᵀ·dP,  db = Σ dP,  dX = dP·Wᵀ   four big matmuls

Four measured refinements: time is cut into a few chunks, each its own op, so one chunk's big
matmuls (and the next layer and the output layer) run while another chunk's recurrence steps; a
batch of 64 or more runs as two independent half-batches, one per core (`lane_sizes`); from
768 units the states are kept transposed, (units, batch), where oneDNN's per-step matmul is faster;
and with a vocabulary no larger than the embedding, the first layer looks P up in the table E·W
instead of multiplying every token's embedding by W (`fold_embedding`): 1024 units ~31k -> ~36k tok/s,
and ~37.5k with the two lanes.

The model stays a plain Keras model (same weights, summary, save/load); `make_forward` only
computes with its variables, and equals `model(x, training=True)` up to float rounding.
`bench/train_speed.py` compares it with stock Keras and PyTorch.
"""

from __future__ import annotations

import os

from typing import Callable

from core.config import ModelConfig
from core.tf import keras, tf

ACTIVATIONS = ("tanh", "relu")
FEATURE_MAJOR_FROM = 768  # units from which the recurrence runs on transposed states (see feature_major)
MIN_CHUNK = 10  # fewest time steps in one chunk of the recurrence
UNROLL_MAX = int(os.environ.get("RNN_PLAYGROUND_UNROLL_MAX", "32"))  # longest chunk unrolled (not feature-major); 0 never
FOLD_MAX_RATIO = 1.0  # fold the embedding into the first layer's kernel up to vocab = this × embedding (see fold_embedding)
MAX_CHUNKS = 4  # most chunks per sequence; each is a while_loop forward and one backward
LANES = int(os.environ.get("RNN_PLAYGROUND_LANES", "2"))  # independent recurrences the batch is cut into (see lane_sizes)
MIN_LANE_BATCH = 32  # fewest batch rows in one lane


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


def fold_embedding(config: ModelConfig) -> bool:
    """Whether the first layer looks its input projection up in the table embeddings·W (vocab, units).

    X·W, where X holds embedding rows, is a row of E·W per token, so with a small vocabulary the
    lookup replaces three matmuls over every token (X·W, Xᵀ·dP, dP·Wᵀ) with one one-hot matmul
    that sums dP per token (about vocab/embedding of their cost) and two of the table's size.
    The embedding's gradient then comes dense, (vocab, embedding), the same numbers as Keras' sparse rows.
    """
    return config.vocab_size <= FOLD_MAX_RATIO * config.embedding_dim


def chunks(steps: int | None) -> list[tuple[int, int]] | None:
    """(start, stop) time ranges that cut a sequence of known length into at most MAX_CHUNKS pieces."""
    if steps is None:
        return None
    size = max(MIN_CHUNK, -(-steps // MAX_CHUNKS))
    return [(lo, min(lo + size, steps)) for lo in range(0, steps, size)]


def _loop(fn, count, carry: tf.Tensor, *, reverse: bool = False, static: int | None = None) -> tuple[tf.Tensor, tf.Tensor]:
    """Run `carry, out_t = fn(t, carry)` for t in range(count) (or backwards); return (carry, stacked outs).

    A chunk of known length up to UNROLL_MAX steps is unrolled in the graph instead (`static`): without the
    loop's per-step overhead, 256 units trained ~8% faster; wide, feature-major layers stay looped.
    """
    if static is not None and static <= UNROLL_MAX:
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
    (see `fold_embedding`): P is a row lookup, and dW a one-hot matmul that adds up dP per token.
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

        def step(t, s):
            s = act(p[t] + times(u_t if fm else u, s))  # h_t = act(p_t + h_{t-1}·U)
            return s, s

        s_out, states = _loop(step, count, s_in, static=static)
        y = swap(states)  # (time, batch, units)

        def grad(dy, ds_out):
            def back(t, ds_next):
                dp = _act_grad(activation, states[t], dys[t] + ds_next)  # dL/dp_t
                return times(u if fm else u_t, dp), dp  # dL/dh_{t-1} through U

            dys = swap(dy)
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


def lane_sizes(batch: int | None) -> list[int]:
    """How many rows of the batch each lane runs: LANES near-equal parts, or one lane for a small or unknown batch.

    Rows of a batch never meet in a SimpleRNN, so the batch can run as independent recurrences, each
    with its own chunks, sharing only the weights. On 2 cores two lanes of 32 rows step faster together
    than one of 64, whose every small matmul is split across both cores (measured, tokens/s at batch 64:
    units 256 +9%, 512 +22%, 1024 +6%; batch 128: +10% and +1%). With fewer rows per lane each lane
    rereads U for less work: at 1024 units, batches 8 to 32 ran 7 to 24% slower in two lanes.
    """
    if batch is None or batch < LANES * MIN_LANE_BATCH:
        return [batch]
    return [batch // LANES + (i < batch % LANES) for i in range(LANES)]


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


def _value(variable) -> tf.Tensor:
    """The current value of a Keras variable as a tensor a GradientTape watches."""
    return variable.value if hasattr(variable, "value") else tf.convert_to_tensor(variable)


def _rows(x: tf.Tensor, sizes: list[int]) -> list[tf.Tensor]:
    """`x` cut along its first axis into pieces of `sizes` rows (itself when there is one piece)."""
    return tf.split(x, sizes) if len(sizes) > 1 else [x]


def _join(pieces: list[tf.Tensor], axis: int = 0) -> tf.Tensor:
    """Concatenate pieces (itself when there is one)."""
    return tf.concat(pieces, axis) if len(pieces) > 1 else pieces[0]


def _start_state(layer, batch: tf.Tensor) -> tf.Tensor:
    """A layer's state before this batch: the carried one when stateful, zeros otherwise."""
    if layer.stateful:
        return tf.convert_to_tensor(_value(layer.states[0]))
    return tf.zeros([batch, layer.cell.units], tf.float32)


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
    fold = fold_embedding(config)

    def forward(x_ids: tf.Tensor) -> tf.Tensor:
        x_ids = tf.convert_to_tensor(x_ids, tf.int32)
        table = _value(embedding.embeddings)
        kernels = [_value(layer.cell.kernel) for layer in layers]
        if fold:
            kernels[0] = tf.matmul(table, kernels[0])  # E·W (vocab, units); gradients flow to both
        sizes = lane_sizes(x_ids.shape[0])
        starts = [_rows(_start_state(layer, tf.shape(x_ids)[0]), sizes) for layer in layers]  # h0 per layer, per lane
        lane_logits, ends = [], []  # ends: each lane's final state of each layer
        for lane, ids in enumerate(_rows(x_ids, sizes)):
            ids = tf.transpose(ids)  # (time, lane batch)
            hs = split_time(ids if fold else tf.gather(table, ids))  # token ids, or embeddings (sparse gradient)
            ends.append([])
            for i, layer in enumerate(layers):
                hs, h_last = simple_rnn_chunks(hs, starts[i][lane], kernels[i], _value(layer.cell.recurrent_kernel),
                                               _value(layer.cell.bias), config.activation,
                                               config.vocab_size if fold and i == 0 else None)
                ends[-1].append(h_last)
            logits = _join([tf.nn.bias_add(tf.matmul(_flat(h), _value(dense.kernel)), _value(dense.bias)) for h in hs])
            lane_logits.append(tf.reshape(logits, [tf.shape(ids)[0], tf.shape(ids)[1], -1]))  # (time, lane batch, vocab)
        for i, layer in enumerate(layers):
            if layer.stateful:
                layer.states[0].assign(_join([lane[i] for lane in ends]))
        return tf.transpose(_join(lane_logits, axis=1), [1, 0, 2])  # (batch, time, vocab)

    return forward

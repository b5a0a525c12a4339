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


def supports(config: ModelConfig) -> bool:
    """Whether `make_forward` can train this model: a SimpleRNN with tanh or relu and no dropout."""
    return config.cell == "simple_rnn" and config.activation in ACTIVATIONS and config.dropout == 0


def _act_grad(activation: str, h: tf.Tensor, dh: tf.Tensor) -> tf.Tensor:
    """dL/dp from dL/dh and the activation's output h, in one fused op."""
    if activation == "tanh":
        return tf.raw_ops.TanhGrad(y=h, dy=dh)  # dh · (1 - h²)
    return tf.raw_ops.ReluGrad(gradients=dh, features=h)  # dh where h > 0 (h > 0 exactly when p > 0)


def simple_rnn_sequence(
    inputs: tf.Tensor,
    h0: tf.Tensor,
    kernel: tf.Tensor,
    recurrent_kernel: tf.Tensor,
    bias: tf.Tensor,
    activation: str = "tanh",
) -> tuple[tf.Tensor, tf.Tensor]:
    """Run a SimpleRNN over a whole time-major sequence, with a hand-written backward pass.

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
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"Received an invalid value for `activation`: expected tanh or relu, got {activation!r}.")
    act = tf.math.tanh if activation == "tanh" else tf.nn.relu

    @tf.custom_gradient
    def run(x, h_init, w, u, b):
        steps = tf.shape(x)[0]
        batch, units = tf.shape(x)[1], tf.shape(w)[1]
        p = tf.reshape(tf.matmul(tf.reshape(x, [-1, tf.shape(x)[2]]), w) + b, [steps, batch, units])  # (time, batch, units)
        p_ta = tf.TensorArray(tf.float32, size=steps, element_shape=h_init.shape).unstack(p)
        h_ta = tf.TensorArray(tf.float32, size=steps, element_shape=h_init.shape)

        def step(t, h, out):
            h = act(p_ta.read(t) + tf.matmul(h, u))  # (batch, units)
            return t + 1, h, out.write(t, h)

        _, _, h_ta = tf.while_loop(lambda t, *_: t < steps, step, (0, h_init, h_ta))
        y = h_ta.stack()  # (time, batch, units)

        def grad(dy):
            dy_ta = tf.TensorArray(tf.float32, size=steps, element_shape=h_init.shape).unstack(dy)
            y_ta = tf.TensorArray(tf.float32, size=steps, element_shape=h_init.shape).unstack(y)
            dp_ta = tf.TensorArray(tf.float32, size=steps, element_shape=h_init.shape)
            u_t = tf.transpose(u)

            def back(t, dh_next, out):
                dp = _act_grad(activation, y_ta.read(t), dy_ta.read(t) + dh_next)  # (batch, units)
                return t - 1, tf.matmul(dp, u_t), out.write(t, dp)

            _, dh0, dp_ta = tf.while_loop(lambda t, *_: t >= 0, back, (steps - 1, tf.zeros_like(h_init), dp_ta))
            dp = tf.reshape(dp_ta.stack(), [-1, units])  # (time·batch, units)
            x2 = tf.reshape(x, [-1, tf.shape(x)[2]])  # (time·batch, features)
            h_prev = tf.reshape(tf.concat([h_init[None], y[:-1]], 0), [-1, units])  # (time·batch, units)
            dx = tf.reshape(tf.matmul(dp, w, transpose_b=True), tf.shape(x))
            dw = tf.matmul(x2, dp, transpose_a=True)
            du = tf.matmul(h_prev, dp, transpose_a=True)
            db = tf.reduce_sum(dp, 0)
            return dx, dh0, dw, du, db

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
        h = tf.gather(_value(embedding.embeddings), tf.transpose(x_ids))  # (time, batch, embedding)
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
        logits = tf.tensordot(h, _value(dense.kernel), 1) + _value(dense.bias)  # (time, batch, vocab)
        return tf.transpose(logits, [1, 0, 2])  # (batch, time, vocab)

    return forward

"""A Keras character model trained through the fast recurrence of `core.nn.fused_rnn`, with its own variables.

Two measured refinements sit at this level, above the recurrence:
- With a vocabulary no larger than the embedding, the first layer looks its input projection up in
  the table E·W instead of multiplying every token's embedding by W (`looks_up_input_projection`): 1024 units
  ~31k -> ~36k tok/s.
- A batch of 64 or more runs as two independent half-batches, one per core (`lane_sizes`): ~37.5k.

The model stays a plain Keras model (same weights, summary, save/load); `make_forward` only
computes with its variables, and equals `model(x, training=True)` up to float rounding.
`bench/train_speed.py` compares it with stock Keras and PyTorch.
"""

from __future__ import annotations

from typing import Callable

from core import settings
from core.config import ModelConfig
from core.nn.fused_rnn import simple_rnn_chunks, split_time, supports
from core.nn.tf import keras, tf

FOLD_MAX_RATIO = 1.0  # fold the embedding into the first layer's kernel up to vocab = this × embedding (see looks_up_input_projection)
LANES = settings.current().lanes  # independent recurrences a batch is cut into (see lane_sizes)
MIN_LANE_BATCH = 32  # fewest batch rows in one lane


def looks_up_input_projection(config: ModelConfig) -> bool:
    """Whether the first layer looks its input projection up in the table embeddings·W (vocab, units).

    X·W, where X holds embedding rows, is a row of E·W per token, so with a small vocabulary the
    lookup replaces three matmuls over every token (X·W, Xᵀ·dP, dP·Wᵀ) with one one-hot matmul
    that sums dP per token (about vocab/embedding of their cost) and two of the table's size.
    The embedding's gradient then comes dense, (vocab, embedding), the same numbers as Keras' sparse rows.
    """
    return config.vocab_size <= FOLD_MAX_RATIO * config.embedding_dim


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
        model: a model from `core.nn.language_model.build_model(config)` (stateful or not, any number of layers).
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
    fold = looks_up_input_projection(config)

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
            kernel, bias, units = _value(dense.kernel), _value(dense.bias), tf.shape(hs[0])[-1]
            logits = _join([tf.nn.bias_add(tf.matmul(tf.reshape(h, [-1, units]), kernel), bias) for h in hs])  # (time·lane batch, vocab)
            lane_logits.append(tf.reshape(logits, [tf.shape(ids)[0], tf.shape(ids)[1], -1]))  # (time, lane batch, vocab)
        for i, layer in enumerate(layers):
            if layer.stateful:
                layer.states[0].assign(_join([lane[i] for lane in ends]))
        return tf.transpose(_join(lane_logits, axis=1), [1, 0, 2])  # (batch, time, vocab)

    return forward

"""The fast SimpleRNN path against a NumPy BPTT reference and against stock Keras, at tiny sizes."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from core.nn import fused_model as fastmodel
from core.nn import fused_rnn as fastrnn
from core.config import ModelConfig, TrainConfig
from core.nn.language_model import build_model, rnn_layers, twin
from core.nn.train_step import make_train_step
from core.nn.tf import graph, keras, tf
from tests import reference as R
from tests.helpers import TINY
from tests.reference import rel_err

LENGTHS = (1, 4, 9)  # fed one after the other, so a stateful model carries its state across them


LAYOUTS = ("batch_major", "feature_major", "chunked", "chunked_feature_major")
FOLDS = ("lookup", "folded")


def pairwise(axes, first=()) -> list[tuple]:
    """Combinations of `axes` in which every pair of values of two axes occurs at least once: `first`, then, greedily,
    the combination (in product order) that covers the most pairs not yet covered. Deterministic."""
    def pairs(combo):
        return {(i, combo[i], j, combo[j]) for i, j in itertools.combinations(range(len(combo)), 2)}

    product = list(itertools.product(*axes))
    chosen = list(first)
    left = set().union(*map(pairs, product)) - set().union(set(), *map(pairs, chosen))
    while left:
        best = max(product, key=lambda combo: len(pairs(combo) & left))
        chosen.append(best)
        left -= pairs(best)
    return chosen


def cases(names: str, *axes, fast: set, every: bool = False) -> pytest.MarkDecorator:
    """Parametrize `names` over `axes`: the combinations in `fast` run in the fast tier (make check); the whole suite
    adds the slow ones, enough for every pair of values of two axes to meet once (`pairwise`), or with `every` the full
    product. A fault that takes three settings at once to show would slip through pairwise; the paths here branch on
    one setting or two (the layout and the fold, a carried state and the layout, the layers and the layout)."""
    argnames = [n.strip() for n in names.split(",")]
    assert fast <= set(itertools.product(*axes)), "a fast case that is not in the product"
    combos = list(itertools.product(*axes)) if every else pairwise(axes, sorted(fast, key=str))
    params = [pytest.param(*combo, marks=() if combo in fast else pytest.mark.slow) for combo in combos]
    return pytest.mark.parametrize(argnames, params, indirect=[n for n in argnames if n in ("layout", "fold")])


def test_pairwise_meets_every_pair_once_at_least():
    axes = (["tanh", "relu"], [True, False], [1, 2], LAYOUTS, FOLDS)
    chosen = pairwise(axes, [("tanh", True, 2, "batch_major", "lookup")])
    assert chosen[0] == ("tanh", True, 2, "batch_major", "lookup") and len(chosen) < 64 / 4
    for i, j in itertools.combinations(range(len(axes)), 2):
        assert {(c[i], c[j]) for c in chosen} == set(itertools.product(axes[i], axes[j])), (i, j)


@pytest.fixture
def layout(request, monkeypatch):
    """Run a test with the recurrence on (batch, units) states and on transposed ones, in one piece
    and cut into chunks of 2 or 3 steps."""
    monkeypatch.setattr(fastrnn, "FEATURE_MAJOR_FROM", 1 if request.param.endswith("feature_major") else 10**9)
    if request.param.startswith("chunked"):
        monkeypatch.setattr(fastrnn, "MIN_CHUNK", 2)
        monkeypatch.setattr(fastrnn, "MAX_CHUNKS", 3)
    return request.param


@pytest.fixture
def fold(request, monkeypatch):
    """Run a test with the embedding looked up then projected, and folded into the first kernel."""
    monkeypatch.setattr(fastmodel, "FOLD_MAX_RATIO", 0.0 if request.param == "lookup" else 100.0)
    return request.param == "folded"


@cases("activation, steps, layout", ["tanh", "relu"], [1, 2, 6], LAYOUTS,
       fast={("tanh", 6, "batch_major"), ("relu", 6, "feature_major"), ("tanh", 6, "chunked"), ("relu", 2, "chunked_feature_major")}, every=True)  # NumPy only: the full product takes 0.6 s
def test_sequence_matches_numpy_bptt(activation, steps, layout):
    rng = np.random.default_rng(steps)
    batch, feats, units = 3, 5, 4
    x = rng.normal(size=(steps, batch, feats))
    h0 = rng.normal(size=(batch, units)) * 0.5
    w, u = rng.normal(size=(feats, units)) * 0.5, rng.normal(size=(units, units)) * 0.5
    b = rng.normal(size=units) * 0.1
    dy, dh_last = rng.normal(size=(steps, batch, units)), rng.normal(size=(batch, units))
    want = R.backward("simple_rnn", x, w, u, b, dy, dh_last, h0, activation=activation)
    want_y = want["hs"]

    args = [tf.constant(a, tf.float32) for a in (x, h0, w, u, b)]
    with tf.GradientTape() as tape:
        tape.watch(args)
        y, h_last = fastrnn.simple_rnn_sequence(*args, activation=activation)
        loss = tf.reduce_sum(y * dy) + tf.reduce_sum(h_last * dh_last)  # upstream grads dy and dh_last
    got = dict(zip(["x", "h0", "kernel", "recurrent", "bias"], tape.gradient(loss, args)))

    assert y.shape == (steps, batch, units)
    assert rel_err(y, want_y) < 1e-5
    assert rel_err(h_last, want_y[-1]) < 1e-5
    for name in ("x", "h0", "kernel", "recurrent", "bias"):
        assert rel_err(got[name], want[name]) < 1e-5, name


def test_chunks_cover_the_sequence():
    assert fastrnn.chunks(None) is None
    assert fastrnn.chunks(1) == [(0, 1)]
    assert fastrnn.chunks(100) == [(0, 25), (25, 50), (50, 75), (75, 100)]
    assert fastrnn.chunks(25) == [(0, 10), (10, 20), (20, 25)]
    for steps in (1, 7, 10, 64, 101, 2000):
        bounds = fastrnn.chunks(steps)
        assert bounds[0][0] == 0 and bounds[-1][1] == steps and len(bounds) <= fastrnn.MAX_CHUNKS
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))


@pytest.mark.parametrize("fm", [False, True])
def test_sequence_of_unknown_length_in_a_tf_function(fm, monkeypatch):
    """A time axis unknown while tracing runs as one dynamic piece, traced once for every length."""
    monkeypatch.setattr(fastrnn, "FEATURE_MAJOR_FROM", 1 if fm else 10**9)
    rng = np.random.default_rng(5)
    w, u, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 4)) * 0.5, rng.normal(size=4) * 0.1
    spec = tf.TensorSpec([None, 2, 3], tf.float32)

    @tf.function(input_signature=[spec, tf.TensorSpec([None, 2, 4], tf.float32)])
    def value_and_grads(x, dy):
        h0 = tf.zeros([2, 4])
        args = [tf.constant(a, tf.float32) for a in (w, u, b)]
        with tf.GradientTape() as tape:
            tape.watch([x, *args])
            y, _ = fastrnn.simple_rnn_sequence(x, h0, *args)
            loss = tf.reduce_sum(y * dy)
        return y, tape.gradient(loss, [x, *args])

    for steps in (1, 5, 12):
        x, dy = rng.normal(size=(steps, 2, 3)), rng.normal(size=(steps, 2, 4))
        want = R.backward("simple_rnn", x, w, u, b, dy, np.zeros((2, 4)), np.zeros((2, 4)))
        y, grads = value_and_grads(tf.constant(x, tf.float32), tf.constant(dy, tf.float32))
        assert rel_err(y, want["hs"]) < 1e-5
        for name, g in zip(("x", "kernel", "recurrent", "bias"), grads):
            assert rel_err(g, want[name]) < 1e-5, (steps, name)
    assert value_and_grads.experimental_get_tracing_count() == 1


def _loss(logits, y):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))


def _loss_and_grads(forward, model):
    """(x, y) -> (logits, gradients of the mean cross-entropy for `model`'s trainable variables)."""
    def loss_and_grads(x, y):
        with tf.GradientTape() as tape:
            logits = forward(x)
            loss = _loss(logits, y)
        return logits, tape.gradient(loss, model.trainable_variables)

    return loss_and_grads


def _check_against_keras(stock, fast_model, fast_loss_and_grads, config, seed: int) -> None:
    """Feed batches of each of LENGTHS to both models in turn: the fast path's logits, gradients and
    carried states equal stock Keras'."""
    rng = np.random.default_rng(seed)
    for length in LENGTHS:
        x = rng.integers(0, config.vocab_size, (config.batch_size, length)).astype(np.int32)
        y = rng.integers(0, config.vocab_size, (config.batch_size, length)).astype(np.int32)
        want_logits, want = _loss_and_grads(lambda x: stock(x, training=True), stock)(x, y)
        got_logits, got = fast_loss_and_grads(x, y)

        assert got_logits.shape == (config.batch_size, length, config.vocab_size)
        assert rel_err(got_logits, want_logits) < 1e-5
        assert len(got) == len(want) == len(stock.trainable_variables)
        for var, g, w in zip(stock.trainable_variables, got, want):
            assert g is not None, var.path
            assert rel_err(tf.convert_to_tensor(g), tf.convert_to_tensor(w)) < 1e-5, (length, var.path)
        for mine, theirs in zip(rnn_layers(fast_model), rnn_layers(stock)):
            if config.stateful:  # the carried state is stored back exactly as Keras stores it
                assert rel_err(mine.states[0], theirs.states[0]) < 1e-5
                assert np.any(np.asarray(mine.states[0]) != 0)
            else:
                assert mine.states is None


@cases("activation, stateful, num_layers, layout, fold", ["tanh", "relu"], [True, False], [1, 2], LAYOUTS, FOLDS,
       fast={("tanh", True, 2, "batch_major", "lookup"), ("relu", False, 1, "feature_major", "folded"),
             ("relu", True, 1, "chunked", "folded"), ("tanh", True, 2, "chunked_feature_major", "lookup")})
def test_forward_gradients_and_state_match_keras(activation, stateful, num_layers, layout, fold):
    config = replace(TINY, activation=activation, stateful=stateful, num_layers=num_layers, seed=3 + num_layers)
    assert fastmodel.looks_up_input_projection(config) == fold
    stock = build_model(config)
    fast_model = twin(stock, config)
    forward = fastmodel.make_forward(fast_model, config)
    _check_against_keras(stock, fast_model, _loss_and_grads(forward, fast_model), config, seed=num_layers)


@cases("fold, lanes", FOLDS, [1, 2], fast={("folded", 2)})
def test_training_steps_match_stock_keras(fold, lanes, monkeypatch):
    """A few compiled Adam steps of the trainer's step on the same batches give the same losses and
    weights with the fast recurrence and with stock Keras, with the batch in one lane or two."""
    monkeypatch.setattr(fastmodel, "LANES", lanes)
    monkeypatch.setattr(fastmodel, "MIN_LANE_BATCH", 1)
    config = replace(TINY, rnn_units=8, embedding_dim=4, seq_len=6, num_layers=2, stateful=True, batch_size=3)
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, config.vocab_size, (2, config.batch_size, config.seq_len)).astype(np.int32)] * 6  # memorise one

    def train(fast: bool) -> tuple[list[float], list[np.ndarray]]:
        keras.utils.set_random_seed(1)
        model = build_model(config)
        step, _ = make_train_step(model, config, TrainConfig(learning_rate=0.01, clip_norm=1.0), fast=fast)
        losses = [float(step(tf.constant(x), tf.constant(y))["loss"]) for x, y in batches]
        return losses, [np.asarray(v) for v in model.weights]

    fast_losses, fast_weights = train(fast=True)
    stock_losses, stock_weights = train(fast=False)
    assert fast_losses[-1] < fast_losses[0]  # it learns
    assert rel_err(fast_losses, stock_losses) < 1e-5
    assert len(fast_weights) == len(stock_weights)  # includes each layer's carried state
    for mine, theirs in zip(fast_weights, stock_weights):
        assert rel_err(mine, theirs) < 1e-4


# Slow, each layout once and each fold twice (the full product took 40 s of tracing, 7.5 s for a chunked feature-major
# case); in the fast tier, test_training_steps_match_stock_keras[folded-2] trains through two lanes against Keras
@pytest.mark.parametrize("layout, fold", [pytest.param(*c, marks=pytest.mark.slow) for c in (
    ("batch_major", "folded"), ("feature_major", "lookup"), ("chunked", "lookup"), ("chunked_feature_major", "folded"))],
    indirect=True)
def test_lanes_match_keras(layout, fold, monkeypatch):
    """A batch cut into two uneven lanes (3 + 2 rows) gives Keras' logits, gradients and carried state."""
    monkeypatch.setattr(fastmodel, "LANES", 2)
    monkeypatch.setattr(fastmodel, "MIN_LANE_BATCH", 2)
    config = replace(TINY, stateful=True, num_layers=2, batch_size=5, seed=11)
    assert fastmodel.lane_sizes(config.batch_size) == [3, 2]
    stock = build_model(config)
    fast_model = twin(stock, config)
    forward = fastmodel.make_forward(fast_model, config)
    in_graph = graph(_loss_and_grads(forward, fast_model))  # in the graph, as in the trainer
    _check_against_keras(stock, fast_model, in_graph, config, seed=5)


def test_lane_sizes(monkeypatch):
    monkeypatch.setattr(fastmodel, "LANES", 2)
    monkeypatch.setattr(fastmodel, "MIN_LANE_BATCH", 32)
    assert fastmodel.lane_sizes(64) == [32, 32]
    assert fastmodel.lane_sizes(129) == [65, 64]
    assert fastmodel.lane_sizes(63) == [63]  # a lane would have fewer than 32 rows
    assert fastmodel.lane_sizes(None) == [None]  # unknown while tracing: one lane


@cases("fast, fold", [True, False], FOLDS, fast={(True, "lookup"), (False, "folded")})
def test_first_adam_step_is_textbook_adam(fast, fold):
    """One step moves every weight by Adam's first update on the summed gradient, computed in NumPy:
    Δ = -lr·√(1-β₂)·g / (√(1-β₂)·|g| + ε). Keras 3 fed a token's sparse rows to Adam one by one
    (second moment Σg_i² instead of (Σg_i)²); the trainer sums them first."""
    config = replace(TINY, rnn_units=6, embedding_dim=5, seq_len=8, stateful=False)
    rng = np.random.default_rng(4)
    x = tf.constant(rng.integers(0, 3, (config.batch_size, config.seq_len)), tf.int32)  # 3 tokens, each seen often
    y = tf.constant(rng.integers(0, config.vocab_size, (config.batch_size, config.seq_len)), tf.int32)
    model = build_model(config)
    with tf.GradientTape() as tape:
        loss = _loss(model(x, training=True), y)
    grads = [tf.convert_to_tensor(g).numpy().astype(np.float64) for g in tape.gradient(loss, model.trainable_variables)]
    before = [v.numpy().astype(np.float64) for v in model.trainable_variables]
    lr, b2, eps = 0.01, 0.999, 1e-7
    step, _ = make_train_step(model, config, TrainConfig(learning_rate=lr, clip_norm=0.0), fast=fast)
    step(x, y)
    for var, g, w in zip(model.trainable_variables, grads, before):
        want = -lr * np.sqrt(1 - b2) * g / (np.sqrt(1 - b2) * np.abs(g) + eps)
        np.testing.assert_allclose(var.numpy() - w, want, rtol=2e-3, atol=2e-7, err_msg=var.path)
    embedding_moved = np.abs(model.trainable_variables[0].numpy() - before[0])[:3]
    assert np.all(embedding_moved > 0.9 * lr)  # seen tokens move by about lr, as Adam's first step does


def test_supports_only_plain_simple_rnn():
    assert fastrnn.supports(TINY)
    assert fastrnn.supports(replace(TINY, activation="relu", num_layers=3))
    assert not fastrnn.supports(replace(TINY, cell="lstm"))
    assert not fastrnn.supports(replace(TINY, cell="gru"))
    assert not fastrnn.supports(replace(TINY, dropout=0.2))
    with pytest.raises(ValueError, match="stock Keras path"):
        fastmodel.make_forward(build_model(replace(TINY, cell="lstm")), replace(TINY, cell="lstm"))


def test_sequence_rejects_unknown_activation():
    zeros = tf.zeros((1, 1, 1))
    with pytest.raises(ValueError, match="tanh or relu"):
        fastrnn.simple_rnn_sequence(zeros, zeros[0], zeros[0], zeros[0], zeros[0, 0], "sigmoid")


def test_unrolled_and_looped_chunks_agree(monkeypatch):
    """Short chunks are unrolled in the graph; the while_loop form must give the same values and gradients."""
    config = ModelConfig(vocab_size=9, embedding_dim=3, rnn_units=5, batch_size=2, seq_len=11, stateful=False)
    x = tf.constant(np.random.default_rng(0).integers(0, 9, (2, 11)), tf.int32)

    def run(unroll_max):
        monkeypatch.setattr(fastrnn, "UNROLL_MAX", unroll_max)
        model = build_model(config)
        forward = fastmodel.make_forward(model, config)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(forward(x)))
        return [loss.numpy()] + [tf.convert_to_tensor(g).numpy() for g in tape.gradient(loss, model.trainable_variables)]

    for a, b in zip(run(32), run(0)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

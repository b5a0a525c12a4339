"""core.nn.estimate: memory and time before training, and the refusal of settings that would not fit."""

import dataclasses

import numpy as np
import pytest

from core.config import ARTICLE, QUICK_DEMO
from core.nn.estimate import GIB, check_fits, estimate, flops_per_token
from core.nn.language_model import build_model
from tests.helpers import TINY


def matrix_entries(config) -> int:
    """Multiply-adds per token, counted on the built Keras model: one per entry of every kernel (the embedding is a
    lookup; biases, 2-D in a GRU, are adds)."""
    model = build_model(config, zeros=True)
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights if len(v.shape) == 2 and not any(n in v.path for n in ("embedding", "bias")))


def test_flops_per_token_counts_every_matmul_forward_and_backward():
    c = dataclasses.replace(ARTICLE, vocab_size=65)
    forward_macs = 256 * 1024 + 1024 * 1024 + 1024 * 65
    assert flops_per_token(c) == 3 * 2 * forward_macs
    lstm = dataclasses.replace(c, cell="lstm", num_layers=2)
    assert flops_per_token(lstm) == 6 * (4 * 1024 * (256 + 1024) + 4 * 1024 * (1024 + 1024) + 1024 * 65)


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_flops_per_token_are_six_per_kernel_entry_of_the_built_model(cell, layers):
    """Forward one multiply-add per kernel entry, backward two: 3 × 2 flops, whatever the cell and depth."""
    config = dataclasses.replace(TINY, cell=cell, num_layers=layers, rnn_units=6, embedding_dim=5, vocab_size=11)
    assert flops_per_token(config) == 6 * matrix_entries(config)


def test_memory_grows_with_the_settings_and_time_with_the_text():
    small = estimate(dataclasses.replace(QUICK_DEMO, vocab_size=65), 100_000, gflops=100)
    big = estimate(dataclasses.replace(ARTICLE, vocab_size=65), 100_000, gflops=100)
    assert big.total_bytes > small.total_bytes and big.seconds_per_epoch > small.seconds_per_epoch
    # weights, their gradients, Adam's two moments and the validation copy: five float32 copies of every trainable array
    model = build_model(dataclasses.replace(QUICK_DEMO, vocab_size=65), zeros=True)
    assert small.weights_bytes == 5 * sum(np.asarray(v).nbytes for v in model.trainable_weights)
    assert small.params == sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    longer = estimate(dataclasses.replace(QUICK_DEMO, vocab_size=65), 200_000, gflops=100)
    assert longer.seconds_per_epoch == pytest.approx(2 * small.seconds_per_epoch)


def test_absurd_settings_are_refused_naming_the_limit_and_the_fix():
    check_fits(dataclasses.replace(ARTICLE, vocab_size=10_000))  # the reference model fits
    huge_batch = dataclasses.replace(ARTICLE, vocab_size=10_000, batch_size=1024, seq_len=2000)
    with pytest.raises(ValueError, match=r"GiB.*limit of 4\.0 GiB.*lower the batch size or the sequence length"):
        check_fits(huge_batch)
    huge_weights = dataclasses.replace(ARTICLE, vocab_size=50_000, rnn_units=4096, embedding_dim=4096, batch_size=1, seq_len=1)
    with pytest.raises(ValueError, match="lower the RNN units"):
        check_fits(huge_weights, limit=GIB)


def test_tiny_batches_cost_their_steps_not_only_their_arithmetic():
    """Batch 1 and sequence 1 over the Lighthouse text: 170,584 steps, each about a millisecond whatever the sizes; the
    estimate said 11 s for an epoch that took about 230 s."""
    from core.nn.estimate import STEP_S

    tiny = estimate(dataclasses.replace(QUICK_DEMO, batch_size=1, seq_len=1, vocab_size=65), 170_584, gflops=100)
    assert tiny.seconds_per_epoch >= 170_584 * STEP_S > 150

"""core.nn.estimate: memory and time before training, and the refusal of settings that would not fit."""

import dataclasses

import pytest

from core.config import ARTICLE, QUICK_DEMO
from core.nn.estimate import GIB, check_fits, estimate, flops_per_token
from core.nn.language_model import count_params


def test_flops_per_token_counts_every_matmul_forward_and_backward():
    c = dataclasses.replace(ARTICLE, vocab_size=65)
    forward_macs = 256 * 1024 + 1024 * 1024 + 1024 * 65
    assert flops_per_token(c) == 3 * 2 * forward_macs
    lstm = dataclasses.replace(c, cell="lstm", num_layers=2)
    assert flops_per_token(lstm) == 6 * (4 * 1024 * (256 + 1024) + 4 * 1024 * (1024 + 1024) + 1024 * 65)


def test_memory_grows_with_the_settings_and_time_with_the_text():
    small = estimate(dataclasses.replace(QUICK_DEMO, vocab_size=65), 100_000, gflops=100)
    big = estimate(dataclasses.replace(ARTICLE, vocab_size=65), 100_000, gflops=100)
    assert big.total_bytes > small.total_bytes and big.seconds_per_epoch > small.seconds_per_epoch
    assert small.weights_bytes == 5 * 4 * count_params(dataclasses.replace(QUICK_DEMO, vocab_size=65))
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

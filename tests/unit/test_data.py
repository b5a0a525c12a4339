"""core.text.batches: stateful lanes, shuffled windows, validation split, and too-short texts."""

import numpy as np
import pytest

from core.text.batches import check_length, contiguous_batches, num_batches, shuffled_batches, split


def test_lanes_continue_exactly_across_batches():
    ids = np.arange(1000, dtype=np.int32)
    batches = list(contiguous_batches(ids, batch_size=4, seq_len=10))
    assert len(batches) == num_batches(1000, 4, 10) == 24
    for x, y in batches:
        assert x.shape == y.shape == (4, 10)
        np.testing.assert_array_equal(y, x + 1)  # targets are inputs shifted by one
    for (x0, _), (x1, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)  # row i of batch k+1 continues row i of batch k
    lane_len = 999 // 4
    np.testing.assert_array_equal(batches[0][0][:, 0], np.arange(4) * lane_len)  # contiguous lanes


def test_stateless_shuffles_the_same_windows():
    ids = np.arange(1000, dtype=np.int32)
    lanes = {tuple(r) for x, _ in contiguous_batches(ids, 4, 10) for r in x}
    shuffled = list(shuffled_batches(ids, 4, 10, seed=1))
    rows = [tuple(r) for x, _ in shuffled for r in x]
    assert set(rows) == lanes and len(rows) == len(lanes)
    assert rows != [tuple(r) for x, _ in contiguous_batches(ids, 4, 10) for r in x]
    again = [tuple(r) for x, _ in shuffled_batches(ids, 4, 10, seed=1) for r in x]
    assert rows == again


def test_too_short_names_settings_that_work():
    with pytest.raises(ValueError, match=r"needs 641\).*batch size to 3 or less\.") as err:
        list(contiguous_batches(np.arange(40), 64, 10))
    assert "40 tokens" in str(err.value)
    check_length(641, 64, 10)
    with pytest.raises(ValueError):
        check_length(640, 64, 10)


def test_split_takes_validation_from_the_end():
    ids = np.arange(10_000)
    train, val = split(ids, 0.1, 8, 10)
    assert len(val) == 1000 and val[0] == 9000 and train[-1] == 8999
    train, val = split(np.arange(100), 0.5, 8, 10)  # never takes what one training batch needs
    assert len(train) >= 81

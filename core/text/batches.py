"""Batches for a language model: contiguous lanes for a stateful RNN, shuffled windows otherwise."""

from __future__ import annotations

from typing import Iterator

import numpy as np


def min_tokens(batch_size: int, seq_len: int) -> int:
    """Fewest tokens that make one (x, y) batch: every row needs seq_len inputs plus one target."""
    return batch_size * seq_len + 1


def check_length(n_tokens: int, batch_size: int, seq_len: int, what: str = "This text") -> None:
    """Raise a ValueError that says which smaller setting would work when the text is too short."""
    need = min_tokens(batch_size, seq_len)
    if n_tokens >= need:
        return
    fixes = [f"use a text of at least {need:,} tokens"]
    if (n_tokens - 1) // seq_len >= 1:
        fixes.append(f"lower the batch size to {(n_tokens - 1) // seq_len} or less")
    if (n_tokens - 1) // batch_size >= 1:
        fixes.append(f"lower the sequence length to {(n_tokens - 1) // batch_size} or less")
    raise ValueError(
        f"{what} has {n_tokens:,} tokens, too short for one batch of {batch_size} × {seq_len} "
        f"(it needs {need:,}). To fix it, " + ", or ".join(fixes) + "."
    )


def num_batches(n_tokens: int, batch_size: int, seq_len: int) -> int:
    """How many batches `stateful_batches` yields for `n_tokens` tokens (the same in both modes)."""
    return ((n_tokens - 1) // batch_size) // seq_len


def split(ids: np.ndarray, val_fraction: float, batch_size: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Split ids into training ids and validation ids taken from the end of the text.

    The training part must hold at least one batch; the validation part may be empty (then there
    is no validation loss) but never takes what training needs.
    """
    ids = np.asarray(ids)
    check_length(len(ids), batch_size, seq_len)
    n_val = int(len(ids) * val_fraction)
    n_val = min(n_val, len(ids) - min_tokens(batch_size, seq_len))
    if n_val < 2:
        return ids, ids[:0]
    return ids[: len(ids) - n_val], ids[len(ids) - n_val :]


def stateful_batches(
    ids: np.ndarray, batch_size: int, seq_len: int, stateful: bool = True, seed: int = 0
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (x, y) int32 batches of shape (batch_size, seq_len), y being x shifted by one token.

    Args:
        ids: the 1-D token ids of the text.
        batch_size: rows per batch.
        seq_len: time steps per row.
        stateful: True cuts the text into `batch_size` contiguous lanes so that row i of batch k+1
            continues row i of batch k exactly (what a stateful RNN needs). False yields the same
            windows shuffled, for a model that starts every row from a zero state.
        seed: the shuffle seed when `stateful` is False.

    Raises:
        ValueError: the text is too short for one batch; the message names a setting that would work.
    """
    ids = np.asarray(ids, dtype=np.int32)
    if ids.ndim != 1:
        raise ValueError(f"Expected a 1-D array of token ids, got shape {ids.shape}.")
    check_length(len(ids), batch_size, seq_len)
    lane_len = (len(ids) - 1) // batch_size
    steps = lane_len // seq_len
    x = ids[: batch_size * lane_len].reshape(batch_size, lane_len)  # (batch, lane)
    y = ids[1 : batch_size * lane_len + 1].reshape(batch_size, lane_len)
    if stateful:
        for k in range(steps):
            yield x[:, k * seq_len : (k + 1) * seq_len], y[:, k * seq_len : (k + 1) * seq_len]
        return
    xw = x[:, : steps * seq_len].reshape(batch_size * steps, seq_len)  # every window, lane by lane
    yw = y[:, : steps * seq_len].reshape(batch_size * steps, seq_len)
    order = np.random.default_rng(seed).permutation(len(xw))
    for k in range(steps):
        rows = order[k * batch_size : (k + 1) * batch_size]
        yield xw[rows], yw[rows]


def lanes(ids: np.ndarray, n_lanes: int, max_tokens: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cut ids into `n_lanes` contiguous rows of equal length for evaluation: returns (x, y)."""
    ids = np.asarray(ids, dtype=np.int32)
    if max_tokens is not None and len(ids) > max_tokens:
        ids = ids[:max_tokens]
    n_lanes = max(1, min(n_lanes, (len(ids) - 1) // 2 or 1))
    lane_len = (len(ids) - 1) // n_lanes
    x = ids[: n_lanes * lane_len].reshape(n_lanes, lane_len)
    y = ids[1 : n_lanes * lane_len + 1].reshape(n_lanes, lane_len)
    return x, y

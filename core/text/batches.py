"""Batches for a language model: contiguous streams of the text for a stateful RNN, shuffled windows otherwise."""

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
    """How many batches `contiguous_batches` and `shuffled_batches` yield for `n_tokens` tokens."""
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


def _streams(ids: np.ndarray, batch_size: int, seq_len: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The text cut into `batch_size` contiguous streams, inputs and targets (batch, stream length), and the batches
    they make. Raises ValueError when the text is too short for one batch."""
    ids = np.asarray(ids, dtype=np.int32)
    if ids.ndim != 1:
        raise ValueError(f"Expected a 1-D array of token ids, got shape {ids.shape}.")
    check_length(len(ids), batch_size, seq_len)
    stream_len = (len(ids) - 1) // batch_size
    x = ids[: batch_size * stream_len].reshape(batch_size, stream_len)  # (batch, stream)
    y = ids[1 : batch_size * stream_len + 1].reshape(batch_size, stream_len)
    return x, y, stream_len // seq_len


def contiguous_batches(ids: np.ndarray, batch_size: int, seq_len: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (x, y) int32 batches of shape (batch_size, seq_len), y being x shifted by one token, for a stateful RNN.

    The text is cut into `batch_size` contiguous streams, so that row i of batch k+1 continues row i of batch k
    exactly: the state a stateful layer carries over is the state of the text just before.

    Raises:
        ValueError: the text is too short for one batch; the message names a setting that would work.
    """
    x, y, steps = _streams(ids, batch_size, seq_len)
    for k in range(steps):
        yield x[:, k * seq_len : (k + 1) * seq_len], y[:, k * seq_len : (k + 1) * seq_len]


def shuffled_batches(ids: np.ndarray, batch_size: int, seq_len: int, seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The windows of `contiguous_batches`, shuffled (by `seed`), for a model that starts every row from a zero state.

    Raises:
        ValueError: the text is too short for one batch; the message names a setting that would work.
    """
    x, y, steps = _streams(ids, batch_size, seq_len)
    xw = x[:, : steps * seq_len].reshape(batch_size * steps, seq_len)  # every window, stream by stream
    yw = y[:, : steps * seq_len].reshape(batch_size * steps, seq_len)
    order = np.random.default_rng(seed).permutation(len(xw))
    for k in range(steps):
        rows = order[k * batch_size : (k + 1) * batch_size]
        yield xw[rows], yw[rows]


def eval_rows(ids: np.ndarray, n_rows: int, max_tokens: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cut ids into `n_rows` contiguous rows of equal length for evaluation: returns (x, y)."""
    ids = np.asarray(ids, dtype=np.int32)
    if max_tokens is not None and len(ids) > max_tokens:
        ids = ids[:max_tokens]
    n_rows = max(1, min(n_rows, (len(ids) - 1) // 2 or 1))
    row_len = (len(ids) - 1) // n_rows
    x = ids[: n_rows * row_len].reshape(n_rows, row_len)
    y = ids[1 : n_rows * row_len + 1].reshape(n_rows, row_len)
    return x, y

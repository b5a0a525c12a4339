"""Numbers about single units for the Hidden states page: which tokens a text reads as, how often
units saturate, a 0/1 signal for a pattern in the text, and orderings of units by it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from core.text.vocabulary import Vocabulary, tokenize

QUOTE_LIKE = frozenset("\"'`*_$|~")  # one of these alone as a pattern means "inside a pair of them"


def encode_known(vocab: Vocabulary, text: str) -> tuple[list[str], np.ndarray, list[str]]:
    """Tokenize `text` for a model: unknown tokens become `<unk>`, or are skipped when there is none.

    Returns:
        (tokens, ids, skipped): the tokens kept, their (T,) int32 ids, and the distinct tokens skipped.
    """
    skipped = vocab.unknown(text) if vocab.unk_id is None else []
    index, gone = {t: i for i, t in enumerate(vocab.tokens)}, set(skipped)
    tokens = [t for t in tokenize(text, vocab.level) if t not in gone]
    return tokens, np.array([index.get(t, vocab.unk_id or 0) for t in tokens], np.int32), skipped


def saturation_share(states: np.ndarray, threshold: float = 0.95) -> float:
    """Share of (step, unit) entries with |h| > threshold: how often units sit in tanh's flat tails.

    Args:
        states: hidden states, e.g. (T, units) from `core.inspection.unroll.hidden_states`.
        threshold: the magnitude that counts as saturated.

    Returns:
        A number from 0 to 1 (0 for an empty array).
    """
    states = np.asarray(states)
    return float(np.mean(np.abs(states) > threshold)) if states.size else 0.0


def pattern_signal(tokens: str | Sequence[str], pattern: str, mode: str = "auto") -> np.ndarray:
    """A per-token 0/1 signal to look for a neuron that tracks it.

    Entry t describes the state *after reading token t*, like the hidden state h_t.

    Args:
        tokens: the text (one entry per character) or a list of word tokens.
        pattern: what to look for. In "inside" mode a single character (e.g. '"') means "between
            an opening and a closing one" (the opening one is inside, the closing one outside), and
            two characters (e.g. "()") mean "between an open and its close" (nesting counts).
            In "match" mode, 1 on every token covered by a literal occurrence of `pattern`.
        mode: "inside", "match", or "auto": inside for one of " ' ` * _ $ | ~ or a bracket pair
            like (), [], {}, <>; match otherwise.

    Returns:
        A (len(tokens),) float array of 0 and 1.
    """
    if not isinstance(pattern, str) or not pattern:
        raise ValueError("The pattern is empty. Type a character such as \" or ( to look for.")
    if mode == "auto":
        pairs = ("()", "[]", "{}", "<>")
        mode = "inside" if pattern in QUOTE_LIKE or pattern in pairs else "match"
    toks = list(tokens)
    out = np.zeros(len(toks))
    if mode == "inside":
        if len(pattern) not in (1, 2):
            raise ValueError(f"An 'inside' pattern is one character or an open/close pair like (), got {pattern!r}.")
        opener, closer = pattern[0], pattern[-1]
        depth = 0
        for t, tok in enumerate(toks):
            if len(pattern) == 1 and tok == opener:
                depth = 1 - depth  # a quote toggles
            elif tok == opener:
                depth += 1
            elif tok == closer:
                depth = max(depth - 1, 0)
            out[t] = depth > 0
    elif mode == "match":
        if isinstance(tokens, str):
            start = tokens.find(pattern)
            while start >= 0:
                out[start:start + len(pattern)] = 1
                start = tokens.find(pattern, start + len(pattern))
        else:
            out[[t for t, tok in enumerate(toks) if tok == pattern]] = 1
    else:
        raise ValueError(f"Received mode {mode!r}: expected 'auto', 'inside' or 'match'.")
    return out


def unit_correlations(states: np.ndarray, signal: np.ndarray) -> np.ndarray:
    """Pearson correlation of each unit's activation with a signal over time.

    Args:
        states: (T, units) hidden states.
        signal: (T,) numbers, e.g. from `pattern_signal`.

    Returns:
        (units,) correlations in [-1, 1]; 0 where the unit or the signal is constant.
    """
    states, signal = np.asarray(states, np.float64), np.asarray(signal, np.float64)
    if signal.shape != states.shape[:1]:
        raise ValueError(f"The signal has {signal.shape[0] if signal.ndim else 0} entries but there are {states.shape[0]} steps; build it from the same text.")
    ds, dx = states - states.mean(axis=0), signal - signal.mean()  # (T, units), (T,)
    denom = np.sqrt((ds**2).sum(axis=0) * (dx**2).sum())  # (units,)
    return np.divide(dx @ ds, denom, out=np.zeros(states.shape[1]), where=denom > 1e-12)


def order_units(states: np.ndarray, by: str = "index", signal: np.ndarray | None = None) -> np.ndarray:
    """An order in which to show the units of a (T, units) array of hidden states.

    Args:
        states: (T, units) hidden states.
        by: "index" (0, 1, 2, ...), "variance" (most active first) or "correlation" (largest
            |correlation| with `signal` first, whether positive or negative).
        signal: (T,) signal for "correlation".

    Returns:
        (units,) int unit indices.
    """
    states = np.asarray(states)
    if by == "index":
        return np.arange(states.shape[1])
    if by == "variance":
        return np.argsort(-states.var(axis=0), kind="stable")
    if by == "correlation":
        if signal is None:
            raise ValueError("Ordering by correlation needs a signal; type a pattern to correlate with.")
        return np.argsort(-np.abs(unit_correlations(states, signal)), kind="stable")
    raise ValueError(f"Received by={by!r}: expected 'index', 'variance' or 'correlation'.")

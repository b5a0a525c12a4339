"""Numbers for the Gradients page, derived from gradients and weights.

Eigenvalues of the recurrent matrices, the fitted decay of gradient norms with lag, and the
side-by-side SimpleRNN / LSTM / GRU comparison. What single units do is in `core.inspection.neurons`.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

import numpy as np

from core.cells import KEYS, cell_spec
from core.config import ModelConfig
from core.inspection.unroll import Snapshot, gradient_norms, snapshot
from core.nn.language_model import build_model

_EIG_CACHE: OrderedDict[bytes, np.ndarray] = OrderedDict()  # eigvals of 1024 x 1024 take ~2 s; keep recent ones
_EIG_LOCK = threading.Lock()


def _eigvals(matrix: np.ndarray) -> np.ndarray:
    """np.linalg.eigvals, remembered for the last 32 matrices (keyed by a hash of their bytes)."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float64)
    key = hashlib.blake2b(matrix.tobytes(), digest_size=16).digest() + str(matrix.shape).encode()
    with _EIG_LOCK:
        if key in _EIG_CACHE:
            _EIG_CACHE.move_to_end(key)
            return _EIG_CACHE[key]
    values = np.linalg.eigvals(matrix)  # (units,) complex
    with _EIG_LOCK:
        _EIG_CACHE[key] = values
        while len(_EIG_CACHE) > 32:
            _EIG_CACHE.popitem(last=False)
    return values


def block_eigenvalues(recurrent: np.ndarray, kind: str) -> dict[str, np.ndarray]:
    """Eigenvalues of each gate's square block of a recurrent kernel.

    Args:
        recurrent: the recurrent kernel, (units, gates * units), as Keras stores it.
        kind: "simple_rnn" (one block U), "lstm" (i, f, c, o) or "gru" (z, r, h).

    Returns:
        Block name -> complex eigenvalues, (units,) each.
    """
    gates = cell_spec(kind).gates  # Keras' gate order
    units, width = recurrent.shape
    if width != units * len(gates):
        raise ValueError(f"A {kind} recurrent kernel should be ({units}, {units * len(gates)}), got {recurrent.shape}.")
    return {name: _eigvals(recurrent[:, k * units:(k + 1) * units]) for k, name in enumerate(gates)}


def recurrent_eigenvalues(model, layer: int = 1) -> dict[str, np.ndarray]:
    """Eigenvalues of the recurrent kernel of one layer, per gate block.

    Args:
        model: a model from `build_model`, or a `core.inspection.snapshot.Snapshot`.
        layer: which recurrent layer, 1 = the bottom one.

    Returns:
        Block name -> complex eigenvalues (see `block_eigenvalues`).
    """
    snap = model if isinstance(model, Snapshot) else snapshot(model)
    if not 1 <= layer <= len(snap.layers):
        raise ValueError(f"Received layer {layer}, but this model has recurrent layers 1 to {len(snap.layers)}.")
    return block_eigenvalues(snap.layers[layer - 1].recurrent, snap.kind)


def spectral_radius(values: np.ndarray) -> float:
    """The largest |eigenvalue|: above 1, the linearised recurrence can grow; below, it shrinks."""
    values = np.asarray(values)
    return float(np.max(np.abs(values))) if values.size else 0.0


@dataclass(frozen=True)
class DecayFit:
    """Least-squares line through log10 ||dL/dh_t|| against lag (steps back from the prediction)."""

    slope: float  # change of log10 norm per step of lag; negative means vanishing
    intercept: float  # fitted log10 norm at lag 0
    points: int  # nonzero, finite norms used

    @property
    def factor(self) -> float:
        """Multiplier of the gradient norm per step back in time (10 ** slope)."""
        return float(10.0 ** self.slope)

    @property
    def label(self) -> str:
        """A short legend text, e.g. "×0.912 per step"."""
        return "too few points to fit" if self.points < 2 else f"×{self.factor:.3g} per step"


def fit_decay(norms: np.ndarray) -> DecayFit:
    """Fit how fast gradient norms shrink (or grow) with lag.

    Args:
        norms: (T,) gradient norms in time order, as from `gradient_norms`; lag of entry t is T-1-t.

    Returns:
        A `DecayFit`; zeros and non-finite entries are ignored. With fewer than 2 usable points
        the slope is nan.
    """
    norms = np.asarray(norms, dtype=np.float64).ravel()
    lag = np.arange(len(norms))[::-1].astype(np.float64)  # (T,) T-1 down to 0
    ok = np.isfinite(norms) & (norms > 0)
    if ok.sum() < 2:
        return DecayFit(float("nan"), float("nan"), int(ok.sum()))
    slope, intercept = np.polyfit(lag[ok], np.log10(norms[ok]), 1)
    return DecayFit(float(slope), float(intercept), int(ok.sum()))


def fit_decays(curves: Mapping[str, np.ndarray]) -> dict[str, DecayFit]:
    """`fit_decay` of each named curve, for `core.figures.inspection.gradient_decay_figure`."""
    return {name: fit_decay(norms) for name, norms in curves.items()}


@dataclass(frozen=True)
class CellCurve:
    """One cell type's gradient curve and spectrum in the Gradients lab."""

    cell: str  # simple_rnn, lstm or gru
    norms: np.ndarray  # (T,) ||dL/dh_t|| of the first layer, time order
    fit: DecayFit  # decay of the norms with lag
    eigenvalues: dict[str, np.ndarray]  # gate block -> eigenvalues of the first layer's recurrent kernel
    radius: dict[str, float]  # gate block -> spectral radius


def compare_cells(config: ModelConfig, ids, cells: Sequence[str] = KEYS, eigenvalues: bool = True) -> dict[str, CellCurve]:
    """Fresh, untrained SimpleRNN, LSTM and GRU models of one size and seed, side by side.

    Args:
        config: size, seed, initializer and activation; `cell` and `stateful` are overridden.
        ids: 1-D int token ids (< config.vocab_size); inputs ids[:-1], target ids[-1].
        cells: which cell types to build.
        eigenvalues: also compute spectra (about 2 s per 1024-unit block on 2 cores, then cached).

    Returns:
        Cell name -> `CellCurve`, in the order of `cells`.
    """
    out = {}
    for cell in cells:
        snap = snapshot(build_model(replace(config, cell=cell, stateful=False)))
        norms = gradient_norms(snap, ids)
        eigs = block_eigenvalues(snap.layers[0].recurrent, cell) if eigenvalues else {}
        out[cell] = CellCurve(cell, norms, fit_decay(norms), eigs, {k: spectral_radius(v) for k, v in eigs.items()})
    return out

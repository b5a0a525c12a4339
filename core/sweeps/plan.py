"""A sweep before it runs: its spec, every trial's settings, and the checks and estimates the panel shows.

Every trial is planned here, random ones too (drawn with the spec's seed), so the trials Tune runs are exactly the
ones the panel listed and the store holds; Tune only schedules them and stops the losers early.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import asdict, dataclass, replace

from core.config import ModelConfig, TrainConfig
from core.sweeps.space import SETTINGS, Axis, SweepError, parse_space

SEARCHES = ("grid", "random")


@dataclass(frozen=True)
class SweepSpec:
    """What the user asked for: the varied settings, the search, and how each trial trains."""

    axes: tuple[Axis, ...]  # the varied settings (1 to 3)
    search: str = "grid"  # "grid": every combination; "random": `trials` draws
    trials: int = 8  # how many trials a random search draws
    epochs: int = 5  # epochs each trial trains (at most; ASHA stops the losers earlier)
    asha: bool = True  # stop bad trials early (Tune's ASHA scheduler)
    seed: int = 0  # seeds a random search's draws

    def to_json(self) -> str:
        return json.dumps(dict(asdict(self), axes=[asdict(a) for a in self.axes]))

    @classmethod
    def from_json(cls, raw: str) -> "SweepSpec":
        data = json.loads(raw)
        axes = tuple(Axis(a["key"], tuple(a["values"]), a["low"], a["high"], a["points"]) for a in data.pop("axes"))
        return cls(axes=axes, **data)


def make_spec(texts: dict[str, str], search: str = "grid", trials: int = 8, epochs: int = 5, asha: bool = True,
              seed: int = 0) -> SweepSpec:
    """A checked `SweepSpec` from the panel's texts (setting key -> value list or range).

    Raises:
        SweepError: a bad value list, search, trial count or epochs; the sentence names it.
    """
    if search not in SEARCHES:
        raise SweepError(f"The search must be one of {', '.join(SEARCHES)}, not {search!r}.")
    if not (isinstance(epochs, int) and 1 <= epochs <= 1000):
        raise SweepError(f"Epochs per trial must be a whole number from 1 to 1000, not {epochs!r}.")
    if search == "random" and not (isinstance(trials, int) and trials >= 1):
        raise SweepError(f"A random search needs a number of trials of at least 1, not {trials!r}.")
    return SweepSpec(parse_space(texts), search, trials, epochs, asha, seed)


@dataclass(frozen=True)
class Trial:
    """One planned trial: what it changes and the settings it trains with."""

    index: int  # from 0, in the order they are planned (and started)
    changes: tuple[tuple[str, object], ...]  # (setting key, value) of each varied setting
    model: ModelConfig
    train: TrainConfig

    def label(self) -> str:
        """"learning rate 0.003, units 128": what this trial tries."""
        return ", ".join(f"{SETTINGS[k].label} {v:g}" if isinstance(v, float) else f"{SETTINGS[k].label} {v}"
                         for k, v in self.changes)


def combinations(spec: SweepSpec) -> list[tuple[tuple[str, object], ...]]:
    """Each trial's (key, value) pairs: the grid's product, or the random search's draws."""
    keys = [a.key for a in spec.axes]
    if spec.search == "grid":
        return [tuple(zip(keys, values)) for values in itertools.product(*(a.grid() for a in spec.axes))]
    rng = random.Random(spec.seed)
    return [tuple((a.key, a.draw(rng)) for a in spec.axes) for _ in range(spec.trials)]


def plan(spec: SweepSpec, model: ModelConfig, train: TrainConfig, max_trials: int) -> list[Trial]:
    """Every trial of `spec`, each a change of the current settings `model` and `train`.

    Each trial trains `spec.epochs` epochs and skips the epoch-end sample and gradient curve (a sweep compares
    validation losses).

    Raises:
        SweepError: more trials than `max_trials`, or a combination the configs refuse.
    """
    combos = combinations(spec)
    if len(combos) > max_trials:
        raise SweepError(f"This sweep has {len(combos)} trials, more than this server allows ({max_trials}, set by "
                         "RNN_PLAYGROUND_MAX_TRIALS). Give fewer values, or use a random search with fewer trials.")
    base_train = replace(train, epochs=spec.epochs, sample_length=0, grad_curve_len=0)
    trials = []
    for i, changes in enumerate(combos):
        m = {SETTINGS[k].field: v for k, v in changes if SETTINGS[k].config == "model"}
        t = {SETTINGS[k].field: v for k, v in changes if SETTINGS[k].config == "train"}
        try:
            trials.append(Trial(i, changes, replace(model, **m), replace(base_train, **t)))
        except ValueError as err:
            raise SweepError(f"Trial {i + 1} ({', '.join(f'{k} {v}' for k, v in changes)}) cannot run: {err}") from None
    return trials


@dataclass(frozen=True)
class Estimate:
    """What the panel says before a sweep starts."""

    trials: int
    at_once: int  # trials that can train at the same time
    seconds: float  # about how long the whole sweep takes, without early stopping
    largest_gb: float  # the largest trial's estimated training memory


def check_and_estimate(trials: list[Trial], tokens: int, at_once: int, limit_bytes: int,
                       gflops: float | None = None) -> Estimate:
    """Refuse a trial that would not fit in memory, and estimate the sweep's time and memory.

    Args:
        trials: from `plan`.
        tokens: tokens in the text (each epoch reads about 90% of them, or the per-epoch cap).
        at_once: training slots the sweep may use.
        limit_bytes: the largest training memory one trial may need (RNN_PLAYGROUND_MAX_MODEL_GB).
        gflops: this machine's matmul speed (None measures it: TensorFlow).

    Raises:
        SweepError: naming the first trial that would not fit, and what to lower.
    """
    from core.nn.estimate import GIB, check_fits, estimate  # TensorFlow: only once a sweep is estimated

    total, largest = 0.0, 0
    for trial in trials:
        try:
            check_fits(trial.model, limit_bytes)
        except ValueError as err:
            raise SweepError(f"Trial {trial.index + 1} ({trial.label()}) is refused: {err}") from None
        m, t = trial.model, trial.train
        per_epoch = int(tokens * (1 - t.val_fraction))
        if t.max_steps_per_epoch:
            per_epoch = min(per_epoch, t.max_steps_per_epoch * m.batch_size * m.seq_len)
        est = estimate(m, per_epoch, gflops)
        total += est.seconds_per_epoch * t.epochs
        largest = max(largest, est.total_bytes)
    at_once = max(1, min(at_once, len(trials)))
    return Estimate(len(trials), at_once, total / at_once, largest / GIB)

"""What a sweep varies: the settings it may vary, and a user's value lists and ranges read into checked axes.

Pure Python: no TensorFlow, no Ray. A value list is "0.001, 0.003, 0.01" (commas or spaces); a range is "low..high",
optionally "low..high:n" for how many values a grid takes from it (3 by default; log-spaced for the learning rate).
A random search draws from a range (log-uniform for the learning rate) and picks from a list. Every mistake is a
`SweepError` whose sentence names the setting, what was typed and what would do.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from core.config import CELL_NAMES, CELLS, OPTIMIZERS

GRID_POINTS = 3  # values a grid takes from a range without ":n"
MAX_POINTS = 50  # the most values a grid may take from one range
MAX_AXES = 3  # settings one sweep may vary


class SweepError(ValueError):
    """A sweep the panel cannot run; the message is a sentence for the user."""


@dataclass(frozen=True)
class Setting:
    """One setting a sweep may vary, and where it lives in the configs."""

    key: str  # the sweep's name for it (what a spec and the panel's widgets use)
    label: str  # what the page shows
    config: str  # "model" (ModelConfig) or "train" (TrainConfig)
    field: str  # the dataclass field it sets
    kind: type  # int, float or str
    low: float = 0.0  # the smallest value accepted (numbers)
    high: float = 0.0  # the largest value accepted (numbers)
    log: bool = False  # ranges are spaced and drawn on a log scale
    choices: tuple[str, ...] = ()  # accepted values (kind str)
    example: str = ""  # a good value list, shown as the starting text


SETTINGS = {s.key: s for s in (
    Setting("learning_rate", "learning rate", "train", "learning_rate", float, 1e-5, 10.0, log=True,
            example="0.001..0.03"),
    Setting("units", "units", "model", "rnn_units", int, 1, 4096, example="64, 128, 256"),
    Setting("embedding", "embedding", "model", "embedding_dim", int, 1, 4096, example="16, 32, 64"),
    Setting("layers", "layers", "model", "num_layers", int, 1, 4, example="1, 2"),
    Setting("batch", "batch", "model", "batch_size", int, 1, 1024, example="16, 32, 64"),
    Setting("seq_len", "sequence length", "model", "seq_len", int, 2, 2000, example="32, 64, 128"),
    Setting("cell", "cell", "model", "cell", str, choices=CELLS, example="simple_rnn, lstm, gru"),
    Setting("optimizer", "optimizer", "train", "optimizer", str, choices=OPTIMIZERS, example="adam, rmsprop"),
    Setting("dropout", "dropout", "model", "dropout", float, 0.0, 0.9, example="0, 0.1, 0.3"),
    Setting("clipping", "clipping", "train", "clip_norm", float, 0.0, 1e6, example="0, 1, 5"),
)}


@dataclass(frozen=True)
class Axis:
    """One varied setting: an explicit list of values, or a range [low, high] (a grid takes `points` values of it)."""

    key: str
    values: tuple = ()  # the listed values (empty for a range)
    low: float | None = None  # a range's ends
    high: float | None = None
    points: int = GRID_POINTS  # values a grid takes from the range

    @property
    def setting(self) -> Setting:
        return SETTINGS[self.key]

    def grid(self) -> tuple:
        """The values a grid search tries: the list, or `points` values spread over the range."""
        if self.values:
            return self.values
        s, n = self.setting, self.points
        if n == 1 or self.low == self.high:
            return (_typed(s, self.low),)
        if s.log:
            a, b = math.log10(self.low), math.log10(self.high)
            spread = [10 ** (a + (b - a) * i / (n - 1)) for i in range(n)]
        else:
            spread = [self.low + (self.high - self.low) * i / (n - 1) for i in range(n)]
        return tuple(dict.fromkeys(_typed(s, v) for v in spread))  # whole numbers may round onto each other

    def draw(self, rng) -> object:
        """One value for a random search (`rng`: a `random.Random`)."""
        if self.values:
            return rng.choice(self.values)
        s = self.setting
        if s.log:
            return _typed(s, 10 ** rng.uniform(math.log10(self.low), math.log10(self.high)))
        return _typed(s, rng.uniform(self.low, self.high))


def _typed(s: Setting, v: float):
    """A number as the setting keeps it: whole numbers rounded, others to four significant digits."""
    return int(round(v)) if s.kind is int else float(f"{v:.4g}")


def parse_axis(key: str, text: str) -> Axis:
    """Read what the user typed for setting `key` into an `Axis`.

    Args:
        key: a key of `SETTINGS`.
        text: "a, b, c" or "low..high" (optionally "low..high:n").

    Returns:
        The checked axis.

    Raises:
        SweepError: empty, malformed, or out of the setting's range; the sentence names the setting.
    """
    s = SETTINGS[key]
    raw = (text or "").strip()
    if not raw:
        raise SweepError(f"Give the {s.label} a list of values, such as \"{s.example}\".")
    if ".." in raw:
        if s.kind is str:
            raise SweepError(f"The {s.label} takes a list of values, not a range: for example \"{s.example}\".")
        return _parse_range(s, raw)
    parts = [p for p in re.split(r"[,\s;]+", raw) if p]
    return Axis(key, tuple(dict.fromkeys(_value(s, p) for p in parts)))


def _parse_range(s: Setting, raw: str) -> Axis:
    match = re.fullmatch(r"\s*([^.:\s][^:]*?)\s*\.\.\s*([^:]+?)\s*(?::\s*(\S+))?\s*", raw)
    if not match:
        raise SweepError(f"The {s.label} range \"{raw}\" is not of the form low..high (or low..high:n for n values in "
                         f"a grid), e.g. \"{s.example if '..' in s.example else '1..8'}\".")
    low, high = _value(s, match.group(1), exact=False), _value(s, match.group(2), exact=False)
    if low > high:
        raise SweepError(f"The {s.label} range \"{raw}\" runs backwards: write the smaller end first ({high:g}..{low:g}).")
    points = GRID_POINTS
    if match.group(3) is not None:
        try:
            points = int(match.group(3))
        except ValueError:
            points = 0
        if not 1 <= points <= MAX_POINTS:
            raise SweepError(f"The {s.label} range \"{raw}\" asks for {match.group(3)!r} values; after the colon give "
                             f"a whole number from 1 to {MAX_POINTS}.")
    return Axis(s.key, (), low, high, points)


def _value(s: Setting, part: str, exact: bool = True):
    """One typed value of `s`, checked against its range or choices."""
    if s.kind is str:
        by_name = {CELL_NAMES.get(c, c).lower(): c for c in s.choices} | {c.lower(): c for c in s.choices}
        if part.lower() not in by_name:
            raise SweepError(f"The {s.label} cannot be \"{part}\": choose from {', '.join(s.choices)}.")
        return by_name[part.lower()]
    try:
        number = float(part)
    except ValueError:
        raise SweepError(f"The {s.label} value \"{part}\" is not a number; write a list like \"{s.example}\".") from None
    if not math.isfinite(number):
        raise SweepError(f"The {s.label} value \"{part}\" is not a finite number; write a list like \"{s.example}\".")
    if s.kind is int and exact and number != int(number):
        raise SweepError(f"The {s.label} must be a whole number, not {part}.")
    if not s.low <= number <= s.high:
        raise SweepError(f"The {s.label} value {part} is out of range: it must be from {s.low:g} to {s.high:g}.")
    return int(number) if s.kind is int and exact else float(number) if s.kind is float else number


def parse_space(texts: dict[str, str]) -> tuple[Axis, ...]:
    """Every chosen setting's text read into axes (at most `MAX_AXES`), in the order given.

    Raises:
        SweepError: no setting chosen, more than `MAX_AXES`, an unknown one, or a bad value list.
    """
    if not texts:
        raise SweepError("Choose at least one setting to vary.")
    if len(texts) > MAX_AXES:
        raise SweepError(f"A sweep varies at most {MAX_AXES} settings; you chose {len(texts)}. Keep the ones that matter most.")
    unknown = [k for k in texts if k not in SETTINGS]
    if unknown:
        raise SweepError(f"A sweep cannot vary {', '.join(unknown)}; choose from {', '.join(SETTINGS)}.")
    return tuple(parse_axis(k, t) for k, t in texts.items())

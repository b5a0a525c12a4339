"""Time series: real data shipped inside a package, a synthetic generator, CSV upload, and the windows an RNN learns from.

A series is cut by time into train, validation and test parts. A window is `lookback` values in and the next `horizon`
values out; it belongs to the part that holds all of its targets, so no training or validation window ever reads
or predicts a value of the test period. Scaling is fitted on the training part alone. Differencing (optional) makes
the network predict changes instead of levels. The baselines every forecast is measured against live here too.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from core.validation import check_int

MAX_CSV_BYTES = 5_000_000


class SeriesError(ValueError):
    """The input cannot be used as a series; the message says what to do instead."""


@dataclass(frozen=True, eq=False)
class Series:
    """One numeric series in time order."""

    name: str
    time: np.ndarray  # (n,) datetime64 or step numbers
    values: np.ndarray  # (n,) float64
    unit: str = ""
    season: int = 0  # its natural period in steps (365 for daily weather, 12 for monthly prices); 0 when none


# name -> (file in vega_datasets, filter on `symbol` or None, value column, unit, season)
BUILTIN = {
    "Seattle: daily maximum temperature": ("seattle-weather.csv", None, "temp_max", "°C", 365),
    "Seattle: daily minimum temperature": ("seattle-weather.csv", None, "temp_min", "°C", 365),
    "Seattle: daily wind": ("seattle-weather.csv", None, "wind", "m/s", 365),
    **{f"Stock: {s} monthly price": ("stocks.csv", s, "price", "$", 12) for s in ("AAPL", "AMZN", "GOOG", "IBM", "MSFT")},
}


def load_builtin(name: str) -> Series:
    """A real series from the `vega_datasets` package (files inside it: nothing is downloaded)."""
    file, symbol, column, unit, season = BUILTIN[name]
    df = pd.read_csv(resources.files("vega_datasets") / "_data" / file)
    if symbol is not None:
        df = df[df["symbol"] == symbol]
    time = pd.to_datetime(df["date"], format="mixed").to_numpy()
    return Series(name, time, df[column].to_numpy(np.float64), unit, season)


def synthetic(n: int = 600, period: int = 40, amplitude: float = 1.0, trend: float = 0.0, noise: float = 0.1,
              season_period: int = 200, season_amplitude: float = 0.0, seed: int = 0) -> Series:
    """A sine of `period` steps, plus a linear trend per step, a slower seasonal wave and Gaussian noise."""
    t = np.arange(n, dtype=np.float64)
    values = amplitude * np.sin(2 * np.pi * t / period) + trend * t
    values += season_amplitude * np.sin(2 * np.pi * t / max(season_period, 2))
    values += np.random.default_rng(seed).normal(0.0, noise, n) if noise > 0 else 0.0
    return Series("synthetic", t.astype(np.int64), values, "", season_period if season_amplitude else 0)


def read_csv(data: bytes) -> pd.DataFrame:
    """Parse an uploaded CSV, with a sentence for each way it can be unusable."""
    if len(data) > MAX_CSV_BYTES:
        raise SeriesError(f"This file is {len(data) / 1e6:.1f} MB; the limit is {MAX_CSV_BYTES / 1e6:.0f} MB. "
                          "Upload a shorter series (fewer rows or columns).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SeriesError("This file is not UTF-8 text, so it is not a CSV this page can read. Save it as CSV (UTF-8) "
                          "and upload it again.") from None
    try:
        df = pd.read_csv(io.StringIO(text), sep=None, engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as err:
        raise SeriesError(f"This file could not be read as a CSV ({str(err).splitlines()[0][:120]}). Check that it has "
                          "a header row and one row per time step.") from None
    if len(df) < 2:
        raise SeriesError(f"This CSV has {len(df)} row; a series needs many. Upload one row per time step.")
    if not numeric_columns(df):
        raise SeriesError("This CSV has no column of numbers. A series needs one: a value per row, such as a price "
                          "or a temperature.")
    return df


def numeric_columns(df: pd.DataFrame) -> list[str]:
    """The columns that are mostly numbers (the candidates for the value)."""
    found = []
    for col in df.columns:
        numbers = pd.to_numeric(df[col], errors="coerce")
        if numbers.notna().sum() >= max(2, 0.5 * df[col].notna().sum()):
            found.append(str(col))
    return found


def series_from_csv(df: pd.DataFrame, time_col: str | None, value_col: str, name: str) -> Series:
    """The chosen columns as a series, in time order; a sentence for text in numbers, gaps or a bad time column."""
    raw = df[value_col]
    numbers = pd.to_numeric(raw, errors="coerce")
    text = raw.notna() & numbers.isna()
    if text.any():
        row = int(np.argmax(text.to_numpy())) + 2  # +1 for the header, +1 to count from 1
        raise SeriesError(f"Column “{value_col}” has text where a number should be: {str(raw[text].iloc[0])[:30]!r} on "
                          f"line {row}. Fix those cells, or pick another column.")
    if numbers.isna().any():
        row = int(np.argmax(numbers.isna().to_numpy())) + 2
        raise SeriesError(f"Column “{value_col}” has {int(numbers.isna().sum())} empty cells (the first on line {row}). "
                          "A gap breaks the time steps: fill or remove those rows and upload again.")
    time = np.arange(len(df))
    if time_col:
        parsed = pd.to_datetime(df[time_col], errors="coerce", format="mixed")
        if parsed.isna().any():
            raise SeriesError(f"Column “{time_col}” is not a date or time on every line. Pick another time column, or "
                              "none (the rows are then taken in file order).")
        order = np.argsort(parsed.to_numpy(), kind="stable")
        time, numbers = parsed.to_numpy()[order], numbers.to_numpy()[order]
    return Series(name, np.asarray(time), np.asarray(numbers, np.float64))


@dataclass(frozen=True)
class WindowConfig:
    """How a series becomes training windows."""

    lookback: int = 30  # values the network reads before it forecasts
    horizon: int = 1  # values it forecasts at once
    val_fraction: float = 0.15  # share of the series, after the training part, for validation
    test_fraction: float = 0.15  # share at the end kept for the test, never seen while training
    difference: bool = False  # predict the change from one step to the next instead of the level
    season: int = 0  # steps in one season, for the seasonal naive baseline; 0 for none

    def __post_init__(self) -> None:
        for name, low, high in (("lookback", 1, 2000), ("horizon", 1, 500), ("season", 0, 5000)):
            check_int(name, getattr(self, name), low, high)
        if not (0 < self.val_fraction < 0.5 and 0 < self.test_fraction < 0.5):
            raise ValueError("Received invalid split fractions: validation and test must each be above 0 and below 0.5.")


@dataclass(frozen=True, eq=False)
class Windows:
    """A series cut into scaled windows, by part."""

    x: dict  # part -> (n, lookback) scaled inputs
    y: dict  # part -> (n, horizon) scaled targets
    origin: dict  # part -> (n,) index in the series of each window's last known value
    bounds: tuple[int, int]  # the first index of validation and of test, in the series
    mean: float  # scaling fitted on the training part: z = (v - mean) / std
    std: float
    config: WindowConfig


def windows(values: np.ndarray, config: WindowConfig) -> Windows:
    """Cut `values` into windows for train, val and test (see the module docstring). Raises SeriesError when too short."""
    values = np.asarray(values, np.float64)
    n, lb, h = len(values), config.lookback, config.horizon
    a, b = int(round(n * (1 - config.val_fraction - config.test_fraction))), int(round(n * (1 - config.test_fraction)))
    offset = 1 if config.difference else 0
    s = np.diff(values) if config.difference else values  # s[j] is known at series index j + offset
    train_part = s[: a - offset]
    need = lb + h + offset
    if len(train_part) < lb + h or b - a < h or n - b < h:
        raise SeriesError(f"This series has {n:,} values: too short for a lookback of {lb} and a horizon of {h} in each "
                          f"part (the training part needs {need + 1} values). Lower the lookback or the horizon, or use a "
                          "longer series.")
    mean, std = float(train_part.mean()), float(train_part.std()) or 1.0
    z = (s - mean) / std
    starts = np.arange(len(s) - lb - h + 1)
    origin = starts + lb - 1 + offset  # series index of the last known value; targets are origin+1 .. origin+h
    first, last = origin + 1, origin + h
    parts = {"train": last < a, "val": (first >= a) & (last < b), "test": first >= b}
    x, y, o = {}, {}, {}
    for part, keep in parts.items():
        idx = starts[keep]
        x[part] = z[idx[:, None] + np.arange(lb)]  # (n, lookback)
        y[part] = z[idx[:, None] + lb + np.arange(h)]  # (n, horizon)
        o[part] = origin[keep]
    return Windows(x, y, o, (a, b), mean, std, config)


def to_levels(w: Windows, values: np.ndarray, z: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Scaled forecasts (n, horizon) back in the series' own units (levels, also after differencing)."""
    out = np.asarray(z, np.float64) * w.std + w.mean
    if w.config.difference:
        out = np.asarray(values, np.float64)[origin][:, None] + np.cumsum(out, axis=1)
    return out


def truth(values: np.ndarray, origin: np.ndarray, horizon: int) -> np.ndarray:
    """The real values each window forecasts: (n, horizon)."""
    return np.asarray(values, np.float64)[origin[:, None] + 1 + np.arange(horizon)]


def persistence(values: np.ndarray, origin: np.ndarray, horizon: int) -> np.ndarray:
    """Tomorrow = today: the last known value for every step ahead."""
    return np.repeat(np.asarray(values, np.float64)[origin][:, None], horizon, axis=1)


def seasonal_naive(values: np.ndarray, origin: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Each step ahead = the same step one season earlier (the latest such value that is known)."""
    ahead = np.arange(1, horizon + 1)
    back = season * np.ceil(ahead / season).astype(int)  # whole seasons, so the value is known at the origin
    return np.asarray(values, np.float64)[origin[:, None] + ahead - back]


def linear_ar(values: np.ndarray, fit_origin: np.ndarray, origin: np.ndarray, lookback: int, horizon: int) -> np.ndarray:
    """A linear autoregression on the same window: least squares of the next `horizon` values on the last `lookback`
    values and a constant, fitted on the windows ending at `fit_origin` (the training part)."""
    v = np.asarray(values, np.float64)

    def design(o: np.ndarray) -> np.ndarray:
        return np.hstack([v[o[:, None] - lookback + 1 + np.arange(lookback)], np.ones((len(o), 1))])

    fit_origin = fit_origin[fit_origin >= lookback - 1]
    coef, *_ = np.linalg.lstsq(design(fit_origin), truth(v, fit_origin, horizon), rcond=None)
    return design(origin) @ coef


def errors(forecast: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    """(MAE, RMSE) over every window and every step ahead."""
    d = np.asarray(forecast, np.float64) - np.asarray(actual, np.float64)
    return float(np.mean(np.abs(d))), float(math.sqrt(np.mean(d * d)))


def baselines(values: np.ndarray, w: Windows) -> dict[str, np.ndarray]:
    """The baselines' forecasts of the test windows: persistence, seasonal naive (when a season is set), linear AR."""
    o, h = w.origin["test"], w.config.horizon
    out = {"persistence": persistence(values, o, h)}
    if w.config.season and (w.origin["test"] - w.config.season + 1 >= 0).all():
        out["seasonal naive"] = seasonal_naive(values, o, h, w.config.season)
    out["linear AR"] = linear_ar(values, w.origin["train"], o, w.config.lookback + (1 if w.config.difference else 0), h)
    return out

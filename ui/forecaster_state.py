"""The Time series page's session state: the loaded series, its settings, and the current forecaster."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from core.forecast.series import BUILTIN, Series, SeriesError, load_builtin, read_csv, series_from_csv, synthetic
from ui import session
from ui.controls import plain

log = logging.getLogger(__name__)
DEFAULT = "Seattle: daily maximum temperature"
ORDER = "(row order)"


@dataclass
class SeriesRun:
    """A forecaster with the series, windows and settings it was built for, and its training."""

    series: Series
    windows: Any  # core.forecast.series.Windows
    config: Any  # core.forecast.model.SeriesModelConfig
    model: Any  # keras.Model, the server's copy
    trainer: Any = None  # core.workers.remote_trainer.RemoteSeriesTrainer
    run_id: int | None = None  # its id in the run store
    results: dict = field(default_factory=dict)  # weights version -> core.forecast.model.Report


# widget key -> default; the page's widgets are views of these (set here, or from a stored run by `use_setup`)
DEFAULTS = {"ts_lookback": 30, "ts_horizon": 1, "ts_val": 0.15, "ts_test": 0.15, "ts_diff": False, "ts_cell": "simple_rnn",
            "ts_units": 32, "ts_layers": 1, "ts_batch": 32, "ts_lr": 0.003, "ts_epochs": 30, "ts_optimizer": "adam"}


def init() -> None:
    ss = st.session_state
    if "ts_series" not in ss:
        ss.ts_series = cached_builtin(DEFAULT)
    ss.setdefault("ts_run", None)
    for key, value in DEFAULTS.items():
        ss.setdefault(key, value)
    ss.setdefault(season_key(ss.ts_series), ss.ts_series.season)


def season_key(series: Series) -> str:
    """The season widget's key: one per series, so each starts at its own natural season."""
    return f"ts_season_{series.name}"


def use_setup(series: Series, w, c, train) -> None:
    """Load a series and set the page's widgets to a forecaster's settings (`w` a WindowConfig, `c` its model's)."""
    ss = st.session_state
    ss.ts_series = series
    ss.ts_source = "Real data" if series.name in BUILTIN else "Synthetic" if series.name == "synthetic" else "Upload a CSV"
    if series.name in BUILTIN:
        ss.ts_builtin = series.name
    ss.update(ts_lookback=w.lookback, ts_horizon=w.horizon, ts_val=w.val_fraction, ts_test=w.test_fraction,
              ts_diff=w.difference, ts_cell=c.cell, ts_units=c.rnn_units, ts_layers=c.num_layers, ts_batch=c.batch_size,
              ts_lr=train.learning_rate, ts_epochs=train.epochs, ts_optimizer=train.optimizer)
    ss[season_key(series)] = w.season


def adopt(run: SeriesRun, train) -> None:
    """Make `run` (opened from the store) the current forecaster, and set the page's widgets to its settings. The
    forecaster it replaces stops training (`session.release`), unless it is the same training."""
    session.release("ts_run", "Stopped because another forecaster was opened.", keep=run.trainer)
    use_setup(run.series, run.windows.config, run.config, train)
    st.session_state.ts_run = run


@st.cache_data(show_spinner=False)
def cached_builtin(name: str) -> Series:
    """A series shipped in vega_datasets (read-only, so shared by every session)."""
    return load_builtin(name)


def use_builtin() -> None:
    st.session_state.ts_series = cached_builtin(st.session_state.ts_builtin)


def use_synthetic() -> None:
    ss = st.session_state
    ss.ts_series = synthetic(n=int(ss.ts_syn_n), period=int(ss.ts_syn_period), amplitude=float(ss.ts_syn_amp),
                             trend=float(ss.ts_syn_trend), noise=float(ss.ts_syn_noise), season_period=int(ss.ts_syn_sp),
                             season_amplitude=float(ss.ts_syn_sa), seed=int(ss.get("ts_syn_seed", 0)))


def read_upload() -> None:
    """Parse the uploaded CSV; a bad one leaves the loaded series as it was, with a sentence."""
    ss, upload = st.session_state, st.session_state.get("ts_upload")
    ss.pop("ts_csv", None)
    if upload is None:
        return
    try:
        ss.ts_csv = (upload.name, read_csv(upload.getvalue()))
    except SeriesError as err:
        log.exception("The uploaded CSV %r was not loaded", upload.name)
        ss.ts_error = f"“{plain(upload.name)}” was not loaded: {plain(str(err))} The series you had is still loaded."


def use_csv() -> None:
    ss = st.session_state
    name, df = ss.ts_csv
    try:
        time_col = None if ss.ts_time == ORDER else ss.ts_time
        ss.ts_series = series_from_csv(df, time_col, ss.ts_value, f"{name}: {ss.ts_value}")
    except SeriesError as err:
        log.exception("Columns %r and %r of %r do not make a series", ss.ts_time, ss.ts_value, name)
        ss.ts_error = f"{plain(str(err))} The series you had is still loaded."


def current() -> SeriesRun | None:
    return st.session_state.get("ts_run")


def active() -> bool:
    r = current()
    return bool(r and r.trainer and r.trainer.active())


def trained() -> bool:
    """True when this session has a forecaster with some training behind it."""
    r = current()
    return bool(r and r.trainer and r.trainer.progress().step)


def builtin_names() -> list[str]:
    return list(BUILTIN)


def summary(config, window) -> str:
    """`model.summary()` of a forecaster with these settings (built with zero cost to anyone else)."""
    cached = st.session_state.get("ts_summary")
    if cached and cached[0] == (config, window.lookback, window.horizon):
        return cached[1]
    from core.forecast.model import build_series_model  # TensorFlow: only once the page shows a summary
    from core.nn.language_model import summary_text

    text = summary_text(build_series_model(config, window))
    st.session_state.ts_summary = ((config, window.lookback, window.horizon), text)
    return text

"""The Time series page's session state: the loaded series, its settings, and the forecaster's training."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st

from core.forecast.series import BUILTIN, Series, SeriesError, load_builtin, read_csv, series_from_csv, synthetic

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


# widget key -> default; the page's widgets are views of these (set here, or from a stored run by `adopt`)
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


def adopt(run: SeriesRun, train) -> None:
    """Make `run` (opened from the store) the current forecaster, and set the page's widgets to its settings."""
    ss, w, c = st.session_state, run.windows.config, run.config
    ss.ts_run, ss.ts_series = run, run.series
    ss.ts_source = "Real data" if run.series.name in BUILTIN else "Synthetic" if run.series.name == "synthetic" else "Upload a CSV"
    if run.series.name in BUILTIN:
        ss.ts_builtin = run.series.name
    ss.update(ts_lookback=w.lookback, ts_horizon=w.horizon, ts_val=w.val_fraction, ts_test=w.test_fraction,
              ts_diff=w.difference, ts_cell=c.cell, ts_units=c.rnn_units, ts_layers=c.num_layers, ts_batch=c.batch_size,
              ts_lr=train.learning_rate, ts_epochs=train.epochs, ts_optimizer=train.optimizer)
    ss[season_key(run.series)] = w.season


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
        ss.ts_error = f"“{upload.name}” was not loaded: {err} The series you had is still loaded."


def use_csv() -> None:
    ss = st.session_state
    name, df = ss.ts_csv
    try:
        time_col = None if ss.ts_time == ORDER else ss.ts_time
        ss.ts_series = series_from_csv(df, time_col, ss.ts_value, f"{name}: {ss.ts_value}")
    except SeriesError as err:
        ss.ts_error = f"{err} The series you had is still loaded."


def current() -> SeriesRun | None:
    return st.session_state.get("ts_run")


def active() -> bool:
    r = current()
    return bool(r and r.trainer and r.trainer.active())


def start_training(series: Series, w, config, train) -> None:
    """Train a new forecaster (or continue a stopped one with the same setup) in a worker, saved as a run."""
    from core.workers.remote_trainer import RemoteSeriesTrainer
    from core.forecast.model import build_series_model
    from core.forecast.trainer import SeriesData
    from ui import stored_runs

    ss, r = st.session_state, current()
    same = r is not None and r.series is series and r.windows.config == w.config and r.config == config
    if same and r.trainer is not None and r.trainer.progress().status in ("stopped", "interrupted") and r.trainer.train == train:
        r.trainer.start()
        stored_runs.record(r)
        return
    if r is not None and r.trainer is not None:
        r.trainer.stop("Stopped because a new forecaster was started.")
    model = build_series_model(config, w.config)
    data = SeriesData(w.x["train"], w.y["train"], w.x["val"], w.y["val"])
    trainer = RemoteSeriesTrainer(model, config, w.config, train, data, keep_alive=stored_runs.watchers())
    ss.ts_run = SeriesRun(series, w, config, model, trainer)
    try:
        ss.ts_run.run_id = stored_runs.new_series_run(ss.ts_run, train)
    except stored_runs.LimitReached as err:
        ss.ts_error = str(err)
        ss.ts_run = None
        return
    trainer.start()
    stored_runs.record(ss.ts_run)


def builtin_names() -> list[str]:
    return list(BUILTIN)


def summary(config, window) -> str:
    """`model.summary()` of a forecaster with these settings (built with zero cost to anyone else)."""
    cached = st.session_state.get("ts_summary")
    if cached and cached[0] == (config, window.lookback, window.horizon):
        return cached[1]
    from core.nn.language_model import summary_text
    from core.forecast.model import build_series_model

    text = summary_text(build_series_model(config, window))
    st.session_state.ts_summary = ((config, window.lookback, window.horizon), text)
    return text


def verdict(table: dict, name: str, outside: bool = False) -> tuple[str, str]:
    """(kind, sentence): how the network did against the baselines, and why, in plain words.

    Args:
        outside: whether the test period goes beyond the range of values the training part had.
    """
    rmse = {k: v[1] for k, v in table.items()}
    best = min(rmse, key=rmse.get)
    beyond = (" Here the test period also goes beyond every value the network saw in training, and a network of tanh "
              "units cannot reach a level it never saw: with **Differencing** it predicts changes instead, which stay in "
              "range." if outside else "")
    if rmse[name] > rmse["persistence"]:
        return "warning", (
            f"**The {name} lost to persistence** (RMSE {rmse[name]:.3g} against {rmse['persistence']:.3g}). That is a lesson, "
            "not a bug: when each value is mostly the one before plus an unpredictable step (a random walk, as stock prices "
            "nearly are), the past says little about the next change, and \"tomorrow = today\" is hard to beat. A network "
            "with few windows to learn from also fits their noise." + beyond + " Try differencing, a shorter lookback, or a "
            "series with a pattern that repeats, such as a temperature.")
    if best != name:
        return "info", (f"The {name} beat persistence, but **{best}** did better still (RMSE {rmse[best]:.3g} against "
                        f"{rmse[name]:.3g}): a weighted sum of the same window, fitted by least squares, already captures most of what "
                        "this series lets anyone predict.")
    return "success", (f"**The {name} beat every baseline** (RMSE {rmse[name]:.3g}; persistence {rmse['persistence']:.3g}).")


def show_results(run: SeriesRun) -> None:
    """Forecasts of the test period, the metrics table against the baselines, and the residuals."""
    import pandas as pd

    from core.config import CELL_NAMES
    from core.figures.forecast import forecast_figure, residuals_figure
    from core.forecast.model import report

    name, s, w = CELL_NAMES[run.config.cell], run.series, run.windows
    key = run.trainer.weights_version
    if key not in run.results:
        with run.trainer.holding_model(latest=False) as model:
            run.results = {key: report(model, s.values, w, name)}
    rep = run.results[key]
    start = max(0, w.bounds[1] - max(60, 3 * w.config.lookback))
    st.plotly_chart(forecast_figure(s.time, s.values, start, rep.one_step, rep.rolled, s.unit, name), key="ts_forecast_chart")
    st.caption("One step ahead: each forecast starts from the real past. Fed its own forecasts: from the start of the test "
               "period the network never sees a real value again, so its errors add up.")
    train_part, test_part = s.values[: w.bounds[0]], s.values[w.bounds[1]:]
    outside = not w.config.difference and (test_part.max() > train_part.max() or test_part.min() < train_part.min())
    kind, sentence = verdict(rep.table, name, outside)
    getattr(st, kind)(sentence)
    table = pd.DataFrame([[f"{mae:.3f}", f"{rmse:.3f}"] for mae, rmse in rep.table.values()], index=list(rep.table),
                         columns=["MAE", "RMSE"])
    st.markdown(f"**Errors on the test period** ({s.unit or 'in the series’ units'}; all {w.config.horizon} step(s) ahead)")
    st.table(table)
    st.plotly_chart(residuals_figure(s.time, rep.residuals, s.unit), key="ts_residuals_chart")


def trained() -> bool:
    """True when this session has a forecaster with some training behind it."""
    r = current()
    return bool(r and r.trainer and r.trainer.progress().step)


def show_hidden_states() -> None:
    """The forecaster's units over time, under the stretch of the series it reads (the Hidden states page's view)."""
    from core.figures.forecast import series_states_figure
    from core.forecast.model import hidden_states

    r, ss = current(), st.session_state
    s, w = r.series, r.windows
    from core.config import CELL_NAMES

    st.markdown(f"**Shown:** the forecaster ({CELL_NAMES[r.config.cell]}, {r.config.rnn_units} units, {r.trainer.progress().step:,} "
                f"steps of training) on **{s.name}**. It reads the series from a zero state, one value per step, as "
                "during training but for longer than one window.")
    n = min(len(s.values), 2000)
    c1, c2 = st.columns(2)
    length = c1.slider("Values read (the end of the series)", 20, n, min(400, n), step=10, key="hs_ts_length")
    layer = c2.selectbox("Layer", range(1, r.config.num_layers + 1), key="hs_ts_layer") if r.config.num_layers > 1 else 1
    offset = 1 if w.config.difference else 0
    read = (np.diff(s.values) if offset else s.values)[-length:]
    with r.trainer.holding_model(latest=False) as model:
        states = hidden_states(model, (read - w.mean) / w.std)[layer - 1]  # (T, units)
    time = s.time[-length:]
    st.plotly_chart(series_states_figure(time, s.values[-length:], states, s.unit), key="hs_ts_chart")
    st.caption("Each row is one unit of h_t (blue negative, red positive). Units whose colour follows the curve carry "
               "its level or its season; the forecast is a weighted sum of the last column. "
               + ("With differencing on, the network reads the changes, not the levels drawn above." if offset else ""))

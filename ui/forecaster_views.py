"""What the Time series and Hidden states pages draw of a forecaster: where its series comes from, its forecasts
against the baselines, and its units over time (drawing only; the state lives in `ui.forecaster_state`)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.config import CELL_NAMES
from core.forecast.series import numeric_columns
from core.forecast.verdict import leaves_training_range, verdict
from ui import forecaster_state
from ui.controls import bind, plain

SYNTHETIC = [  # widget key, label, low, high, default, step
    ("ts_syn_n", "Length", 100, 5000, 600, 50), ("ts_syn_period", "Sine period", 2, 500, 40, 1),
    ("ts_syn_amp", "Sine amplitude", 0.0, 10.0, 1.0, 0.1), ("ts_syn_trend", "Trend per step", -0.1, 0.1, 0.0, 0.001),
    ("ts_syn_noise", "Noise (std)", 0.0, 5.0, 0.1, 0.05), ("ts_syn_sp", "Season period", 2, 2000, 200, 10),
    ("ts_syn_sa", "Season amplitude", 0.0, 10.0, 0.0, 0.1)]


def source_controls(running: bool) -> None:
    """Where the series comes from: shipped real data, a synthetic one, or an uploaded CSV (and its columns)."""
    ss = st.session_state
    source = st.radio("Series", ["Real data", "Synthetic", "Upload a CSV"], key="ts_source", horizontal=True, disabled=running)
    if source == "Real data":
        bind("ts_builtin", forecaster_state.DEFAULT)
        st.selectbox("Real series (shipped in the vega_datasets package)", forecaster_state.builtin_names(), key="ts_builtin",
                     on_change=forecaster_state.use_builtin, disabled=running)
    elif source == "Synthetic":
        for col, (key, label, lo, hi, default, step) in zip(st.columns(7), SYNTHETIC):
            col.number_input(label, lo, hi, default, step=step, key=key, disabled=running)
        st.button("Use this series", key="ts_use_synthetic", on_click=forecaster_state.use_synthetic, disabled=running)
    else:
        st.file_uploader("A CSV with a header row, one row per time step, up to 5 MB", type=["csv", "txt"], key="ts_upload",
                         on_change=forecaster_state.read_upload, disabled=running)
        if "ts_csv" in ss:
            name, df = ss.ts_csv
            c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
            c1.selectbox("Time column", [forecaster_state.ORDER, *map(str, df.columns)], key="ts_time")
            c2.selectbox("Value column", numeric_columns(df), key="ts_value")
            c3.button("Use these columns", key="ts_use_csv", on_click=forecaster_state.use_csv, disabled=running)
    if "ts_error" in ss:
        st.error(ss.pop("ts_error"))  # its user parts (file name, columns) are escaped where it is written


def show_results(run: forecaster_state.SeriesRun) -> None:
    """Forecasts of the test period, the metrics table against the baselines, and the residuals."""
    import pandas as pd

    from core.figures.forecast import forecast_figure, residuals_figure
    from core.forecast.model import report  # TensorFlow: only once a forecaster has trained

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
    kind, sentence = verdict(rep.table, name, leaves_training_range(s.values, w.bounds, w.config.difference))
    getattr(st, kind)(sentence)
    table = pd.DataFrame([[f"{mae:.3f}", f"{rmse:.3f}"] for mae, rmse in rep.table.values()], index=list(rep.table),
                         columns=["MAE", "RMSE"])
    st.markdown(f"**Errors on the test period** ({plain(s.unit) or 'in the series’ units'}; all {w.config.horizon} step(s) ahead)")
    st.table(table)
    st.plotly_chart(residuals_figure(s.time, rep.residuals, s.unit), key="ts_residuals_chart")


def show_hidden_states() -> None:
    """The forecaster's units over time, under the stretch of the series it reads (the Hidden states page's view)."""
    from core.figures.forecast import series_states_figure
    from core.forecast.model import hidden_states  # TensorFlow: only on this view

    r = forecaster_state.current()
    s, w = r.series, r.windows
    st.markdown(f"**Shown:** the forecaster ({CELL_NAMES[r.config.cell]}, {r.config.rnn_units} units, {r.trainer.progress().step:,} "
                f"steps of training) on **{plain(s.name)}**. It reads the series from a zero state, one value per step, as "
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

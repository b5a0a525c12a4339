"""Time series: forecast real data with the same recurrent network, and see honestly whether it beats simple baselines."""

import logging

import streamlit as st

from core.config import CELL_NAMES, CELLS, OPTIMIZERS, TrainConfig
from core.figures.forecast import series_figure, series_loss_figure
from core.figures.style import unchecked
from core.forecast.series import SeriesError, WindowConfig, windows
from core.forecast.model import SeriesModelConfig
from ui import controls, forecaster_state, forecaster_views, run_lifecycle, through_router

through_router()
log = logging.getLogger(__name__)

st.title("Time series")
st.caption("The hidden state that carries the last characters into the next guess can carry yesterday into today. "
           "Here the network reads a window of past values and forecasts the next ones.")
ss = st.session_state
forecaster_state.init()
running = forecaster_state.active()

forecaster_views.source_controls(running)
series = ss.ts_series

st.subheader("Windows")
c = st.columns(6)
c[0].number_input("Lookback (values read)", 1, 2000, key="ts_lookback", disabled=running)
c[1].number_input("Horizon (values out)", 1, 500, key="ts_horizon", disabled=running)
c[2].slider("Validation share", 0.05, 0.45, step=0.05, key="ts_val", disabled=running)
c[3].slider("Test share", 0.05, 0.45, step=0.05, key="ts_test", disabled=running)
controls.bind(forecaster_state.season_key(series), series.season)
c[4].number_input("Season (steps; 0 = none)", 0, 5000, key=forecaster_state.season_key(series), disabled=running)
c[5].toggle("Differencing", key="ts_diff", disabled=running,
            help="Predict the change from one step to the next instead of the level: a trend stops mattering.")
try:
    window = WindowConfig(int(ss.ts_lookback), int(ss.ts_horizon), float(ss.ts_val), float(ss.ts_test), bool(ss.ts_diff),
                          int(ss[forecaster_state.season_key(series)]))
    w = windows(series.values, window)
except (SeriesError, ValueError) as err:
    log.exception("These settings make no windows")
    st.plotly_chart(series_figure(series.time, series.values, None, series.name, series.unit), key="ts_series_chart")
    st.error(controls.plain(str(err)))
    st.stop()
st.plotly_chart(series_figure(series.time, series.values, w.bounds, series.name, series.unit), key="ts_series_chart")
st.caption(f"{len(series.values):,} values: {len(w.x['train']):,} training, {len(w.x['val']):,} validation and "
           f"{len(w.x['test']):,} test windows. Scaling is fitted on the training part only; no training or validation "
           "window reads or predicts a value of the test period.")

st.subheader("Network")
c = st.columns(7)
c[0].selectbox("Cell", CELLS, key="ts_cell", format_func=CELL_NAMES.get, disabled=running)
c[1].number_input("Units U", 1, 1024, key="ts_units", disabled=running)
c[2].number_input("Layers", 1, 4, key="ts_layers", disabled=running)
c[3].number_input("Batch size", 1, 4096, key="ts_batch", disabled=running)
c[4].number_input("Learning rate", 1e-5, 1.0, format="%g", step=0.0005, key="ts_lr", disabled=running)  # "0.0030" did not fit
c[5].number_input("Epochs", 1, 1000, key="ts_epochs", disabled=running)
c[6].selectbox("Optimizer", OPTIMIZERS, key="ts_optimizer", disabled=running)
config = SeriesModelConfig(ss.ts_cell, int(ss.ts_units), int(ss.ts_layers), batch_size=int(ss.ts_batch))
train = TrainConfig(learning_rate=float(ss.ts_lr), optimizer=ss.ts_optimizer, epochs=int(ss.ts_epochs), sample_length=0,
                    grad_curve_len=0)
with st.expander("model.summary()"):
    st.code(forecaster_state.summary(config, window), language=None)

run = forecaster_state.current()
trainer = run.trainer if run is not None else None
paused = controls.training_buttons("ts", trainer, running, run_lifecycle.start_forecaster, (series, w, config, train))
if trainer is None:
    st.info("Press **Start training**. The network learns in a worker; this page draws while it does.")
    st.stop()


@controls.live_fragment(trainer, running, paused)
def live(p) -> None:
    """The status, the loss chart, and once the training is over, the forecasts against the baselines."""
    controls.training_message(p)
    st.progress(min(p.step / p.total_steps, 1.0) if p.total_steps else 0.0,
                text=f"step {p.step:,} of {p.total_steps:,} · epoch {max(p.epoch, 1)} of {p.epochs}")
    st.plotly_chart(unchecked(series_loss_figure(p.steps, p.loss, p.val_steps, p.val_loss)), key="ts_loss_chart")
    if not trainer.active() and p.step:
        forecaster_views.show_results(run)


live()

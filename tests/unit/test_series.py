"""Time series data, windows and baselines, against arrays and numbers worked out by hand."""

import numpy as np
import pytest

from core.forecast.series import (BUILTIN, SeriesError, WindowConfig, baselines, errors, linear_ar, load_builtin, persistence,
                         read_csv, seasonal_naive, series_from_csv, synthetic, to_levels, truth, windows)


def test_windows_split_by_time_and_no_window_reaches_into_a_later_part():
    values = np.arange(20.0)
    w = windows(values, WindowConfig(lookback=3, horizon=2, val_fraction=0.2, test_fraction=0.2))
    assert w.bounds == (12, 16)  # train 0..11, val 12..15, test 16..19
    assert list(w.origin["train"]) == [2, 3, 4, 5, 6, 7, 8, 9]  # last targets 11 at the most
    assert list(w.origin["val"]) == [11, 12, 13]  # targets 12..15 only; inputs may be the (past) training part
    assert list(w.origin["test"]) == [15, 16, 17]  # targets 16..19
    assert w.mean == 5.5 and w.std == pytest.approx(np.sqrt(143 / 12))  # fitted on 0..11 only
    raw = w.x["val"] * w.std + w.mean
    assert raw.tolist() == [[9, 10, 11], [10, 11, 12], [11, 12, 13]]
    assert (w.y["val"] * w.std + w.mean).tolist() == [[12, 13], [13, 14], [14, 15]]
    for part in ("train", "val"):  # nothing of the test period, in or out
        assert (w.x[part] * w.std + w.mean).max() < 16 and (w.y[part] * w.std + w.mean).max() < 16


def test_differencing_predicts_changes_and_comes_back_to_levels():
    values = np.array([10.0, 12, 15, 19, 24, 30, 37, 45, 54, 64, 75, 87, 100, 114, 129, 145, 162, 180, 199, 219])
    w = windows(values, WindowConfig(lookback=3, horizon=2, val_fraction=0.2, test_fraction=0.2, difference=True))
    assert list(w.origin["test"]) == [15, 16, 17]  # the change into 16 is known only at 16: targets 16..19
    changes = w.y["test"]  # scaled differences; back in levels they are the values themselves
    assert np.allclose(to_levels(w, values, changes, w.origin["test"]), truth(values, w.origin["test"], 2))
    assert (w.x["train"] * w.std + w.mean).max() <= np.diff(values)[:11].max()  # differences before index 12 only


def test_a_series_too_short_for_its_windows_says_what_to_change():
    with pytest.raises(SeriesError, match="Lower the lookback"):
        windows(np.arange(12.0), WindowConfig(lookback=10, horizon=1))


def test_baselines_against_numbers_worked_out_by_hand():
    v = np.array([1.0, 2, 4, 7, 11, 16])
    assert persistence(v, np.array([1, 2]), 2).tolist() == [[2, 2], [4, 4]]
    assert seasonal_naive(v, np.array([3]), 3, 2).tolist() == [[4, 7, 4]]  # 1 and 2 ahead: one season back; 3: two
    assert errors(np.array([1.0, 2.0]), np.array([2.0, 4.0])) == pytest.approx((1.5, np.sqrt(2.5)))
    line = 2.0 * np.arange(30) + 1  # a linear AR on a straight line is exact
    assert np.allclose(linear_ar(line, np.arange(2, 20), np.array([25, 26]), 3, 2), [[53, 55], [55, 57]])
    doubling = 2.0 ** np.arange(12)  # x_t = 2 x_(t-1): an AR(1) with coefficient 2 and no constant
    assert np.allclose(linear_ar(doubling, np.arange(0, 8), np.array([9]), 1, 1), [[1024.0]])


def test_baselines_of_a_split_use_its_season_and_test_windows():
    s = synthetic(n=200, period=10, noise=0.0)
    w = windows(s.values, WindowConfig(lookback=12, horizon=3, season=10))
    found = baselines(s.values, w)
    assert list(found) == ["persistence", "seasonal naive", "linear AR"]
    actual = truth(s.values, w.origin["test"], 3)
    assert errors(found["seasonal naive"], actual)[0] < 1e-9  # a pure sine of period 10 repeats every season
    assert errors(found["linear AR"], actual)[0] < 1e-6  # and a sine is a linear recurrence
    assert errors(found["persistence"], actual)[0] > 0.1


def test_the_real_series_ship_in_the_package_and_load_offline():
    for name in BUILTIN:
        s = load_builtin(name)
        assert len(s.values) >= 60 and np.isfinite(s.values).all() and np.all(np.diff(s.time) > np.timedelta64(0))
    weather = load_builtin("Seattle: daily maximum temperature")
    assert len(weather.values) == 1461 and weather.season == 365 and weather.values[0] == 12.8


@pytest.mark.parametrize("data, says", [
    (b"", "could not be read"),
    (b"\xff\xfe\x00\x01binary\x00", "not UTF-8"),
    (b"a,b\nx,y\nz,w\n", "no column of numbers"),
    (b"day,value\n1,5\n", "has 1 row"),
    (b"x" * 5_000_001, "the limit is 5 MB"),
])
def test_a_bad_csv_gets_a_sentence(data, says):
    with pytest.raises(SeriesError, match=says):
        read_csv(data)


def test_text_and_gaps_in_the_value_column_get_a_sentence_naming_the_line():
    df = read_csv(b"day,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,oops\n2020-01-04,4\n2020-01-05,5\n")
    with pytest.raises(SeriesError, match="'oops' on line 4"):
        series_from_csv(df, "day", "value", "upload")
    df = read_csv(b"day,value\n2020-01-01,1\n2020-01-02,\n2020-01-03,3\n2020-01-04,4\n")
    with pytest.raises(SeriesError, match=r"1 empty cells \(the first on line 3\)"):
        series_from_csv(df, "day", "value", "upload")
    df = read_csv(b"day,value\n2020-01-03,3\n2020-01-01,1\n2020-01-02,2\n")
    assert series_from_csv(df, "day", "value", "upload").values.tolist() == [1, 2, 3]  # put in time order


@pytest.mark.slow  # a real training run
def test_a_tiny_network_fits_a_pure_sine_to_near_zero_error():
    """Trained in this process (the worker runs the same trainer); the test forecasts beat persistence by far."""
    from core.config import TrainConfig
    from core.forecast.model import SeriesModelConfig, build_series_model, predict
    from core.forecast.trainer import SeriesData, SeriesTrainer

    s = synthetic(n=400, period=20, noise=0.0)
    window = WindowConfig(lookback=10, horizon=1)
    w = windows(s.values, window)
    config = SeriesModelConfig(rnn_units=8, batch_size=32)
    model = build_series_model(config, window)
    data = SeriesData(w.x["train"], w.y["train"], w.x["val"], w.y["val"])
    t = SeriesTrainer(model, config, window, TrainConfig(learning_rate=0.01, epochs=60), data)
    t.start()
    t.join(300)
    p = t.progress()
    assert p.status == "finished" and p.step == p.total_steps == 60 * 9, (p.status, p.message)
    forecast = to_levels(w, s.values, predict(model, w.x["test"]), w.origin["test"])
    mae, rmse = errors(forecast, truth(s.values, w.origin["test"], 1))
    assert rmse < 0.02 and p.val_loss[-1] < 1e-3  # amplitude 1: near zero
    assert mae < errors(persistence(s.values, w.origin["test"], 1), truth(s.values, w.origin["test"], 1))[0] / 10


def test_the_forecasters_hidden_states_match_numpy_and_its_forecast():
    """h_t = tanh(x_t W + h_(t-1) U + b) from the layer's own weights; the last h through the head is the forecast."""
    from core.forecast.model import SeriesModelConfig, build_series_model, hidden_states, predict

    window = WindowConfig(lookback=6, horizon=2)
    model = build_series_model(SeriesModelConfig(rnn_units=4), window)
    z = np.random.default_rng(3).normal(size=6)
    (states,) = hidden_states(model, z)
    W, U, b = model.get_layer("rnn_1").get_weights()
    h, expected = np.zeros(4), []
    for x in z:
        h = np.tanh(x * W[0] + h @ U + b)
        expected.append(h)
    assert np.allclose(states, expected, atol=1e-6)
    head_W, head_b = model.get_layer("forecast").get_weights()
    assert np.allclose(states[-1] @ head_W + head_b, predict(model, z[None, :])[0], atol=1e-5)


def test_the_fed_back_forecast_matches_numpy_feeding_each_forecast_back_in():
    """roll_forward (one graph call per step): each step's input is the window's newest values, its own forecasts
    included; the forecast is the NumPy SimpleRNN's last h through the head, from the layer's own weights."""
    from core.forecast.model import SeriesModelConfig, build_series_model, roll_forward

    model = build_series_model(SeriesModelConfig(rnn_units=5), WindowConfig(lookback=4, horizon=2))
    W, U, b = model.get_layer("rnn_1").get_weights()
    head_W, head_b = model.get_layer("forecast").get_weights()
    history = list(np.random.default_rng(7).normal(size=4))
    expected = []
    for _ in range(9):
        h = np.zeros(5)
        for x in history[-4:]:
            h = np.tanh(x * W[0] + h @ U + b)
        expected.append((h @ head_W + head_b)[0])  # the first of the horizon's two forecasts is fed back
        history.append(expected[-1])
    assert np.allclose(roll_forward(model, np.array(history[:4]), 9), expected, atol=1e-5)


def test_every_batch_of_an_epoch_is_full_and_every_window_is_in_one():
    """A small last batch made a spike or a dip in the forecaster's loss at every epoch's end: it is topped up with
    the epoch's first windows, so every batch averages the same number of windows."""
    from core.forecast.trainer import full_batches

    order = np.random.default_rng(0).permutation(37)
    chunks = full_batches(order, 8)
    assert [len(c) for c in chunks] == [8] * 5 and set(np.concatenate(chunks)) == set(range(37))
    np.testing.assert_array_equal(chunks[-1], np.concatenate([order[32:], order[:3]]))
    assert [len(c) for c in full_batches(order[:5], 8)] == [5]  # fewer windows than a batch: all of them, once
    assert [len(c) for c in full_batches(order[:16], 8)] == [8, 8]

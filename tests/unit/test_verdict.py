"""The Time series page's verdict: how a forecaster did against the baselines, and when the test period leaves the
range the training part had."""

import numpy as np

from core.forecast.verdict import leaves_training_range, verdict

TABLE = {"persistence": (1.0, 1.2), "seasonal naive": (1.1, 1.3), "linear AR": (0.9, 1.1)}


def test_losing_to_persistence_is_a_warning_that_says_why():
    kind, sentence = verdict(TABLE | {"LSTM": (2.0, 2.5)}, "LSTM")
    assert kind == "warning" and "lost to persistence" in sentence and "random walk" in sentence
    assert "RMSE 2.5 against 1.2" in sentence and "beyond every value" not in sentence


def test_leaving_the_training_range_adds_the_reason_and_the_fix():
    kind, sentence = verdict(TABLE | {"LSTM": (2.0, 2.5)}, "LSTM", outside=True)
    assert kind == "warning" and "beyond every value" in sentence and "**Differencing**" in sentence


def test_beating_persistence_but_not_linear_ar_names_the_winner():
    kind, sentence = verdict(TABLE | {"GRU": (0.95, 1.15)}, "GRU")
    assert kind == "info" and "**linear AR** did better still" in sentence and "RMSE 1.1 against 1.15" in sentence


def test_beating_every_baseline_is_a_success():
    kind, sentence = verdict(TABLE | {"SimpleRNN": (0.5, 0.6)}, "SimpleRNN")
    assert kind == "success" and "beat every baseline" in sentence


def test_equal_to_persistence_is_not_a_loss():
    assert verdict({"persistence": (1.0, 1.2), "SimpleRNN": (1.0, 1.2)}, "SimpleRNN")[0] == "success"


def test_the_test_period_leaves_the_training_range_above_or_below_but_not_with_differencing():
    rising = np.arange(100.0)  # training part 0..59, test period 80..99: above every training value
    assert leaves_training_range(rising, (60, 80), difference=False)
    assert leaves_training_range(-rising, (60, 80), difference=False)  # below
    assert not leaves_training_range(rising, (60, 80), difference=True)  # changes stay in range
    season = np.sin(2 * np.pi * np.arange(200) / 20)  # period 20: the test period repeats values of training
    assert not leaves_training_range(season, (120, 160), difference=False)  # a repeating pattern stays inside

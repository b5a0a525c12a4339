"""How a forecaster did against the baselines, in plain words: the product's rules for the Time series page's verdict."""

from __future__ import annotations

import numpy as np


def leaves_training_range(values: np.ndarray, bounds: tuple[int, int], difference: bool) -> bool:
    """True when the test period reaches values beyond every value of the training part, which a network of tanh
    units cannot forecast from levels (with differencing it predicts changes, which stay in range, so never then).

    Args:
        values: the whole series.
        bounds: (end of the training part, start of the test period), as `core.forecast.series.Windows.bounds`.
        difference: whether the forecaster reads changes instead of levels.
    """
    if difference:
        return False
    train, test = values[: bounds[0]], values[bounds[1]:]
    return bool(len(train) and len(test) and (test.max() > train.max() or test.min() < train.min()))


def verdict(table: dict[str, tuple[float, float]], name: str, outside: bool = False) -> tuple[str, str]:
    """(kind, sentence): how the network did against the baselines, and why, in plain words (Markdown).

    Args:
        table: model name -> (MAE, RMSE) on the test period, with "persistence" among the baselines.
        name: the network's entry in `table`.
        outside: whether the test period leaves the training range (`leaves_training_range`).

    Returns:
        kind: "warning" when it lost to persistence, "info" when a baseline beat it, "success" when it beat them all.
    """
    rmse = {k: v[1] for k, v in table.items()}
    best = name if rmse[name] <= min(rmse.values()) else min(rmse, key=rmse.get)  # a tie is no defeat
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

"""The Time series page's metrics table for a few series, trained in this process with the page's default network.

Prints MAE and RMSE on each test period for persistence, seasonal naive, linear AR and the network (one seed; the
network's numbers move a little from seed to seed, the baselines' do not).

    .venv/bin/python bench/series_metrics.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import CELL_NAMES, TrainConfig  # noqa: E402
from core.forecast.series import WindowConfig, load_builtin, windows  # noqa: E402
from core.forecast.model import SeriesModelConfig, build_series_model, report  # noqa: E402
from core.forecast.trainer import SeriesData, SeriesTrainer  # noqa: E402

CASES = [("Seattle: daily maximum temperature", 30, False, "simple_rnn"),
         ("Seattle: daily maximum temperature", 30, False, "lstm"),
         ("Stock: AAPL monthly price", 6, False, "simple_rnn"),
         ("Stock: AAPL monthly price", 6, True, "simple_rnn")]


def main() -> None:
    train = TrainConfig(learning_rate=0.003, epochs=30, sample_length=0, grad_curve_len=0)
    for name, lookback, diff, cell in CASES:
        s = load_builtin(name)
        window = WindowConfig(lookback=lookback, difference=diff, season=s.season)
        w = windows(s.values, window)
        config = SeriesModelConfig(cell=cell)
        model = build_series_model(config, window)
        t = SeriesTrainer(model, config, window, train, SeriesData(w.x["train"], w.y["train"], w.x["val"], w.y["val"]))
        t.start()
        t.join()
        rep = report(model, s.values, w, CELL_NAMES[cell])
        print(f"\n{name}, lookback {lookback}{', differencing' if diff else ''}, {CELL_NAMES[cell]} 32 units, 30 epochs "
              f"({len(w.x['train'])} training windows, {len(w.x['test'])} test windows, unit {s.unit})")
        print(f"| {'':14} | {'MAE':>8} | {'RMSE':>8} |")
        for row, (mae, rmse) in rep.table.items():
            print(f"| {row:14} | {mae:8.3f} | {rmse:8.3f} |")


if __name__ == "__main__":
    main()

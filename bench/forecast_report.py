"""What the Time series page's report costs the web server once a forecaster has trained: the fed-back forecast of
`core.forecast.model.report` (365 steps), each step an eager Keras call (before) or a graph call (now, `tf.function`
traced once per report, the tracing included). Seattle's daily maximum, the page's default network (SimpleRNN, 32
units, lookback 30), untrained: the cost does not depend on the weights.

Alternating, medians of 5 rounds of CPU time, printed as a ratio; the two forecasts are checked to agree.

    .venv/bin/python bench/forecast_report.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.forecast.model import SeriesModelConfig, build_series_model, predict, roll_forward  # noqa: E402
from core.forecast.series import WindowConfig, load_builtin, windows  # noqa: E402

STEPS, ROUNDS = 365, 5


def eager_roll(model, window: np.ndarray, steps: int) -> np.ndarray:
    """`roll_forward` as it was before: one eager Keras call per step."""
    history = list(np.asarray(window, np.float64))
    out = []
    for _ in range(steps):
        nxt = float(predict(model, np.asarray(history[-len(window):])[None, :])[0, 0])
        out.append(nxt)
        history.append(nxt)
    return np.array(out)


def main() -> None:
    series = load_builtin("Seattle: daily maximum temperature")
    w = windows(series.values, WindowConfig(lookback=30, horizon=1))
    model = build_series_model(SeriesModelConfig(rnn_units=32), w.config)
    start = w.x["test"][0]
    times: dict[str, list[float]] = {"before (eager)": [], "now (graph)": []}
    for _ in range(ROUNDS):
        for name, fn in (("before (eager)", eager_roll), ("now (graph)", roll_forward)):
            t = time.process_time()
            result = fn(model, start, STEPS)
            times[name].append(time.process_time() - t)
            assert result.shape == (STEPS,)
    assert np.allclose(eager_roll(model, start, 20), roll_forward(model, start, 20), atol=1e-5)
    before, now = (statistics.median(v) for v in times.values())
    for name, v in times.items():
        print(f"{name:16s} median {statistics.median(v):6.2f} s of CPU for {STEPS} fed-back steps")
    print(f"now / before: {now / before:.3f} (the report is {before / now:.0f}x cheaper)")


if __name__ == "__main__":
    main()

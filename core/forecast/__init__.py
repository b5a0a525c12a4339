"""Time series: series, windows, baselines, the forecaster and its trainer."""

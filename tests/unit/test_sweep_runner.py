"""core.workers.sweep.SweepRunner's end, without Ray: Tune's run and the hub stood in for."""

import threading

from core.workers.sweep import SweepRunner


def test_join_returns_once_the_sweeps_end_is_recorded(monkeypatch):
    """`join` returned as soon as the sweep ended, before `on_end` wrote its status: a caller that then read the store
    found the sweep still "running" (the Tune sweep test failed so in the full suite)."""
    monkeypatch.setattr(SweepRunner, "_fit", lambda self: None)
    monkeypatch.setattr(SweepRunner, "_pump", lambda self: None)
    monkeypatch.setattr(SweepRunner, "_kill_hub", lambda self: None)
    recorded, writing = [], threading.Event()

    def on_end(status: str, message: str) -> None:  # a store write that takes a moment
        writing.set()
        threading.Event().wait(0.3)
        recorded.append((status, message))

    runner = SweepRunner([], None, None, asha=None, on_end=on_end)
    runner.start()
    assert runner.join(10)
    assert writing.is_set() and recorded == [("finished", "The sweep finished.")]
    assert not runner.active() and runner.status == "finished"

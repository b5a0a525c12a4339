"""The pages' tests drive the app's scripts (AppTest) with the trainings in this process (`core.workers.inline`): they
test what a page does with a training. Ray's workers, and the process boundary, have tests of their own (tests/workers,
and the browser tests, which run the app as its users do)."""

import pytest


@pytest.fixture(autouse=True)
def _inline_workers(monkeypatch):
    from core import settings

    monkeypatch.setenv("RNN_PLAYGROUND_WORKERS", "inline")
    settings.reload()

"""A bad setting stops the app at once with its sentence on the first page (never a traceback later)."""

import pytest
from streamlit.testing.v1 import AppTest

from core import settings
from tests.helpers import APP


def test_a_bad_setting_is_a_sentence_on_the_first_page(monkeypatch, caplog):
    monkeypatch.setenv("RNN_PLAYGROUND_MAX_MODEL_GB", "inf")
    with pytest.raises(settings.SettingsError):
        settings.reload()
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The server cannot start: RNN_PLAYGROUND_MAX_MODEL_GB is 'inf', but it must be a number of gigabytes above 0 "
        "and at most 1000000, e.g. 4. Fix it or unset it (the default is 4.0), then restart the server."]
    assert "workspace" not in " ".join(m.value for m in at.markdown)  # nothing else ran

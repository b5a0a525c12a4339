"""Shared test set-up: the repository root on sys.path, quiet TensorFlow."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
# One TensorFlow thread per process: the suite runs three pytest workers, test servers and their training workers at
# once on 2 cores, and TensorFlow's default (a pool per process as large as the machine) only makes them spin on each
# other's cores (one thread is also faster alone at these sizes, see core.workers.actor.use_granted_cpus). Servers,
# workers, scripts and notebooks the tests start inherit it.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
if "RNN_PLAYGROUND_DATA" not in os.environ:  # runs the tests save go to a folder of their own, never the repository's data/
    import tempfile

    os.environ["RNN_PLAYGROUND_DATA"] = tempfile.mkdtemp(prefix="rnn-playground-test-data-")

import pytest  # noqa: E402
from streamlit.runtime.pages_manager import PagesManager  # noqa: E402

_pages_manager_init = PagesManager.__init__


def _init_as_a_server_does(self, *args, **kwargs):
    """AppTest resets Streamlit's old `pages/` mode before every run, so from the second run on it ran a page without
    app.py (no workspace sync, no sidebar). A server leaves that mode for good at its first `st.navigation`: do the same."""
    _pages_manager_init(self, *args, **kwargs)
    PagesManager.uses_pages_directory = False


PagesManager.__init__ = _init_as_a_server_does

# A test's folder says what it needs; its markers follow, so nobody can forget one.
_MARKS = {"unit": (), "workers": ("ray",), "pages": ("apptest", "ray"), "browser": ("browser", "ray")}


def pytest_collection_modifyitems(config, items):
    for item in items:
        folder = Path(str(item.fspath)).parent.name
        for mark in _MARKS.get(folder, ()):
            item.add_marker(mark)


@pytest.fixture(scope="session", autouse=True)
def _stop_ray_at_the_end():
    """The pages start an embedded Ray in this process on their first training; stop it, and all it started, at the end."""
    yield
    from core.workers import cluster

    cluster.shutdown()


@pytest.fixture(autouse=True)
def _settings_as_the_environment_says():
    """Settings are parsed once per server; a test that changes the environment calls `settings.reload()`, and the
    next test starts from the environment again (after monkeypatch has undone the change)."""
    yield
    from core import settings

    settings.reload()

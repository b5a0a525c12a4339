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
from streamlit.components.v2 import manifest_scanner  # noqa: E402
from streamlit.runtime.pages_manager import PagesManager  # noqa: E402

_pages_manager_init = PagesManager.__init__


def _init_as_a_server_does(self, *args, **kwargs):
    """AppTest resets Streamlit's old `pages/` mode before every run, so from the second run on it ran a page without
    app.py (no workspace sync, no sidebar). A server leaves that mode for good at its first `st.navigation`: do the same."""
    _pages_manager_init(self, *args, **kwargs)
    PagesManager.uses_pages_directory = False


PagesManager.__init__ = _init_as_a_server_does


def _scan_once(scan):
    """Streamlit scans every installed package's metadata for components once per server start, but AppTest does it
    once per AppTest, that is, per test: 0.15-0.4 CPU-s each, a tenth of the pages' tests (py-spy). The packages do not
    change while the suite runs, so one scan per process answers them all."""
    found = []

    def scanned(*args, **kwargs):
        if not found:
            found.append(scan(*args, **kwargs))
        return list(found[0])

    return scanned


manifest_scanner.scan_component_manifests = _scan_once(manifest_scanner.scan_component_manifests)

# A test's folder says what it needs; its markers follow, so nobody can forget one. The pages train in this process
# (tests/pages/conftest.py), the browser tests' servers and tests/workers on Ray.
_MARKS = {"unit": (), "workers": ("ray",), "pages": ("apptest",), "browser": ("browser", "ray")}
# `make test` (`--dist loadfile`) runs each file's tests on one pytest worker (a browser file's tests share its server),
# and the files that start this pytest process's own Ray (and its warm workers) together on one, one after the other
# (`pytest_xdist_make_scheduler` below). So the suite runs one such Ray instead of one per worker: an idle embedded Ray
# with its two warm workers takes about 6% of a core, and starting one about 8 CPU-s. The cluster test runs Ray in
# processes of its own.
OWN_RAY = ("workers/test_remote.py", "workers/test_worker_faults.py", "workers/test_sweep.py")


# The files that take longest (each 25-180 s of `make test`'s 6 minutes) start first, the longest first; the rest follow
# in collection order (`make test` passes --no-loadscope-reorder, which otherwise sends the files with the most tests
# first: then the browser stories started last, and the suite ended with one of them running alone for 45 s).
FIRST = ("browser/test_home_flow.py", "browser/test_run_store.py", "workers/test_remote.py", "workers/test_cluster.py",
         "pages/test_pages.py", "unit/test_export_runs.py", "unit/test_fastrnn.py", "workers/test_worker_faults.py",
         "pages/test_pages_inspect.py", "pages/test_pages_runs.py", "unit/test_trainer.py", "unit/test_connectivity.py",
         "unit/test_inspect.py")


def pytest_configure(config):
    missing = [name for name in (*FIRST, *OWN_RAY) if not (ROOT / "tests" / name).exists()]
    if missing:  # a file renamed or removed: say so, rather than quietly start it late
        raise pytest.UsageError(f"tests/conftest.py FIRST or OWN_RAY names files that do not exist: {missing}")


@pytest.hookimpl(optionalhook=True)  # a run without xdist (-p no:xdist) has no such hook
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile`, with the OWN_RAY files as one file. (Not `--dist loadgroup` with marks: xdist 3.8 groups by
    rewriting `item._nodeid`, which pytest 9.2 no longer reads, so its groups silently became one test each.)"""
    if config.getvalue("dist") != "loadfile":
        return None  # xdist's own choice (make check steals work)
    from xdist.scheduler import LoadFileScheduling

    own_ray = {f"tests/{name}" for name in OWN_RAY}

    class OwnRayTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            return "own-ray" if scope in own_ray else scope

    return OwnRayTogether(config, log)


def pytest_collection_modifyitems(config, items):
    for item in items:
        folder = Path(str(item.fspath)).parent.name
        for mark in _MARKS.get(folder, ()):
            item.add_marker(mark)
    rank = {name: i for i, name in enumerate(FIRST)}

    def order(item) -> int:
        path, tests = Path(str(item.fspath)), ROOT / "tests"
        return rank.get(path.relative_to(tests).as_posix(), len(FIRST)) if path.is_relative_to(tests) else len(FIRST)

    items.sort(key=order)


@pytest.fixture(scope="session", autouse=True)
def _stop_ray_at_the_end():
    """The worker tier's tests start an embedded Ray in this process; stop it, and all it started, at the end
    (a process that never imported Ray, as in `make check`, skips it: importing Ray to stop nothing cost 0.8 s)."""
    yield
    if "ray" in sys.modules:
        from core.workers import cluster

        cluster.shutdown()


@pytest.fixture(autouse=True)
def _settings_as_the_environment_says():
    """Settings are parsed once per server; a test that changes the environment calls `settings.reload()`, and the
    next test starts from the environment again (after monkeypatch has undone the change)."""
    yield
    from core import settings

    settings.reload()

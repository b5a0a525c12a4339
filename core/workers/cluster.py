"""Ray for the trainings: an embedded local instance by default, an existing cluster with `RAY_ADDRESS`.

Embedded, the app starts Ray itself on loopback only, with the dashboard off, a capped object store
and Ray's token authentication on. With `RAY_ADDRESS=host:port` it joins that cluster and starts no Ray of its
own. Either way every process it started is stopped when the server exits (Ray's own exit hook leaves its agents
behind), and a watchdog process (`core.workers.watchdog`) ends them if the server is killed. This module only
starts, joins and stops Ray: the warm workers are `core.workers.pool`'s, the training gate `core.workers.admission`'s.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import secrets
import socket
import subprocess
import sys
import threading

from core import settings

ROOT = settings.ROOT  # the repository: what workers import `core` from
CONNECT_TIMEOUT_S = 90  # how long starting or joining Ray may take before the page is told it failed
NAMESPACE = "rnn_playground"
_EXCLUDES = [".venv", ".git", "data", "artifacts", "screenshots", "**/__pycache__", ".pytest_cache"]
log = logging.getLogger(__name__)


def address() -> str | None:
    """The cluster to join ($RAY_ADDRESS), or None to start Ray here."""
    return settings.current().ray_address


def _ray_environment() -> None:
    """Ray's own variables, read when Ray is imported: set right before this module imports it (never at import)."""
    os.environ.setdefault("RAY_AUTH_MODE", "token")  # token authentication, also for a cluster's client
    if address() is None:
        # Embedded: a token of this server's own, which Ray's processes inherit with the environment. Without one,
        # Ray wrote a token to ~/.ray/auth_token (readable by everyone, 0644) and every later Ray of this user reused it.
        os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    # No idle Python workers started ahead for tasks: the app runs actors only (trainings, sweeps), each in a process
    # of its own, so the ones Ray prestarts stayed idle (two per embedded Ray, ~1 CPU-s and ~100 MB each)
    os.environ.setdefault("RAY_prestart_worker_first_driver", "0")
    if address() is None or address().rpartition(":")[0] in ("127.0.0.1", "localhost"):
        # Embedded, every Ray server binds to loopback only; a head on loopback is then also reached there (otherwise
        # Ray swaps 127.0.0.1 for this machine's network address, where such a head does not listen).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


class ClusterError(RuntimeError):
    """Ray could not be started or reached; the message says what to do."""


class _State:
    lock = threading.Lock()
    connected = False
    closed = False  # shut down: the server is exiting, so nothing may start Ray again
    embedded = False
    error: str | None = None
    watchdog_pid: int | None = None  # outlives this process on purpose: `shutdown` leaves it to end what Ray left


def _check_reachable(addr: str) -> None:
    host, _, port = addr.rpartition(":")
    if addr.startswith("ray://") or not port.isdigit() or not host:
        raise ClusterError(f"RAY_ADDRESS={addr!r} is not of the form host:port (the head's GCS address, e.g. "
                           "127.0.0.1:6379). Fix it, or unset RAY_ADDRESS to train on this server.")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as err:
        raise ClusterError(f"Cannot reach the Ray cluster at RAY_ADDRESS={addr} ({err.strerror or err}). Start its head "
                           f"with `ray start --head --port={port}`, or unset RAY_ADDRESS to train on this server.") from None


def connect() -> None:
    """Start or join Ray once per process; later calls return at once (or raise the same error again).

    Raises:
        ClusterError: Ray could not start, or `RAY_ADDRESS` cannot be reached; the message says what to do.
    """
    with _State.lock:
        if _State.connected:
            return
        if _State.closed:
            raise ClusterError("The server is shutting down; no training can start. Open the app again once it is back.")
        if _State.error:
            raise ClusterError(_State.error)
        done = threading.Event()
        threading.Thread(target=_own_ray, args=(done,), name="rnn-ray-owner", daemon=True).start()
        if not done.wait(CONNECT_TIMEOUT_S):
            _State.error = (f"Ray did not answer within {CONNECT_TIMEOUT_S} s"
                            + (f" at RAY_ADDRESS={address()}: check that its head runs and that this machine can reach "
                               "every port it uses, or unset RAY_ADDRESS to train on this server." if address() else
                               ": restart the app; if it happens again, check free memory and /tmp space."))
        if _State.error:
            raise ClusterError(_State.error)
        _State.connected = True
        atexit.register(shutdown)


def _own_ray(done: threading.Event) -> None:
    """Start Ray on this thread and keep the thread alive as long as the process.

    Ray starts its GCS and raylet with Linux's parent-death signal, which fires when the *thread* that started them
    ends, not the process: started from a short-lived thread (a page's, or a training's), they were SIGKILLed the
    moment it returned, and every training after that hung.
    """
    try:
        _connect()
    except ClusterError as err:
        log.error("%s", err)
        _State.error = str(err)
    except Exception as err:  # Ray's own failures, worded for the page
        log.exception("Ray could not start or be joined")
        _State.error = (f"The training workers could not start: {type(err).__name__}: {err}. Check that this machine has "
                        "free memory and /tmp space, then restart the app (or set RAY_ADDRESS to a running cluster).")
    done.set()
    if _State.error is None:
        threading.Event().wait()  # forever: the process's exit (and `shutdown`) ends Ray


def _connect() -> None:
    addr = address()
    if addr is not None:
        _check_reachable(addr)
    _ray_environment()
    import ray

    if ray.is_initialized():  # tests, or a host program that started Ray itself
        return
    common = dict(namespace=NAMESPACE, log_to_driver=False, logging_level="warning", configure_logging=True)
    s = settings.current()
    if addr is None:  # room for every training the gate lets in (as many as cores, or the setting) and the warm workers
        cpus = max(os.cpu_count() or 1, s.max_trainings or 0) * max(s.worker_cpus, 1) + s.warm_workers
        _start_watchdog()  # before Ray: a kill, or a SIGTERM, while Ray is still starting leaves nothing either
        ray.init(address="local", num_cpus=cpus, include_dashboard=False, object_store_memory=s.object_store_mb * 2**20,
                 runtime_env={"env_vars": {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}}, **common)
        _State.embedded = True
        log.info("Started an embedded Ray with %d CPUs", cpus)
    else:
        ray.init(address=addr, runtime_env={"working_dir": str(ROOT), "excludes": _EXCLUDES,
                                            "env_vars": {"TF_CPP_MIN_LOG_LEVEL": "2"}}, **common)
        log.info("Joined the Ray cluster at %s", addr)


def _start_watchdog() -> None:
    """A process that outlives this one: if the server dies without `shutdown` (kill -9, OOM), it ends what Ray left."""
    try:
        _State.watchdog_pid = subprocess.Popen([sys.executable, "-m", "core.workers.watchdog", str(os.getpid())], cwd=ROOT,
                                               stdin=subprocess.DEVNULL, start_new_session=True).pid
    except OSError:
        log.exception("Could not start the watchdog; a killed server may leave Ray's processes behind")


def startup_error() -> str | None:
    """Why Ray could not be started or reached, if it could not (a sentence for the page)."""
    return _State.error


def embedded() -> bool:
    """True when this process started its own Ray (no RAY_ADDRESS)."""
    return _State.embedded


def cluster_cpus() -> int | None:
    """CPUs in the Ray cluster, once connected."""
    if not _State.connected:
        return None
    import ray

    return int(ray.cluster_resources().get("CPU", 0)) or None


def shutdown() -> None:
    """Stop Ray and every process it started from here (its agents outlive `ray.shutdown` otherwise)."""
    import psutil

    children = [c for c in psutil.Process().children(recursive=True) if c.pid != _State.watchdog_pid]
    try:
        import ray

        ray.shutdown()
    except Exception:  # an exit hook: whatever Ray says, its processes are ended below
        log.exception("ray.shutdown failed; its processes are ended one by one")
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=3)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
    _State.connected, _State.closed = False, True

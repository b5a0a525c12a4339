"""Every setting the server reads from its environment, parsed once into one frozen `ServerSettings`.

`current()` parses the environment on its first call and keeps the result; nothing else in the app reads
`os.environ` for a setting. A bad value (`inf`, `nan`, `0`, `-1`, `abc`, an empty string) raises `SettingsError`,
whose message names every bad variable with the range it accepts; `app.py` shows that sentence and stops, so
the server never runs on a half-understood setting. `VARIABLES` is also the README's settings table (a test
compares them).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
WORKERS = ("ray", "inline")


class SettingsError(ValueError):
    """One or more environment variables hold values the app cannot use; the message names each and its range."""


@dataclass(frozen=True)
class ServerSettings:
    """What the environment says, after checking (one field per variable in `VARIABLES`)."""

    data_dir: Path  # where runs are stored
    ray_address: str | None  # a Ray cluster to join; None starts Ray here
    max_trainings: int | None  # trainings at once on the server; None: the cluster's CPUs / worker_cpus
    warm_workers: int  # idle training workers kept ready
    worker_cpus: int  # CPUs each training asks Ray for
    worker_gpus: int | None  # GPUs each training asks Ray for; None: 1 when the cluster has GPUs
    object_store_mb: int  # the embedded Ray's object store
    max_model_gb: float  # largest estimated training memory one session may ask for
    lanes: int  # independent recurrences the fused SimpleRNN cuts a batch into
    unroll_max: int  # longest chunk the fused SimpleRNN unrolls in the graph (0: never)
    max_runs: int  # runs per workspace
    max_workspace_mb: int  # disk per workspace
    keep_weights: int  # checkpoints kept per run
    max_trials: int  # trials one sweep may have
    max_students: int  # students one class may have
    log_level: str  # the server's log level
    workers: str  # where trainings run: "ray" (worker processes) or "inline" (threads of the server)


@dataclass(frozen=True)
class Variable:
    """One environment variable: where it goes, how it is read, and the sentence for a bad value."""

    name: str
    field: str
    default: Any  # the value when unset (None: computed, see `doc`)
    accepts: str  # what a good value looks like, for the error sentence
    parse: Callable[[str], Any]  # raises ValueError on a bad value
    doc: str
    shown: str = ""  # the default as the README and the error sentence say it, when `default` is None


def _whole(low: int, high: int = 10**9) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)  # "abc", "1.5", "inf" and "nan" raise here
        if not low <= value <= high:
            raise ValueError(raw)
        return value

    return parse


def _positive_finite(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or not 0 < value <= 10**6:
        raise ValueError(raw)
    return value


def _address(raw: str) -> str | None:
    return raw or None  # empty means unset, as for Ray itself; the format is checked on connecting (a sentence on Train)


def _one_of(values: tuple[str, ...]) -> Callable[[str], str]:
    """A parser for one of `values`, in any case, returned as `values` spells it."""
    def parse(raw: str) -> str:
        for value in values:
            if raw.lower() == value.lower():
                return value
        raise ValueError(raw)

    return parse


VARIABLES = (
    Variable("RNN_PLAYGROUND_DATA", "data_dir", ROOT / "data", "a folder path", Path,
             "where runs are stored (`store.sqlite` and `weights/`); default `data/` in the repository"),
    Variable("RAY_ADDRESS", "ray_address", None, "host:port of a Ray head, e.g. 10.0.0.5:6379", _address,
             "a running Ray cluster to join (Ray's own variable); unset, the app starts its own Ray", "unset"),
    Variable("RNN_PLAYGROUND_MAX_TRAININGS", "max_trainings", None, "a whole number from 1 to 1000", _whole(1, 1000),
             "trainings that may run at once on one server; default: the cluster's CPUs divided by "
             "`RNN_PLAYGROUND_WORKER_CPUS` (embedded: this machine's cores); further sessions wait with a sentence",
             "the CPUs"),
    Variable("RNN_PLAYGROUND_WARM_WORKERS", "warm_workers", 2, "a whole number from 0 to 64", _whole(0, 64),
             "idle training workers kept ready, TensorFlow imported (each ~700 MB); 0 starts Ray with the first training"),
    Variable("RNN_PLAYGROUND_WORKER_CPUS", "worker_cpus", 1, "a whole number from 0 to 256", _whole(0, 256),
             "CPUs each training asks Ray for"),
    Variable("RNN_PLAYGROUND_WORKER_GPUS", "worker_gpus", None, "a whole number from 0 to 16", _whole(0, 16),
             "GPUs each training asks Ray for", "1 with GPUs, else 0"),
    Variable("RNN_PLAYGROUND_OBJECT_STORE_MB", "object_store_mb", 512, "a whole number from 80 to 1000000",
             _whole(80, 10**6), "the embedded Ray's object store, in MB"),
    Variable("RNN_PLAYGROUND_MAX_MODEL_GB", "max_model_gb", 4.0, "a number of gigabytes above 0 and at most 1000000, e.g. 4",
             _positive_finite, "the largest estimated training memory one session may ask for"),
    Variable("RNN_PLAYGROUND_LANES", "lanes", 2, "a whole number from 1 to 64", _whole(1, 64),
             "independent parts the fused SimpleRNN cuts a batch into, each of at least 32 rows (1 turns it off)"),
    Variable("RNN_PLAYGROUND_UNROLL_MAX", "unroll_max", 32, "a whole number from 0 to 1000", _whole(0, 1000),
             "the longest chunk of steps the fused SimpleRNN unrolls in its graph (0: never)"),
    Variable("RNN_PLAYGROUND_MAX_RUNS", "max_runs", 100, "a whole number from 1 to 100000", _whole(1, 10**5),
             "runs kept per workspace"),
    Variable("RNN_PLAYGROUND_MAX_WORKSPACE_MB", "max_workspace_mb", 2048, "a whole number of MB from 1 to 10000000",
             _whole(1, 10**7), "disk per workspace"),
    Variable("RNN_PLAYGROUND_KEEP_WEIGHTS", "keep_weights", 3, "a whole number from 1 to 1000", _whole(1, 1000),
             "checkpoints kept per run (the newest)"),
    Variable("RNN_PLAYGROUND_MAX_TRIALS", "max_trials", 32, "a whole number from 1 to 1000", _whole(1, 1000),
             "trials one sweep may have (the Sweeps page refuses more with a sentence)"),
    Variable("RNN_PLAYGROUND_MAX_STUDENTS", "max_students", 60, "a whole number from 1 to 1000", _whole(1, 1000),
             "students one class may have (joining a full class is refused with a sentence)"),
    Variable("RNN_PLAYGROUND_WORKERS", "workers", "ray", "ray or inline", _one_of(WORKERS),
             "where trainings run: `ray`, in Ray worker processes; `inline`, in threads of the server itself (no Ray "
             "and no worker to start, for one user on a small machine; a crash of a training is then the server's; "
             "sweeps still start Ray)"),
    Variable("RNN_PLAYGROUND_LOG_LEVEL", "log_level", "INFO", "one of " + ", ".join(LOG_LEVELS), _one_of(LOG_LEVELS),
             "how much the server logs to its stderr"),
)


def parse(environ: dict[str, str] | os._Environ = os.environ) -> ServerSettings:
    """Read every variable of `VARIABLES` from `environ`.

    Raises:
        SettingsError: one sentence per bad variable, naming it, its value and what it accepts.
    """
    values, bad = {}, []
    for var in VARIABLES:
        raw = environ.get(var.name)
        if raw is None:
            values[var.field] = var.default
            continue
        try:
            values[var.field] = var.parse(raw.strip())
        except (ValueError, OverflowError):
            bad.append(f"{var.name} is {raw!r}, but it must be {var.accepts}. Fix it or unset it "
                       f"(the default is {shown(var)}), then restart the server.")
    if bad:
        raise SettingsError(" ".join(bad))
    return ServerSettings(**values)


def shown(var: Variable) -> str:
    """`var`'s default as a person reads it."""
    return var.shown or ("data/" if isinstance(var.default, Path) else str(var.default))


_CURRENT: list[ServerSettings] = []


def current() -> ServerSettings:
    """The server's settings, parsed from the environment at the first call and kept.

    Raises:
        SettingsError: the environment holds a bad value (raised again at every call, never half-applied).
    """
    if not _CURRENT:
        _CURRENT.append(parse())
    return _CURRENT[0]


def reload() -> ServerSettings:
    """Parse the environment again (tests change it with monkeypatch; the server never calls this)."""
    _CURRENT.clear()
    return current()

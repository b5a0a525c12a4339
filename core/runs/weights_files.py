"""Weights files on disk: written whole or not at all, removed without raising, and read back telling a damaged
file from a read that failed for a while (a file briefly missing, memory short)."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)


class Damaged(Exception):
    """The file is there but its contents cannot be read as weights of this model; the message says why."""


def write_atomically(folder: Path, name: str, write: Callable[[str], None]) -> Path:
    """`write(path)` writes a file under a temporary name; it becomes `folder/name` only once it is whole on disk.

    Raises:
        OSError: the folder is full or cannot be written; nothing named `name` was made, and no temporary file stays.
    """
    final, tmp = folder / name, folder / tmp_name()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write(str(tmp))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    return final


def tmp_name() -> str:
    """A temporary file name that says which process writes it (Keras insists on the .keras ending)."""
    return f".tmp-{os.getpid()}-{uuid.uuid4().hex}.keras"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # there, but another user's
    return True


def remove_stale(root: Path) -> None:
    """Remove temporary files that killed writers left in the run folders under `root` (never one that a process
    still running, such as a second server starting on the same folder, is writing)."""
    for stale in root.glob("*/.tmp-*"):
        writer = stale.name.split("-")[1]
        if not (writer.isdigit() and _alive(int(writer))):
            stale.unlink(missing_ok=True)


def remove_folder(folder: Path) -> None:
    """Remove a run's folder and what is in it; a file that lands meanwhile stays, and is logged, never raised."""

    def left(function, path, exc_info) -> None:
        if not issubclass(exc_info[0], FileNotFoundError):
            log.warning("Could not remove %s from %s", path, folder, exc_info=exc_info)

    shutil.rmtree(folder, onerror=left)


def load(model, path: Path) -> None:
    """Load the weights in `path` into `model`.

    Raises:
        Damaged: the file is not a whole `.keras` file of this architecture (what Keras, h5py and zipfile raise for
            that: a bad zip or CRC, a missing or unreadable `model.weights.h5`, mismatching variables).
        FileNotFoundError, MemoryError, OSError...: the read failed, not the file; nothing should be concluded.
    """
    try:
        model.load_weights(str(path))
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError) as err:
        raise Damaged(f"{type(err).__name__}: {str(err)[:200]}") from err
    except OSError as err:
        if type(err) is OSError and err.errno is None:  # h5py's "file signature not found" and the like
            raise Damaged(f"{type(err).__name__}: {str(err)[:200]}") from err
        raise

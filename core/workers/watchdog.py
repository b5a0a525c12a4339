"""Ends what the web server's embedded Ray leaves behind when the server dies without shutting it down.

`core.workers.cluster` starts this as `python -m core.workers.watchdog <server pid>`, in a session of its own, right
after Ray starts. It notes the server's descendants once a second. A normal exit stops Ray itself (and this process
with it); but after `kill -9` or an out-of-memory kill, Ray's agents (DashboardAgent, RuntimeEnvAgent) and idle
workers keep running, orphaned. Once the server is gone this process ends every one it noted, says so in the log
(the server's stderr), and exits. It imports neither Ray nor TensorFlow.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time

import psutil

POLL_S = 1.0  # how often the server's descendants are listed
GRACE_S = 3.0  # how long they get to end after SIGTERM before SIGKILL
log = logging.getLogger("core.workers.watchdog")


def _descendants(procs: list[psutil.Process]) -> list[psutil.Process]:
    found = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            found.extend(proc.children(recursive=True))
    return found


def watch(server_pid: int, poll_s: float = POLL_S) -> list[psutil.Process]:
    """Wait for `server_pid` to end, then end every process it had started (noted while it ran); returns those."""
    me = os.getpid()
    server = psutil.Process(server_pid)
    seen: dict[int, psutil.Process] = {}
    while server.is_running() and server.status() != psutil.STATUS_ZOMBIE:
        with contextlib.suppress(psutil.Error):
            for proc in server.children(recursive=True):
                if proc.pid != me:
                    seen.setdefault(proc.pid, proc)  # a Process remembers its start time: a reused pid is not it
        time.sleep(poll_s)
    left = [p for p in seen.values() if p.is_running()]
    left += [p for p in _descendants(left) if p.pid != me and p.pid not in seen]
    if left:
        log.warning("The server (pid %d) ended without stopping Ray; ending the %d processes it left: %s", server_pid,
                    len(left), ", ".join(f"{p.pid}" for p in left))
    for proc in left:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(left, timeout=GRACE_S)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    return left


def main(argv: list[str]) -> None:
    from core import logs, settings

    try:
        logs.configure(settings.current().log_level)
    except settings.SettingsError:
        logs.configure("INFO")
    try:
        watch(int(argv[1]))
    except psutil.NoSuchProcess:
        pass  # the server was gone before this started: it had nothing of Ray's to note


if __name__ == "__main__":
    main(sys.argv)

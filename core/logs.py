"""The server's logging: one handler on stderr for the app's loggers (`core`, `ui`, `pages`), at the level of
`RNN_PLAYGROUND_LOG_LEVEL`. Every module logs through `logging.getLogger(__name__)`; a fault that reaches a user
as a sentence is also logged here with its traceback (`log.exception`)."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d %(threadName)s]: %(message)s"
APP_LOGGERS = ("core", "ui", "pages", "app")
_HANDLER_NAME = "rnn-playground"


def configure(level: str = "INFO") -> None:
    """Send the app's log records to stderr at `level` (idempotent: a second call only changes the level)."""
    for name in APP_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if not any(h.get_name() == _HANDLER_NAME for h in logger.handlers):
            handler = logging.StreamHandler(sys.stderr)
            handler.set_name(_HANDLER_NAME)
            handler.setFormatter(logging.Formatter(FORMAT))
            logger.addHandler(handler)
        logger.propagate = False  # Streamlit configures the root logger; one line per record is enough

"""Logging that never prints the bot token, wherever a library happens to format it."""

from __future__ import annotations

import logging
import sys
from typing import Any

from bot.core.secrets import scrub

_FORMATTER = logging.Formatter()


class RedactSecretFilter(logging.Filter):
    """Masks the token (and anything shaped like a token) in the message and the traceback:
    the traceback is kept, with the secret masked (`123456789:***`)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message, self.secret)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            text = record.exc_text or _FORMATTER.formatException(record.exc_info)
            record.exc_text = scrub(text, self.secret)
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text, self.secret)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, self.secret)
        return True


class CurrentStderrHandler(logging.StreamHandler):
    """Writes to `sys.stderr` as it is when a record is emitted, not as it was when logging
    was set up: a process that swaps its standard error later (a supervisor, a test's capture)
    still gets every line, and never a write to a closed stream."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        return None


def configure_logging(secret: str, level: int = logging.INFO) -> None:
    handler = CurrentStderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecretFilter(secret))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Alembic 1.17 announces each of its autogenerate plugins at INFO on every start.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

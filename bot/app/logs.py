"""Logging that never prints the bot token, wherever a library happens to format it."""

from __future__ import annotations

import logging


class RedactSecretFilter(logging.Filter):
    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret and self.secret in message:
            record.msg = message.replace(self.secret, "<BOT_TOKEN>")
            record.args = None
        if record.exc_info and record.exc_info[1] and self.secret in str(record.exc_info[1]):
            record.exc_info = None
            record.msg = f"{record.msg} (traceback hidden: it contained the token)"
        return True


def configure_logging(secret: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecretFilter(secret))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Alembic 1.17 announces each of its autogenerate plugins at INFO on every start.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

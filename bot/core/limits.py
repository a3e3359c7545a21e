"""Limits set by Telegram that more than one feature must respect."""

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the most a bot may download with getFile

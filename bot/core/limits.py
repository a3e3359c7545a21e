"""Limits set by Telegram that more than one feature must respect."""

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the most a bot may download with getFile
# The most messages (sends and edits) the bot lets go out in any one second, whichever of its
# processes sends them: one under Telegram's about 30, since the network may deliver two
# sends closer together than they left.
SENDS_IN_ANY_SECOND = 29

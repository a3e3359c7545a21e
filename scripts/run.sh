#!/usr/bin/env sh
# Install everything the bot needs and start it with long polling.
# The token goes into .env (copy .env.example); migrations are applied at start.
set -eu
cd "$(dirname "$0")/.."
if [ ! -f .env ] && [ -z "${BOT_TOKEN:-}" ]; then
    echo "No .env found: copy .env.example to .env and put your bot token in BOT_TOKEN." >&2
    exit 2
fi
sh scripts/bootstrap.sh requirements.lock
exec .venv/bin/python -m bot "$@"

#!/usr/bin/env sh
# Install everything the bot needs and start it with long polling; other arguments are passed
# to `python -m bot` (migrate, doctor, import FILE, export FILE, seed-demo, --help).
# The token goes into .env (copy .env.example); migrations are applied at start.
# `sandbox [--port N]` needs no token: the bot against a local Telegram emulator, in a browser.
set -eu
cd "$(dirname "$0")/.."
. scripts/python.sh
placeholder="put-your-token-from-botfather-here"
try_sandbox="no token yet: try ./scripts/run.sh sandbox"
if [ "${1:-}" != "sandbox" ] && [ -z "${BOT_TOKEN:-}" ]; then
    if [ ! -f .env ]; then
        echo "No .env found: copy .env.example to .env and put the token from @BotFather into BOT_TOKEN; $try_sandbox." >&2
        exit 2
    fi
    token=$(sed -n 's/^[[:space:]]*BOT_TOKEN[[:space:]]*=[[:space:]]*//p' .env | tail -n 1 | tr -d "\r\"' ")
    if [ -z "$token" ] || [ "$(echo "$token" | tr '[:upper:]' '[:lower:]')" = "$placeholder" ]; then
        echo "Put the token from @BotFather into BOT_TOKEN in .env; $try_sandbox." >&2
        exit 2
    fi
fi
sh scripts/bootstrap.sh requirements.lock
exec .venv/bin/python -m bot "$@"

#!/usr/bin/env sh
# Install what the bot needs into the Python given by $PYTHON (default python3): the pinned,
# hash-checked dependencies of a lock file (default requirements.lock), then the compiled
# catalogs and the bot's own bytecode, then a check that the whole bot imports. The Dockerfile
# runs this script; so do scripts/bootstrap.sh (into .venv) and tests/e2e/test_deploy.py (a fresh
# virtualenv, non-root).
set -eu
cd "$(dirname "$0")/.."
. scripts/python.sh
lock_file="${1:-requirements.lock}"
"$python" -m pip install --quiet --disable-pip-version-check --no-input --require-hashes \
    -r "$lock_file"
"$python" -m bot compile-catalogs >/dev/null
sh scripts/compile-bytecode.sh "$python"
"$python" -c "import bot.app.factory, bot.app.doctor"

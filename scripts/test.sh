#!/usr/bin/env sh
# Install the pinned dependencies and tools, then lint, type-check, check the layer contracts
# and run the whole test suite.
# With TEST_DATABASE_URL=postgresql+asyncpg://... the database tests also run on PostgreSQL.
# `--fast`: the quick lane for local work: SQLite only, without the tests marked slow.
set -eu
cd "$(dirname "$0")/.."
sh scripts/bootstrap.sh requirements-dev.lock
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "test: no chromium at ${CHROMIUM:-/usr/bin/chromium}: the dashboard's browser tests are" \
        "skipped (apt-get install chromium to run them)"
fi
if [ "${1:-}" = "--fast" ]; then
    shift
    unset TEST_DATABASE_URL
    exec .venv/bin/python -m pytest -m "not slow" "$@"
fi
exec .venv/bin/python -m pytest "$@"

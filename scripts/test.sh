#!/usr/bin/env sh
# Install the pinned dependencies and tools, then lint and run the whole test suite.
# With TEST_DATABASE_URL=postgresql+asyncpg://... the database tests also run on PostgreSQL.
set -eu
cd "$(dirname "$0")/.."
sh scripts/bootstrap.sh requirements-dev.lock
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"

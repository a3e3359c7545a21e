#!/usr/bin/env sh
# Install the pinned dependencies and tools, then lint, type-check, check the layer contracts
# and the catalogs (gettext's msgfmt), and run the whole test suite on every core
# (pytest-xdist; TEST_WORKERS=0 runs it in this one process, TEST_WORKERS=1 in one worker).
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
sh scripts/check-catalogs.sh
# worksteal: a worker that runs out of tests takes half of the other's queue, so one long
# subprocess test does not leave a core idle at the end.
parallel="-n ${TEST_WORKERS:-auto} --dist worksteal"
if [ "${1:-}" = "--fast" ]; then
    shift
    unset TEST_DATABASE_URL
    # shellcheck disable=SC2086 # two options and their values
    exec .venv/bin/python -m pytest $parallel -m "not slow" "$@"
fi
# shellcheck disable=SC2086
exec .venv/bin/python -m pytest $parallel "$@"

#!/usr/bin/env sh
# Run by run.sh and test.sh: a virtualenv in .venv with the pinned dependencies of the
# given lock file, re-installed only when the lock file changes, and compiled catalogs.
set -eu
lock_file="$1"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
stamp=".venv/.installed-$(basename "$lock_file")"
if [ ! -f "$stamp" ] || ! cmp -s "$lock_file" "$stamp"; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$lock_file"
    cp "$lock_file" "$stamp"
fi
.venv/bin/python -m bot compile-catalogs

#!/usr/bin/env sh
# Run by run.sh and test.sh: a virtualenv in .venv with the pinned dependencies of the given
# lock file, re-installed only when a lock file changes, and compiled catalogs and bytecode.
# A .venv made by another Python (or broken) is rebuilt.
set -eu
cd "$(dirname "$0")/.."
. scripts/python.sh
lock_file="$1"

if [ -e .venv ]; then
    venv_version=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' \
        2>/dev/null || echo "a missing or broken Python")
    if [ "$venv_version" != "$python_major.$python_minor" ]; then
        echo "Rebuilding .venv: it was made by $venv_version, this is Python $python_version."
        rm -rf .venv
    fi
fi
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv || {
        echo "Could not create .venv with $python (Debian/Ubuntu: sudo apt install python3.11-venv)." >&2
        exit 3
    }
fi

# The dev lock includes requirements.lock (-r): a change in either means a new install.
files="$lock_file"
[ "$lock_file" = requirements.lock ] || files="$lock_file requirements.lock"
stamp=".venv/.installed-$(basename "$lock_file")"
# shellcheck disable=SC2086 # two fixed file names
wanted=$(cat $files | cksum)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    # shellcheck disable=SC2086
    packages=$(cat $files | grep -c '^[A-Za-z0-9][^ ]*==')
    started=$(date +%s)
    echo "Installing $packages pinned packages from $lock_file into .venv (hash-checked; about a minute the first time)..."
    (
        while sleep 15 >/dev/null 2>&1; do
            echo "  ... still installing ($(($(date +%s) - started)) s)"
        done
    ) &
    ticker=$!
    status=0
    PYTHON=.venv/bin/python sh scripts/install-app.sh "$lock_file" >.venv/install.log 2>&1 || status=$?
    kill "$ticker" 2>/dev/null || true
    wait "$ticker" 2>/dev/null || true
    if [ "$status" -ne 0 ]; then
        tail -n 15 .venv/install.log >&2
        echo "The install failed (the whole log: .venv/install.log)." >&2
        exit "$status"
    fi
    echo "$wanted" > "$stamp"
    echo "Ready: Python $python_version in .venv with $packages packages from $lock_file, catalogs compiled ($(($(date +%s) - started)) s)."
else
    .venv/bin/python -m bot compile-catalogs >/dev/null
    sh scripts/compile-bytecode.sh .venv/bin/python
fi

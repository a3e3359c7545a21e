#!/usr/bin/env sh
# Extract every translatable string into locales/messages.pot and merge it into the kk and ru
# catalogs. Run after changing user-visible texts, then translate the new entries.
set -eu
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
"$PYBABEL" -q extract --no-location --sort-output --omit-header -k N_ -k ngettext:1,2 \
    -o locales/messages.pot bot handlers db
for locale in kk ru; do
    if [ -f "locales/$locale/LC_MESSAGES/messages.po" ]; then
        "$PYBABEL" -q update --no-fuzzy-matching --ignore-obsolete -i locales/messages.pot \
            -d locales -D messages -l "$locale"
    else
        "$PYBABEL" -q init -i locales/messages.pot -d locales -D messages -l "$locale"
    fi
done

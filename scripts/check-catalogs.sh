#!/usr/bin/env sh
# gettext's own check of the kk and ru catalogs (format strings, plural forms, headers): run by
# test.sh. `pybabel compile` writes a catalog msgfmt refuses (an English text with "50% of" is
# read as a %-format), so only msgfmt catches it. Warnings are shown; any error fails.
set -eu
cd "$(dirname "$0")/.."
if ! command -v msgfmt >/dev/null 2>&1; then
    echo "msgfmt is missing, so the catalogs cannot be checked: install gettext" \
        "(Debian/Ubuntu: sudo apt install gettext; macOS: brew install gettext)." >&2
    exit 3
fi
status=0
for po in locales/*/LC_MESSAGES/messages.po; do
    msgfmt --check --output-file=/dev/null "$po" || status=1
done
exit "$status"

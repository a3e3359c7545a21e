"""Kazakhstan's public holidays named in the reader's language, from our own catalog.

The `holidays` package names them in the language of the server's environment (English in the
Docker image, Kazakh elsewhere) and has no Russian for Kazakhstan, so the calendar looks them up
in English (`language="en_US"`, stable) and this module maps those names to the bot's msgids.
A name the package adds later is shown as the package wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Marks a message id for extraction (bot.telegram.i18n's marker is a layer above)."""
    return message


HOLIDAY_NAMES = frozenset(
    {
        N_("New Year's Day"),
        N_("Orthodox Christmas"),
        N_("International Women's Day"),
        N_("Nowruz Holiday"),
        N_("Kazakhstan's People Solidarity Holiday"),
        N_("Defender of the Fatherland Day"),
        N_("Victory Day"),
        N_("Capital Day"),
        N_("Eid al-Adha"),
        N_("Constitution Day"),
        N_("Republic Day"),
        N_("Independence Day"),
    }
)
OBSERVED = N_("{name} (moved day off)")
ESTIMATED = N_("{name} (date estimated)")
SUBSTITUTED = N_("Day off (moved from {date})")

_SUFFIX = re.compile(r"^(?P<name>.+?) \((?P<kind>observed|estimated)\)$")
_SUBSTITUTED = re.compile(r"^Day off \(substituted from (?P<d>\d\d)/(?P<m>\d\d)/(?P<y>\d{4})\)$")


def holiday_label(name: str, gettext: Callable[[str], str]) -> str:
    """The package's English name(s) of a day («A; B») in the reader's language."""
    return "; ".join(_one(part.strip(), gettext) for part in name.split(";"))


def _one(name: str, gettext: Callable[[str], str]) -> str:
    moved = _SUBSTITUTED.match(name)
    if moved:
        return gettext(SUBSTITUTED).format(date=f"{moved['d']}.{moved['m']}.{moved['y']}")
    marked = _SUFFIX.match(name)
    if marked and marked["name"] in HOLIDAY_NAMES:
        template = OBSERVED if marked["kind"] == "observed" else ESTIMATED
        return gettext(template).format(name=gettext(marked["name"]))
    return gettext(name) if name in HOLIDAY_NAMES else name

"""Texts of /alias: the usage line, an outcome, the list of aliases."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.core.text import quote, split_message
from bot.telegram.i18n import pick_name
from bot.usecases.aliases import AliasEntry, AliasOutcome, AliasResult

REMOVE_WORDS = frozenset({"off", "-", "удалить", "жою", "өшіру"})


def usage() -> str:
    return _(
        "/alias <abbreviation> <department code>: what a Road Map calls a department, "
        "for every import. /alias <abbreviation> off removes it."
    )


def outcome_text(outcome: AliasOutcome) -> str:
    alias = quote(outcome.alias)
    department = outcome.department
    name = quote(pick_name(department.name_kk, department.name_ru)) if department else ""
    if outcome.result == AliasResult.SAVED:
        return _("«{alias}» now means {name} in every import.").format(alias=alias, name=name)
    if outcome.result == AliasResult.REPLACED and outcome.previous is not None:
        previous = quote(pick_name(outcome.previous.name_kk, outcome.previous.name_ru))
        return _("«{alias}» now means {name} (it meant {previous}).").format(
            alias=alias, name=name, previous=previous
        )
    if outcome.result == AliasResult.REMOVED:
        return _("The alias «{alias}» is removed.").format(alias=alias)
    if outcome.result == AliasResult.NOT_FOUND:
        return _("There is no alias «{alias}».").format(alias=alias)
    if outcome.result == AliasResult.UNKNOWN_DEPARTMENT:
        return _("There is no department with that code. See /departments.")
    return _("An alias is a name or an abbreviation of up to 64 characters.")


def aliases_list(entries: list[AliasEntry]) -> list[str]:
    """The secretariat's aliases, one per line, in messages that fit Telegram's limit."""
    if not entries:
        return [_("No aliases yet.") + "\n" + quote(usage())]
    lines = [_("<b>Aliases of departments</b>")]
    lines += [
        f"{quote(entry.alias)} → <code>{quote(entry.department.code)}</code>" for entry in entries
    ]
    return split_message(lines)

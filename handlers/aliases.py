"""/alias for the secretariat: what a Road Map calls a department, kept for every import.

`/alias УО education` saves, `/alias УО off` removes, `/alias` lists. The rules live in the
use case (bot.usecases.aliases); this module parses the command and renders the outcome.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.core.text import quote, split_message
from bot.telegram.i18n import pick_name
from bot.telegram.middlewares import secretariat_only
from bot.usecases.aliases import (
    AliasOutcome,
    AliasResult,
    list_aliases,
    remove_alias,
    set_alias,
)
from db.engine import AsyncSession
from db.models import Person

_REMOVE_WORDS = frozenset({"off", "-", "удалить", "жою", "өшіру"})


def _usage() -> str:
    return _(
        "/alias <abbreviation> <department code>: what a Road Map calls a department, "
        "for every import. /alias <abbreviation> off removes it."
    )


def _outcome_text(outcome: AliasOutcome) -> str:
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


async def alias_command(
    message: Message, command: CommandObject, session: AsyncSession, person: Person, clock: Clock
) -> None:
    words = (command.args or "").split()
    if not words:
        entries = await list_aliases(session)
        if not entries:
            await message.answer(_("No aliases yet.") + "\n" + quote(_usage()))
            return
        lines = [_("<b>Aliases of departments</b>")]
        lines += [
            f"{quote(entry.alias)} → <code>{quote(entry.department.code)}</code>"
            for entry in entries
        ]
        for chunk in split_message(lines):
            await message.answer(chunk)
        return
    if len(words) < 2:
        await message.answer(quote(_usage()))
        return
    alias, last = " ".join(words[:-1]), words[-1]
    if last.lower() in _REMOVE_WORDS:
        outcome = await remove_alias(session, actor=person, alias=alias, now=clock.now())
    else:
        outcome = await set_alias(
            session, actor=person, alias=alias, department_code=last, now=clock.now()
        )
    await message.answer(_outcome_text(outcome))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.middleware(secretariat_only())
    router.message.register(alias_command, Command("alias"))
    return router

"""/alias for the secretariat: what a Road Map calls a department, kept for every import.

`/alias УО education` saves, `/alias УО off` removes, `/alias` lists. The rules live in the
use case (bot.usecases.aliases); this module parses the command and renders the outcome.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.core.text import quote
from bot.usecases.aliases import list_aliases, remove_alias, set_alias
from handlers.context import Caller, secretariat_router
from handlers.views import aliases as views


async def alias_command(message: Message, command: CommandObject, caller: Caller) -> None:
    words = (command.args or "").split()
    if not words:
        for chunk in views.aliases_list(await list_aliases(caller.ctx)):
            await message.answer(chunk)
        return
    if len(words) < 2:
        await message.answer(quote(views.usage()))
        return
    alias, last = " ".join(words[:-1]), words[-1]
    if last.lower() in views.REMOVE_WORDS:
        outcome = await remove_alias(caller, alias)
    else:
        outcome = await set_alias(caller, alias, last)
    await message.answer(views.outcome_text(outcome))


def create_router() -> Router:
    router = secretariat_router(__name__)
    router.message.register(alias_command, Command("alias"))
    return router

"""The secretariat's corrections to what the chair reads: /dismiss a computed risk reason for
an item's current data, /shortname a department for buttons, summaries and the chart, /short
an item for its buttons."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.core.parsing import parse_dismissal, parse_new_department, parse_short_title
from bot.risk import views
from bot.telegram.middlewares import secretariat_only
from bot.usecases.departments import (
    ShortNamesSet,
    ShortTitleSet,
    UnknownDepartment,
    set_short_names,
    set_short_title,
)
from bot.usecases.ports import Person, UseCaseContext
from bot.usecases.risks import Dismissed, DismissRefused, dismiss_risk


async def dismiss_command(
    message: Message, command: CommandObject, person: Person, usecases: UseCaseContext
) -> None:
    typed = parse_dismissal(command.args)
    if typed is None:
        await message.answer(views.dismiss_usage())
        return
    done = await dismiss_risk(usecases, person, typed.item_code, typed.reason, typed.text)
    if isinstance(done, Dismissed):
        await message.answer(views.dismissed_text(done.item_code, done.reason))
    elif isinstance(done, DismissRefused):
        await message.answer(views.dismiss_refused_text(done.item_code, done.refusal))
    else:
        await message.answer(views.dismiss_usage())


async def short_name_command(
    message: Message, command: CommandObject, person: Person, usecases: UseCaseContext
) -> None:
    names = parse_new_department(command.args)
    if names is None:
        await message.answer(views.short_names_usage())
        return
    done = await set_short_names(usecases, person, names)
    if isinstance(done, ShortNamesSet):
        await message.answer(views.short_names_text(done.department))
    elif isinstance(done, UnknownDepartment):
        await message.answer(views.unknown_department_text(done.code))
    else:
        await message.answer(views.short_names_usage())


async def short_title_command(
    message: Message, command: CommandObject, person: Person, usecases: UseCaseContext
) -> None:
    """`/short 5.1.4 Мектеп интернеті | Интернет в школах`: what the item's buttons show."""
    typed = parse_short_title(command.args)
    if typed is None:
        await message.answer(views.short_title_usage())
        return
    done = await set_short_title(usecases, person, typed)
    if isinstance(done, ShortTitleSet):
        await message.answer(views.short_title_text(done.item))
    else:
        await message.answer(views.missing_item_text(done.code))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.middleware(secretariat_only())
    router.message.register(dismiss_command, Command("dismiss"))
    router.message.register(short_name_command, Command("shortname"))
    router.message.register(short_title_command, Command("short"))
    return router

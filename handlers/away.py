"""/away for department members: requests, reminders and nudges go to a deputy (or the
other members) until the date they are back."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.core.parsing import parse_away
from bot.reporting import views
from bot.reporting.dialog import REPORT_DIALOG
from bot.usecases import reporting
from bot.usecases.reporting import Member, UseCaseContext
from handlers.reporting import member_may_use


async def away_command(
    message: Message,
    command: CommandObject,
    usecases: UseCaseContext,
    member: Member | None = None,
) -> None:
    """/away <date back> [deputy] or /away off: hand the requests over while away."""
    if not await member_may_use(message, member):
        return
    assert member is not None
    request = parse_away(command.args)
    if request is None:
        await message.answer(views.usage("away"))
        return
    outcome = await reporting.go_away(usecases, member, request)
    await message.answer(views.away_reply(member.person, outcome))


def create_router() -> Router:
    router = REPORT_DIALOG.router(__name__, context=("member", Member.of_update))
    router.message.register(away_command, Command("away"))
    return router

"""Road Map item cards for the secretariat, the chair and the owning department."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app.config import Settings
from bot.core.clock import Clock, local_today
from bot.core.errors import UnknownItemError
from bot.core.parsing import parse_one_word
from bot.core.text import quote, split_message
from bot.risk.assess import assess_item
from bot.risk.labels import risk_section
from bot.risk.rules import RiskThresholds
from bot.roadmap.service import item_card
from bot.roadmap.views import item_card_text
from bot.telegram import menus
from bot.telegram.texts import no_access_text, usage_line
from db import queries
from db.models import Person, Role


def can_see_item(person: Person, department_id: int) -> bool:
    return person.role in (Role.SECRETARIAT, Role.CHAIR) or person.department_id == department_id


async def item_command(
    message: Message,
    command: CommandObject,
    person: Person | None,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    risk_thresholds: RiskThresholds,
) -> None:
    if person is None:
        await message.answer(no_access_text(message.chat.id))
        return
    code = parse_one_word(command.args)
    if code is None:
        await message.answer(usage_line(menus.ITEM))
        return
    try:
        card = await item_card(session, code)
    except UnknownItemError:
        await message.answer(
            _("There is no Road Map item with the code {code}.").format(code=quote(code))
        )
        return
    if not can_see_item(person, card.item.department_id):
        await queries.add_audit(
            session, at=clock.now(), action="refused.item", actor=person, target=card.item.code
        )
        await session.commit()
        await message.answer(_("You can only see the items of your own department."))
        return
    today = local_today(clock, settings.tz)
    text = item_card_text(card, today, settings.tz)
    risk = await assess_item(
        session,
        item_id=card.item.id,  # type: ignore[arg-type]
        year=card.item.year,
        today=today,
        thresholds=risk_thresholds,
        tz=settings.tz,
    )
    if risk is not None and risk.reasons:
        text += "\n\n" + risk_section(risk, today)
    for chunk in split_message(text.split("\n")):
        await message.answer(chunk)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(item_command, Command("item"))
    return router

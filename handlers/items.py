"""Road Map item cards for the secretariat, the chair and the owning department."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.app.config import Settings
from bot.core.clock import Clock, local_today
from bot.core.errors import UnknownItemError
from bot.core.parsing import parse_one_word
from bot.core.text import quote, split_message
from bot.people import audit
from bot.reporting.service import update_with_item
from bot.reporting.views import evidence_keyboard
from bot.risk.assess import assess_item
from bot.risk.labels import card_sections
from bot.risk.rules import RiskThresholds
from bot.roadmap.service import item_card
from bot.roadmap.views import item_card_text
from bot.telegram import menus
from bot.telegram.callbacks import ResendEvidence
from bot.telegram.i18n import pick_name
from bot.telegram.texts import hidden_item_text, no_access_text, usage_line
from db.engine import AsyncSession
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
    sees_all = person.role in (Role.SECRETARIAT, Role.CHAIR)
    try:
        card = await item_card(session, code)
    except UnknownItemError:
        if not sees_all:
            await message.answer(hidden_item_text(code))
            return
        await message.answer(
            _("There is no Road Map item with the code {code}.").format(code=quote(code))
        )
        return
    if not can_see_item(person, card.item.department_id):
        await audit.refused(session, person, "refused.item", card.item.code, now=clock.now())
        await message.answer(hidden_item_text(code))
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
    text += card_sections(risk, today)
    *chunks, last = split_message(text.split("\n"))
    for chunk in chunks:
        await message.answer(chunk)
    await message.answer(last, reply_markup=evidence_keyboard(card.history, settings.tz))


async def resend_evidence(
    query: CallbackQuery,
    callback_data: ResendEvidence,
    person: Person | None,
    session: AsyncSession,
    clock: Clock,
    bot: Bot,
) -> None:
    """The photo or document of an update again, to whoever may see the item."""
    found = await update_with_item(session, callback_data.update_id)
    if person is None or found is None or not found[0].evidence_file_id:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    update, item = found
    if not can_see_item(person, item.department_id):
        await audit.refused(session, person, "refused.evidence", item.code, now=clock.now())
        # the same answer as for a button that leads nowhere: a stranger learns nothing
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    caption = quote(f"{item.code} · {pick_name(item.title_kk, item.title_ru)}")[:1024]
    file_id = update.evidence_file_id
    assert file_id is not None
    try:
        if update.evidence_kind == "photo":
            await bot.send_photo(person.telegram_id, file_id, caption=caption)
        else:
            await bot.send_document(person.telegram_id, file_id, caption=caption)
    except TelegramBadRequest:
        await query.answer(_("Telegram no longer has this file."), show_alert=True)
        return
    await query.answer()


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(item_command, Command("item"))
    router.callback_query.register(resend_evidence, ResendEvidence.filter())
    return router

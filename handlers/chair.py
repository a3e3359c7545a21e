"""The chair's view of the Road Map: summary, departments, items at risk, and dismissals.

/summary and /dept serve the chair and the secretariat; /dismiss is the secretariat's.
Digest and alert buttons land here too: open an item's card and history, or ask its
department for an update now.
"""

from __future__ import annotations

import asyncio
from datetime import date

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.app.config import Settings
from bot.core.clock import Clock, local_today
from bot.core.errors import UnknownDepartmentError
from bot.core.parsing import parse_int, parse_new_department
from bot.core.text import Block, quote, split_blocks
from bot.delivery.worker import DeliveryWorker
from bot.reporting.rounds import request_item_update
from bot.risk import forecast_views
from bot.risk.assess import assess_item, assess_items
from bot.risk.digest import (
    DigestData,
    chart_with_caption,
    code_key,
    collect_digest,
    count_lines,
    items_keyboard,
    render_chart_png,
    render_digest,
    short_title,
    summarize,
)
from bot.risk.dismissals import DismissRefusal, DismissRefusedError, dismiss_reason
from bot.risk.labels import card_sections, reason_label, reasons_text
from bot.risk.rules import DISMISSIBLE_REASONS, ItemRisk, RiskThresholds, parse_reason
from bot.roadmap.service import SHORT_NAME_LENGTH, item_card, set_short_names
from bot.roadmap.views import item_card_text
from bot.telegram import menus
from bot.telegram.callbacks import AskUpdate, ChairDepartment, ChairItem
from bot.telegram.i18n import format_day
from bot.telegram.middlewares import chair_and_secretariat_only, secretariat_only
from bot.telegram.texts import department_name, status_label, usage_line
from db import queries
from db.engine import AsyncSession
from db.models import Department, Person, RoadmapItem

MAX_DISMISS_TEXT = 500


def parse_year(args: str | None, default: int) -> int | None:
    """An optional four-digit year; None when the argument is anything else."""
    text = (args or "").strip()
    if not text:
        return default
    return parse_int(text, 2000, 2100)


async def send_digest(message: Message, data: DigestData) -> None:
    """The chart first, with the summary as its caption when it fits; else the summary after."""
    messages = render_digest(data.summary, data.departments, year=data.year, today=data.today)
    if data.summary.total:
        # Drawing takes a moment of CPU: a worker thread keeps the bot answering meanwhile.
        png = await asyncio.to_thread(render_chart_png, data)
        caption, messages = chart_with_caption(data, messages)
        await message.answer_photo(
            BufferedInputFile(png, filename="summary.png"),
            caption=caption.text,
            reply_markup=caption.markup,
        )
    for part in messages:
        await message.answer(part.text, reply_markup=part.markup)


async def summary_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    risk_thresholds: RiskThresholds,
) -> None:
    today = local_today(clock, settings.tz)
    year = parse_year(command.args, today.year)
    if year is None:
        await message.answer(usage_line(menus.SUMMARY))
        return
    data = await collect_digest(
        session, today=today, year=year, thresholds=risk_thresholds, tz=settings.tz
    )
    if not data.summary.total:
        await message.answer(_("There are no Road Map items for {year}.").format(year=year))
        return
    await send_digest(message, data)


def department_item_line(risk: ItemRisk, today: date) -> str:
    status = (
        _("no reports yet")
        if risk.latest_status is None
        else f"{status_label(risk.latest_status)}, {risk.latest_progress}%"
    )
    code, title, deadline = quote(risk.code), quote(short_title(risk)), format_day(risk.deadline)
    line = f"• <b>{code}</b> {title} — {quote(status)}, {deadline}"
    if risk.reasons:
        line += f" — 🔴 <i>{quote(reasons_text(risk, today))}</i>"
    if forecast := forecast_views.brief(risk.forecast, today):
        line += f" — 📈 {quote(forecast)}"
    return line


async def send_department(
    message: Message,
    session: AsyncSession,
    department: Department,
    *,
    year: int,
    today: date,
    settings: Settings,
    thresholds: RiskThresholds,
) -> None:
    risks = await assess_items(
        session, today=today, year=year, thresholds=thresholds, tz=settings.tz, forecasts=True
    )
    own = {key: risk for key, risk in risks.items() if risk.department_id == department.id}
    summary = summarize(own)
    header = (
        _("<b>{name}</b>: Road Map {year}").format(
            name=quote(department_name(department)), year=year
        ),
        *count_lines(summary),
        "",
    )
    ordered = sorted(own.values(), key=lambda risk: code_key(risk.code))
    ordered.sort(key=forecast_views.by_chance)  # the least likely to be met first
    blocks = [Block(header)]
    blocks += [
        Block((department_item_line(risk, today),), (risk.item_id,) if risk.reasons else ())
        for risk in ordered
    ]
    if not ordered:
        blocks.append(Block((_("The department has no items for {year}.").format(year=year),)))
    codes = {risk.item_id: risk.code for risk in ordered}
    for part in split_blocks(blocks):
        await message.answer(part.text, reply_markup=items_keyboard(part.keys, codes))


async def department_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    risk_thresholds: RiskThresholds,
) -> None:
    words = (command.args or "").split()
    if len(words) != 1:
        await message.answer(usage_line(menus.DEPARTMENT))
        return
    department = await queries.department_by_code(session, words[0])
    if department is None:
        await message.answer(
            _("There is no department with the code {code}. See /departments.").format(
                code=quote(words[0])
            )
        )
        return
    today = local_today(clock, settings.tz)
    await send_department(
        message,
        session,
        department,
        year=today.year,
        today=today,
        settings=settings,
        thresholds=risk_thresholds,
    )


async def department_button(
    query: CallbackQuery,
    callback_data: ChairDepartment,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    risk_thresholds: RiskThresholds,
) -> None:
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    department = await queries.department_by_id(session, callback_data.department_id)
    if department is None:
        await query.answer(_("This department no longer exists."), show_alert=True)
        return
    await query.answer()
    await send_department(
        query.message,
        session,
        department,
        year=callback_data.year,
        today=local_today(clock, settings.tz),
        settings=settings,
        thresholds=risk_thresholds,
    )


def item_keyboard(item: RoadmapItem) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Ask the department for an update now"),
        callback_data=AskUpdate(item_id=item.id),
    )
    return builder.as_markup()


async def item_button(
    query: CallbackQuery,
    callback_data: ChairItem,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    risk_thresholds: RiskThresholds,
) -> None:
    """The item's card with its latest updates, and why it is at risk."""
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    item = await queries.item_by_id(session, callback_data.item_id)
    if item is None:
        await query.answer(_("This item no longer exists."), show_alert=True)
        return
    await query.answer()
    today = local_today(clock, settings.tz)
    card = await item_card(session, item.code)
    text = item_card_text(card, today, settings.tz)
    risk = await assess_item(
        session,
        item_id=item.id,  # type: ignore[arg-type]
        year=item.year,
        today=today,
        thresholds=risk_thresholds,
        tz=settings.tz,
    )
    text += card_sections(risk, today)
    await query.message.answer(text, reply_markup=item_keyboard(item))


async def ask_update_button(
    query: CallbackQuery,
    callback_data: AskUpdate,
    person: Person,
    session: AsyncSession,
    clock: Clock,
    i18n: I18n,
    settings: Settings,
    outbox: DeliveryWorker,
) -> None:
    if not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    item = await queries.item_by_id(session, callback_data.item_id)
    department = await queries.department_by_id(session, item.department_id) if item else None
    if item is None or department is None:
        await query.answer(_("This item no longer exists."), show_alert=True)
        return
    asked = (
        await request_item_update(
            session, i18n=i18n, tz=settings.tz, actor=person, item=item, now=clock.now()
        )
    ).people
    outbox.wake()
    name = quote(department_name(department))
    if asked:
        text = _("Update requested from {department}.").format(department=name)
    else:
        text = _("{department} has nobody registered in the bot to ask.").format(department=name)
    await query.answer()
    await query.message.answer(text)


def _dismiss_usage() -> str:
    reasons = ", ".join(
        f"<code>{reason.value}</code> — {quote(reason_label(reason))}"
        for reason in sorted(DISMISSIBLE_REASONS)
    )
    return usage_line(menus.DISMISS) + "\n" + _("Reasons: {reasons}").format(reasons=reasons)


async def dismiss_command(
    message: Message,
    command: CommandObject,
    person: Person,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    risk_thresholds: RiskThresholds,
) -> None:
    parts = (command.args or "").split(maxsplit=2)
    reason = parse_reason(parts[1]) if len(parts) == 3 else None
    explanation = parts[2].strip() if len(parts) == 3 else ""
    if reason is None or not explanation or len(explanation) > MAX_DISMISS_TEXT:
        await message.answer(_dismiss_usage())
        return
    try:
        item, _dismissal = await dismiss_reason(
            session,
            actor=person,
            item_code=parts[0],
            reason=reason,
            text=explanation,
            today=local_today(clock, settings.tz),
            now=clock.now(),
            thresholds=risk_thresholds,
            tz=settings.tz,
        )
    except DismissRefusedError as error:
        answers = {
            DismissRefusal.UNKNOWN_ITEM: _(
                "There is no Road Map item with the code {code}."
            ).format(code=quote(parts[0])),
            DismissRefusal.NOT_DISMISSIBLE: _(
                "A risk declared by the department or an overdue deadline cannot be dismissed."
            ),
            DismissRefusal.NOT_APPLICABLE: _(
                "This reason does not apply to item {code} now."
            ).format(code=quote(parts[0])),
        }
        await message.answer(answers[error.refusal])
        return
    await message.answer(
        _(
            "Dismissed for item {code}: {reason}. It comes back when the item's data changes."
        ).format(code=quote(item.code), reason=quote(reason_label(reason)))
    )


async def short_name_command(
    message: Message, command: CommandObject, person: Person, session: AsyncSession, clock: Clock
) -> None:
    parsed = parse_new_department(command.args)
    if parsed is None or max(len(parsed.name_kk), len(parsed.name_ru)) > SHORT_NAME_LENGTH:
        await message.answer(usage_line(menus.SHORT_NAME))
        return
    try:
        department = await set_short_names(
            session,
            actor=person,
            code=parsed.code,
            kk=parsed.name_kk,
            ru=parsed.name_ru,
            now=clock.now(),
        )
    except UnknownDepartmentError:
        await message.answer(
            _("There is no department with the code {code}. See /departments.").format(
                code=quote(parsed.code)
            )
        )
        return
    await message.answer(
        _("Department <code>{code}</code> is now shown as: {kk} | {ru}").format(
            code=quote(department.code),
            kk=quote(department.short_name_kk),
            ru=quote(department.short_name_ru),
        )
    )


def create_router() -> Router:
    readers = Router(name=f"{__name__}.readers")
    for observer in (readers.message, readers.callback_query):
        observer.middleware(chair_and_secretariat_only())
    readers.message.register(summary_command, Command("summary"))
    readers.message.register(department_command, Command("dept"))
    readers.callback_query.register(item_button, ChairItem.filter())
    readers.callback_query.register(department_button, ChairDepartment.filter())
    readers.callback_query.register(ask_update_button, AskUpdate.filter())

    secretariat = Router(name=f"{__name__}.secretariat")
    secretariat.message.middleware(secretariat_only())
    secretariat.message.register(dismiss_command, Command("dismiss"))
    secretariat.message.register(short_name_command, Command("shortname"))

    router = Router(name=__name__)
    router.include_routers(readers, secretariat)
    return router

"""The chair's [Ask for an update] closes its loop: the asker hears the department's answer.

A question (`ItemQuestion`) is recorded with the request. The department's next report on the
item answers it: the asker gets that report (status, progress, comment, evidence, who) as one
message. If nobody reports by `due_at`, the end of the next working day, the asker is told so,
once. Both are outbox messages with keys of their own, so a scan that runs twice sends nothing
twice; the Save path tells the asker at once, and the alert scan catches up on anything missed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, tzinfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import update as sql_update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.text import quote
from bot.delivery.enqueue import enqueue_message
from bot.people import recipients
from bot.roadmap.views import person_name
from bot.telegram.callbacks import ChairItem, OpenItem
from bot.telegram.i18n import format_day, in_locale, pick_name
from bot.telegram.keyboards import evidence_keyboard
from bot.telegram.texts import department_name, role_label, status_label
from bot.workdays.calendar import WorkCalendar
from db import queries
from db.models import Department, ItemQuestion, Person, RoadmapItem, StatusUpdate

ANSWER_KIND = "question_answer"
UNANSWERED_KIND = "question_unanswered"
QUESTION_KIND = "item_question"
MAX_QUESTION = 1000  # characters of a question


def due_after(calendar: WorkCalendar, delivered_at: datetime) -> datetime:
    """The end of the working day after the one the request reaches the department."""
    next_day = calendar.add_working_days(delivered_at, 1).astimezone(calendar.tz).date()
    return datetime.combine(next_day, calendar.end, tzinfo=calendar.tz)


async def record_question(
    session: AsyncSession,
    *,
    item: RoadmapItem,
    actor: Person,
    calendar: WorkCalendar,
    delivered_at: datetime,
    now: datetime,
) -> ItemQuestion:
    """The ask, kept until the department answers; the caller commits."""
    question = ItemQuestion(
        item_id=item.id,  # type: ignore[arg-type]
        asked_by_id=actor.id,  # type: ignore[arg-type]
        asked_at=now,
        due_at=due_after(calendar, delivered_at),
    )
    item.awaiting_answer = True
    session.add_all([question, item])
    await session.flush()
    return question


async def add_question_text(
    session: AsyncSession,
    *,
    i18n: I18n,
    question_id: int,
    actor: Person,
    text: str,
    calendar: WorkCalendar,
    now: datetime,
) -> tuple[ItemQuestion, RoadmapItem, int] | None:
    """The asker's question in words, to the department's people (who already have the
    request): how many were told; None when the question is no longer the asker's to word."""
    question = await session.get(ItemQuestion, question_id)
    if question is None or question.asked_by_id != actor.id or question.question is not None:
        return None
    item = await queries.item_by_id(session, question.item_id)
    if item is None:
        return None
    question.question = text
    session.add(question)
    delivery_at = calendar.next_working_moment(now)
    people = await recipients.request_recipients(
        session, item.department_id, delivery_at.astimezone(calendar.tz).date()
    )
    for person in people:
        with in_locale(i18n, person.locale):
            message, keyboard = question_message(actor, item, text)
        await enqueue_message(
            session,
            key=f"question:{question_id}:{person.id}",
            kind=QUESTION_KIND,
            person=person,
            text=message,
            keyboard=keyboard,
            now=now,
            not_before=delivery_at,
        )
    await queries.add_audit(
        session, at=now, action="round.item_question", actor=actor, target=item.code
    )
    return question, item, len(people)


def question_message(
    actor: Person, item: RoadmapItem, text: str
) -> tuple[str, InlineKeyboardMarkup]:
    """What the department's people read: who asks, about which item, the question itself."""
    lines = [
        "❓ <b>"
        + _("{name} ({role}) asks about item {code}:").format(
            name=quote(person_name(actor)), role=role_label(actor.role), code=quote(item.code)
        )
        + "</b>",
        quote(pick_name(item.title_kk, item.title_ru)),
        "",
        f"«{quote(text)}»",
        "",
        _("The answer reaches them when you report the item's status."),
    ]
    assert item.id is not None
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Report the status"), callback_data=OpenItem(item_id=item.id))
    return "\n".join(lines), builder.as_markup()


async def _open_questions(
    session: AsyncSession, item_ids: Collection[int] | None
) -> Sequence[ItemQuestion]:
    statement = select(ItemQuestion).where(col(ItemQuestion.answered_at).is_(None))
    if item_ids is not None:
        if not item_ids:
            return []
        statement = statement.where(col(ItemQuestion.item_id).in_(list(item_ids)))
    return (await session.exec(statement.order_by(col(ItemQuestion.id)))).all()


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def enqueue_answers(
    session: AsyncSession,
    *,
    i18n: I18n,
    tz: tzinfo,
    now: datetime,
    item_ids: Collection[int] | None = None,
) -> int:
    """Tell each asker of an open question on these items (every item when None) the first
    report made since the ask; the caller commits. How many answers were queued."""
    told = 0
    still_open: dict[int, bool] = {}
    for question in await _open_questions(session, item_ids):
        still_open.setdefault(question.item_id, False)
        answer = (
            await session.exec(
                select(StatusUpdate, Person)
                .join(Person, col(Person.id) == StatusUpdate.author_id, isouter=True)
                .where(
                    StatusUpdate.item_id == question.item_id,
                    col(StatusUpdate.created_at) >= question.asked_at,
                )
                .order_by(col(StatusUpdate.created_at), col(StatusUpdate.id))
                .limit(1)
            )
        ).first()
        if answer is None:
            still_open[question.item_id] = True
            continue
        update, author = answer
        question.answer_id, question.answered_at = update.id, now
        session.add(question)
        asker = await session.get(Person, question.asked_by_id)
        item = await queries.item_by_id(session, question.item_id)
        if asker is None or item is None or not asker.active:
            continue
        department = await queries.department_by_id(session, item.department_id)
        with in_locale(i18n, asker.locale):
            text = answer_text(question, item, department, update, author, tz)
            keyboard = answer_keyboard(item, update, author, tz)
        told += await enqueue_message(
            session,
            key=f"answer:{question.id}",
            kind=ANSWER_KIND,
            person=asker,
            text=text,
            keyboard=keyboard,
            now=now,
        )
    for item_id, waiting in still_open.items():
        if not waiting:
            await session.exec(
                sql_update(RoadmapItem)
                .where(col(RoadmapItem.id) == item_id)
                .values(awaiting_answer=False)
            )
    return told


def answer_text(
    question: ItemQuestion,
    item: RoadmapItem,
    department: Department | None,
    update: StatusUpdate,
    author: Person | None,
    tz: tzinfo,
) -> str:
    """The department's answer as one message: status, %, comment, who and when."""
    lines = [
        "💬 <b>"
        + _("{department} answered your request on item {code}").format(
            department=quote(department_name(department)), code=quote(item.code)
        )
        + "</b>",
        quote(pick_name(item.title_kk, item.title_ru)),
    ]
    if question.question:
        lines.append(_("Your question: «{text}»").format(text=quote(question.question)))
    lines.append("")
    status = _("Status: {status}, {progress}%").format(
        status=status_label(update.status), progress=update.progress
    )
    if update.confirmation:
        status += " — " + _("no change")
    lines.append(status)
    if update.comment:
        lines.append(_("Comment: {comment}").format(comment=quote(update.comment)))
    lines.append(
        _("Answered by {author} on {date}").format(
            author=quote(person_name(author)),
            date=format_day(_utc(update.created_at).astimezone(tz).date()),
        )
    )
    return "\n".join(lines)


def answer_keyboard(
    item: RoadmapItem, update: StatusUpdate, author: Person | None, tz: tzinfo
) -> InlineKeyboardMarkup:
    """The evidence the answer carries (if any), then the item's card."""
    assert item.id is not None
    builder = InlineKeyboardBuilder()
    evidence = evidence_keyboard([(update, author)], tz)
    if evidence is not None:
        builder.attach(InlineKeyboardBuilder.from_markup(evidence))
    builder.button(text=_("Item card"), callback_data=ChairItem(item_id=item.id))
    builder.adjust(1)
    return builder.as_markup()


async def enqueue_unanswered(
    session: AsyncSession, *, i18n: I18n, tz: tzinfo, now: datetime, not_before: datetime
) -> int:
    """Tell each asker, once, of the questions nobody answered by their due time (from
    `not_before`, the next working moment); the caller commits."""
    told = 0
    for question in await _open_questions(session, None):
        if question.overdue_told_at is not None or _utc(question.due_at) > now:
            continue
        question.overdue_told_at = now
        session.add(question)
        asker = await session.get(Person, question.asked_by_id)
        item = await queries.item_by_id(session, question.item_id)
        if asker is None or item is None or not asker.active:
            continue
        department = await queries.department_by_id(session, item.department_id)
        assert item.id is not None
        with in_locale(i18n, asker.locale):
            text = _(
                "⏳ {department} has not answered your request of {date} on item {code} "
                "by the end of the next working day."
            ).format(
                department=quote(department_name(department)),
                date=format_day(_utc(question.asked_at).astimezone(tz).date()),
                code=quote(item.code),
            )
            builder = InlineKeyboardBuilder()
            builder.button(text=_("Item card"), callback_data=ChairItem(item_id=item.id))
        told += await enqueue_message(
            session,
            key=f"unanswered:{question.id}",
            kind=UNANSWERED_KIND,
            person=asker,
            text=text,
            keyboard=builder.as_markup(),
            now=now,
            not_before=not_before,
        )
    return told

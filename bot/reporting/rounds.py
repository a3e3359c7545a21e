"""A status round end to end: record it, then put one request per person into the outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.enqueue import PersonMessage, enqueue_message, enqueue_messages
from bot.people import recipients
from bot.reporting.service import RoundOutcome, recorded_round, start_round, worklists
from bot.reporting.views import item_request_message, worklist_keyboard, worklist_text
from bot.telegram.i18n import in_locale
from bot.workdays.calendar import load_calendar
from db import queries
from db.ids import row_id
from db.models import Department, Person, RoadmapItem, StatusRound

# Messages committed before the rest of a round: one claim of the outbox worker.
FIRST_BATCH = 100


async def request_now(
    session: AsyncSession,
    *,
    i18n: I18n,
    tz: ZoneInfo,
    actor: Person | None,
    department: Department | None,
    now: datetime,
    trigger: str = "manual",
    announce: Callable[[RoundOutcome], Awaitable[None]] | None = None,
    wake: Callable[[], None] | None = None,
    fence: Callable[[AsyncSession], Awaitable[None]] | None = None,
    skip_since: datetime | None = None,
) -> RoundOutcome:
    """Run a round now (one department or all), its messages delivered in working time:
    `record_round`, then `queue_requests`. Outside working hours the requests wait for the
    next working morning, which the outcome reports as `delivery_at`.

    `announce` hears of the round as soon as it is recorded (the secretariat's confirmation
    need not wait while a thousand requests are stored); the requests are queued whether or
    not it succeeds. The use case behind /request_now and the weekly schedule is
    `bot.usecases.rounds.request_round`.
    """
    outcome = await record_round(
        session,
        tz=tz,
        actor=actor,
        department=department,
        now=now,
        trigger=trigger,
        skip_since=skip_since,
        fence=fence,
    )
    try:
        if announce is not None:
            await announce(outcome)
    finally:
        await queue_requests(session, i18n=i18n, outcome=outcome, now=now, wake=wake)
    return outcome


async def record_round(
    session: AsyncSession,
    *,
    tz: ZoneInfo,
    actor: Person | None,
    department: Department | None,
    now: datetime,
    trigger: str = "manual",
    fence: Callable[[AsyncSession], Awaitable[None]] | None = None,
    skip_since: datetime | None = None,
) -> RoundOutcome:
    """Record a round and who it asks, and commit: all that the secretariat's confirmation
    reports, so it need not wait while a thousand requests are rendered and stored. A
    scheduled round's `fence` adds its `job_run` row to the same transaction (a second run of
    the same planned time fails there, whole).

    The round is not queued yet (`queued_at` is None): `queue_requests` follows at once, and
    if the process stops in between, `resume_rounds` queues it at the next start. A recorded
    round is never lost, and never sent twice (its keys are the round and the person).
    """
    calendar = await load_calendar(session, tz)
    delivery_at = calendar.next_working_moment(now)
    outcome = await start_round(
        session,
        actor=actor,
        department=department,
        now=now,
        today=delivery_at.astimezone(tz).date(),  # who is away is judged on that day
        trigger=trigger,
        skip_since=skip_since,
    )
    outcome.delivery_at = delivery_at
    if fence is not None:
        await fence(session)
    await session.commit()
    return outcome


async def queue_requests(
    session: AsyncSession,
    *,
    i18n: I18n,
    outcome: RoundOutcome,
    now: datetime,
    wake: Callable[[], None] | None = None,
) -> int:
    """Put a recorded round's requests into the outbox and mark the round queued with the
    last of them; how many messages were new.

    Each member gets one message in their language: how many items wait for an update, and
    the first page of items as buttons, rendered once per department and language. `wake`
    tells the outbox worker as soon as the first messages can go.
    """
    asked = [request for request in outcome.requests if request.people]
    works = await worklists(
        session,
        {row_id(request.department): request.items for request in asked},
        now,
    )
    not_before = outcome.delivery_at or now
    messages: list[PersonMessage] = []
    for request in asked:
        work = works[row_id(request.department)]
        rendered: dict[str | None, tuple[str, InlineKeyboardMarkup | None]] = {}  # per language
        for person in request.people:
            if person.locale not in rendered:
                with in_locale(i18n, person.locale):
                    rendered[person.locale] = (worklist_text(work, 0), worklist_keyboard(work, 0))
            text, keyboard = rendered[person.locale]
            key = f"round:{outcome.round.id}:{person.id}"
            messages.append(PersonMessage(key, "round", person, text, not_before, keyboard))
    # The first worker batch is committed (and the worker woken) before the rest is stored,
    # so sending starts while the others are written; `queued_at` is set with the last one.
    # A stop in between is resumed like any other, and the keys already stored are skipped.
    first, rest = messages[:FIRST_BATCH], messages[FIRST_BATCH:]
    added = 0
    if rest:
        added += await enqueue_messages(session, first, now=now)
        await session.commit()
        if wake is not None:
            wake()
    added += await enqueue_messages(session, rest or first, now=now)
    outcome.round.queued_at = now
    session.add(outcome.round)
    await session.commit()
    return added


async def resume_rounds(session: AsyncSession, *, i18n: I18n, tz: ZoneInfo, now: datetime) -> int:
    """Queue every round that was recorded but not queued (the process stopped between
    `record_round` and `queue_requests`); how many messages were added.

    Its people are the departments' audiences now, delivered in working time from now.
    """
    statement = select(StatusRound).where(col(StatusRound.queued_at).is_(None))
    added = 0
    for status_round in (await session.exec(statement)).all():
        delivery_at = (await load_calendar(session, tz)).next_working_moment(now)
        outcome = await recorded_round(session, status_round, delivery_at.astimezone(tz).date())
        outcome.delivery_at = delivery_at
        added += await queue_requests(session, i18n=i18n, outcome=outcome, now=now)
    return added


@dataclass(frozen=True)
class ItemRequest:
    people: int
    delivery_at: datetime


async def request_item_update(
    session: AsyncSession,
    *,
    i18n: I18n,
    tz: ZoneInfo,
    actor: Person,
    item: RoadmapItem,
    now: datetime,
) -> ItemRequest:
    """ "Ask for an update now" on one item: its department's members get a message that
    names who asks and opens that item's dialog, delivered in working time.

    It is not a round: the department's other items and its round statistics are untouched.
    A second tap within the same minute sends nothing twice.
    """
    calendar = await load_calendar(session, tz)
    delivery_at = calendar.next_working_moment(now)
    people = await recipients.request_recipients(
        session, item.department_id, delivery_at.astimezone(tz).date()
    )
    for person in people:
        with in_locale(i18n, person.locale):
            text, keyboard = item_request_message(actor, item)
        await enqueue_message(
            session,
            key=f"ask:{item.id}:{actor.id}:{person.id}:{now:%Y%m%d%H%M}",
            kind="item_request",
            person=person,
            text=text,
            keyboard=keyboard,
            now=now,
            not_before=delivery_at,
        )
    await queries.add_audit(
        session, at=now, action="round.item_request", actor=actor, target=item.code
    )
    await session.commit()
    return ItemRequest(people=len(people), delivery_at=delivery_at)

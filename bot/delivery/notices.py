"""What the secretariat hears about delivery itself: failures of the day, unreachable people."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.text import quote
from bot.delivery.enqueue import enqueue_message
from bot.people import recipients
from bot.telegram.i18n import in_locale, ngettext
from bot.workdays.calendar import WorkCalendar
from db.models import Notification, Person


async def enqueue_failure_notices(
    session: AsyncSession, *, i18n: I18n, calendar: WorkCalendar, now: datetime
) -> int:
    """One line a day to the secretariat about notifications that could not be delivered."""
    since = now - timedelta(days=1)
    failed = (
        await session.exec(
            select(func.count())
            .select_from(Notification)
            .where(Notification.state == "failed", col(Notification.created_at) >= since)
        )
    ).one()
    if not failed:
        return 0
    today = now.astimezone(calendar.tz).date().isoformat()
    count = 0
    for person in await recipients.secretariat(session):
        with in_locale(i18n, person.locale):
            text = ngettext(
                "{count} notification could not be delivered in the last 24 hours.",
                "{count} notifications could not be delivered in the last 24 hours.",
                failed,
            ).format(count=failed)
        count += await enqueue_message(
            session,
            key=f"failures:{today}:{person.id}",
            kind="failures",
            person=person,
            text=text,
            now=now,
            not_before=calendar.next_working_moment(now),
        )
    await session.commit()
    return count


async def enqueue_unreachable_notice(
    session: AsyncSession, *, i18n: I18n, person: Person, now: datetime, cause_id: int
) -> None:
    """Tell the secretariat, once, that a person blocked the bot or their chat is gone."""
    for secretary in await recipients.secretariat(session):
        if secretary.id == person.id:
            continue
        with in_locale(i18n, secretary.locale):
            text = _(
                "{name} (<code>{id}</code>) cannot be reached: they blocked the bot or deleted "
                "the chat. They will get no more messages until they write to the bot again."
            ).format(name=quote(person.display_name), id=person.telegram_id)
        await enqueue_message(
            session,
            key=f"unreachable:{person.id}:{cause_id}:{secretary.id}",
            kind="unreachable",
            person=secretary,
            text=text,
            now=now,
        )
    await session.commit()

"""Chair alerts: one message per chair when an item enters a risk state or gets worse.

The level each item was last reported at is kept in ItemRiskState, so an item that stays
at risk is not announced again; a recovered item that falls back starts a new episode and
gets a new alert. Risk events written when an update declares a risk are marked handled here.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.text import quote
from bot.delivery.enqueue import enqueue_message
from bot.reporting.views import cause_label
from bot.risk.assess import assess_items
from bot.risk.digest import departments_by_id
from bot.risk.labels import reasons_text
from bot.risk.rules import SEVERITY, ItemRisk, RiskState, RiskThresholds
from bot.telegram.callbacks import AskUpdate, ChairItem
from bot.telegram.i18n import format_day, in_locale, pick_name
from bot.telegram.texts import department_name, status_label
from db.models import Department, ItemRiskState, Person, RiskEvent, Role


def alert_text(risk: ItemRisk, department: Department | None, today: date) -> str:
    headlines = {
        RiskState.AT_RISK: "⚠️ " + _("<b>A Road Map item is at risk of not being met</b>"),
        RiskState.BLOCKED: "⛔ " + _("<b>The department says the item will not be met</b>"),
        RiskState.OVERDUE: "⏰ " + _("<b>A Road Map item is overdue</b>"),
    }
    title = quote(pick_name(risk.title_kk, risk.title_ru))
    lines = [
        headlines[risk.state],
        f"<b>{quote(risk.code)}</b> {title}",
        _("Responsible department: {name}").format(name=quote(department_name(department))),
        _("Deadline: {date}").format(date=format_day(risk.deadline)),
        _("Why: {reasons}").format(reasons=quote(reasons_text(risk, today))),
    ]
    if risk.latest_status is None:
        lines.append(_("Status: no reports yet"))
    else:
        lines.append(
            _("Status: {status}, {progress}%").format(
                status=status_label(risk.latest_status), progress=risk.latest_progress
            )
        )
    if risk.latest_cause:
        lines.append(_("Cause: {cause}").format(cause=quote(cause_label(risk.latest_cause))))
    if risk.latest_comment:
        lines.append(_("Comment: {comment}").format(comment=quote(risk.latest_comment)))
    return "\n".join(lines)


def alert_keyboard(item_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("History"), callback_data=ChairItem(item_id=item_id))
    builder.button(text=_("Ask for an update now"), callback_data=AskUpdate(item_id=item_id))
    builder.adjust(2)
    return builder.as_markup()


async def active_chairs(session: AsyncSession) -> list[Person]:
    statement = (
        select(Person)
        .where(
            Person.role == Role.CHAIR,
            col(Person.active).is_(True),
            col(Person.blocked_bot).is_(False),
        )
        .order_by(col(Person.id))
    )
    return list((await session.exec(statement)).all())


def _transition(risk: ItemRisk, known: ItemRiskState | None) -> bool:
    """Whether this assessment deserves an alert: entering a risk state, or a worse one."""
    if risk.state == RiskState.NONE:
        return False
    if known is None or known.state == RiskState.NONE:
        return True
    return SEVERITY[risk.state] > SEVERITY.get(known.state, 0)


async def enqueue_chair_alerts(
    session: AsyncSession,
    *,
    i18n: I18n,
    today: date,
    now: datetime,
    not_before: datetime,
    thresholds: RiskThresholds,
    tz: tzinfo,
) -> int:
    """Compare every item's risk with what the chair was told, alert on transitions, commit.

    Returns the number of alerts added to the outbox. Safe to run as often as wanted: the
    stored state and the idempotency keys (item, episode, state, person) prevent repeats.
    """
    risks = await assess_items(session, today=today, year=None, thresholds=thresholds, tz=tz)
    known = {row.item_id: row for row in (await session.exec(select(ItemRiskState))).all()}
    chairs = await active_chairs(session)
    departments = await departments_by_id(session)
    added = 0
    for item_id, risk in risks.items():
        state = known.get(item_id)
        reasons = ",".join(risk.reasons)
        if state is None and risk.state == RiskState.NONE:
            continue
        alert = _transition(risk, state)
        if state is None:
            state = ItemRiskState(item_id=item_id, state=RiskState.NONE, episode=0, updated_at=now)
        if state.state == risk.state and state.reasons == reasons:
            continue
        if alert and state.state == RiskState.NONE:
            state.episode += 1
        state.state, state.reasons, state.updated_at = risk.state, reasons, now
        session.add(state)
        if alert:
            added += await _enqueue_alert(
                session, risk, state.episode, chairs, departments, i18n, today, now, not_before
            )
    await session.exec(
        update(RiskEvent).where(col(RiskEvent.handled_at).is_(None)).values(handled_at=now)
    )
    await session.commit()
    return added


async def _enqueue_alert(
    session: AsyncSession,
    risk: ItemRisk,
    episode: int,
    chairs: list[Person],
    departments: dict[int, Department],
    i18n: I18n,
    today: date,
    now: datetime,
    not_before: datetime,
) -> int:
    added = 0
    for person in chairs:
        with in_locale(i18n, person.locale):
            text = alert_text(risk, departments.get(risk.department_id), today)
            keyboard = alert_keyboard(risk.item_id)
        added += await enqueue_message(
            session,
            key=f"alert:{risk.item_id}:{episode}:{risk.state}:{person.id}",
            kind="alert",
            person=person,
            text=text,
            keyboard=keyboard,
            now=now,
            not_before=not_before,
        )
    return added

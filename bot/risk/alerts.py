"""Chair alerts: the chair hears when an item enters a risk state or gets worse.

The level each item was last reported at is kept in ItemRiskState, so an item that stays
at risk is not announced again; a recovered item that falls back starts a new episode and
gets a new alert. One transition is one alert; several at once (after a round, an import, a
deadline change or the first scan) are ONE grouped message per chair. A chair gets at most
`ALERT_HOURLY_CAP` alert messages an hour: transitions beyond it are recorded but not sent,
and the next weekly digest lists them with every other item at risk. Risk events written
when an update declares a risk are marked handled here.

Most scans are incremental: every change to an item's risk inputs (an update, a deadline, an
import, a dismissal, a round or its answer for a department) leaves a mark in `risk_dirty` in
its own transaction, and the scan re-assesses only the marked items, then deletes the marks it
read. The rules also read the day (staleness, the plan line, overdue), which no mark records,
so the first scan of each day, like the nightly one, assesses every item; so does one after the
thresholds changed. Both kinds give the same states and alerts for the same changes
(tests/integration/test_alerts_incremental.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.text import quote, shorten
from bot.delivery.enqueue import enqueue_message
from bot.people import recipients
from bot.risk import questions
from bot.risk.assess import assess_items, note_stated_days
from bot.risk.digest import code_key, departments_by_id, short_title
from bot.risk.forecast_cache import refresh_forecasts
from bot.risk.labels import reasons_text, short_reasons
from bot.risk.rules import SEVERITY, ItemRisk, RiskReason, RiskState, RiskThresholds
from bot.roadmap.views import deadline_move_text, person_name
from bot.telegram.callbacks import AskUpdate, ChairItem
from bot.telegram.i18n import format_day, in_locale, ngettext, pick_name
from bot.telegram.texts import cause_label, department_name, department_short_name, status_label
from db import queries
from db.models import (
    AppSetting,
    DeadlineChange,
    Department,
    ItemRiskState,
    Notification,
    Person,
    RiskEvent,
    RoadmapItem,
    RoundRequest,
    StatusUpdate,
)

ALERT_KIND = "alert"
FULL_SCAN_KEY = "risk_full_scan"  # app_setting: the day and thresholds of the last full scan
# Beyond this many changed items (an import, a round for everyone) one full assessment is as
# cheap as a filtered one, and the item list stays far below the databases' parameter limits.
INCREMENTAL_LIMIT = 10_000
GROUP_ITEM_LIMIT = 30  # items listed (and buttons) in one grouped message
BUTTON_LIMIT = 40  # characters of an item button, one per row
HEADLINES = {
    RiskState.AT_RISK: "⚠️",
    RiskState.BLOCKED: "⛔",
    RiskState.OVERDUE: "⏰",
}


@dataclass(frozen=True)
class Transition:
    """An item that entered a risk state or a worse one in this scan."""

    risk: ItemRisk
    episode: int
    reporter: str | None
    moves: Sequence[tuple[DeadlineChange, Person | None]] = ()
    corrected: bool = False  # the newest report is a correction of an earlier one


def alert_text(
    risk: ItemRisk,
    department: Department | None,
    today: date,
    reporter: str | None = None,
    moves: Sequence[tuple[DeadlineChange, Person | None]] = (),
    tz: tzinfo = UTC,
    corrected: bool = False,
) -> str:
    """The alert names each cause's actor: a declared risk is the department's report (who,
    when); a moved deadline is the secretariat's decision (who, how, when); any other report
    is shown as the last report, never as the source of the alert."""
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
    if moves:
        lines.append(deadline_move_text(*moves[0], tz, count=len(moves)))
    if risk.latest_status is None:
        lines.append(_("Status: no reports yet"))
    else:
        lines.append(
            _("Status: {status}, {progress}%").format(
                status=status_label(risk.latest_status), progress=risk.latest_progress
            )
        )
        if risk.facts.latest_day is not None:
            if RiskReason.DECLARED in risk.reasons:  # the report is the cause
                said = _("Reported by {author} on {date}")
            else:
                said = _("Last report: {author}, {date}")
            lines.append(
                said.format(author=quote(reporter or "—"), date=format_day(risk.facts.latest_day))
            )
            if corrected:
                lines.append("✏️ " + _("Corrected: the department changed its earlier report."))
    if risk.latest_cause and RiskReason.DECLARED not in risk.reasons:  # the reason names it
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
    hourly_cap: int,
    only_changed: bool = False,
) -> int:
    """Compare items' risk with what the chair was told, alert on transitions, commit.

    Every item, or with `only_changed` the items marked since the last scan (every item
    all the same when no full scan has run today with these thresholds). Returns the number
    of alerts added to the outbox. Safe to run as often as wanted: the stored state and the
    idempotency keys (item, episode, state, person) prevent repeats.
    """
    marks = await queries.risk_marks(session)
    full_stamp = f"{today.isoformat()} {thresholds!r}"
    scope: set[int] | None = None
    if only_changed and not await _full_scan_due(session, full_stamp):
        scope = set(marks.item_ids)
        scope |= await _request_scope(session, marks.department_ids, thresholds)
        if not scope:  # nothing changed: only the questions nobody answered in time
            told = await questions.enqueue_unanswered(
                session, i18n=i18n, tz=tz, now=now, not_before=not_before
            )
            await session.commit()
            return told
        if len(scope) > INCREMENTAL_LIMIT:
            scope = None
    risks = await assess_items(
        session, today=today, year=None, thresholds=thresholds, tz=tz, item_ids=scope
    )
    # The forecasts of the marked items (a history changed), in the transaction that consumes
    # their marks: a reader trusts a stored one only while no mark names its item. A full scan
    # also stores those no mark ever named (items added before the table, in bulk).
    await refresh_forecasts(
        session, tz=tz, today=today, changed=marks.item_ids, every_stale=scope is None
    )
    pending = _record_states(session, risks, await _known_states(session, scope), now)
    added = 0
    if pending:
        added = await _alert_chairs(
            session, pending, i18n, today, now, not_before, hourly_cap=hourly_cap, tz=tz
        )
    # The chair's questions: answers a Save did not pass on (a crash between two commits), and
    # those nobody answered in time (told once).
    added += await questions.enqueue_answers(session, i18n=i18n, tz=tz, now=now, item_ids=scope)
    added += await questions.enqueue_unanswered(
        session, i18n=i18n, tz=tz, now=now, not_before=not_before
    )
    handled = update(RiskEvent).where(col(RiskEvent.handled_at).is_(None))
    if scope is not None:
        handled = handled.where(col(RiskEvent.item_id).in_(list(scope)))
    await session.exec(handled.values(handled_at=now))
    await queries.consume_risk_marks(session, marks)
    if scope is None:
        await _record_full_scan(session, full_stamp, now)
    await session.commit()
    return added


def _record_states(
    session: AsyncSession,
    risks: dict[int, ItemRisk],
    known: dict[int, ItemRiskState],
    now: datetime,
) -> list[tuple[ItemRisk, int]]:
    """Store each assessed item's new level; the transitions worth an alert, with episodes."""
    pending: list[tuple[ItemRisk, int]] = []
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
            pending.append((risk, state.episode))
    return pending


async def _alert_chairs(
    session: AsyncSession,
    pending: list[tuple[ItemRisk, int]],
    i18n: I18n,
    today: date,
    now: datetime,
    not_before: datetime,
    *,
    hourly_cap: int,
    tz: tzinfo,
) -> int:
    reporters = await _reporters(session, [risk for risk, _episode in pending])
    corrected = await _corrected(session, [risk for risk, _episode in pending])
    await note_stated_days(session, [risk for risk, _episode in pending], tz)
    moves = await queries.deadline_moves(session, [risk.item_id for risk, _episode in pending])
    transitions = sorted(
        (
            Transition(
                risk,
                episode,
                reporters.get(risk.item_id),
                moves.get(risk.item_id, ()),
                risk.item_id in corrected,
            )
            for risk, episode in pending
        ),
        key=lambda t: (-SEVERITY[t.risk.state], code_key(t.risk.code)),
    )
    departments = await departments_by_id(session)
    added = 0
    due = max(now, not_before)
    for person in await recipients.chairs(session):
        if await _alerts_due_within_the_hour(session, person, due) >= hourly_cap:
            continue  # folded into the next digest, which lists every item at risk
        added += await _enqueue_for(
            session, person, transitions, departments, i18n, today, now, not_before, tz
        )
    return added


async def _request_scope(
    session: AsyncSession, department_ids: frozenset[int], thresholds: RiskThresholds
) -> set[int]:
    """The items of departments with a new or newly answered request whose reasons may move.

    Requests count toward one reason only, stale, and only once all of the department's newest
    `missed_rounds` requests are unanswered (the rule in rules.py, as assess.py counts them;
    an item counts a subset, those made since it was added). So while a department is below
    that, none of its items is stale by requests: only those the chair was last told are stale
    may have changed. At or above it, every item of the department may have.
    """
    scope: set[int] = set()
    quiet: list[int] = []
    for department_id in sorted(department_ids):
        if await _missed_every_recent_request(session, department_id, thresholds.missed_rounds):
            scope |= await queries.department_item_ids(session, [department_id])
        else:
            quiet.append(department_id)
    if quiet:
        stale = (
            select(ItemRiskState.item_id)
            .join(RoadmapItem, col(RoadmapItem.id) == ItemRiskState.item_id)
            .where(
                col(RoadmapItem.department_id).in_(quiet),
                col(ItemRiskState.reasons).contains(RiskReason.STALE.value),
            )
        )
        scope.update((await session.exec(stale)).all())
    return scope


async def _missed_every_recent_request(
    session: AsyncSession, department_id: int, rounds: int
) -> bool:
    if rounds <= 0:
        return False
    newest = (
        select(RoundRequest.answered_at)
        .where(RoundRequest.department_id == department_id, col(RoundRequest.excused).is_(False))
        .order_by(col(RoundRequest.requested_at).desc(), col(RoundRequest.id).desc())
        .limit(rounds)
    )
    answers = (await session.exec(newest)).all()
    return len(answers) >= rounds and all(answered is None for answered in answers)


async def _full_scan_due(session: AsyncSession, stamp: str) -> bool:
    stored = await session.get(AppSetting, FULL_SCAN_KEY)
    return stored is None or stored.value != stamp


async def _record_full_scan(session: AsyncSession, stamp: str, now: datetime) -> None:
    stored = await session.get(AppSetting, FULL_SCAN_KEY)
    if stored is not None:
        stored.value, stored.updated_at = stamp, now
        session.add(stored)
        return
    try:
        async with session.begin_nested():  # another process's first full scan may win
            session.add(AppSetting(key=FULL_SCAN_KEY, value=stamp, updated_at=now))
    except IntegrityError:
        pass  # it recorded a full scan just now: the same day, the same thresholds


async def _known_states(
    session: AsyncSession, item_ids: set[int] | None
) -> dict[int, ItemRiskState]:
    """What the chair was last told about these items (every item when None)."""
    statement = select(ItemRiskState)
    if item_ids is not None:
        statement = statement.where(col(ItemRiskState.item_id).in_(list(item_ids)))
    return {row.item_id: row for row in (await session.exec(statement)).all()}


async def _corrected(session: AsyncSession, risks: list[ItemRisk]) -> set[int]:
    """The items whose newest update is a correction ("Edit my last update", issue 22)."""
    update_ids = {risk.latest_update_id: risk.item_id for risk in risks if risk.latest_update_id}
    if not update_ids:
        return set()
    rows = await session.exec(
        select(col(StatusUpdate.id)).where(
            col(StatusUpdate.id).in_(list(update_ids)), col(StatusUpdate.corrects_id).is_not(None)
        )
    )
    return {update_ids[update_id] for update_id in rows.all() if update_id in update_ids}


async def _reporters(session: AsyncSession, risks: list[ItemRisk]) -> dict[int, str]:
    """Item id → who wrote its newest update: "name, position" as registered."""
    update_ids = {risk.latest_update_id: risk.item_id for risk in risks if risk.latest_update_id}
    if not update_ids:
        return {}
    rows = await session.exec(
        select(col(StatusUpdate.id), Person)
        .join(Person, col(Person.id) == StatusUpdate.author_id)
        .where(col(StatusUpdate.id).in_(list(update_ids)))
    )
    return {
        update_ids[update_id]: person_name(person) for update_id, person in rows.all() if update_id
    }


async def _alerts_due_within_the_hour(session: AsyncSession, person: Person, due: datetime) -> int:
    """The chair's alerts that go out in the hour before `due` (or after it). Counted by when
    they reach the phone, not when they were made: the alerts of an evening, held to the next
    working morning, would otherwise all arrive together at 09:00."""
    statement = select(func.count()).where(
        Notification.person_id == person.id,
        Notification.kind == ALERT_KIND,
        col(Notification.not_before) > due - timedelta(hours=1),
    )
    return int((await session.exec(statement)).one())


async def _enqueue_for(
    session: AsyncSession,
    person: Person,
    transitions: list[Transition],
    departments: dict[int, Department],
    i18n: I18n,
    today: date,
    now: datetime,
    not_before: datetime,
    tz: tzinfo,
) -> int:
    """One alert for one transition; one grouped message for several."""
    with in_locale(i18n, person.locale):
        if len(transitions) == 1:
            (single,) = transitions
            risk = single.risk
            key = f"alert:{risk.item_id}:{single.episode}:{risk.state}:{person.id}"
            text = alert_text(
                risk,
                departments.get(risk.department_id),
                today,
                single.reporter,
                single.moves,
                tz,
                single.corrected,
            )
            keyboard = alert_keyboard(risk.item_id)
        else:
            key = f"alerts:{_group_stamp(transitions)}:{person.id}"
            text = group_text(transitions, departments)
            keyboard = group_keyboard(transitions)
    added = await enqueue_message(
        session,
        key=key,
        kind=ALERT_KIND,
        person=person,
        text=text,
        keyboard=keyboard,
        now=now,
        not_before=not_before,
    )
    return int(added)


def _group_stamp(transitions: list[Transition]) -> str:
    """The same transitions give the same key: a repeated scan adds nothing."""
    parts = sorted(f"{t.risk.item_id}:{t.episode}:{t.risk.state}" for t in transitions)
    return hashlib.sha256(",".join(parts).encode()).hexdigest()[:24]


def group_text(transitions: list[Transition], departments: dict[int, Department]) -> str:
    """Several items newly at risk: a count, then the items by department, worst first."""
    count = len(transitions)
    lines = [
        "⚠️ <b>"
        + ngettext("{count} item newly at risk", "{count} items newly at risk", count).format(
            count=count
        )
        + "</b>"
    ]
    shown = transitions[:GROUP_ITEM_LIMIT]
    grouped: dict[int, list[Transition]] = {}
    for transition in shown:
        grouped.setdefault(transition.risk.department_id, []).append(transition)
    order = sorted(grouped, key=lambda dept: (-len(grouped[dept]), _name(departments, dept)))
    for dept in order:
        lines.append("")
        lines.append(f"<b>{quote(_name(departments, dept))}</b> — {len(grouped[dept])}")
        for transition in grouped[dept]:
            risk = transition.risk
            lines.append(
                f"{HEADLINES[risk.state]} <b>{quote(risk.code)}</b> "
                f"{quote(shorten(short_title(risk), 80))} — <i>{quote(short_reasons(risk))}</i>"
            )
    if count > len(shown):
        lines.append("")
        lines.append(_("…and {count} more: see /summary.").format(count=count - len(shown)))
    return "\n".join(lines)


def _name(departments: dict[int, Department], department_id: int) -> str:
    """The short name, as the digest shows it (B11): the full names were a line each."""
    return department_short_name(departments.get(department_id))


def group_keyboard(transitions: list[Transition]) -> InlineKeyboardMarkup:
    """A button per listed item, one per row, opening its card and history."""
    builder = InlineKeyboardBuilder()
    for transition in transitions[:GROUP_ITEM_LIMIT]:
        risk = transition.risk
        label = f"{risk.code} {pick_name(risk.title_kk, risk.title_ru)}"
        builder.button(
            text=shorten(label, BUTTON_LIMIT), callback_data=ChairItem(item_id=risk.item_id)
        )
    builder.adjust(1)  # two per row were cut again by Telegram, leaving only the codes
    return builder.as_markup()

"""Status collection: rounds of requests, department worklists and saving an update.

Plain functions over the session; they flush, and the use cases (bot/usecases/reporting.py)
commit. The dialog's steps are declared in dialog.py; the rules a saved update must respect
are checked again here, at save time, whatever the dialog believed when it started.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Any, cast

from sqlalchemy import bindparam, func, insert, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.people.recipients import DepartmentAudience, department_audiences
from db import queries
from db.ids import row_id
from db.models import (
    Department,
    ItemStatus,
    Person,
    RiskEvent,
    RoadmapItem,
    Role,
    RoundRequest,
    StatusRound,
    StatusUpdate,
)

PAGE_SIZE = 8
MAX_COMMENT_LENGTH = 1000
PROGRESS_CHOICES = (0, 25, 50, 75, 100)
SPOKEN_EVIDENCE = frozenset({"voice", "video_note"})  # evidence that still wants a typed comment
RISK_STATUSES = frozenset({ItemStatus.AT_RISK, ItemStatus.BLOCKED})
_PROGRESS_TEXT = re.compile(r"^\s*(\d{1,3})\s*%?\s*$")
_PERCENT_IN_TEXT = re.compile(r"(?<![\d.,])(\d{1,3})\s*%")


class ReportRefusal(StrEnum):
    NOT_FOUND = "not_found"
    NOT_YOUR_DEPARTMENT = "not_your_department"
    ARCHIVED = "archived"
    ALREADY_DONE = "done"


class ReportRefusedError(Exception):
    def __init__(self, reason: ReportRefusal) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_progress(text: str | None) -> int | None:
    """A whole number 0–100, with or without a percent sign."""
    match = _PROGRESS_TEXT.fullmatch(text or "")
    if match is None:
        return None
    value = int(match.group(1))
    return value if 0 <= value <= 100 else None


def percent_in(text: str | None) -> int | None:
    """The one percent a sentence names («готовность 80%, сдадим к 25 декабря» → 80); None
    when it names none, several different ones, or one out of range."""
    found = {int(value) for value in _PERCENT_IN_TEXT.findall(text or "")}
    if len(found) != 1:
        return None
    value = found.pop()
    return value if 0 <= value <= 100 else None


def clean_comment(text: str | None) -> str | None:
    """The comment as typed, trimmed; None when empty or longer than allowed."""
    comment = (text or "").strip()
    if not comment or len(comment) > MAX_COMMENT_LENGTH:
        return None
    return comment


def needs_explanation(status: str) -> bool:
    """At risk and blocked need a cause and a comment: what blocks it, what help is needed."""
    return status in RISK_STATUSES


class SanityWarning(StrEnum):
    ON_TRACK_PAST_DEADLINE = "on_track_past_deadline"
    PROGRESS_BACK = "progress_back"


def sanity_warnings(
    draft: Draft, item: RoadmapItem, previous: StatusUpdate | None, today: date
) -> list[SanityWarning]:
    """What looks like a slip before Save: the head confirms it with one more tap."""
    warnings = []
    if draft.status == ItemStatus.ON_TRACK and item.deadline < today:
        warnings.append(SanityWarning.ON_TRACK_PAST_DEADLINE)
    if (
        previous is not None
        and draft.progress is not None
        and draft.status != ItemStatus.DONE
        and draft.progress < previous.progress
    ):
        warnings.append(SanityWarning.PROGRESS_BACK)
    return warnings


@dataclass
class Draft:
    """What the dialog has collected so far; kept in FSM data between steps."""

    item_id: int
    status: str | None = None
    progress: int | None = None
    cause: str | None = None
    comment: str | None = None
    evidence_kind: str | None = None
    evidence_file_id: str | None = None
    evidence_unique_id: str | None = None
    evidence_name: str | None = None
    warned: bool = False  # the head has seen this draft's sanity warnings once
    comment_message_id: int | None = None  # the chat message the comment came from (edits)
    offered_progress: int | None = None  # a percent found in free text: one tap accepts it
    same: bool = False  # "no change" held back by a warning: Save repeats the last report
    corrects: int | None = None  # "Edit my last update": Save corrects this update instead

    def to_data(self) -> dict[str, object]:
        return {"draft": self.__dict__.copy()}

    @classmethod
    def from_data(cls, data: dict[str, object]) -> Draft | None:
        raw = data.get("draft")
        if not isinstance(raw, dict) or not isinstance(raw.get("item_id"), int):
            return None

        def text(key: str) -> str | None:
            value = raw.get(key)
            return value if isinstance(value, str) else None

        progress = raw.get("progress")
        message_id = raw.get("comment_message_id")
        offered = raw.get("offered_progress")
        corrects = raw.get("corrects")
        return cls(
            item_id=raw["item_id"],
            status=text("status"),
            progress=progress if isinstance(progress, int) else None,
            cause=text("cause"),
            comment=text("comment"),
            evidence_kind=text("evidence_kind"),
            evidence_file_id=text("evidence_file_id"),
            evidence_unique_id=text("evidence_unique_id"),
            evidence_name=text("evidence_name"),
            warned=raw.get("warned") is True,
            comment_message_id=message_id if isinstance(message_id, int) else None,
            offered_progress=offered if isinstance(offered, int) else None,
            same=raw.get("same") is True,
            corrects=corrects if isinstance(corrects, int) else None,
        )


def _latest_status_subquery():
    return (
        select(StatusUpdate.status)
        .where(StatusUpdate.item_id == RoadmapItem.id)
        .order_by(col(StatusUpdate.created_at).desc(), col(StatusUpdate.id).desc())
        .limit(1)
        .correlate(RoadmapItem)
        .scalar_subquery()
    )


def _open_condition():
    latest = _latest_status_subquery()
    return (col(RoadmapItem.archived).is_(False)) & or_(latest.is_(None), latest != ItemStatus.DONE)


async def open_items(session: AsyncSession, department_id: int) -> Sequence[RoadmapItem]:
    """Items of the department that are neither done nor archived, nearest deadline first."""
    statement = (
        select(RoadmapItem)
        .where(RoadmapItem.department_id == department_id, _open_condition())
        .order_by(col(RoadmapItem.deadline), col(RoadmapItem.code))
    )
    return (await session.exec(statement)).all()


async def open_items_by_department(
    session: AsyncSession, department_ids: Sequence[int]
) -> dict[int, list[RoadmapItem]]:
    """`open_items` of several departments in one query (a round for all of them)."""
    grouped: dict[int, list[RoadmapItem]] = {department_id: [] for department_id in department_ids}
    statement = (
        select(RoadmapItem)
        .where(col(RoadmapItem.department_id).in_(list(department_ids)), _open_condition())
        .order_by(col(RoadmapItem.deadline), col(RoadmapItem.code))
    )
    for item in (await session.exec(statement)).all():
        grouped[item.department_id].append(item)
    return grouped


async def departments_with_open_items(session: AsyncSession) -> Sequence[Department]:
    with_open = select(RoadmapItem.department_id).where(_open_condition()).distinct()
    statement = (
        select(Department).where(col(Department.id).in_(with_open)).order_by(col(Department.code))
    )
    return (await session.exec(statement)).all()


@dataclass(frozen=True)
class Worklist:
    """A department's open items, which of them were updated in the current round, and each
    item's newest report (what a "no change" would confirm)."""

    items: Sequence[RoadmapItem]
    updated_ids: frozenset[int]
    latest: Mapping[int, StatusUpdate] = field(default_factory=dict)

    @property
    def waiting(self) -> list[RoadmapItem]:
        return [item for item in self.items if item.id not in self.updated_ids]

    def can_confirm(self, item: RoadmapItem) -> bool:
        """Waiting, with an earlier report that is not "done": ✓ may repeat it."""
        return row_id(item) not in self.updated_ids and confirmable(self.latest.get(row_id(item)))

    @property
    def confirmable(self) -> list[RoadmapItem]:
        return [item for item in self.items if self.can_confirm(item)]

    def page(self, number: int) -> tuple[list[RoadmapItem], int, int]:
        """The items of one page, the page number actually shown, and the number of pages."""
        pages = max(1, -(-len(self.items) // PAGE_SIZE))
        number = min(max(number, 0), pages - 1)
        return list(self.items[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]), number, pages

    def next_waiting(self, after_item_id: int | None = None) -> RoadmapItem | None:
        waiting = [item for item in self.waiting if item.id != after_item_id]
        return waiting[0] if waiting else None


async def worklist(session: AsyncSession, department_id: int, since: datetime) -> Worklist:
    """Open items, and those updated since the department's last request (or `since`)."""
    items = await open_items(session, department_id)
    return (await worklists(session, {department_id: items}, since))[department_id]


async def worklists(
    session: AsyncSession, items: Mapping[int, Sequence[RoadmapItem]], since: datetime
) -> dict[int, Worklist]:
    """The worklists of several departments from their open items, in two queries whatever
    their number (a round renders one for every department).

    An item counts as updated when its newest report is not older than the department's
    last request (or `since`).
    """
    requested: dict[int, datetime] = {}
    if items:
        statement = (
            select(RoundRequest.department_id, func.max(RoundRequest.requested_at))
            .where(col(RoundRequest.department_id).in_(list(items)))
            .group_by(col(RoundRequest.department_id))
        )
        requested = dict((await session.exec(statement)).all())
    ids = [item.id for department_items in items.values() for item in department_items]
    latest = await latest_updates(session, ids)  # type: ignore[arg-type]
    result: dict[int, Worklist] = {}
    for department_id, department_items in items.items():
        cutoff = requested.get(department_id) or since
        mine = {item.id: latest[item.id] for item in department_items if item.id in latest}
        updated = frozenset(
            item_id for item_id, update in mine.items() if update.created_at >= cutoff
        )
        result[department_id] = Worklist(items=department_items, updated_ids=updated, latest=mine)
    return result


async def answered_this_round(session: AsyncSession, department_id: int, since: datetime) -> int:
    """How many of the department's items were reported on since its last request (or
    `since`), in one statement: what Cancel mid-round says stays saved."""
    last_request = (
        select(func.max(RoundRequest.requested_at))
        .where(RoundRequest.department_id == department_id)
        .scalar_subquery()
    )
    statement = (
        select(func.count(func.distinct(StatusUpdate.item_id)))
        .join(RoadmapItem, col(RoadmapItem.id) == StatusUpdate.item_id)
        .where(
            RoadmapItem.department_id == department_id,
            col(StatusUpdate.created_at) >= func.coalesce(last_request, since),
        )
    )
    return int((await session.exec(statement)).one())


@dataclass(frozen=True)
class SaveAhead:
    """What saving a report needs besides the item, read with it before a Save tap is handled
    (`person_with_item_ahead`): the department's current round request, which the report may
    answer, and its next waiting item after this one. The Save's transaction then holds its
    writes only."""

    request: RoundRequest | None
    following: ItemSnapshot | None


@dataclass(frozen=True)
class ItemSnapshot:
    """An item as a dialog step shows it: the item, its newest report and that report's author,
    read together in one statement (never kept beyond the update that read it); for a Save
    tap, with what the Save needs ahead."""

    item: RoadmapItem
    latest: StatusUpdate | None
    author: Person | None
    ahead: SaveAhead | None = None


def _waiting(item: Any, department: Any, after_item: Any, since: Any) -> list[Any]:
    """The worklist's rule for a waiting item, on `item` (the table or an alias): the
    department's open item, other than `after_item`, without a report since the department's
    last request (or `since`). The newest update's time and "done" are on the item (kept by
    the database, migration 0016) and in the key of ix_roadmap_item_department_waiting: done
    items are outside the walk, and the items already reported are skipped inside the index,
    without reading their rows or their updates."""
    requests = aliased(RoundRequest)
    last_request = (
        select(func.max(requests.requested_at))
        .where(requests.department_id == department)
        .correlate(None)
        .scalar_subquery()
    )
    cutoff = func.coalesce(last_request, since)
    return [
        item.department_id == department,
        item.archived.is_(False),
        item.last_update_done.is_(False),
        item.id != after_item,
        or_(item.last_update_at.is_(None), item.last_update_at < cutoff),
    ]


def _newest_request(requests: Any, department: Any, selected: Any) -> Any:
    """`selected` of the department's current round request: its newest, by time, then id
    (`requests` is the table or an alias)."""
    return (
        select(selected)
        .where(requests.department_id == department)
        .order_by(col(requests.requested_at).desc(), col(requests.id).desc())
        .limit(1)
    )


def _since_param() -> Any:
    """`since` bound with the column's type, so an aware moment is stored-format UTC like it."""
    return bindparam("since", type_=cast(Any, RoundRequest).__table__.c.requested_at.type)


@cache
def _next_waiting_statement() -> Any:
    """Built once: the department's first waiting item in the worklist's order (deadline,
    code), with its newest report and author."""
    latest = aliased(StatusUpdate)
    author = aliased(Person)
    waiting = _waiting(
        RoadmapItem, bindparam("department_id"), bindparam("after_item_id"), _since_param()
    )
    return (
        select(RoadmapItem, latest, author)
        .select_from(RoadmapItem)
        .join(latest, col(latest.id) == col(RoadmapItem.last_update_id), isouter=True)
        .join(author, col(author.id) == latest.author_id, isouter=True)
        .where(*waiting)
        .order_by(col(RoadmapItem.deadline), col(RoadmapItem.code))
        .limit(1)
    )


async def next_waiting_item(
    session: AsyncSession, department_id: int, since: datetime, *, after_item_id: int
) -> ItemSnapshot | None:
    """`worklist(...).next_waiting(after_item_id)` with its newest report and author, in one
    indexed statement instead of the whole worklist (what a Save asks after every report)."""
    params = {"department_id": department_id, "since": since, "after_item_id": after_item_id}
    found = (await session.exec(_next_waiting_statement(), params=params)).first()
    if found is None:
        return None
    item, latest, author = found
    return ItemSnapshot(item, latest, author)


@cache
def _person_with_item_ahead_statement() -> Any:
    """Built once: `queries.person_with_item`'s statement, joined with the item's department's
    newest round request and its first waiting item other than this one (with that item's
    newest report and author). Every subquery is uncorrelated, bound to the item's id: the
    database runs each once and finds its rows by their keys."""
    request, following = aliased(RoundRequest), aliased(RoadmapItem)
    following_latest, following_author = aliased(StatusUpdate), aliased(Person)
    items, requests, waiting = aliased(RoadmapItem), aliased(RoundRequest), aliased(RoadmapItem)
    department = (
        select(items.department_id)
        .where(items.id == bindparam("item_id"))
        .correlate(None)
        .scalar_subquery()
    )
    newest = _newest_request(requests, department, requests.id)
    request_id = newest.correlate(None).scalar_subquery()
    following_id = (
        select(waiting.id)
        .where(*_waiting(waiting, department, bindparam("item_id"), _since_param()))
        .order_by(col(waiting.deadline), col(waiting.code))
        .limit(1)
        .correlate(None)
        .scalar_subquery()
    )
    return (
        queries.person_with_item_statement()
        .add_columns(request, following, following_latest, following_author)
        .join(request, request.id == request_id, isouter=True)
        .join(following, following.id == following_id, isouter=True)
        .join(following_latest, following_latest.id == following.last_update_id, isouter=True)
        .join(following_author, following_author.id == following_latest.author_id, isouter=True)
    )


async def person_with_item_ahead(
    session: AsyncSession, telegram_id: int, item_id: int, since: datetime
) -> tuple[Person | None, ItemSnapshot | None]:
    """`queries.person_with_item` for a tap that may save a report: the snapshot carries what
    the Save needs ahead (`SaveAhead`, the next waiting item as `next_waiting_item` with
    `since` would find it after this item's report), in the same one statement."""
    params = {"telegram_id": telegram_id, "item_id": item_id, "since": since}
    found = (await session.exec(_person_with_item_ahead_statement(), params=params)).first()
    if found is None:
        return None, None
    person, item, latest, author, request, following, following_latest, following_author = found
    if item is None:
        return person, None
    after = ItemSnapshot(following, following_latest, following_author) if following else None
    return person, ItemSnapshot(item, latest, author, SaveAhead(request, after))


@dataclass
class DepartmentRequest:
    department: Department
    item_count: int
    people: Sequence[Person]
    items: Sequence[RoadmapItem] = ()  # the open items the request is about


@dataclass
class RoundOutcome:
    round: StatusRound
    requests: list[DepartmentRequest] = field(default_factory=list)
    delivery_at: datetime | None = (
        None  # when the requests go out: now, or the next working morning
    )
    # Open items left out because their department updated them recently (/request_now).
    skipped: list[RoadmapItem] = field(default_factory=list)

    @property
    def people_count(self) -> int:
        return sum(len(request.people) for request in self.requests)

    @property
    def departments_without_people(self) -> list[Department]:
        return [request.department for request in self.requests if not request.people]

    @property
    def departments_asked(self) -> int:
        return sum(1 for request in self.requests if request.people)


async def start_round(
    session: AsyncSession,
    *,
    actor: Person | None,
    department: Department | None,
    now: datetime,
    today: date,
    trigger: str = "manual",
    skip_since: datetime | None = None,
) -> RoundOutcome:
    """Record a round for one department or every department with open items; items
    updated at `skip_since` or later are left out (`outcome.skipped`), and a department
    with nothing else open is not asked.

    The caller enqueues the messages in the same transaction and commits, so a round is
    never recorded without its requests, nor sent without being recorded.
    """
    targets = [department] if department else list(await departments_with_open_items(session))
    status_round = StatusRound(
        started_at=now,
        started_by_id=actor.id if actor else None,
        department_id=department.id if department else None,
        trigger=trigger,
    )
    session.add(status_round)
    await session.flush()
    outcome = RoundOutcome(round=status_round)
    recorded: list[dict[str, object]] = []
    requests = _department_requests(session, targets, today, skip_since, outcome.skipped)
    async for request, audience in requests:
        # A department can only miss a request that reached someone; one whose people are all
        # away is recorded as excused, so the away window is not counted against it.
        if request.people or audience.everybody_away:
            recorded.append(
                {
                    "round_id": status_round.id,
                    "department_id": request.department.id,
                    "item_count": request.item_count,
                    "people_count": len(request.people),
                    "requested_at": now,
                    "excused": audience.everybody_away,
                }
            )
        outcome.requests.append(request)
    if recorded:  # one executemany, not one INSERT per department as ORM objects would be
        connection = await session.connection()
        await connection.execute(insert(RoundRequest), recorded)
        # A new request may count as missed for every item of its department.
        await queries.mark_risk_dirty(
            session,
            now=now,
            department_ids=[cast(int, row["department_id"]) for row in recorded],
        )
    if actor is not None:
        await queries.add_audit(
            session,
            at=now,
            action="round.start",
            actor=actor,
            target=department.code if department else "all",
            details=f"round #{status_round.id}: {len(outcome.requests)} departments, "
            f"{outcome.people_count} people",
        )
    return outcome


def updated_since(item: RoadmapItem, moment: datetime) -> bool:
    """The item's newest update is at `moment` or later."""
    return item.last_update_at is not None and item.last_update_at >= moment


async def _department_requests(
    session: AsyncSession,
    targets: Sequence[Department],
    today: date,
    skip_since: datetime | None = None,
    skipped: list[RoadmapItem] | None = None,
) -> AsyncIterator[tuple[DepartmentRequest, DepartmentAudience]]:
    """Each target with open items, with who gets its request `today`: a few queries for
    every department at once. Items updated at `skip_since` or later go to `skipped`."""
    target_ids: list[int] = [row_id(target) for target in targets]
    open_by_department = await open_items_by_department(session, target_ids)
    audiences = await department_audiences(session, target_ids, today)
    for target in targets:
        items = open_by_department[row_id(target)]
        if skip_since is not None:
            recent = [item for item in items if updated_since(item, skip_since)]
            items = [item for item in items if not updated_since(item, skip_since)]
            if skipped is not None:
                skipped.extend(recent)
        if items:
            audience = audiences[row_id(target)]
            yield DepartmentRequest(target, len(items), audience.people, items), audience


async def recorded_round(
    session: AsyncSession, status_round: StatusRound, today: date
) -> RoundOutcome:
    """A round recorded earlier, as `start_round` returned it: the departments it asked,
    with their open items and who gets the request `today`."""
    asked = select(RoundRequest.department_id).where(
        RoundRequest.round_id == status_round.id, col(RoundRequest.people_count) > 0
    )
    statement = (
        select(Department).where(col(Department.id).in_(asked)).order_by(col(Department.code))
    )
    targets = (await session.exec(statement)).all()
    outcome = RoundOutcome(round=status_round)
    async for request, _audience in _department_requests(session, targets, today):
        outcome.requests.append(request)
    return outcome


async def reportable_item(session: AsyncSession, person: Person, item_id: int) -> RoadmapItem:
    """The item, if this person may report on it now; otherwise ReportRefusedError."""
    item = await session.get(RoadmapItem, item_id)
    if item is None:
        raise ReportRefusedError(ReportRefusal.NOT_FOUND)
    if person.role != Role.MEMBER or person.department_id != item.department_id:
        raise ReportRefusedError(ReportRefusal.NOT_YOUR_DEPARTMENT)
    if item.archived:
        raise ReportRefusedError(ReportRefusal.ARCHIVED)
    return item


@dataclass(frozen=True)
class SavedUpdate:
    update: StatusUpdate
    risk_event: RiskEvent | None


def _report_of(draft: Draft, *, item_id: int, author_id: int, now: datetime) -> StatusUpdate:
    """The report a finished draft makes, a first report and a correction alike; an unfinished
    draft, or a risk without its cause and comment, is refused."""
    if draft.status not in set(ItemStatus) or draft.progress is None:
        raise ValueError("incomplete draft")
    if needs_explanation(draft.status) and not (draft.comment and draft.cause):
        raise ValueError("a risk needs a cause and a comment")
    return StatusUpdate(
        item_id=item_id,
        author_id=author_id,
        status=draft.status,
        progress=100 if draft.status == ItemStatus.DONE else draft.progress,
        comment=draft.comment,
        cause=draft.cause if needs_explanation(draft.status) else None,
        evidence_kind=draft.evidence_kind,
        evidence_file_id=draft.evidence_file_id,
        evidence_unique_id=draft.evidence_unique_id,
        evidence_name=draft.evidence_name,
        created_at=now,
        message_id=draft.comment_message_id if draft.comment else None,
    )


def _risk_event(
    update: StatusUpdate, kind: str, previous: StatusUpdate | None, now: datetime
) -> RiskEvent:
    """The risk `update` declares, against the report it was judged by."""
    return RiskEvent(
        item_id=update.item_id,
        status_update_id=row_id(update),
        kind=kind,
        previous_status=previous.status if previous else None,
        previous_progress=previous.progress if previous else None,
        created_at=now,
    )


def _risk_kind(status: str, progress: int, previous: StatusUpdate | None) -> str | None:
    if status == ItemStatus.BLOCKED:
        return "declared_blocked"
    if status == ItemStatus.AT_RISK:
        return "declared_at_risk"
    if previous is not None and progress < previous.progress:
        return "progress_back"
    return None


async def record_update(
    session: AsyncSession,
    *,
    person: Person,
    draft: Draft,
    now: datetime,
    known_previous: tuple[StatusUpdate | None] | None = None,
    known_request: tuple[RoundRequest | None] | None = None,
) -> SavedUpdate:
    """Append a status update, mark the department's current request answered, and record a
    risk event when the update declares a risk or moves progress backwards. Flushed, not
    committed: the caller commits it with whatever else belongs to the same step.

    `known_previous` is the item's newest report and `known_request` the department's newest
    round request as the caller already read them in this session (one-tuples, since None is
    a valid answer), so they are not read again.
    """
    item = await reportable_item(session, person, draft.item_id)
    update = _report_of(draft, item_id=row_id(item), author_id=row_id(person), now=now)
    if known_previous is None:
        previous = await queries.latest_update(session, row_id(item))
    else:
        previous = known_previous[0]
    session.add(update)
    await session.flush()  # the database marks the item for the alert scan (migration 0023)

    risk_event = None
    kind = _risk_kind(update.status, update.progress, previous)
    if kind is not None:
        risk_event = _risk_event(update, kind, previous, now)
        session.add(risk_event)

    await _answer_current_request(session, item.department_id, now, known_request)
    return SavedUpdate(update=update, risk_event=risk_event)


async def save_update(
    session: AsyncSession,
    *,
    person: Person,
    draft: Draft,
    now: datetime,
    known_previous: tuple[StatusUpdate | None] | None = None,
) -> SavedUpdate:
    """`record_update`, committed on its own (scripts, benchmarks, the simulated year)."""
    saved = await record_update(
        session, person=person, draft=draft, now=now, known_previous=known_previous
    )
    await session.commit()
    return saved


async def _answer_current_request(
    session: AsyncSession,
    department_id: int,
    now: datetime,
    known: tuple[RoundRequest | None] | None = None,
) -> None:
    """The department's newest request (`known` when the caller read it) counts as answered
    from its first report."""
    if known is not None:
        current = known[0]
    else:
        current = (
            await session.exec(_newest_request(RoundRequest, department_id, RoundRequest))
        ).first()
    if current is not None and current.answered_at is None and current.requested_at <= now:
        current.answered_at = now
        session.add(current)
        # No longer a missed request: every item of the department may change.
        await queries.mark_risk_dirty(session, now=now, department_ids=[department_id])


class NothingToConfirmError(Exception):
    """The item has no earlier report (or is done): there is no status to confirm."""


def confirmable(previous: StatusUpdate | None) -> bool:
    return previous is not None and previous.status != ItemStatus.DONE


async def _add_confirmation(
    session: AsyncSession,
    *,
    person: Person,
    item: RoadmapItem,
    now: datetime,
    known_previous: tuple[StatusUpdate | None] | None = None,
) -> StatusUpdate:
    if known_previous is None:
        previous = await queries.latest_update(session, row_id(item))
    else:
        previous = known_previous[0]
    if previous is None or not confirmable(previous):
        raise NothingToConfirmError
    update = StatusUpdate(
        item_id=row_id(item),
        author_id=row_id(person),
        status=previous.status,
        progress=previous.progress,
        cause=previous.cause,
        confirmation=True,
        created_at=now,
    )
    session.add(update)  # marked for the alert scan by the database (migration 0023)
    return update


async def record_confirmation(
    session: AsyncSession,
    *,
    person: Person,
    item_id: int,
    now: datetime,
    known_previous: tuple[StatusUpdate | None] | None = None,
    known_request: tuple[RoundRequest | None] | None = None,
) -> StatusUpdate:
    """ "No change": a new history entry repeating the last status and progress, by `person`.

    It is a report like any other for staleness and the round's response; it declares no
    new risk, since nothing changed. Flushed, not committed; `known_previous` and
    `known_request` as in `record_update`.
    """
    item = await reportable_item(session, person, item_id)
    update = await _add_confirmation(
        session, person=person, item=item, now=now, known_previous=known_previous
    )
    await session.flush()
    await _answer_current_request(session, item.department_id, now, known_request)
    return update


async def confirm_unchanged(
    session: AsyncSession, *, person: Person, item_id: int, now: datetime
) -> StatusUpdate:
    """`record_confirmation`, committed on its own."""
    update = await record_confirmation(session, person=person, item_id=item_id, now=now)
    await session.commit()
    return update


async def confirm_all_unchanged(
    session: AsyncSession, *, person: Person, items: Sequence[RoadmapItem], now: datetime
) -> list[StatusUpdate]:
    """Confirm every item of `items` that has something to confirm, in one transaction."""
    confirmed = []
    for listed in items:
        item = await reportable_item(session, person, row_id(listed))
        try:
            confirmed.append(await _add_confirmation(session, person=person, item=item, now=now))
        except NothingToConfirmError:
            continue
    if confirmed:
        await session.flush()
        await _answer_current_request(session, person.department_id, now)  # type: ignore[arg-type]
    await session.commit()
    return confirmed


async def saved_comment_message(
    session: AsyncSession, person: Person, message_id: int
) -> StatusUpdate | None:
    """The person's saved update whose comment came from chat message `message_id`: the
    newest entry of that line (a correction of it, if any)."""
    statement = (
        select(StatusUpdate)
        .where(StatusUpdate.author_id == person.id, StatusUpdate.message_id == message_id)
        .order_by(col(StatusUpdate.created_at).desc(), col(StatusUpdate.id).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def record_correction(
    session: AsyncSession, *, person: Person, original: StatusUpdate, comment: str, now: datetime
) -> StatusUpdate:
    """A correction of a saved update's comment: a history entry of its own (author, time,
    `corrects_id`), the original kept and marked `corrected`. It is not a new answer to the
    round and declares no new risk. Flushed, not committed."""
    correction = StatusUpdate(
        item_id=original.item_id,
        author_id=person.id,  # type: ignore[arg-type]
        status=original.status,
        progress=original.progress,
        comment=comment,
        cause=original.cause,
        evidence_kind=original.evidence_kind,
        evidence_file_id=original.evidence_file_id,
        evidence_unique_id=original.evidence_unique_id,
        evidence_name=original.evidence_name,
        confirmation=original.confirmation,
        created_at=now,
        message_id=original.message_id,
        corrects_id=original.id,
    )
    original.corrected = True
    session.add_all([original, correction])
    await session.flush()  # the item marked for the alert scan by the database (0023)
    return correction


async def answered_at(session: AsyncSession, update: StatusUpdate) -> datetime:
    """When the answer an update belongs to was given: a correction's is its original's (a
    chain of corrections does not stretch the window to correct it)."""
    current = update
    while current.corrects_id is not None:
        original = await session.get(StatusUpdate, current.corrects_id)
        if original is None:
            break
        current = original
    return current.created_at


async def update_before(session: AsyncSession, update: StatusUpdate) -> StatusUpdate | None:
    """The item's report just before `update` (what `update`'s risk was judged against)."""
    statement = (
        select(StatusUpdate)
        .where(
            StatusUpdate.item_id == update.item_id,
            col(StatusUpdate.id) != update.id,
            col(StatusUpdate.created_at) <= update.created_at,
            col(StatusUpdate.corrected).is_(False),
        )
        .order_by(col(StatusUpdate.created_at).desc(), col(StatusUpdate.id).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def record_draft_correction(
    session: AsyncSession, *, person: Person, original: StatusUpdate, draft: Draft, now: datetime
) -> SavedUpdate:
    """ "Edit my last update" saved: a correction entry with the draft's status, percent,
    cause, comment and evidence (author, time, `corrects_id`), the original kept and marked
    `corrected`. It is no new answer to the round. A risk event only when the correction
    declares what the original did not (a risk the chair has not heard of). Flushed."""
    correction = _report_of(draft, item_id=original.item_id, author_id=row_id(person), now=now)
    correction.corrects_id = original.id
    original.corrected = True
    session.add_all([original, correction])
    await session.flush()  # the item marked for the alert scan by the database (0023)
    before = await update_before(session, original)
    kind = _risk_kind(correction.status, correction.progress, before)
    risk_event = None
    if kind is not None and kind != _risk_kind(original.status, original.progress, before):
        risk_event = _risk_event(correction, kind, before, now)
        session.add(risk_event)
    return SavedUpdate(update=correction, risk_event=risk_event)


async def update_with_item(
    session: AsyncSession, update_id: int
) -> tuple[StatusUpdate, RoadmapItem] | None:
    update = await session.get(StatusUpdate, update_id)
    item = await session.get(RoadmapItem, update.item_id) if update else None
    return (update, item) if update is not None and item is not None else None


async def latest_updates(session: AsyncSession, item_ids: Sequence[int]) -> dict[int, StatusUpdate]:
    """The newest update of each item (items without one are missing)."""
    newest: dict[int, StatusUpdate] = {}
    if not item_ids:
        return newest
    statement = (
        select(StatusUpdate)
        .where(col(StatusUpdate.item_id).in_(list(item_ids)))
        .order_by(col(StatusUpdate.created_at), col(StatusUpdate.id))
    )
    for update in (await session.exec(statement)).all():
        newest[update.item_id] = update
    return newest

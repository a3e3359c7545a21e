"""One Road Map item: its card, its evidence files, and the chair's "ask for an update".

The card is the same wherever it is opened (/item, an alert's or the digest's button, /dept,
the web dashboard): `item_card` reads it once, with its risk reasons, and the views render it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aiogram.fsm.state import State, StatesGroup
from aiogram.utils.i18n import gettext as _

from bot.core.text import quote
from bot.people import audit, recipients
from bot.reporting import rounds
from bot.reporting.service import answered_at, update_with_item
from bot.risk import questions
from bot.risk.assess import assess_item
from bot.risk.rules import ItemRisk
from bot.roadmap.service import ItemCard, card_of
from bot.telegram.i18n import in_locale
from bot.usecases.access import can_see_item, may_ask_for_updates, sees_every_item
from bot.usecases.ports import DialogStore, Person, UseCaseContext
from bot.workdays.calendar import load_calendar
from db import queries
from db.engine import AsyncSession
from db.models import Department, RoadmapItem, Role, StatusUpdate
from db.outbox import enqueue

# An item as a person names it: its code as typed (`/item 1.2`), or its row id (a button).
ItemKey = str | int


@dataclass(frozen=True)
class ItemCardShown:
    """The card: the item, its department, latest updates, and the reasons it is at risk."""

    card: ItemCard
    risk: ItemRisk | None  # its assessment (reasons, forecast); None when it has none
    today: date
    may_ask: bool  # the viewer may ask the department for an update
    editable: int | None = None  # the viewer's own newest update, still open to correct


@dataclass(frozen=True)
class ItemMissing:
    """No such item, told as such to those who read the whole Road Map."""

    key: ItemKey


@dataclass(frozen=True)
class ItemHidden:
    """Another department's item, or a missing one, for a department's member: one answer for
    both, so a stranger learns nothing (a refusal is audited)."""

    key: ItemKey


ItemCardOutcome = ItemCardShown | ItemMissing | ItemHidden


async def _find_item(session: AsyncSession, key: ItemKey) -> RoadmapItem | None:
    if isinstance(key, int):
        return await queries.item_by_id(session, key)
    return await queries.item_by_code(session, key)


async def item_card(
    ctx: UseCaseContext, viewer: Person, key: ItemKey, *, history: int = 10, assess: bool = True
) -> ItemCardOutcome:
    """The item's card for `viewer`, or why it is not shown. Without `assess`, no risk
    reasons or forecast (`risk` is None): what an edit screen needs, at a fraction of the
    cost on a large Road Map."""
    async with ctx.session_maker() as session:
        item = await _find_item(session, key)
        if item is None:
            return ItemMissing(key) if sees_every_item(viewer) else ItemHidden(key)
        if not can_see_item(viewer, item.department_id):
            await audit.refused(session, viewer, "refused.item", item.code, now=ctx.clock.now())
            return ItemHidden(key)
        assert item.id is not None
        card = await card_of(session, item, history)
        editable = await _editable_by(ctx, session, viewer, card.latest)
        today = ctx.today()
        risk = None
        if assess:
            risk = await assess_item(
                session,
                item_id=item.id,
                year=item.year,
                today=today,
                thresholds=ctx.thresholds,
                tz=ctx.tz,
            )
    return ItemCardShown(
        card=card,
        risk=risk,
        today=today,
        may_ask=may_ask_for_updates(viewer),
        editable=editable,
    )


async def _editable_by(
    ctx: UseCaseContext, session: AsyncSession, viewer: Person, latest: StatusUpdate | None
) -> int | None:
    """The newest update when the viewer, a department member, wrote it and may still
    correct it ("Edit my last update": within the window from the answer)."""
    if latest is None or latest.id is None or latest.author_id != viewer.id:
        return None
    if viewer.role != Role.MEMBER:
        return None
    if ctx.clock.now() - await answered_at(session, latest) > ctx.correction_window:
        return None
    return latest.id


@dataclass(frozen=True)
class EvidenceFile:
    """A file a department attached to an update (a photo, a document, a voice note or a video
    note: `kind` as stored), and the item it is about."""

    file_id: str
    kind: str
    item: RoadmapItem

    @property
    def is_photo(self) -> bool:
        return self.kind == "photo"


async def evidence_file(
    ctx: UseCaseContext, viewer: Person | None, update_id: int
) -> EvidenceFile | None:
    """The file of an update, for whoever may see its item; None when there is no such file
    or the viewer may not have it (refused on the record, answered like a missing file)."""
    async with ctx.session_maker() as session:
        found = await update_with_item(session, update_id)
        if viewer is None or found is None or not found[0].evidence_file_id:
            return None
        update, item = found
        if not can_see_item(viewer, item.department_id):
            await audit.refused(session, viewer, "refused.evidence", item.code, now=ctx.clock.now())
            return None
    assert update.evidence_file_id is not None
    return EvidenceFile(update.evidence_file_id, update.evidence_kind or "document", item)


@dataclass(frozen=True)
class EvidenceSent:
    """The file is on its way into the viewer's chat (the dashboard's "show the file")."""

    item: RoadmapItem


async def send_evidence(ctx: UseCaseContext, viewer: Person, update_id: int) -> EvidenceSent | None:
    """The bot sends an update's photo or document into the viewer's chat through the outbox
    (a web view cannot show a Telegram file); None as `evidence_file` answers it."""
    found = await evidence_file(ctx, viewer, update_id)
    if found is None:
        return None
    now = ctx.clock.now()
    with in_locale(ctx.i18n, viewer.locale):
        caption = _("Evidence for item {code}").format(code=quote(found.item.code))
    method, field = ("sendPhoto", "photo") if found.is_photo else ("sendDocument", "document")
    async with ctx.session_maker() as session:
        await enqueue(
            session,
            key=f"evidence:{update_id}:{viewer.id}:{now.isoformat()}",
            kind="evidence",
            chat_id=viewer.telegram_id,
            person_id=viewer.id,
            method=method,
            params={field: found.file_id, "caption": caption, "parse_mode": "HTML"},
            now=now,
        )
        await session.commit()
    ctx.signals.wake_outbox()
    return EvidenceSent(found.item)


class AskDialog(StatesGroup):
    """After [Ask for an update]: the asker's next message is the question (optional)."""

    question = State()


QUESTION_WINDOW = timedelta(minutes=30)  # a message later than this is not the question


@dataclass(frozen=True)
class UpdateRequested:
    """The department's members were asked (`people` of them; none when nobody is registered),
    their messages delivered from `delivery_at` (the next working moment). The asker hears the
    answer (question `question_id`) when the department reports."""

    item: RoadmapItem
    department: Department
    people: int
    delivery_at: datetime
    question_id: int | None = None


async def request_item_update(
    ctx: UseCaseContext, actor: Person, item_id: int, dialog: DialogStore | None = None
) -> UpdateRequested | ItemMissing | ItemHidden:
    """The chair's or the secretariat's [Ask for an update] on one item: its department's
    members get a request that names who asks, and the asker will hear their answer. With a
    `dialog`, the asker's next message is taken as a question for them. A second tap in the
    same minute sends nothing twice. Nobody else may ask (the chat's role guard refuses them
    before; the web relies on this check)."""
    if not may_ask_for_updates(actor):
        return ItemHidden(item_id)
    now = ctx.clock.now()
    async with ctx.session_maker() as session:
        item = await queries.item_by_id(session, item_id)
        department = await queries.department_by_id(session, item.department_id) if item else None
        if item is None or department is None:
            return ItemMissing(item_id)
        calendar = await load_calendar(session, ctx.tz)
        question = await questions.record_question(
            session,
            item=item,
            actor=actor,
            calendar=calendar,
            delivered_at=calendar.next_working_moment(now),
            now=now,
        )
        if not await recipients.request_recipients(
            session, item.department_id, calendar.next_working_moment(now).astimezone(ctx.tz).date()
        ):
            question.overdue_told_at = now  # told now that nobody is there: no later notice
        asked = await rounds.request_item_update(  # commits the question with the request
            session, i18n=ctx.i18n, tz=ctx.tz, actor=actor, item=item, now=now
        )
    assert question.id is not None
    if dialog is not None and asked.people:
        await dialog.set_state(AskDialog.question)
        await dialog.set_data({"question_id": question.id, "asked_at": now.isoformat()})
    ctx.signals.wake_outbox()
    return UpdateRequested(item, department, asked.people, asked.delivery_at, question.id)


@dataclass(frozen=True)
class QuestionSent:
    """The question went to `people` of the item's department."""

    item: RoadmapItem
    people: int


@dataclass(frozen=True)
class QuestionLate:
    """The message came too long after [Ask for an update] to be its question: not sent."""


@dataclass(frozen=True)
class QuestionInvalid:
    """Empty, or longer than `questions.MAX_QUESTION` characters: say so, and wait again."""


async def add_question(
    ctx: UseCaseContext, actor: Person, dialog: DialogStore, text: str
) -> QuestionSent | QuestionLate | QuestionInvalid:
    """The asker's one message after [Ask for an update]: the question for the department."""
    text = text.strip()
    if not text or len(text) > questions.MAX_QUESTION:
        return QuestionInvalid()
    data = await dialog.get_data()
    await dialog.clear()
    now = ctx.clock.now()
    asked_at = datetime.fromisoformat(str(data.get("asked_at", "1970-01-01T00:00:00+00:00")))
    question_id = data.get("question_id")
    if not isinstance(question_id, int) or now - asked_at > QUESTION_WINDOW:
        return QuestionLate()
    async with ctx.session_maker() as session:
        calendar = await load_calendar(session, ctx.tz)
        sent = await questions.add_question_text(
            session,
            i18n=ctx.i18n,
            question_id=question_id,
            actor=actor,
            text=text,
            calendar=calendar,
            now=now,
        )
        if sent is None:
            return QuestionLate()
        await session.commit()
    ctx.signals.wake_outbox()
    _question, item, people = sent
    return QuestionSent(item, people)


async def skip_question(dialog: DialogStore) -> None:
    """[No question]: the request stands as it is."""
    await dialog.clear()

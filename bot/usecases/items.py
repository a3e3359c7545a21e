"""One Road Map item: its card, its evidence files, and the chair's "ask for an update".

The card is the same wherever it is opened (/item, an alert's or the digest's button, /dept,
the web dashboard): `item_card` reads it once, with its risk reasons, and the views render it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.people import audit
from bot.reporting import rounds
from bot.reporting.service import update_with_item
from bot.risk.assess import assess_item
from bot.risk.rules import ItemRisk
from bot.roadmap.service import ItemCard, card_of
from bot.usecases.access import can_see_item, may_ask_for_updates, sees_every_item
from bot.usecases.ports import Person, UseCaseContext
from db import queries
from db.engine import AsyncSession
from db.models import Department, RoadmapItem

# An item as a person names it: its code as typed (`/item 1.2`), or its row id (a button).
ItemKey = str | int


@dataclass(frozen=True)
class ItemCardShown:
    """The card: the item, its department, latest updates, and the reasons it is at risk."""

    card: ItemCard
    risk: ItemRisk | None  # its assessment (reasons, forecast); None when it has none
    today: date
    may_ask: bool  # the viewer may ask the department for an update


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
    ctx: UseCaseContext, viewer: Person, key: ItemKey, *, history: int = 10
) -> ItemCardOutcome:
    """The item's card for `viewer`, or why it is not shown."""
    async with ctx.session_maker() as session:
        item = await _find_item(session, key)
        if item is None:
            return ItemMissing(key) if sees_every_item(viewer) else ItemHidden(key)
        if not can_see_item(viewer, item.department_id):
            await audit.refused(session, viewer, "refused.item", item.code, now=ctx.clock.now())
            return ItemHidden(key)
        assert item.id is not None
        card = await card_of(session, item, history)
        today = ctx.today()
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
    )


@dataclass(frozen=True)
class EvidenceFile:
    """A photo or document a department attached to an update, and the item it is about."""

    file_id: str
    is_photo: bool
    item: RoadmapItem


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
    return EvidenceFile(update.evidence_file_id, update.evidence_kind == "photo", item)


@dataclass(frozen=True)
class UpdateRequested:
    """The department's members were asked (`people` of them; none when nobody is registered),
    their messages delivered from `delivery_at` (the next working moment)."""

    item: RoadmapItem
    department: Department
    people: int
    delivery_at: datetime


async def request_item_update(
    ctx: UseCaseContext, actor: Person, item_id: int
) -> UpdateRequested | ItemMissing | ItemHidden:
    """The chair's or the secretariat's [Ask for an update] on one item: its department's
    members get a request that names who asks. A second tap in the same minute sends nothing
    twice. Nobody else may ask (the chat's role guard refuses them before; the web relies on
    this check)."""
    if not may_ask_for_updates(actor):
        return ItemHidden(item_id)
    async with ctx.session_maker() as session:
        item = await queries.item_by_id(session, item_id)
        department = await queries.department_by_id(session, item.department_id) if item else None
        if item is None or department is None:
            return ItemMissing(item_id)
        asked = await rounds.request_item_update(
            session, i18n=ctx.i18n, tz=ctx.tz, actor=actor, item=item, now=ctx.clock.now()
        )
    ctx.signals.wake_outbox()
    return UpdateRequested(item, department, asked.people, asked.delivery_at)

"""The secretariat overrules a computed risk reason, for the item's current data only."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk.assess import assess_items
from bot.risk.rules import DISMISSIBLE_REASONS, RiskReason, RiskThresholds
from db import queries
from db.ids import row_id
from db.models import Person, RiskDismissal, RoadmapItem


class DismissRefusal(StrEnum):
    UNKNOWN_ITEM = "unknown_item"
    NOT_DISMISSIBLE = "not_dismissible"
    NOT_APPLICABLE = "not_applicable"


class DismissRefusedError(Exception):
    def __init__(self, refusal: DismissRefusal) -> None:
        super().__init__(refusal)
        self.refusal = refusal


async def dismiss_reason(
    session: AsyncSession,
    *,
    actor: Person,
    item_code: str,
    reason: RiskReason,
    text: str,
    today: date,
    now: datetime,
    thresholds: RiskThresholds,
    tz: tzinfo,
) -> tuple[RoadmapItem, RiskDismissal]:
    """Record that the secretariat overrules a computed reason for the item's current data."""
    if reason not in DISMISSIBLE_REASONS:
        raise DismissRefusedError(DismissRefusal.NOT_DISMISSIBLE)
    item = await queries.item_by_code(session, item_code)
    if item is None or item.archived:
        raise DismissRefusedError(DismissRefusal.UNKNOWN_ITEM)
    risks = await assess_items(session, today=today, year=item.year, thresholds=thresholds, tz=tz)
    risk = risks.get(row_id(item))
    if risk is None or reason not in risk.reasons:
        raise DismissRefusedError(DismissRefusal.NOT_APPLICABLE)
    dismissal = RiskDismissal(
        item_id=row_id(item),
        reason=reason,
        text=text,
        actor_id=actor.id,
        created_at=now,
        item_fingerprint=risk.fingerprint,
    )
    session.add(dismissal)
    await queries.mark_risk_dirty(session, now=now, item_ids=[item.id])
    await queries.add_audit(
        session, at=now, action="risk.dismiss", actor=actor, target=item.code, details=reason
    )
    await session.commit()
    return item, dismissal

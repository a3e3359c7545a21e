"""The secretariat overrules a computed risk reason (/dismiss, the web's dismiss screen)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.risk.dismissals import DismissRefusal, DismissRefusedError, dismiss_reason
from bot.risk.rules import RiskReason, parse_reason
from bot.usecases.ports import Person, UseCaseContext

MAX_DISMISS_TEXT = 500


@dataclass(frozen=True)
class Dismissed:
    """The reason is dismissed for the item's current data; it comes back when they change."""

    item_code: str
    reason: RiskReason


@dataclass(frozen=True)
class DismissRefused:
    item_code: str
    refusal: DismissRefusal


@dataclass(frozen=True)
class DismissInvalid:
    """An unknown reason, or an explanation empty or longer than MAX_DISMISS_TEXT."""


DismissOutcome = Dismissed | DismissRefused | DismissInvalid


async def dismiss_risk(
    ctx: UseCaseContext, actor: Person, item_code: str, reason: str, text: str
) -> DismissOutcome:
    """Dismiss `reason` (its code as typed, e.g. `stale`) for an item, with the secretariat's
    explanation `text`; audited, and the item is marked for the next alert scan."""
    parsed = parse_reason(reason)
    text = text.strip()
    if parsed is None or not text or len(text) > MAX_DISMISS_TEXT:
        return DismissInvalid()
    async with ctx.session_maker() as session:
        try:
            item, _dismissal = await dismiss_reason(
                session,
                actor=actor,
                item_code=item_code,
                reason=parsed,
                text=text,
                today=ctx.today(),
                now=ctx.clock.now(),
                thresholds=ctx.thresholds,
                tz=ctx.tz,
            )
        except DismissRefusedError as error:
            return DismissRefused(item_code, error.refusal)
    return Dismissed(item.code, parsed)

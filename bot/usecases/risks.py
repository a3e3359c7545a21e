"""The secretariat overrules a computed risk reason (/dismiss, the web's dismiss screen)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.fsm.state import State, StatesGroup

from bot.risk.assess import assess_item
from bot.risk.dismissals import DismissRefusal, DismissRefusedError, dismiss_reason
from bot.risk.rules import DISMISSIBLE_REASONS, RiskReason, parse_reason
from bot.usecases.ports import DialogStore, Person, UseCaseContext
from db import queries
from db.ids import row_id

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


@dataclass(frozen=True)
class DismissChoice:
    """/dismiss CODE: the item's current reasons the secretariat may dismiss (buttons)."""

    item_id: int
    item_code: str
    reasons: list[RiskReason]


async def dismissible_reasons(
    ctx: UseCaseContext, item_code: str
) -> DismissChoice | DismissRefused:
    """The reasons the item is at risk for now that a dismissal may overrule (not the
    department's own declaration, not the calendar's overdue)."""
    async with ctx.session_maker() as session:
        item = await queries.item_by_code(session, item_code)
        if item is None or item.archived:
            return DismissRefused(item_code, DismissRefusal.UNKNOWN_ITEM)
        risk = await assess_item(
            session,
            item_id=row_id(item),
            year=item.year,
            today=ctx.today(),
            thresholds=ctx.thresholds,
            tz=ctx.tz,
        )
    reasons = [r for r in (risk.reasons if risk else []) if r in DISMISSIBLE_REASONS]
    if not reasons:
        return DismissRefused(item.code, DismissRefusal.NOT_APPLICABLE)
    return DismissChoice(row_id(item), item.code, reasons)


class DismissDialog(StatesGroup):
    """After a reason's button under /dismiss CODE: the next message is the explanation."""

    text = State()


EXPLANATION_WINDOW = timedelta(minutes=30)  # a message later than this is not the explanation


@dataclass(frozen=True)
class ExplanationAsked:
    item_code: str
    reason: RiskReason


@dataclass(frozen=True)
class ExplanationLate:
    """Too long after the button (or nothing waits): nothing was dismissed."""


async def choose_dismissal(
    ctx: UseCaseContext, dialog: DialogStore, item_id: int, reason: str
) -> ExplanationAsked | DismissRefused | DismissInvalid:
    """A reason's button: the next message explains why it is dismissed."""
    parsed = parse_reason(reason)
    if parsed is None or parsed not in DISMISSIBLE_REASONS:
        return DismissInvalid()
    async with ctx.session_maker() as session:
        item = await queries.item_by_id(session, item_id)
    if item is None or item.archived:
        return DismissRefused(str(item_id), DismissRefusal.UNKNOWN_ITEM)
    await dialog.set_state(DismissDialog.text)
    await dialog.set_data(
        {"item_code": item.code, "reason": parsed.value, "asked_at": ctx.clock.now().isoformat()}
    )
    return ExplanationAsked(item.code, parsed)


async def explain_dismissal(
    ctx: UseCaseContext, actor: Person, dialog: DialogStore, text: str
) -> DismissOutcome | ExplanationLate:
    """The explanation after a reason's button: the dismissal is made (see `dismiss_risk`).
    An empty or too long explanation is refused and the dialog waits again."""
    text = text.strip()
    if not text or len(text) > MAX_DISMISS_TEXT:
        return DismissInvalid()
    data = await dialog.get_data()
    await dialog.clear()
    asked_at = datetime.fromisoformat(str(data.get("asked_at", "1970-01-01T00:00:00+00:00")))
    if "item_code" not in data or ctx.clock.now() - asked_at > EXPLANATION_WINDOW:
        return ExplanationLate()
    return await dismiss_risk(ctx, actor, str(data["item_code"]), str(data["reason"]), text)

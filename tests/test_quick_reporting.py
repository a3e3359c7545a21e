"""Reporting in few taps: "no change" in the dialog, ✓ in the worklist, everything at once."""

from __future__ import annotations

from datetime import timedelta

from aiogram.methods import EditMessageText
from sqlmodel import select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.risk.assess import assess_items
from bot.risk.rules import RiskReason, RiskThresholds
from bot.telegram.callbacks import ConfirmAll, ConfirmItem, DialogAction, OpenItem, PickStatus
from db.engine import SessionMaker
from db.models import Person, RoundRequest, StatusUpdate
from tests import test_reporting
from tests.conftest import ADMIN_ID
from tests.test_reporting import EDU_DEPUTY, EDU_HEAD, World, buttons
from tests.test_roles_and_invites import rows

world = test_reporting.world  # the same fixture: three departments, two edu members


async def _seed_reports(
    session_maker: SessionMaker, clock: FrozenClock, world: World, reports: dict[str, tuple]
) -> None:
    """Earlier reports by the head, 20 days ago: what a confirmation will repeat."""
    async with session_maker() as session:
        head = (await session.exec(select(Person).where(Person.telegram_id == EDU_HEAD))).one()
        for code, (status, progress, cause) in reports.items():
            session.add(
                StatusUpdate(
                    item_id=world.items[code],
                    author_id=head.id,  # type: ignore[arg-type]
                    status=status,
                    progress=progress,
                    cause=cause,
                    comment="earlier",
                    created_at=clock.now() - timedelta(days=20),
                )
            )
        await session.commit()


def _edits(requests: list) -> list[EditMessageText]:
    return [r for r in requests if isinstance(r, EditMessageText)]


async def test_no_change_takes_two_taps_and_is_a_confirmation(
    world: World, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    await _seed_reports(session_maker, clock, world, {"1.1": ("on_track", 60, None)})
    chatter, item = world.chatter, world.items["1.1"]
    await chatter.send(ADMIN_ID, "/request_now edu")
    clock.advance(timedelta(minutes=5))
    (opened,) = _edits(await chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack()))  # tap 1
    same = DialogAction(item_id=item, action="same").pack()
    assert buttons(opened)[0] == same
    assert opened.reply_markup.inline_keyboard[0][0].text == "Без изменений — по плану, 60%"
    (after,) = _edits(await chatter.press(EDU_DEPUTY, same))  # tap 2
    assert after.text.startswith("✅ Сохранено: без изменений.")

    updates = sorted(await rows(session_maker, StatusUpdate), key=lambda u: u.id)
    assert len(updates) == 2
    confirmation = updates[-1]
    deputy = next(p for p in await rows(session_maker, Person) if p.telegram_id == EDU_DEPUTY)
    assert confirmation.confirmation and not updates[0].confirmation
    assert (confirmation.status, confirmation.progress, confirmation.author_id) == (
        "on_track",
        60,
        deputy.id,
    )
    assert confirmation.comment is None
    assert confirmation.created_at.replace(tzinfo=None) == clock.now().replace(tzinfo=None)
    (request,) = await rows(session_maker, RoundRequest)
    assert request.answered_at is not None  # counts as the department's answer
    card = (await chatter.send(ADMIN_ID, "/item 1.1"))[-1].text
    assert "по плану, 60% — User2002: без изменений" in card


async def test_a_confirmation_resets_staleness(
    world: World, session_maker: SessionMaker, clock: FrozenClock, settings: Settings
) -> None:
    await _seed_reports(session_maker, clock, world, {"1.3": ("on_track", 40, None)})
    today = clock.now().date()
    item = world.items["1.3"]
    async with session_maker() as session:
        before = await assess_items(
            session, today=today, year=2025, thresholds=RiskThresholds(), tz=settings.tz
        )
    assert RiskReason.STALE in before[item].reasons
    await world.chatter.press(EDU_HEAD, ConfirmItem(item_id=item, page=0).pack())
    async with session_maker() as session:
        after = await assess_items(
            session, today=today, year=2025, thresholds=RiskThresholds(), tz=settings.tz
        )
    assert RiskReason.STALE not in after[item].reasons


async def test_tick_in_the_worklist_confirms_in_one_tap(
    world: World, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    await _seed_reports(
        session_maker,
        clock,
        world,
        {"1.1": ("on_track", 60, None), "1.2": ("at_risk", 30, "contractor")},
    )
    chatter = world.chatter
    shown = await chatter.send(EDU_DEPUTY, "/myitems")
    worklist = shown[-1]
    tick = ConfirmItem(item_id=world.items["1.2"], page=0).pack()
    assert tick in buttons(worklist)
    assert ConfirmItem(item_id=world.items["1.3"], page=0).pack() not in buttons(worklist)
    labels = [b.text for row in worklist.reply_markup.inline_keyboard for b in row]
    assert "✓ 30%" in labels and "✓ 60%" in labels

    (edited,) = _edits(await chatter.press(EDU_DEPUTY, tick))  # the only tap
    assert tick not in buttons(edited)
    newest = max(await rows(session_maker, StatusUpdate), key=lambda u: u.id)
    assert (newest.item_id, newest.status, newest.progress, newest.cause) == (
        world.items["1.2"],
        "at_risk",
        30,
        "contractor",
    )
    assert newest.confirmation

    # A second tap on the same ✓ (an old message) adds nothing.
    await chatter.press(EDU_DEPUTY, tick)
    assert len(await rows(session_maker, StatusUpdate)) == 3


async def test_everything_else_unchanged_lists_then_confirms_all(
    world: World, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    await _seed_reports(
        session_maker,
        clock,
        world,
        {"1.1": ("on_track", 60, None), "1.2": ("on_track", 10, None)},
    )
    chatter = world.chatter
    worklist = (await chatter.send(EDU_HEAD, "/myitems"))[-1]
    ask = ConfirmAll(step="ask", page=0).pack()
    assert ask in buttons(worklist)
    (listing,) = _edits(await chatter.press(EDU_HEAD, ask))
    assert "1.1" in listing.text and "1.2" in listing.text and "60%" in listing.text
    assert "1.3" not in listing.text.split("\n")[1]
    assert len(await rows(session_maker, StatusUpdate)) == 2  # nothing saved before "yes"
    (done,) = _edits(await chatter.press(EDU_HEAD, ConfirmAll(step="yes", page=0).pack()))
    assert done.text.startswith("✅ ")
    updates = await rows(session_maker, StatusUpdate)
    confirmations = [u for u in updates if u.confirmation]
    assert sorted(u.item_id for u in confirmations) == sorted(
        [world.items["1.1"], world.items["1.2"]]
    )
    # 1.3 has no report: it stays waiting and can only be opened.
    assert OpenItem(item_id=world.items["1.3"]).pack() in buttons(done)
    assert ask not in buttons(done)


async def test_no_change_is_not_offered_without_an_earlier_report(world: World) -> None:
    item = world.items["1.3"]
    (opened,) = _edits(await world.chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack()))
    assert buttons(opened)[0] == PickStatus(item_id=item, status="done").pack()
    assert DialogAction(item_id=item, action="same").pack() not in buttons(opened)

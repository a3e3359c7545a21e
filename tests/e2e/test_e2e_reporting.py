"""End to end over HTTP: a status round for three departments, answered in two languages,
with typed progress, a document as evidence, a forged button and a restart mid-dialog."""

from __future__ import annotations

from sqlmodel import select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator, Message
from bot.telegram.callbacks import OpenItem, PickStatus
from db.engine import SessionMaker
from db.models import RoadmapItem, RoundRequest, StatusUpdate
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import (
    EDUCATION,
    At,
    Typed,
    build_world,
    live_bot,
    say,
    start_live_bot,
    tap,
    walk,
)

EDU, BUILD, HEALTH = 4001, 4002, 4003


async def set_up_roadmap(emulator: BotApiEmulator) -> None:
    commands = [
        EDUCATION,
        "/adddept build Құрылыс басқармасы | Управление строительства",
        "/adddept health Денсаулық сақтау басқармасы | Управление здравоохранения",
        "/additem 1.1 edu 2025-05-01 Мектеп салу | Строительство школы",
        "/additem 1.2 edu 2025-06-01 Балабақша | Детский сад",
        "/additem 2.1 build 2025-07-01 Көпір <жөндеу> | Ремонт моста <Б>",
        "/additem 2.2 build 2025-08-01 Жол | Дорога",
        "/additem 3.1 health 2025-09-01 Емхана | Поликлиника",
        "/additem 3.2 health 2025-10-01 Жедел жәрдем | Скорая помощь",
    ]
    heads = [(EDU, "edu", "Қазақша"), (BUILD, "build", "Русский"), (HEALTH, "health", "Қазақша")]
    await build_world(emulator, commands, heads)


async def report_on_track(emulator: BotApiEmulator, user: int, screen: Message) -> Message:
    """Status, progress, save: three taps after opening, all buttons."""
    return await walk(emulator, user, screen, At(0, 1), "50%", At(0, 0))  # on track, 50%, save


async def test_a_round_answered_by_three_departments(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
) -> None:
    running = await start_live_bot(live_settings, clock, emulator)
    try:
        await set_up_roadmap(emulator)
        confirmation = await say(emulator, ADMIN_ID, "/request_now")
        assert "3" in confirmation.text
        requests = {user: await emulator.next_message(user) for user in (EDU, BUILD, HEALTH)}
        assert "2" in requests[EDU].text and "2" in requests[BUILD].text

        # Education: two items by buttons only; the second follows the first in place.
        screen = await tap(emulator, EDU, requests[EDU], "1.1")
        screen = await report_on_track(emulator, EDU, screen)
        assert "1.2" in screen.text
        screen = await report_on_track(emulator, EDU, screen)
        assert not screen.buttons  # all done

        # Construction: typed progress and a document as evidence.
        screen = await tap(emulator, BUILD, requests[BUILD], "2.1")
        assert "Ремонт моста &lt;Б&gt;" in screen.source and "Ремонт моста <Б>" in screen.text
        # At risk, 35 typed, the contractor, the comment typed. Issue 22 (#17): typed answers
        # and files show the next step in place of the card.
        comment = Typed("Подрядчик остановил работы, нужен новый тендер")
        screen = await walk(emulator, BUILD, screen, At(1, 0), Typed("35"), At(0, 1), comment)
        emulator.send_document(BUILD, b"%PDF-1.4 act", "akt.pdf", "application/pdf")
        confirm = await emulator.next_edit(BUILD)

        # A forged button for another department's item changes nothing.
        health_item = await _item_id(session_maker, "3.1")
        emulator.send_callback(BUILD, confirm.message_id, OpenItem(item_id=health_item).pack())
        await emulator.wait_idle()

        # The bot restarts in the middle of the dialog; the Save button still works.
        await running.stop()
        running = await start_live_bot(live_settings, clock, emulator)
        saved = await tap(emulator, BUILD, confirm, confirm.buttons[0][0][0])
        assert "2.2" in saved.text  # the next item of the round

        # Health: the Kazakh-speaking head answers one item, leaves the other.
        screen = await tap(emulator, HEALTH, requests[HEALTH], "3.1")
        await report_on_track(emulator, HEALTH, screen)

        card = await say(emulator, ADMIN_ID, "/item 2.1")
        assert "35%" in card.text and "Подрядчик остановил работы" in card.text

        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []
    finally:
        await running.stop()

    async with session_maker() as session:
        updates = (await session.exec(select(StatusUpdate))).all()
        answered = (await session.exec(select(RoundRequest))).all()
    assert len(updates) == 4
    build_update = next(u for u in updates if u.status == "at_risk")
    assert (build_update.progress, build_update.cause) == (35, "contractor")
    assert build_update.evidence_kind == "document"
    assert emulator.file_bytes(build_update.evidence_file_id) == b"%PDF-1.4 act"
    assert all(request.answered_at is not None for request in answered)


async def _item_id(session_maker: SessionMaker, code: str) -> int:
    async with session_maker() as session:
        item = (await session.exec(select(RoadmapItem).where(RoadmapItem.code == code))).one()
    assert item.id is not None
    return item.id


async def test_stale_status_button_after_the_dialog_closed(
    live_settings: Settings, clock: FrozenClock, emulator: BotApiEmulator
) -> None:
    async with live_bot(live_settings, clock, emulator):
        await set_up_roadmap(emulator)
        listing = await say(emulator, EDU, "/myitems")
        screen = await tap(emulator, EDU, listing, "1.1")
        emulator.send_text(EDU, "/cancel")
        await emulator.next_message(EDU)
        item_id = int(screen.button("1").split(":")[1]) if False else None
        del item_id
        status_data = next(
            d for row in screen.buttons for _t, d in row if d and d.startswith("rs:")
        )
        emulator.send_callback(EDU, screen.message_id, status_data)
        closed = await emulator.next_edit(EDU)
        assert [d for row in closed.buttons for _t, d in row] == [
            OpenItem(item_id=int(status_data.split(":")[1])).pack()
        ]
        assert PickStatus.unpack(status_data).status == "done"

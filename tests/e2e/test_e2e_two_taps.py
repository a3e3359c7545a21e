"""End to end over HTTP, issue 11's targets: in one round a Kazakh-speaking head confirms
every unchanged item in one action, a Russian-speaking head changes two items in at most
four taps each. Every tap is counted."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator
from db.engine import SessionMaker
from db.models import RoundRequest, StatusUpdate
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import (
    EDUCATION,
    EarlierReport,
    TapCounter,
    build_world,
    say,
    seed_reports,
    start_live_bot,
)

KK_HEAD, RU_HEAD = 4101, 4102


async def _seed_earlier_reports(session_maker: SessionMaker, clock: FrozenClock) -> None:
    """The Kazakh head's department reported three weeks ago: what "unchanged" repeats."""
    reports = {
        code: EarlierReport("on_track", 30 + 10 * number)
        for number, code in enumerate(("1.1", "1.2", "1.3"))
    }
    await seed_reports(session_maker, KK_HEAD, clock.now() - timedelta(days=21), reports)


async def test_one_head_confirms_all_the_other_changes_two_in_four_taps(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
) -> None:
    running = await start_live_bot(live_settings, clock, emulator)
    try:
        commands = [
            EDUCATION,
            "/adddept build Құрылыс басқармасы | Управление строительства",
            "/additem 1.1 edu 2025-06-01 Мектеп салу | Строительство школы",
            "/additem 1.2 edu 2025-07-01 Балабақша | Детский сад",
            "/additem 1.3 edu 2025-08-01 Спорт залы | Спортзал",
            "/additem 2.1 build 2025-09-01 Көпір | Мост",
            "/additem 2.2 build 2025-10-01 Жол | Дорога",
        ]
        heads = [(KK_HEAD, "edu", "Қазақша"), (RU_HEAD, "build", "Русский")]
        await build_world(emulator, commands, heads)
        await _seed_earlier_reports(session_maker, clock)

        clock.advance(timedelta(minutes=1))
        start_naive = clock.now().replace(tzinfo=None)
        await say(emulator, ADMIN_ID, "/request_now")
        requests = {user: await emulator.next_message(user) for user in (KK_HEAD, RU_HEAD)}
        assert requests[KK_HEAD].text.startswith("3 тармақтың жай-күйін жаңарту қажет.")
        assert requests[RU_HEAD].text.startswith("2 пункта ждут обновления статуса.")

        # Kazakh: "everything else unchanged", checked on a list, in one action (two taps).
        kk = TapCounter(emulator, KK_HEAD)
        listing = await kk.press(requests[KK_HEAD], "Қалғаны өзгеріссіз")
        assert "1.1" in listing.text and "1.3" in listing.text and "50%" in listing.text
        done = await kk.press(listing, "Иә, өзгеріс жоқ")
        assert kk.count == 2
        assert "3 тармақ: 3 — өзгеріссіз" in done.text

        # Russian: two changed items, at most four taps each (the second opens by itself).
        ru = TapCounter(emulator, RU_HEAD)
        screen = await ru.press(requests[RU_HEAD], "2.1")
        screen = await ru.press(screen, "По плану")
        screen = await ru.press(screen, "50%")
        screen = await ru.press(screen, "Сохранить")
        first = ru.count
        assert "2.2" in screen.text  # the next item, already open
        screen = await ru.press(screen, "По плану")
        screen = await ru.press(screen, "75%")
        screen = await ru.press(screen, "Сохранить")
        second = ru.count - first
        assert (first, second) == (4, 3)
        assert "2 пункта: 2 — по плану" in screen.text

        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []
    finally:
        await running.stop()

    async with session_maker() as session:
        updates = (await session.exec(select(StatusUpdate))).all()
        answered = (await session.exec(select(RoundRequest))).all()
    confirmations = sorted((u.status, u.progress) for u in updates if u.confirmation)
    assert confirmations == [("on_track", 30), ("on_track", 40), ("on_track", 50)]
    this_round = [u for u in updates if u.created_at.replace(tzinfo=None) >= start_naive]
    changed = sorted((u.status, u.progress) for u in this_round if not u.confirmation)
    assert changed == [("on_track", 50), ("on_track", 75)]
    assert all(request.answered_at is not None for request in answered)

"""End to end over HTTP, following the README's first steps: seed the demo, start the bot,
/request_now with nobody invited, then with one department head invited. The chair sees
exactly 12 items at risk and gets no alert until a real transition, and then exactly one."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator
from bot.scheduling.jobs import Jobs
from db.engine import SessionMaker
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import At, Typed, build_world, demo_bot, join, nothing_for, say, walk

CHAIR, HEAD = 4101, 4102
# Tuesday 10 June 2025, 11:00 in Almaty: a working day, after the daily scan's time.
LOAD = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)


async def summary_text(emulator: BotApiEmulator) -> str:
    """/summary: the text first (it is the answer, #32), then the chart."""
    emulator.send_text(CHAIR, "/summary")
    text = await emulator.next_message(CHAIR, timeout=60)
    assert text.kind == "text"
    chart = await emulator.next_message(CHAIR, timeout=60)
    assert chart.kind == "photo"
    return text.text or ""


async def test_the_readme_first_steps_give_the_chair_twelve_and_no_false_alarm(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
) -> None:
    # ./scripts/run.sh seed-demo, then the bot.
    async with demo_bot(live_settings, clock, emulator, session_maker, LOAD) as running:
        jobs: Jobs = running.application.dispatcher["jobs"]
        await build_world(emulator, heads=[(CHAIR, "chair", "Русский")])

        # /request_now with nobody invited: nobody asked, the departments named, no risk.
        confirmation = await say(emulator, ADMIN_ID, "/request_now")
        assert "Никому запрос не отправлен" in confirmation.text
        assert "никто не зарегистрирован" in confirmation.text
        assert await jobs.chair_alerts() == 0
        assert await nothing_for(emulator, CHAIR)

        assert "есть риск невыполнения: 12 " in await summary_text(emulator)

        # One head invited in one department, asked: still no alert.
        await join(emulator, HEAD, "education", "Русский")
        asked = await say(emulator, ADMIN_ID, "/request_now education")
        assert "1" in asked.text
        request = await emulator.next_message(HEAD)
        assert await jobs.chair_alerts() == 0
        assert await nothing_for(emulator, CHAIR)

        # A real transition: the head says an on-track item will not be met. One alert.
        # The percent and the comment typed (they edit the card in place, issue 22 #17), the
        # first cause, no evidence, save.
        steps = ("Не будет", Typed("20"), At(0, 1), Typed("Подрядчик расторг договор"))
        await walk(emulator, HEAD, request, "5.2.1", *steps, At(0, 0), At(0, 0))
        await jobs.settle()
        alert = await emulator.next_message(CHAIR)
        assert "<b>5.2.1</b>" in alert.source and "Подрядчик расторг договор" in alert.text
        assert await nothing_for(emulator, CHAIR)

        assert "есть риск невыполнения: 13 " in await summary_text(emulator)
        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []

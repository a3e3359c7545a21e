"""The completion forecast end to end over HTTP on the demo: the item card in Kazakh and in
Russian, /dept sorted by the chance to meet the deadline, the summary's "likely late"."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator
from db.engine import SessionMaker
from tests.helpers.e2e import build_world, demo_bot, say

CHAIR_RU, CHAIR_KK = 4201, 4202
LOAD = datetime(2025, 6, 10, 6, 0, tzinfo=UTC)  # Tuesday 10 June 2025, 11:00 in Almaty


async def summary_text(emulator: BotApiEmulator, chat: int) -> str:
    emulator.send_text(chat, "/summary")
    parts = []
    parts.append((await emulator.next_message(chat, timeout=60)).text or "")
    while True:
        try:
            parts.append((await emulator.next_message(chat, timeout=1)).text or "")
        except TimeoutError:
            return "\n".join(parts)


async def test_the_card_dept_and_summary_show_the_forecast_in_both_languages(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
) -> None:
    async with demo_bot(live_settings, clock, emulator, session_maker, LOAD):
        heads = [(CHAIR_RU, "chair", "Русский"), (CHAIR_KK, "chair", "Қазақша")]
        await build_world(emulator, heads=heads)

        # 9.1.1 slowed down (10 points a fortnight, then 7 and 6): on track by every rule,
        # and yet its own pace says it will not make 26 July.
        card = (await say(emulator, CHAIR_RU, "/item 9.1.1")).text or ""
        assert "Прогноз:" in card
        assert "вероятно, к 13 августа" in card and "с вероятностью 85% — к 18 августа" in card
        assert "шанс уложиться в срок 26 июля: 0%" in card
        assert "При среднем темпе с начала работ пункт будет выполнен к 6 августа." in card
        assert "есть риск" not in card.lower()  # no rule holds it at risk: only a warning
        card_kk = (await say(emulator, CHAIR_KK, "/item 9.1.1")).text or ""
        assert "Болжам:" in card_kk
        assert "13 тамыз күніне дейін орындалуы ықтимал" in card_kk
        assert "85% ықтималдықпен 18 тамыз күніне дейін" in card_kk
        assert "26 шілде мерзіміне үлгеру ықтималдығы: 0%" in card_kk

        # An item with too few reports says so rather than guessing.
        young = (await say(emulator, CHAIR_RU, "/item 6.1.3")).text or ""
        assert "пока мало обновлений" in young

        # /dept: the least likely to be met first; 2.2.2 (14 %) before the items on course.
        emulator.send_text(CHAIR_RU, "/dept construction")
        listing = (await emulator.next_message(CHAIR_RU)).text or ""
        lines = [line for line in listing.split("\n") if line.startswith("• ")]
        codes = [line.split()[1] for line in lines]
        assert codes.index("2.2.2") < codes.index("2.2.3") < codes.index("2.3.2")
        line = lines[codes.index("2.2.2")]
        assert "📈 шанс уложиться в срок: 14%, вероятно, к 7 августа" in line

        # The summary's early warning: items no rule holds at risk, unlikely to be met.
        summary = await summary_text(emulator, CHAIR_RU)
        warning = summary.split("Вероятно, не успеют в срок: шанс уложиться ниже 50%")[1]
        assert [code for code in ("9.1.1", "2.2.2", "10.1.1", "5.2.1") if code in warning] == [
            "9.1.1",
            "2.2.2",
            "10.1.1",
            "5.2.1",
        ]
        summary_kk = await summary_text(emulator, CHAIR_KK)
        assert "Мерзімге үлгермеуі ықтимал: үлгеру ықтималдығы 50% деңгейінен төмен" in summary_kk
        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []

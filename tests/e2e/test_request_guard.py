"""The request guard over real HTTP: 429s waited out, blips retried only when safe, double
taps harmless, long replies paced, and no reply lost to a 429 (issue 13, defect 8)."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import Chat, Message, Update, User
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app.config import Settings
from bot.app.factory import create_bot
from bot.core.clock import FrozenClock
from bot.core.metrics import RATE_LIMITED
from bot.sandbox.emulator import BotApiEmulator
from bot.telegram.session import guard_of
from tests.helpers.chat import VirtualTimer
from tests.helpers.e2e import fast_session
from tests.helpers.mocked_bot import MockedBot
from tests.helpers.risk_world import CHAIR, NOW, World, readers

USER = 5001


@pytest.fixture
async def http_bot(
    live_settings: Settings, emulator: BotApiEmulator, timer: VirtualTimer
) -> AsyncIterator[Bot]:
    """The production bot (create_bot), over HTTP to the emulator, sleeping on virtual time."""
    bot = create_bot(live_settings, clock=timer.monotonic, sleep=timer.sleep)
    bot.session = fast = fast_session(bot.session)
    emulator.faults.clock = timer.monotonic  # Telegram's buckets and ours share one time
    emulator.add_chat(USER)
    try:
        yield bot
    finally:
        await fast.close()


def sent_texts(emulator: BotApiEmulator, chat_id: int) -> list[str | None]:
    return [m.text for m in emulator.messages(chat_id)]


async def test_a_429_is_waited_out_and_retried(
    http_bot: Bot, emulator: BotApiEmulator, timer: VirtualTimer
) -> None:
    emulator.faults.fail_next(2, "429", method="sendMessage", retry_after=3)
    counted = RATE_LIMITED.value()
    await http_bot.send_message(USER, "hello")
    assert sent_texts(emulator, USER) == ["hello"]
    assert timer.slept == [3, 3]
    assert RATE_LIMITED.value() == counted + 2  # /metrics' roadmap_telegram_rate_limited_total


async def test_retries_are_bounded(
    http_bot: Bot, emulator: BotApiEmulator, settings: Settings
) -> None:
    emulator.faults.fail_next(settings.request_retries + 1, "429", method="sendMessage")
    with pytest.raises(TelegramRetryAfter):
        await http_bot.send_message(USER, "hello")
    assert sent_texts(emulator, USER) == []


async def test_a_long_retry_after_is_not_waited(
    http_bot: Bot, emulator: BotApiEmulator, timer: VirtualTimer, settings: Settings
) -> None:
    too_long = int(settings.request_max_wait_seconds) + 1
    emulator.faults.fail_next(1, "429", method="sendMessage", retry_after=too_long)
    with pytest.raises(TelegramRetryAfter):
        await http_bot.send_message(USER, "hello")
    assert timer.slept == []


async def test_transient_errors_are_retried_only_when_repeating_is_safe(
    http_bot: Bot, emulator: BotApiEmulator, timer: VirtualTimer
) -> None:
    message = await http_bot.send_message(USER, "first")
    emulator.faults.fail_next(1, "500", method="editMessageText")
    emulator.faults.fail_next(1, "drop", method="editMessageText")
    await http_bot.edit_message_text("second", chat_id=USER, message_id=message.message_id)
    assert sent_texts(emulator, USER) == ["second"]
    assert len(timer.slept) == 2
    # A send repeated after a lost answer might arrive twice: it is not retried.
    emulator.faults.fail_next(1, "drop", method="sendMessage")
    with pytest.raises(TelegramNetworkError):
        await http_bot.send_message(USER, "maybe")
    emulator.faults.fail_next(1, "500", method="sendMessage")
    with pytest.raises(TelegramServerError):
        await http_bot.send_message(USER, "maybe")


async def test_message_is_not_modified_is_a_success(
    http_bot: Bot, emulator: BotApiEmulator
) -> None:
    message = await http_bot.send_message(USER, "same")
    assert await http_bot.edit_message_text("same", chat_id=USER, message_id=message.message_id)
    rejected = [r for r in emulator.requests if r.method == "editMessageText" and not r.ok]
    assert len(rejected) == 1 and "not modified" in (rejected[0].description or "")


async def test_sends_to_one_chat_are_paced(
    http_bot: Bot, emulator: BotApiEmulator, timer: VirtualTimer
) -> None:
    emulator.faults.set_rate_limits(global_per_second=30, per_chat_per_second=1)
    for n in range(5):
        await http_bot.send_message(USER, f"part {n}")
    assert sent_texts(emulator, USER) == [f"part {n}" for n in range(5)]
    assert emulator.stats.too_many_requests == 0
    assert timer.now == pytest.approx(4.0)


async def test_link_previews_use_the_current_parameter(
    http_bot: Bot, emulator: BotApiEmulator
) -> None:
    await http_bot.send_message(USER, "https://example.org")
    (request,) = [r for r in emulator.requests if r.method == "sendMessage"]
    assert "disable_web_page_preview" not in request.params
    assert "is_disabled" in str(request.params["link_preview_options"])


async def test_answered_callback_queries_are_remembered(bot: MockedBot) -> None:
    """What the error handler asks before answering a button (a second answer fails)."""
    guard = guard_of(bot)
    assert guard is not None
    await bot.answer_callback_query("q1")
    assert guard.answered("q1") and not guard.answered("q2")


# ---- through the dispatcher: replies are not lost ---------------------------------------------

_ids = itertools.count(10_000)


async def say(dispatcher: Dispatcher, bot: Bot, user_id: int, text: str) -> None:
    message = Message(
        message_id=next(_ids),
        date=datetime.now(UTC),
        chat=Chat(id=user_id, type="private"),
        from_user=User(id=user_id, is_bot=False, first_name="U", language_code="ru"),
        text=text,
    )
    await dispatcher.feed_update(bot, Update(update_id=next(_ids), message=message))


async def test_a_reply_survives_429s(
    dispatcher: Dispatcher, http_bot: Bot, emulator: BotApiEmulator
) -> None:
    emulator.faults.fail_next(3, "429", method="sendMessage", retry_after=1)
    await say(dispatcher, http_bot, USER, "/start")  # a stranger: told how to get access
    (reply,) = sent_texts(emulator, USER)
    assert reply is not None and str(USER) in reply


async def test_a_department_of_a_thousand_items_arrives_whole(
    dispatcher: Dispatcher,
    http_bot: Bot,
    emulator: BotApiEmulator,
    session: AsyncSession,
    clock: FrozenClock,
) -> None:
    world = World(session)
    await world.department("edu")
    codes = [f"7.{n}" for n in range(1000)]
    for code in codes:
        await world.item(code, "edu", date(2025, 5, 1))  # all overdue, so all listed
    await session.commit()
    await readers(session, world)
    clock.set(NOW)
    emulator.add_chat(CHAIR)
    emulator.faults.set_rate_limits(global_per_second=30, per_chat_per_second=1)
    # /summary is one screen now (the worst items per department); the department's view
    # lists every item, so it is the reply that runs to many messages
    await say(dispatcher, http_bot, CHAIR, "/dept edu")
    messages = emulator.messages(CHAIR)
    html = "".join(m.source or "" for m in messages if m.kind == "text")
    listed = set(re.findall(r"(?<![\d.])7\.\d+(?![\d.])", html))
    assert [code for code in codes if code not in listed] == []
    assert len(messages) > 3  # the defect lost everything after the third
    assert emulator.stats.too_many_requests == 0

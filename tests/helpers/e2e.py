"""The production bot, long polling a Bot API emulator over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiogram.client.session.aiohttp import AiohttpSession

from bot.app.config import Settings
from bot.app.factory import Application, create_application
from bot.core.clock import Clock
from bot.sandbox.emulator import BotApiEmulator, Message
from tests.helpers.chat import ADMIN_ID


class FastSession(AiohttpSession):
    """aiogram's close() waits 250 ms for TLS teardown; plain HTTP to localhost needs none."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


@dataclass
class LiveBot:
    emulator: BotApiEmulator
    application: Application
    task: asyncio.Task[None]

    async def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # polling may already be stopped
            await self.application.dispatcher.stop_polling()
        await self.task
        await self.application.close()


async def start_live_bot(settings: Settings, clock: Clock, emulator: BotApiEmulator) -> LiveBot:
    """Start the bot exactly as `python -m bot` does, only pointed at the emulator.

    The people here type at machine speed and the emulator sets no per-chat limit, so the
    per-chat pacing (real seconds here; tested on virtual time in test_request_guard.py) is
    lifted: otherwise every step would wait a second and overrun the tests' timeouts.
    """
    settings = settings.model_copy(update={"chat_rate_per_second": 1000.0})
    application = await create_application(settings, clock=clock)
    application.bot.session = _fast_session(application.bot.session)
    task = asyncio.create_task(
        application.dispatcher.start_polling(application.bot, handle_signals=False)
    )
    await emulator.wait_polling()
    return LiveBot(emulator, application, task)


def _fast_session(session: object) -> FastSession:
    assert isinstance(session, AiohttpSession)
    fast = FastSession(api=session.api)
    for middleware in session.middleware:  # the request guard stays in front
        fast.middleware(middleware)
    return fast


@contextlib.asynccontextmanager
async def live_bot(
    settings: Settings, clock: Clock, emulator: BotApiEmulator
) -> AsyncIterator[LiveBot]:
    running = await start_live_bot(settings, clock, emulator)
    try:
        yield running
    finally:
        await running.stop()


async def say(emulator: BotApiEmulator, user: int, text: str, **kw: object) -> Message:
    emulator.send_text(user, text, **kw)  # type: ignore[arg-type]
    return await emulator.next_message(user)


async def tap(emulator: BotApiEmulator, user: int, message: Message, label: str) -> Message:
    """Press a button and return the message it edits (skipping keyboards retired elsewhere)."""
    emulator.press_button(user, message.message_id, message.button(label))
    while True:
        edited = await emulator.next_edit(user)
        if edited.message_id == message.message_id:
            return edited


async def join(emulator: BotApiEmulator, user: int, department: str, language: str) -> Message:
    """Invited without a name, he joins; the welcome (which asks his name once) is returned."""
    invitation = await say(emulator, ADMIN_ID, f"/invite {department}")
    token = next(w for w in invitation.text.split() if "?start=" in w).split("?start=")[1]
    prompt = await say(emulator, user, f"/start {token}")
    welcome = await tap(emulator, user, prompt, language)
    await joined_notice(emulator)
    return welcome


async def joined_notice(emulator: BotApiEmulator) -> Message:
    """The secretariat is told who joined (issue 22, #27): the notice to the admin."""
    notice = await emulator.next_message(ADMIN_ID)
    assert notice.text.startswith("👤"), notice.text
    return notice

"""`python -m bot sandbox`: the production application (dispatcher, outbox, scheduler,
database code) polling the built-in emulator, and the page to play it from."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiogram import Dispatcher

from bot.app.factory import Application, create_application
from bot.delivery.worker import DeliveryWorker
from bot.sandbox.clock import SandboxClock, TimeMachine
from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.world import (
    NEWCOMER_IDS_FROM,
    PERSONAS,
    SANDBOX_DIR,
    SANDBOX_TOKEN,
    SECRETARIAT,
    Persona,
    fresh_database,
    populate,
    sandbox_settings,
)
from bot.usecases.ports import UseCaseContext
from bot.web.app import create_web_app
from bot.web.server import WebServer
from bot.workdays.calendar import load_calendar

logger = logging.getLogger(__name__)

INVITE_LINK = re.compile(r"\?start=([A-Za-z0-9_-]+)")
INVITE_WAIT = 10.0
DASHBOARD_MAX_AGE = timedelta(hours=24)


class NoInvitationError(RuntimeError):
    """The secretariat's chat gave no invitation link (not started yet, or a refusal)."""


@dataclass
class Sandbox:
    """Everything the sandbox runs, started and stopped together."""

    data_dir: Path = SANDBOX_DIR
    host: str = "127.0.0.1"  # where the dashboard listens: the page's own address
    clock: SandboxClock = field(default_factory=SandboxClock)
    personas: list[Persona] = field(default_factory=lambda: list(PERSONAS))

    async def start(self) -> None:
        self.emulator = BotApiEmulator(
            SANDBOX_TOKEN,
            bot_username="shymkent_roadmap_sandbox_bot",
            bot_first_name="Road Map",
            wall_clock=lambda: self.clock.now().timestamp(),
        )
        await self.emulator.start()
        settings = sandbox_settings(self.emulator.base_url, self.data_dir)
        fresh_database(self.data_dir)
        self.application: Application = await create_application(settings, self.clock)
        await self._start_in_working_time(settings.tz)
        await populate(self.dispatcher["session_maker"], self.clock.now(), settings.tz)
        for persona in self.personas:
            self.emulator.add_chat(
                persona.telegram_id,
                first_name=persona.first_name,
                language_code=persona.language_code,
            )
        self.polling = asyncio.create_task(
            self.dispatcher.start_polling(self.application.bot, handle_signals=False),
            name="sandbox-polling",
        )
        await self.emulator.wait_polling(timeout=60)
        scheduler = await self.dispatcher["scheduler"].started()
        if scheduler is None:
            raise RuntimeError("the bot's scheduler did not start")
        scheduler.pause()  # the sandbox's time moves by the page's jumps, not the wall's
        self.time = TimeMachine(self.clock, scheduler, settings.tz, self.outbox.wake)
        self.dashboard = WebServer(
            create_web_app(self.usecases, token=SANDBOX_TOKEN, max_age=DASHBOARD_MAX_AGE),
            self.host,
            0,
        )
        await self.dashboard.start()

    async def _start_in_working_time(self, tz: ZoneInfo) -> None:
        """Out of hours, the sandbox's day starts at the next working morning: what the bot
        sends then would otherwise wait in the outbox until the page's clock got there."""
        async with self.dispatcher["session_maker"]() as session:
            calendar = await load_calendar(session, tz)
        self.clock.set(calendar.next_working_moment(self.clock.now()))

    @property
    def dispatcher(self) -> Dispatcher:
        return self.application.dispatcher

    @property
    def usecases(self) -> UseCaseContext:
        context: UseCaseContext = self.dispatcher["usecases"]
        return context

    @property
    def outbox(self) -> DeliveryWorker:
        return self.application.outbox

    def persona(self, telegram_id: int) -> Persona | None:
        return next((p for p in self.personas if p.telegram_id == telegram_id), None)

    async def add_person(self, target: str, first_name: str, language_code: str) -> Persona:
        """A newcomer through a real invitation: the secretariat types `/invite <target>` in
        its chat, the newcomer opens the link (`/start <token>`)."""
        before = len(self.emulator.chat_log(SECRETARIAT.telegram_id))
        self.emulator.send_text(SECRETARIAT.telegram_id, f"/invite {target}")
        token = await self._invitation_after(before)
        telegram_id = max([NEWCOMER_IDS_FROM - 1, *(p.telegram_id for p in self.personas)]) + 1
        newcomer = Persona(
            f"person_{telegram_id}", telegram_id, first_name, language_code, "", None, target
        )
        self.personas.append(newcomer)
        self.emulator.send_text(
            telegram_id, f"/start {token}", first_name=first_name, language_code=language_code
        )
        return newcomer

    async def _invitation_after(self, before: int) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + INVITE_WAIT
        while loop.time() < deadline:
            for message in self.emulator.chat_log(SECRETARIAT.telegram_id)[before:]:
                found = INVITE_LINK.search(message.text or "") if message.from_bot else None
                if found:
                    return found.group(1)
            await asyncio.sleep(0.1)
        raise NoInvitationError

    async def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # polling may already be stopped
            await self.dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await self.polling
        await self.dashboard.stop()
        await self.application.close()
        await self.emulator.stop()


async def serve_sandbox(host: str, port: int, data_dir: Path = SANDBOX_DIR) -> None:
    """Start everything, print the page's address, run until interrupted."""
    from bot.sandbox.server import PageServer

    sandbox = Sandbox(data_dir, host)
    await sandbox.start()
    page = PageServer(sandbox, host, port)
    await page.start()
    print(f"Sandbox ready: open {page.url} (Ctrl+C stops it)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await page.stop()
        await sandbox.stop()


def sandbox_command(host: str, port: int) -> int:
    from bot.core.catalogs import compile_catalogs

    compile_catalogs()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_sandbox(host, port))
    return 0

"""The production bot, long polling a Bot API emulator over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.client.session.aiohttp import AiohttpSession
from sqlmodel import col, select

from bot.app.config import Settings
from bot.app.factory import Application, create_application
from bot.core.clock import Clock, FrozenClock
from bot.roadmap.demo import seed_demo
from bot.sandbox.emulator import BotApiEmulator, Message
from db.engine import SessionMaker
from db.models import Person, RoadmapItem, StatusUpdate
from tests.helpers.chat import ADMIN_ID

# The department most end-to-end worlds start with.
EDUCATION = "/adddept edu Білім басқармасы | Управление образования"


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
    application.bot.session = fast_session(application.bot.session)
    task = asyncio.create_task(
        application.dispatcher.start_polling(application.bot, handle_signals=False)
    )
    await emulator.wait_polling()
    return LiveBot(emulator, application, task)


def fast_session(session: object) -> FastSession:
    """The bot's session made a FastSession, its middleware (the request guard) kept."""
    assert isinstance(session, AiohttpSession)
    fast = FastSession(api=session.api)
    for middleware in session.middleware:  # the request guard stays in front
        fast.middleware(middleware)
    return fast


_fast_session = fast_session  # the name tests/helpers/webhook_delivery.py imports


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
    return await press(emulator, user, message, message.button(label))


async def press(emulator: BotApiEmulator, user: int, message: Message, data: str) -> Message:
    """Press the button carrying this callback data; the message it edits."""
    emulator.press_button(user, message.message_id, data)
    return await edit_of(emulator, user, message.message_id)


async def edit_of(emulator: BotApiEmulator, user: int, message_id: int) -> Message:
    """The next edit of one message (edits retiring older keyboards are skipped)."""
    while True:
        edited = await emulator.next_edit(user)
        if edited.message_id == message_id:
            return edited


async def typed(emulator: BotApiEmulator, user: int, card: Message, text: str) -> Message:
    """A typed answer in a dialog: the card, shown again in place."""
    emulator.send_text(user, text)
    return await edit_of(emulator, user, card.message_id)


class TapCounter:
    """Presses buttons and types answers for one person, counting each: how issue 22's tap
    targets (an unchanged item in one tap, a new percent in three...) are measured."""

    def __init__(self, emulator: BotApiEmulator, user: int) -> None:
        self.emulator, self.user, self.count, self.typed = emulator, user, 0, 0

    async def press(self, message: Message, label: str, row: int | None = None) -> Message:
        """The button with this label (in `row` when several have it); the edited message."""
        self.count += 1
        if row is None:
            data = message.button(label)
        else:
            (data,) = [data for text, data in message.buttons[row] if text == label]
        assert data is not None
        return await press(self.emulator, self.user, message, data)

    async def type(self, card: Message, text: str) -> Message:
        """A typed answer, counted apart: the card follows in place."""
        self.typed += 1
        return await typed(self.emulator, self.user, card, text)


@dataclass(frozen=True)
class Typed:
    """A step of a dialog walk: an answer typed instead of a tap."""

    text: str


@dataclass(frozen=True)
class At:
    """A step of a dialog walk: the button at this place of the screen, whatever its label
    (Save, the first cause...)."""

    row: int
    column: int


async def walk(
    emulator: BotApiEmulator, user: int, screen: Message, *steps: str | Typed | At
) -> Message:
    """A dialog walked step by step from `screen` (open item → status → cause → comment →
    save): a label is the tap of that button; the screen each step leaves is returned."""
    for step in steps:
        if isinstance(step, Typed):
            screen = await typed(emulator, user, screen, step.text)
        elif isinstance(step, At):
            screen = await tap(emulator, user, screen, screen.buttons[step.row][step.column][0])
        else:
            screen = await tap(emulator, user, screen, step)
    return screen


async def nothing_for(emulator: BotApiEmulator, user: int) -> bool:
    """Once the bot is idle, no message waits for this person."""
    await emulator.wait_idle()
    try:
        await emulator.next_message(user, timeout=0.3)
    except TimeoutError:
        return True
    return False


async def secretariat_starts(emulator: BotApiEmulator, language: str = "Русский") -> Message:
    """The secretariat's /start and its language tap: the first screen it sees."""
    prompt = await say(emulator, ADMIN_ID, "/start")
    return await tap(emulator, ADMIN_ID, prompt, language)


async def build_world(
    emulator: BotApiEmulator,
    commands: Iterable[str] = (),
    heads: Iterable[tuple[int, str, str]] = (),
    secretariat_language: str = "Русский",
) -> None:
    """The secretariat starts (in Russian unless told), sends its commands (/adddept,
    /additem...), and each (user, department, language) of `heads` joins by an invitation."""
    await secretariat_starts(emulator, secretariat_language)
    for command in commands:
        await say(emulator, ADMIN_ID, command)
    for user, department, language in heads:
        await join(emulator, user, department, language)


async def round_request(emulator: BotApiEmulator, clock: FrozenClock, head: int) -> Message:
    """A minute on, the secretariat's /request_now: the request the head receives."""
    clock.advance(timedelta(minutes=1))
    await say(emulator, ADMIN_ID, "/request_now")
    return await emulator.next_message(head)


async def education_round(
    emulator: BotApiEmulator,
    clock: FrozenClock,
    session_maker: SessionMaker,
    head: tuple[int, str],
    items: Iterable[str],
    *,
    earlier: Mapping[str, EarlierReport] | None = None,
    reported_ago: timedelta = timedelta(days=7),
    secretariat_language: str = "Русский",
) -> Message:
    """Education with its `items` (/additem commands), its head (his id and language) joined,
    his `earlier` reports (by item code) `reported_ago`; then a round: the request he gets."""
    user, language = head
    commands, heads = [EDUCATION, *items], [(user, "edu", language)]
    await build_world(emulator, commands, heads, secretariat_language)
    await seed_reports(session_maker, user, clock.now() - reported_ago, earlier or {})
    return await round_request(emulator, clock, user)


@dataclass(frozen=True)
class EarlierReport:
    """A head's report written straight to the database, as if sent before the test."""

    status: str = "on_track"
    progress: int = 0
    cause: str | None = None
    comment: str | None = None


async def seed_reports(
    session_maker: SessionMaker,
    head: int,
    created_at: datetime,
    reports: Mapping[str, EarlierReport],
) -> None:
    """Each item of `reports` (by code) reported by the head (his Telegram id) at `created_at`."""
    async with session_maker() as session:
        author = (await session.exec(select(Person).where(Person.telegram_id == head))).one()
        for item in (await session.exec(select(RoadmapItem).order_by(col(RoadmapItem.id)))).all():
            report = reports.get(item.code)
            if report is None:
                continue
            session.add(
                StatusUpdate(
                    item_id=item.id,  # type: ignore[arg-type]
                    author_id=author.id,  # type: ignore[arg-type]
                    status=report.status,
                    progress=report.progress,
                    cause=report.cause,
                    comment=report.comment,
                    created_at=created_at,
                )
            )
        await session.commit()


async def updates_of(session_maker: SessionMaker, code: str) -> list[StatusUpdate]:
    """Every stored report of one item, oldest first."""
    async with session_maker() as session:
        statement = (
            select(StatusUpdate)
            .join(RoadmapItem, col(RoadmapItem.id) == StatusUpdate.item_id)
            .where(RoadmapItem.code == code)
            .order_by(col(StatusUpdate.id))
        )
        return list((await session.exec(statement)).all())


async def coded_updates(session_maker: SessionMaker) -> list[tuple[str, StatusUpdate]]:
    """Every stored report with its item's code, oldest first."""
    async with session_maker() as session:
        statement = (
            select(RoadmapItem.code, StatusUpdate)
            .join(RoadmapItem, col(RoadmapItem.id) == StatusUpdate.item_id)
            .order_by(col(StatusUpdate.id))
        )
        return [(code, update) for code, update in (await session.exec(statement)).all()]


@contextlib.asynccontextmanager
async def demo_bot(
    settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
    at: datetime,
) -> AsyncIterator[LiveBot]:
    """The README's first steps: the demo roadmap seeded at `at`, the bot started and its
    start-up catch-up done."""
    clock.set(at)
    async with session_maker() as session:
        await seed_demo(session, now=at, tz=settings.tz)
    async with live_bot(settings, clock, emulator) as running:
        await running.application.dispatcher["duties"].caught_up()
        yield running


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

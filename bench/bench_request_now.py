"""/request_now for 1,000 members, as the secretariat lives it, beside bare aiogram.

A database with 1,000 active members in 40 departments, each with three open items (120
items) and a report on each; the production application (`create_application`, as
`python -m bot` builds it) long-polls the Bot API emulator over real HTTP, with Telegram's
limits (30 messages/s overall, 1/s per chat). The secretariat sends `/request_now`; the
emulator notes when getUpdates hands the update out, and the bench reads off when the
confirmation to the secretariat and the first member's request reach the emulator, and how
many SQL statements the bot ran in between. Between repetitions the rest of the round is
marked sent, so each one starts with an idle outbox. The baseline, in the same run on the
same emulator: the same update through bare aiogram with one echo handler.

Run by hand: `.venv/bin/python bench/bench_request_now.py [--repeat 5] [--members 1000]`.
SQLite in a temp dir always; BENCH_DATABASE_URL (a PostgreSQL server URL) adds PostgreSQL, in a
scratch database created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from sqlalchemy import event, update
from sqlmodel import col, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests` is not installed

from bench.scratch import scratch_database, server_for
from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator
from db.engine import SessionMaker, create_engine, create_session_maker
from db.migrate import upgrade
from db.models import (
    Department,
    Notification,
    Person,
    RoadmapItem,
    Role,
    StatusRound,
    StatusUpdate,
)
from tests.helpers.e2e import FastSession, start_live_bot

TOKEN = "7000000001:BENCH_token_abcdefghijklmnopqrstuvwxyz012"
ADMIN = 111
FIRST_MEMBER = 2_000_001
# Monday 3 March 2025, 09:05 in Almaty: working time, and nothing scheduled is due or missed.
START = datetime(2025, 3, 3, 4, 5, tzinfo=UTC)


class TimedEmulator(BotApiEmulator):
    """Notes the moment each update is handed to the bot."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.served: dict[int, float] = {}

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        updates = await super()._get_updates(params)
        now = self.faults.clock()
        for served in updates:
            self.served.setdefault(served["update_id"], now)
        return updates


@dataclass
class Sample:
    confirmation: float  # seconds from the update served to the reply reaching the emulator
    first_member: float | None = None
    statements: int | None = None  # SQL statements the bot ran until the confirmation


@dataclass
class Series:
    label: str
    samples: list[Sample] = field(default_factory=list)

    def show(self) -> None:
        def figures(values: list[float]) -> str:
            if not values:
                return "-"
            ms = [value * 1000 for value in values]
            return f"p50 {statistics.median(ms):7.0f} ms  max {max(ms):7.0f} ms"

        confirmations = [sample.confirmation for sample in self.samples]
        firsts = [s.first_member for s in self.samples if s.first_member is not None]
        counts = [s.statements for s in self.samples if s.statements is not None]
        line = f"{self.label:<28} confirmation {figures(confirmations)}"
        if firsts:
            line += f"   first member's request {figures(firsts)}"
        if counts:
            line += f"   SQL until the confirmation {statistics.median(counts):.0f}"
        print(line)
        runs = ", ".join(
            f"{s.confirmation * 1000:.0f}"
            + (f"/{s.first_member * 1000:.0f}" if s.first_member is not None else "")
            for s in self.samples
        )
        print(f"{'':<28} each run, ms (confirmation/first member): {runs}")


async def seed(session_maker: SessionMaker, args: argparse.Namespace) -> list[int]:
    """Departments, items with one report each, the members (both languages) and the
    secretariat; the members' chat ids."""
    at = START - timedelta(minutes=5)
    chats: list[int] = []
    async with session_maker() as session:
        secretariat = Person(
            telegram_id=ADMIN,
            display_name="Secretariat",
            locale="ru",
            role=Role.SECRETARIAT,
            created_at=at,
            updated_at=at,
        )
        session.add(secretariat)
        departments = [
            Department(
                code=f"d{n:02d}",
                name_kk=f"Басқарма {n}",
                name_ru=f"Управление {n}",
                created_at=at,
            )
            for n in range(args.departments)
        ]
        session.add_all(departments)
        await session.flush()
        items = [
            RoadmapItem(
                code=f"{n + 1}.{k + 1}",
                title_kk=f"Жол картасының {n + 1}.{k + 1} тармағы",
                title_ru=f"Пункт дорожной карты {n + 1}.{k + 1}",
                department_id=department.id,  # type: ignore[arg-type]
                deadline=date(2025, 6 + k, 1),
                year=2025,
                created_at=at,
            )
            for n, department in enumerate(departments)
            for k in range(args.items_per_department)
        ]
        session.add_all(items)
        people = []
        for n in range(args.members):
            chat = FIRST_MEMBER + n
            chats.append(chat)
            people.append(
                Person(
                    telegram_id=chat,
                    display_name=f"Member {n}",
                    locale="kk" if n % 2 else "ru",
                    role=Role.MEMBER,
                    department_id=departments[n % len(departments)].id,
                    created_at=at,
                    updated_at=at,
                )
            )
        session.add_all(people)
        await session.flush()
        session.add_all(
            StatusUpdate(
                item_id=item.id,  # type: ignore[arg-type]
                author_id=people[index % len(people)].id,  # type: ignore[arg-type]
                status="on_track",
                progress=40,
                created_at=at,
            )
            for index, item in enumerate(items)
        )
        await session.commit()
    return chats


def sends_to(emulator: BotApiEmulator, chats: Callable[[int], bool], since: float) -> float | None:
    """When the first successful sendMessage to one of `chats` reached the emulator."""
    for record in emulator.requests:
        if (
            record.method == "sendMessage"
            and record.ok
            and record.at >= since
            and chats(int(record.params.get("chat_id", 0)))
        ):
            return record.at
    return None


async def wait_for(probe: Callable[[], float | None], timeout: float = 60.0) -> float:
    deadline = time.monotonic() + timeout
    while (found := probe()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError("the emulator never received the message")
        await asyncio.sleep(0.002)
    return found


async def request_now(
    emulator: TimedEmulator, members: set[int] | None, statements: list[float] | None
) -> Sample:
    """The secretariat's /request_now: from the update served to the confirmation (and to
    the first member's request when `members` is given)."""
    await emulator.wait_idle(timeout=30)
    update_id = emulator._next_update_id
    emulator.send_text(ADMIN, "/request_now")
    served = await wait_for(lambda: emulator.served.get(update_id))
    confirmed = await wait_for(lambda: sends_to(emulator, lambda chat: chat == ADMIN, served))
    sample = Sample(confirmation=confirmed - served)
    if members is not None:
        first = await wait_for(lambda: sends_to(emulator, members.__contains__, served))
        sample.first_member = first - served
    if statements is not None:
        sample.statements = sum(1 for at in statements if served <= at <= confirmed)
    return sample


async def finish_round(session_maker: SessionMaker) -> int:
    """Once the round is wholly queued, mark the rest of it sent, so the next repetition
    starts with an idle outbox (a row no longer pending is never sent: the worker checks
    before each send)."""
    while True:
        async with session_maker() as session:
            waiting = await session.exec(
                select(func.count())
                .select_from(StatusRound)
                .where(col(StatusRound.queued_at).is_(None))
            )
            if not waiting.one():
                break
        await asyncio.sleep(0.01)
    async with session_maker() as session:
        result = await session.exec(
            update(Notification)
            .where(col(Notification.state) == "pending")
            .values(state="sent", claimed_by=None, claimed_until=None)
        )
        await session.commit()
    return int(result.rowcount or 0)


async def round_rows(session_maker: SessionMaker) -> int:
    async with session_maker() as session:
        result = await session.exec(
            select(func.count()).select_from(Notification).where(Notification.kind == "round")
        )
        return int(result.one())


async def the_bot(backend: str, args: argparse.Namespace) -> Series:
    series = Series(f"{backend}: the bot")
    async with scratch_database(server_for(backend)) as url:
        engine = create_engine(url)
        await upgrade(engine)
        session_maker = create_session_maker(engine)
        chats = await seed(session_maker, args)
        emulator = TimedEmulator(TOKEN)
        await emulator.start()
        for chat in [ADMIN, *chats]:
            emulator.add_chat(chat)
        emulator.faults.set_rate_limits(30.0, 1.0)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=TOKEN,
            database_url=url,
            admin_ids=str(ADMIN),
            telegram_api_url=emulator.base_url,
        )
        running = await start_live_bot(settings, FrozenClock(START), emulator)
        statements: list[float] = []

        def count(*_: Any) -> None:
            statements.append(time.monotonic())

        sync_engine = running.application.engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", count)
        members = set(chats)
        try:
            for _turn in range(args.repeat):
                series.samples.append(await request_now(emulator, members, statements))
                await finish_round(session_maker)
                await asyncio.sleep(1.5)  # Telegram's buckets refill before the next round
            enqueued = await round_rows(session_maker)
        finally:
            event.remove(sync_engine, "before_cursor_execute", count)
            await running.stop()
            await emulator.stop()
            await engine.dispose()
    expected = args.repeat * args.members
    if enqueued != expected:
        print(f"  ! {enqueued} round requests recorded, expected {expected}")
    return series


async def bare_aiogram(args: argparse.Namespace) -> Series:
    """The baseline: the same update through a dispatcher with one echo handler."""
    series = Series("bare aiogram, echo handler")
    emulator = TimedEmulator(TOKEN)
    await emulator.start()
    emulator.add_chat(ADMIN)
    emulator.faults.set_rate_limits(30.0, 1.0)
    bot = Bot(TOKEN, session=FastSession(api=TelegramAPIServer.from_base(emulator.base_url)))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "-")

    task = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    try:
        await emulator.wait_polling()
        for _turn in range(args.repeat):
            series.samples.append(await request_now(emulator, None, None))
            await asyncio.sleep(1.5)  # as between the bot's rounds
    finally:
        await dispatcher.stop_polling()
        await task
        await bot.session.close()
        await emulator.stop()
    return series


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)  # rows finished under the worker are warned of
    backends = ["SQLite"] + (["PostgreSQL"] if os.environ.get("BENCH_DATABASE_URL") else [])
    print(
        f"/request_now: {args.members} members in {args.departments} departments, "
        f"{args.departments * args.items_per_department} open items; {args.repeat} rounds each; "
        "from the update served to the message reaching the emulator (30/s, 1/s per chat)"
    )
    (await bare_aiogram(args)).show()
    for backend in backends:
        (await the_bot(backend, args)).show()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--departments", type=int, default=40)
    parser.add_argument("--items-per-department", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))

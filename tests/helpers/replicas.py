"""Several replicas of the bot as real processes (`python -m bot`) on one PostgreSQL database.

In polling mode each replica long-polls a Bot API emulator of its own (one bot token polled by
several processes is answered 409 Conflict by Telegram, and by the emulator), so the members
are known to every emulator and what a member received is the sum over the emulators. In
webhook mode (`mode="webhook"`) the replicas share one emulator and one Redis: each serves the
webhook on a port of its own, the webhook is registered by the deploy command
(`python -m bot webhook set`), and the emulator's updates are POSTed by a `WebhookDeliverer`
taking the replicas in turn, as a load balancer would. The scheduled work runs on whichever
replica leads (bot/scheduling/leader.py).

Time is the machine's: the replicas get a time zone in which the next minutes are working
time and the round, the daily scan and the digest planned for one minute shortly ahead; that
day is declared a working day (a calendar override), whatever the date.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import ClientError, ClientSession, ClientTimeout
from sqlalchemy import text

from bot.sandbox.emulator import BotApiEmulator
from bot.scheduling.leader import LEADER_LOCK_KEY, asyncpg_dsn
from db.engine import create_engine, create_session_maker
from db.models import CalendarOverride, Department, Person, RoadmapItem, Role, StatusUpdate
from tests.helpers.chat import ADMIN_ID, TEST_TOKEN
from tests.helpers.redis import free_port
from tests.helpers.webhook_delivery import (
    WEBHOOK_PUBLIC_URL,
    WEBHOOK_SECRET,
    WebhookDeliverer,
)

ROOT = Path(__file__).resolve().parents[2]
CHAIR_ID = 222
FIRST_MEMBER = 3_000_001
SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def busiest_second(times: Sequence[float]) -> int:
    """The most of sorted `times` within any one second (Telegram's cap is 30 messages)."""
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass(frozen=True)
class Plan:
    """One minute ahead on the machine's clock, in a zone where it is around noon."""

    zone: str
    at: datetime  # aware, in `zone`

    @property
    def weekly(self) -> str:
        return f"{DAY_NAMES[self.at.weekday()]} {self.at:%H:%M}"

    @property
    def daily(self) -> str:
        return f"{self.at:%H:%M}"

    @property
    def utc(self) -> datetime:
        return self.at.astimezone(UTC)


def plan_ahead(seconds: float, now: datetime | None = None) -> Plan:
    """The first whole minute at least `seconds` from now, in a fixed-offset zone where that
    minute falls between 11:00 and 13:00."""
    now = now or datetime.now(UTC)
    moment = (now + timedelta(seconds=seconds + 59)).replace(second=0, microsecond=0)
    offset = 12 - moment.hour  # hours east of UTC
    offset = max(-12, min(14, offset if offset <= 12 else offset - 24))
    # Etc/GMT zones count the other way round: Etc/GMT-5 is five hours east of UTC.
    zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
    return Plan(zone, moment.astimezone(ZoneInfo(zone)))


async def seed(
    url: str,
    *,
    members: int,
    day: date,
    at: datetime,
    departments: int = 2,
    reported_at: datetime | None = None,
) -> list[int]:
    """`departments` departments with two open items each, `members` members (member n in
    department n mod `departments`, Kazakh-speaking when n is odd), a chair, the secretariat,
    and `day` declared a working day; the members' chat ids. Everything is made `at`, but the
    items' last statuses `reported_at` (default `at`)."""
    engine = create_engine(url)
    chats = [FIRST_MEMBER + n for n in range(members)]
    try:
        async with create_session_maker(engine)() as session:
            session.add(
                Person(
                    telegram_id=ADMIN_ID,
                    display_name="Secretariat",
                    locale="ru",
                    role=Role.SECRETARIAT,
                    created_at=at,
                    updated_at=at,
                )
            )
            session.add(
                Person(
                    telegram_id=CHAIR_ID,
                    display_name="Chair",
                    locale="kk",
                    role=Role.CHAIR,
                    created_at=at,
                    updated_at=at,
                )
            )
            units = [
                Department(code=f"d{n}", name_kk=f"Бөлім {n}", name_ru=f"Отдел {n}", created_at=at)
                for n in range(departments)
            ]
            session.add_all(units)
            await session.flush()
            items = [
                RoadmapItem(
                    code=f"{n + 1}.{k + 1}",
                    title_kk=f"Тармақ {n + 1}.{k + 1}",
                    title_ru=f"Пункт {n + 1}.{k + 1}",
                    department_id=department.id,  # type: ignore[arg-type]
                    deadline=day + timedelta(days=60 + 30 * k),
                    year=day.year,
                    created_at=at,
                )
                for n, department in enumerate(units)
                for k in range(2)
            ]
            session.add_all(items)
            people = [
                Person(
                    telegram_id=chat,
                    display_name=f"Member {n}",
                    locale="kk" if n % 2 else "ru",
                    role=Role.MEMBER,
                    department_id=units[n % departments].id,
                    created_at=at,
                    updated_at=at,
                )
                for n, chat in enumerate(chats)
            ]
            session.add_all(people)
            await session.flush()
            session.add_all(
                StatusUpdate(
                    item_id=item.id,  # type: ignore[arg-type]
                    author_id=people[index % len(people)].id,  # type: ignore[arg-type]
                    status="on_track",
                    progress=30,
                    created_at=reported_at or at,
                )
                for index, item in enumerate(items)
            )
            session.add(CalendarOverride(day=day, day_off=False, created_at=at))
            await session.commit()
    finally:
        await engine.dispose()
    return chats


@dataclass
class Replicas:
    """`count` bot processes on the database at `url`: each polling its own emulator, or in
    webhook mode (with `redis_url`) all fed by one emulator through `deliverer`."""

    root: Path
    url: str
    count: int
    settings: dict[str, str]
    chats: list[int]
    mode: Literal["polling", "webhook"] = "polling"
    redis_url: str | None = None
    # Telegram backs off between attempts; a hot loop of 503s would only load the machine.
    retry_delay: float = 0.2
    emulators: list[BotApiEmulator] = field(default_factory=list)
    processes: list[asyncio.subprocess.Process | None] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    deliverer: WebhookDeliverer | None = None

    @property
    def webhook(self) -> bool:
        return self.mode == "webhook"

    async def start(self) -> None:
        for _index in range(1 if self.webhook else self.count):
            emulator = BotApiEmulator(TEST_TOKEN)
            await emulator.start()
            for chat in (ADMIN_ID, CHAIR_ID, *self.chats):
                emulator.add_chat(chat)
            self.emulators.append(emulator)
        if self.webhook:
            assert self.redis_url, "webhook mode needs a Redis"
            self.ports = [free_port() for _ in range(self.count)]
            await self._set_webhook()
        self.processes = [await self._spawn(index) for index in range(self.count)]
        if self.webhook:
            self.deliverer = WebhookDeliverer(
                self.emulators[0],
                [f"http://127.0.0.1:{port}" for port in self.ports],
                timeout=60.0,  # a loaded machine; Telegram itself waits about a minute
                retry_delay=self.retry_delay,
            )
            await self.deliverer.start()

    @property
    def emulator(self) -> BotApiEmulator:
        """The one emulator of webhook mode (the first one when polling)."""
        return self.emulators[0]

    def _environment(self, index: int) -> dict[str, str]:
        folder = self.root / f"replica{index}"
        environment = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BOT_", "DATABASE_", "REDIS_", "WEB_", "WEBHOOK_", "PUBLIC_URL"))
        }
        environment |= {
            "PYTHONPATH": str(ROOT),
            "BOT_TOKEN": TEST_TOKEN,
            "DATABASE_URL": self.url,
            "TELEGRAM_API_URL": self.emulators[0 if self.webhook else index].base_url,
            "ADMIN_IDS": str(ADMIN_ID),
            "HEARTBEAT_FILE": str(folder / "last-poll"),
            "DATABASE_POOL_SIZE": "2",
        }
        if self.webhook:
            assert self.redis_url is not None
            environment |= {
                "BOT_MODE": "webhook",
                "PUBLIC_URL": WEBHOOK_PUBLIC_URL,
                "WEBHOOK_SECRET": WEBHOOK_SECRET,
                "REDIS_URL": self.redis_url,
                "WEB_HOST": "127.0.0.1",
                "WEB_PORT": str(self.ports[index]) if index < len(self.ports) else "8080",
            }
        return environment | self.settings

    async def _set_webhook(self) -> None:
        """`python -m bot webhook set`, as the operator runs it once at deploy time."""
        folder = self.root / "deploy"
        folder.mkdir(parents=True, exist_ok=True)
        log = (folder / "webhook-set.log").open("ab")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "webhook", "set",
            cwd=folder, env=self._environment(0), stdout=log, stderr=log,
        )  # fmt: skip
        log.close()
        code = await asyncio.wait_for(process.wait(), timeout=120)
        assert code == 0, (folder / "webhook-set.log").read_text(errors="replace")
        assert self.emulator.webhook is not None

    async def _spawn(self, index: int) -> asyncio.subprocess.Process:
        folder = self.root / f"replica{index}"
        folder.mkdir(parents=True, exist_ok=True)
        log = (folder / "bot.log").open("ab")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=folder,  # no .env there
            env=self._environment(index),
            stdout=log,
            stderr=log,
        )
        log.close()
        return process

    async def wait_ready(self, timeout: float = 120.0) -> None:
        """Polling: each replica holds a long poll. Webhook: each answers /readyz with 200
        (database and Redis reachable, migrations current, the webhook route up)."""
        if not self.webhook:
            await self.wait_polling(timeout)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with ClientSession(timeout=ClientTimeout(total=10)) as http:
            for index, port in enumerate(self.ports):
                while True:
                    process = self.processes[index]
                    assert process is not None and process.returncode is None, self.logs()
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                            if response.status == 200:
                                break
                    except (ClientError, OSError, TimeoutError):
                        pass
                    if loop.time() > deadline:
                        raise TimeoutError(f"replica {index} not ready\n{self.logs()}")
                    await asyncio.sleep(0.2)

    async def wait_polling(self, timeout: float = 120.0) -> None:
        for emulator in self.emulators:
            await emulator.wait_polling(timeout=timeout)

    def received(self, chat: int) -> int:
        """Messages the bot delivered to `chat`, over every replica."""
        return sum(
            1
            for emulator in self.emulators
            for record in emulator.requests
            if record.method in SENDS and record.ok and int(record.params.get("chat_id", 0)) == chat
        )

    def sends(self) -> Counter[int]:
        return Counter(
            int(record.params.get("chat_id", 0))
            for emulator in self.emulators
            for record in emulator.requests
            if record.method in SENDS and record.ok
        )

    def send_times(self, *, with_edits: bool = False) -> list[float]:
        """When each delivered message reached its emulator (the emulators share one clock);
        `with_edits`: the edits too, all that Telegram counts against its 30 a second."""
        return sorted(
            record.at
            for emulator in self.emulators
            for record in emulator.requests
            if record.ok
            and (record.method in SENDS or (with_edits and record.method.startswith("edit")))
        )

    async def leader_pid(self) -> int | None:
        """The process id of the replica holding the leader's lock, as PostgreSQL sees it."""
        connection = await asyncpg.connect(asyncpg_dsn(self.url))
        try:
            name = await connection.fetchval(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a"
                " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
                " AND l.objsubid = 1 AND l.classid::bigint = $1 AND l.objid::bigint = $2"
                " AND a.datname = current_database()",
                LEADER_LOCK_KEY >> 32,
                LEADER_LOCK_KEY & 0xFFFFFFFF,
            )
        finally:
            await connection.close()
        if not name or ":" not in name:
            return None
        return int(name.rsplit(":", 1)[1])

    async def wait_leader(self, timeout: float = 60.0, other_than: int | None = None) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            pid = await self.leader_pid()
            if pid is not None and pid != other_than:
                return pid
            if loop.time() > deadline:
                raise TimeoutError("no replica became the leader")
            await asyncio.sleep(0.2)

    def index_of(self, pid: int) -> int:
        for index, process in enumerate(self.processes):
            if process is not None and process.pid == pid:
                return index
        raise LookupError(pid)

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        self.processes[self.index_of(pid)] = None

    async def count_rows(self, sql: str) -> int:
        engine = create_engine(self.url)
        try:
            async with engine.connect() as connection:
                return int((await connection.execute(text(sql))).scalar_one())
        finally:
            await engine.dispose()

    async def counts_by(self, sql: str) -> dict[int, int]:
        """`SELECT key, count(*) … GROUP BY key` as a dict."""
        engine = create_engine(self.url)
        try:
            async with engine.connect() as connection:
                rows = (await connection.execute(text(sql))).all()
                return {int(key): int(count) for key, count in rows}
        finally:
            await engine.dispose()

    async def stop(self) -> None:
        if self.deliverer is not None:
            await self.deliverer.stop()
        for process in self.processes:
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGCONT)
                    process.terminate()
        for process in self.processes:
            if process is None:
                continue
            try:
                await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
                await process.wait()
        for emulator in self.emulators:
            await emulator.stop()

    def logs(self) -> str:
        parts = []
        for index in range(self.count):
            path = self.root / f"replica{index}" / "bot.log"
            if path.exists():
                parts.append(f"--- replica {index} ---\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)

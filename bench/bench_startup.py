"""Start-up: time to the first getUpdates and idle memory, the bot beside bare aiogram.

Each run starts a fresh process that long-polls a Bot API emulator served by this process:
`python -m bot` exactly as in production (settings, catalogs, migrations on an already
migrated SQLite file, the scheduler once it polls, outbox); a bare aiogram bot that does what
a minimal real one does before polling (a Bot with its own API server, a Dispatcher, one
router with an echo handler); the same bare bot with the collector off until it polls, as
the bot does (the ratio against it is the bot's own weight, without a saving any aiogram bot
could have); and the bare bot that also loads the customer's fixed stack (SQLAlchemy's asyncio
engine, SQLModel, aiosqlite, APScheduler, Babel), reads the database once and starts a
scheduler (idle memory is judged against it: the stack alone is not the bot's to shed).
The bot's bytecode is compiled first, as the install does. The start time runs
from spawning the process to the emulator receiving its first getUpdates; the CPU time is
what the process used until then (user + system, from /proc: on a busy machine it varies less
than the wall clock); the memory is taken after the process has idled for five seconds, when
the start's background work (scheduler, outbox, catch-up) has run. The kinds alternate, the
order reversed every other run, so a busy machine slows them alike. Five runs each by
default; the table shows medians and, in brackets, the best run.

Besides the resident set, the memory columns give the unique set (USS: the pages only this
process holds, Private_Clean + Private_Dirty of /proc/<pid>/smaps_rollup) and the
proportional set (PSS), which the shared libraries' pages do not blur; the load average is
printed before and after, since the wall clock means little without it.

What the bot does at start depends on the time of day: after REMINDER_TIME it catches up the
day's reminder scan, which builds the working calendar,
and after the digest's time in the week it sends the week's digest. So that runs compare, the
bot is measured as started at night (REMINDER_TIME 23:59, DIGEST_SCHEDULE Sunday 23:59), on an
empty, migrated database; `--daytime` adds a start after the reminder time.

Run by hand: `.venv/bin/python bench/bench_startup.py [--runs 5] [--daytime] [--before PATH]`;
`--account` prints instead, one import group at a time, the CPU and memory the bot adds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `tests` is not installed

from bot.sandbox.emulator import BotApiEmulator  # noqa: E402

TOKEN = "7000000001:BENCH_token_abcdefghijklmnopqrstuvwxyz012"
IDLE_SECONDS = 5.0
FIRST_POLL_TIMEOUT = 120.0

BARE_AIOGRAM = """
import asyncio, os
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

router = Router()

@router.message(F.text)
async def echo(message: Message) -> None:
    await message.answer(message.text or "")

async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    await dispatcher.start_polling(bot)

asyncio.run(main())
"""

# Bare aiogram with the collector off until it polls, as `python -m bot` does (bot/app/cli.py):
# the ratio against it is the bot's own weight, without a saving that any aiogram bot could have.
BARE_AIOGRAM_COLLECTOR_OFF = "import gc; gc.disable()\n" + BARE_AIOGRAM.replace(
    "    await dispatcher.start_polling(bot)",
    "    gc.freeze()\n    gc.enable()\n    await dispatcher.start_polling(bot)",
)

# Bare aiogram that also loads the customer's fixed stack (SQLAlchemy's asyncio engine,
# SQLModel, aiosqlite, APScheduler, Babel) and reads its database once before polling, as any
# bot built on that stack does: the baseline issue 28 sets idle memory against. It imports the
# same modules of that stack as the bot (aiogram's i18n, keyboard builder and callback data,
# SQLModel's async session, Babel's translations and numbers, APScheduler's cron and interval
# triggers): 0.6 MiB the bot would otherwise be charged for the stack's own code.
BARE_AIOGRAM_FIXED_STACK = BARE_AIOGRAM.replace(
    "    await dispatcher.start_polling(bot)",
    """    import sqlmodel, sqlmodel.ext.asyncio.session, aiosqlite
    import babel.dates, babel.numbers, babel.support
    import aiogram.filters.callback_data, aiogram.utils.i18n, aiogram.utils.keyboard
    import apscheduler.triggers.cron, apscheduler.triggers.interval
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    engine = create_async_engine(os.environ["DATABASE_URL"])
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    scheduler = AsyncIOScheduler()
    scheduler.start()
    await dispatcher.start_polling(bot)""",
)


@dataclass
class Run:
    start_seconds: float
    cpu_seconds: float
    rss_mib: float
    uss_mib: float
    pss_mib: float


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def uss_pss_mib(pid: int) -> tuple[float, float]:
    """Unique and proportional set sizes from smaps_rollup (Linux 4.14+)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    return fields["Private_Clean"] + fields["Private_Dirty"], fields["Pss"]


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


async def first_get_updates(emulator: BotApiEmulator, process: asyncio.subprocess.Process) -> float:
    """The emulator's clock (time.monotonic) when the first getUpdates arrived.

    Read as it arrives, not from `emulator.requests`, where a long poll appears only once it
    answers: ten seconds later, which would add the bot's idle work to its CPU time.
    """
    deadline = time.monotonic() + FIRST_POLL_TIMEOUT
    while time.monotonic() < deadline:
        if emulator.first_poll_at is not None:
            return emulator.first_poll_at
        if process.returncode is not None:
            stderr = await process.stderr.read() if process.stderr else b""
            raise RuntimeError(f"the process exited early:\n{stderr.decode()[-2000:]}")
        await asyncio.sleep(0.005)
    raise TimeoutError("no getUpdates")


async def measure(argv: list[str], env: dict[str, str]) -> Run:
    async with BotApiEmulator(TOKEN) as emulator:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=env["BENCH_CWD"],
            env={**env, "TELEGRAM_API_URL": emulator.base_url},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            polled = await first_get_updates(emulator, process)
            cpu = cpu_seconds(process.pid)
            await asyncio.sleep(IDLE_SECONDS)
            memory = rss_mib(process.pid)
            unique, proportional = uss_pss_mib(process.pid)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
                    await process.wait()
    return Run(polled - started, cpu, memory, unique, proportional)


COLUMNS = (
    lambda run: run.start_seconds,
    lambda run: run.cpu_seconds,
    lambda run: run.rss_mib,
    lambda run: run.uss_mib,
    lambda run: run.pss_mib,
)


def summary(runs: list[Run]) -> list[tuple[float, float]]:
    """(median, best) of the start time, the CPU time, RSS, USS and PSS."""
    return [
        (statistics.median(pick(r) for r in runs), min(pick(r) for r in runs)) for pick in COLUMNS
    ]


def print_table(title: str, kinds: dict[str, list[Run]]) -> None:
    print()
    print(title)
    print(
        "| process | start to first getUpdates | CPU until then | idle RSS | idle USS | idle PSS |"
    )
    print("|---|---|---|---|---|---|")
    summaries = {name: summary(runs) for name, runs in kinds.items()}
    for name, columns in summaries.items():
        (start, fastest), (cpu, least_cpu), *memory = columns
        print(
            f"| {name} | {start:.2f} s ({fastest:.2f}) | {cpu:.2f} s ({least_cpu:.2f}) | "
            + " | ".join(f"{median:.0f} MiB ({least:.0f})" for median, least in memory)
            + " |"
        )
    # Each run's own ratio (the kinds of a run start seconds apart), then their median: a slow
    # spell of the machine, which can last a few runs, slows both sides of a ratio alike.
    for baseline in (BARE, BARE_COLLECTOR_OFF, BARE_FIXED_STACK):
        for name, bot_runs in kinds.items():
            if name in (BARE, BARE_COLLECTOR_OFF, BARE_FIXED_STACK):
                continue
            pairs = list(zip(bot_runs, kinds[baseline], strict=True))
            ratios = " | ".join(
                f"{statistics.median(pick(bot) / pick(bare) for bot, bare in pairs):.2f}"
                for pick in COLUMNS
            )
            print(f"| {name} / {baseline} (median of the runs' ratios) | {ratios} |")


BARE = "bare aiogram, one router"
BARE_COLLECTOR_OFF = "bare aiogram, collector off until it polls"
BARE_FIXED_STACK = (
    "bare aiogram + the fixed stack (SQLAlchemy, SQLModel, aiosqlite, APScheduler, Babel)"
)

# `--account`: where the bot's start goes beyond bare aiogram, one import group at a time in
# a fresh process (CPU from the process's own clock, memory from its VmRSS), best of the runs.
ACCOUNT_STEPS = (
    ("aiogram (what bare aiogram imports)", "import aiogram, aiogram.client.session.aiohttp"),
    ("SQLAlchemy: core, ORM, asyncio", "import sqlalchemy, sqlalchemy.orm, sqlalchemy.ext.asyncio"),
    ("SQLModel", "import sqlmodel, sqlmodel.ext.asyncio.session"),
    ("aiosqlite and its dialect", "import aiosqlite, sqlalchemy.dialects.sqlite.aiosqlite"),
    ("the 26 tables (db.models)", "import db.models"),
    ("settings (pydantic-settings)", "import bot.app.config"),
    ("Babel", "import babel.dates, babel.numbers, babel.support"),
    ("the bot's modules and routers", "import bot.app.factory"),
    (
        "APScheduler (after the first poll)",
        "import apscheduler.schedulers.asyncio, apscheduler.triggers.cron",
    ),
    (
        "Kazakhstan's holidays, the bot's table (after the first poll)",
        "from bot.workdays.kazakhstan import kazakhstan_holidays; kazakhstan_holidays(2026)",
    ),
)
# The collector off, as in `python -m bot` until the application is built (bot/app/cli.py).
ACCOUNT_SCRIPT = """
import gc, json, sys, time
gc.disable()
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
steps = json.loads(sys.argv[1])
figures = [(0.0, rss())]
for code in steps:
    started = time.process_time()
    exec(code)
    figures.append((time.process_time() - started, rss()))
print(json.dumps(figures))
"""


async def account(runs: int) -> None:
    """One line per import group: its CPU and the resident memory it adds."""
    import json

    steps = json.dumps([code for _name, code in ACCOUNT_STEPS])
    results: list[list[tuple[float, float]]] = []
    for _run in range(runs):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", ACCOUNT_SCRIPT, steps,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await process.communicate()
        results.append([tuple(pair) for pair in json.loads(out)])
    print(f"load average: {load_average()}; best of {runs} fresh processes")
    print("| import group | CPU | RSS added | RSS after |")
    print("|---|---|---|---|")
    for index, (name, _code) in enumerate(ACCOUNT_STEPS, start=1):
        cpu = min(run[index][0] for run in results)
        added = min(run[index][1] - run[index - 1][1] for run in results)
        after = min(run[index][1] for run in results)
        print(f"| {name} | {cpu * 1000:.0f} ms | {added:.1f} MiB | {after:.0f} MiB |")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--before",
        type=Path,
        help="another checkout of the bot (say, the previous commit) measured in the same run",
    )
    parser.add_argument(
        "--daytime",
        action="store_true",
        help="also measure a start after the reminder time (the day's scan caught up at start)",
    )
    parser.add_argument(
        "--account",
        action="store_true",
        help="instead: the CPU and memory of each import group the bot adds to bare aiogram",
    )
    args = parser.parse_args()
    if args.account:
        await account(args.runs)
        return

    with tempfile.TemporaryDirectory() as folder:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "ADMIN_IDS", "HEARTBEAT_FILE"}
        }
        env.update(
            BOT_TOKEN=TOKEN,
            DATABASE_URL=f"sqlite+aiosqlite:///{folder}/bot.db",
            HEARTBEAT_FILE=f"{folder}/last-poll",
            PYTHONPATH=str(ROOT),
            BENCH_CWD=folder,  # no .env there
            REMINDER_TIME="23:59",
            DIGEST_SCHEDULE="sun 23:59",
        )
        python = sys.executable
        # As the install does (scripts/compile-bytecode.sh): measured as deployed, not as a
        # checkout with PYTHONDONTWRITEBYTECODE would run after an edit.
        compiled = await asyncio.create_subprocess_exec(
            "sh", str(ROOT / "scripts" / "compile-bytecode.sh"), python
        )
        if await compiled.wait() != 0:
            raise SystemExit("compiling the bytecode failed")
        migrate = await asyncio.create_subprocess_exec(
            python, "-m", "bot", "migrate", cwd=folder, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        if await migrate.wait() != 0:
            raise SystemExit("migrate failed")
        kinds: dict[str, tuple[list[str], dict[str, str]]] = {
            BARE: ([python, "-c", BARE_AIOGRAM], env),
            BARE_COLLECTOR_OFF: ([python, "-c", BARE_AIOGRAM_COLLECTOR_OFF], env),
            BARE_FIXED_STACK: ([python, "-c", BARE_AIOGRAM_FIXED_STACK], env),
            "the bot (`python -m bot`)": ([python, "-m", "bot"], env),
        }
        if args.daytime:
            kinds["the bot, started after the reminder time"] = (
                [python, "-m", "bot"],
                {**env, "REMINDER_TIME": "00:00"},
            )
        if args.before:
            before_env = {**env, "PYTHONPATH": str(args.before.resolve())}
            kinds["the bot before"] = ([python, "-m", "bot"], before_env)
        runs: dict[str, list[Run]] = {name: [] for name in kinds}
        print(f"load average before: {load_average()}", flush=True)
        for number in range(1, args.runs + 1):
            order = list(kinds)
            if number % 2 == 0:
                order.reverse()
            for name in order:
                argv, kind_env = kinds[name]
                run = await measure(argv, kind_env)
                runs[name].append(run)
                print(
                    f"run {number} {name}: {run.start_seconds:.2f} s to getUpdates, "
                    f"{run.cpu_seconds:.2f} s CPU, RSS {run.rss_mib:.0f} MiB, "
                    f"USS {run.uss_mib:.0f} MiB, PSS {run.pss_mib:.0f} MiB",
                    flush=True,
                )
        print(f"load average after: {load_average()} (1, 5 and 15 minutes)")

    print_table(f"{args.runs} runs each, alternating; median (best)", runs)


if __name__ == "__main__":
    asyncio.run(main())

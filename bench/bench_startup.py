"""Start-up: time to the first getUpdates and idle memory, the bot beside bare aiogram.

Each run starts a fresh process that long-polls a Bot API emulator served by this process:
`python -m bot` exactly as in production (settings, catalogs, migrations on an already
migrated SQLite file, scheduler, outbox), and a bare aiogram bot with one echo handler. The
start time runs from spawning the process to the emulator receiving its first getUpdates;
the CPU time is what the process used until then (user + system, from /proc: on a busy machine
it varies less than the wall clock); the memory is the process's resident set (VmRSS) after it
has idled for two seconds. The two kinds alternate, so a busy machine slows both alike. Five
runs each by default; the table shows medians and, in brackets, the best run.

Run by hand: `.venv/bin/python bench/bench_startup.py [--runs 5]`.
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

from tests.botapi_emulator import BotApiEmulator  # noqa: E402

TOKEN = "7000000001:BENCH_token_abcdefghijklmnopqrstuvwxyz012"
IDLE_SECONDS = 2.0
FIRST_POLL_TIMEOUT = 120.0

BARE_AIOGRAM = """
import asyncio, os
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

async def echo(message: Message) -> None:
    await message.answer(message.text or "")

async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dispatcher = Dispatcher()
    dispatcher.message.register(echo, F.text)
    await dispatcher.start_polling(bot)

asyncio.run(main())
"""


@dataclass
class Run:
    start_seconds: float
    cpu_seconds: float
    rss_mib: float


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def first_get_updates(emulator: BotApiEmulator, process: asyncio.subprocess.Process) -> float:
    """The emulator's clock (time.monotonic) when the first getUpdates arrived."""
    deadline = time.monotonic() + FIRST_POLL_TIMEOUT
    while time.monotonic() < deadline:
        for request in emulator.requests:
            if request.method == "getUpdates":
                return request.at
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
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
                    await process.wait()
    return Run(polled - started, cpu, memory)


def summary(runs: list[Run]) -> list[tuple[float, float]]:
    """(median, best) of the start time, the CPU time and the memory."""
    columns = (
        [r.start_seconds for r in runs],
        [r.cpu_seconds for r in runs],
        [r.rss_mib for r in runs],
    )
    return [(statistics.median(values), min(values)) for values in columns]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

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
        )
        python = sys.executable
        migrate = await asyncio.create_subprocess_exec(
            python, "-m", "bot", "migrate", cwd=folder, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        if await migrate.wait() != 0:
            raise SystemExit("migrate failed")
        bot_runs: list[Run] = []
        bare_runs: list[Run] = []
        for number in range(1, args.runs + 1):
            bot_runs.append(await measure([python, "-m", "bot"], env))
            bare_runs.append(await measure([python, "-c", BARE_AIOGRAM], env))
            for name, run in (("bot", bot_runs[-1]), ("bare aiogram", bare_runs[-1])):
                print(
                    f"run {number} {name}: {run.start_seconds:.2f} s to getUpdates, "
                    f"{run.cpu_seconds:.2f} s CPU, {run.rss_mib:.0f} MiB",
                    flush=True,
                )

    bot = summary(bot_runs)
    bare = summary(bare_runs)
    print()
    print(f"{args.runs} runs each, alternating; median (best)")
    print("| process | start to first getUpdates | CPU until then | idle RSS |")
    print("|---|---|---|---|")
    for name, ((start, fastest), (cpu, least_cpu), (memory, least)) in (
        ("bare aiogram, echo handler", bare),
        ("the bot (`python -m bot`)", bot),
    ):
        print(
            f"| {name} | {start:.2f} s ({fastest:.2f}) | {cpu:.2f} s ({least_cpu:.2f}) "
            f"| {memory:.0f} MiB ({least:.0f}) |"
        )
    ratios = [bot[column][0] / bare[column][0] for column in range(3)]
    print(f"| ratio (medians) | {ratios[0]:.2f} | {ratios[1]:.2f} | {ratios[2]:.2f} |")


if __name__ == "__main__":
    asyncio.run(main())

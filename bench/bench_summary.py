"""/summary on the demo roadmap, as the chair lives it (issue 23, #32: the whole reply in 1 s).

The demo's data (`python -m bot seed-demo`), the production application long-polling the Bot
API emulator over real HTTP. The secretariat's person (allowed /summary) sends `/summary`;
the emulator notes when getUpdates hands the update out, and the bench reads off when the
summary's text, the "uploading a photo" chat action and the chart reach the emulator. The
first run is cold (matplotlib imported and its fonts loaded by the first chart); the rest warm.

Run by hand: `.venv/bin/python -m bench.bench_summary [--repeat 5]`. SQLite in a temp dir
always; BENCH_DATABASE_URL (a PostgreSQL server URL) adds PostgreSQL in a scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests` is not installed

from bench.bench_request_now import TimedEmulator, wait_for
from bench.scratch import scratch_database, server_for
from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.roadmap.demo import seed_demo
from db.engine import create_engine, create_session_maker
from db.migrate import upgrade
from tests.helpers.e2e import say, start_live_bot, tap

TOKEN = "123456:ABCdefGhIJklmNOpqRSTuvwXYZ0123456789"
ADMIN = 1001
NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # Thursday, 11:00 in Almaty


def sent(emulator: TimedEmulator, method: str, since: float) -> float | None:
    """When the first successful `method` to the secretariat reached the emulator."""
    for record in emulator.requests:
        to_admin = int(record.params.get("chat_id", 0)) == ADMIN
        if record.method == method and record.ok and record.at >= since and to_admin:
            return record.at
    return None


async def one_summary(emulator: TimedEmulator) -> tuple[float, float, float]:
    """Seconds from the update served to the text, to the chat action, to the chart."""
    await emulator.wait_idle(timeout=30)
    update_id = emulator._next_update_id
    emulator.send_text(ADMIN, "/summary")
    served = await wait_for(lambda: emulator.served.get(update_id))
    text = await wait_for(lambda: sent(emulator, "sendMessage", served))
    action = await wait_for(lambda: sent(emulator, "sendChatAction", served))
    chart = await wait_for(lambda: sent(emulator, "sendPhoto", served))
    while True:  # drain the chat so the next run reads its own messages
        try:
            await emulator.next_message(ADMIN, timeout=0.2)
        except TimeoutError:
            break
    return text - served, action - served, chart - served


async def run(backend: str, repeat: int) -> None:
    async with scratch_database(server_for(backend)) as url:
        engine = create_engine(url)
        await upgrade(engine)
        session_maker = create_session_maker(engine)
        async with session_maker() as session:
            await seed_demo(session, now=NOW, tz=ZoneInfo("Asia/Almaty"))
        emulator = TimedEmulator(TOKEN)
        await emulator.start()
        emulator.add_chat(ADMIN)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=TOKEN,
            database_url=url,
            admin_ids=str(ADMIN),
            telegram_api_url=emulator.base_url,
        )
        running = await start_live_bot(settings, FrozenClock(NOW), emulator)
        try:
            prompt = await say(emulator, ADMIN, "/start")
            await tap(emulator, ADMIN, prompt, "Русский")
            runs = [await one_summary(emulator) for _turn in range(repeat)]
        finally:
            await running.stop()
            await emulator.stop()
            await engine.dispose()
    print(f"{backend}: /summary on the demo, ms from the update served (text/action/chart)")
    for label, (text, action, chart) in zip(["cold", *["warm"] * (repeat - 1)], runs, strict=True):
        print(f"  {label}: {text * 1000:6.0f} {action * 1000:6.0f} {chart * 1000:6.0f}")
    if repeat > 1:
        warm = runs[1:]
        print(
            f"  warm median: text {statistics.median(r[0] for r in warm) * 1000:.0f} ms, "
            f"chart {statistics.median(r[2] for r in warm) * 1000:.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("BENCH_DATABASE_URL") else [])
    for backend in backends:
        asyncio.run(run(backend, args.repeat))


if __name__ == "__main__":
    main()

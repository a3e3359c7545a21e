"""The set-up commands and the bot's start, imported by the CLI only when they are run."""

from __future__ import annotations

import asyncio
import contextlib
import sys

from bot.app.config import Settings
from bot.core.catalogs import compile_catalogs
from bot.core.clock import SystemClock
from db.engine import create_engine, create_session_maker
from db.migrate import upgrade
from db.reach import DatabaseUnopenableError, wait_for_database


async def migrate(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await wait_for_database(engine)
        await upgrade(engine)
    finally:
        await engine.dispose()


async def seed_demo_command(settings: Settings) -> int:
    from bot.roadmap.demo import DatabaseNotEmptyError, seed_demo  # not needed to run the bot

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        async with create_session_maker(engine)() as session:
            result = await seed_demo(session, now=SystemClock().now(), tz=settings.tz)
    except DatabaseNotEmptyError:
        print("The database is not empty: seed-demo only loads into an empty one.", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(
        f"Loaded {result.items} items of {result.departments} departments "
        f"for {result.load_day.year}, with {result.updates} status updates."
    )
    return 0


EXIT_TOKEN_REJECTED = 2
EXIT_DATABASE_UNOPENABLE = 1


def migrate_command(database_url: str) -> int:
    try:
        asyncio.run(migrate(database_url))
    except DatabaseUnopenableError as error:
        print(error, file=sys.stderr)
        return EXIT_DATABASE_UNOPENABLE
    return 0


def run_bot(settings: Settings) -> int:
    # aiogram and the features load here: `migrate` and `seed-demo` do without them (3 s).
    from bot.app.factory import TokenRejectedError, run_polling

    compile_catalogs()
    run = run_polling
    if settings.bot_mode == "webhook":
        # Its web server (aiohttp's, 1.6 MiB) only where it serves: polling never needs it.
        from bot.app.webhook_mode import run_webhook

        run = run_webhook
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(settings))
    except DatabaseUnopenableError as error:
        print(error, file=sys.stderr)
        return EXIT_DATABASE_UNOPENABLE
    except TokenRejectedError:
        print(
            "Telegram rejected BOT_TOKEN (401 Unauthorized): copy the token from @BotFather "
            "into .env again (or /revoke it there and use the new one).",
            file=sys.stderr,
        )
        return EXIT_TOKEN_REJECTED
    return 0

"""Command line: `python -m bot` runs the bot; `migrate` and `compile-catalogs` are set-up steps."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from pydantic import ValidationError

from bot.app.cli_spreadsheets import cli_export, cli_import
from bot.app.config import Settings, describe_settings_error
from bot.app.factory import run_polling
from bot.app.logs import configure_logging
from bot.core.clock import SystemClock
from bot.roadmap.demo import DatabaseNotEmptyError, seed_demo
from bot.telegram.i18n import compile_catalogs
from db.engine import create_engine, create_session_maker
from db.migrate import upgrade


def load_settings() -> Settings:
    """Settings, or one line on stderr naming what is wrong and a non-zero exit."""
    try:
        return Settings()  # type: ignore[call-arg]
    except ValidationError as error:
        print(describe_settings_error(error), file=sys.stderr)
        raise SystemExit(2) from None


async def migrate(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def seed_demo_command(settings: Settings) -> int:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Road Map status bot")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="start the bot with long polling (the default)")
    commands.add_parser("migrate", help="apply database migrations and exit")
    commands.add_parser("compile-catalogs", help="compile locales/*/LC_MESSAGES/*.po into .mo")
    importer = commands.add_parser(
        "import", help="load Road Map items from .xlsx/.csv (a dry run unless --apply)"
    )
    importer.add_argument("file", type=Path)
    importer.add_argument("--apply", action="store_true", help="write the changes")
    importer.add_argument("--sheet", help="the sheet to read when several look like the Road Map")
    importer.add_argument(
        "--comments", type=Path, help="write the file back with a comment on each skipped row"
    )
    exporter = commands.add_parser("export", help="write the Road Map to an .xlsx file")
    exporter.add_argument("file", type=Path)
    commands.add_parser("seed-demo", help="load the demo Road Map into an empty database")
    args = parser.parse_args(argv)

    if args.command == "compile-catalogs":
        for path in compile_catalogs():
            print(f"compiled {path}")
        return 0

    settings = load_settings()
    configure_logging(settings.bot_token.get_secret_value())
    if args.command == "migrate":
        asyncio.run(migrate(settings.database_url))
        return 0
    if args.command == "import":
        return asyncio.run(
            cli_import(settings, args.file, args.apply, sheet=args.sheet, comments=args.comments)
        )
    if args.command == "export":
        return asyncio.run(cli_export(settings, args.file))
    if args.command == "seed-demo":
        return asyncio.run(seed_demo_command(settings))

    compile_catalogs()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_polling(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())

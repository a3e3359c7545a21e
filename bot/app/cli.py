"""The command line. Settings are read before aiogram or any feature is imported, so `--help`
and a configuration error answer at once; each command imports what it needs when it runs."""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.catalogs import SUPPORTED_LOCALES

if TYPE_CHECKING:
    from bot.app.config import Settings

EXIT_CONFIG_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
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
    sandbox = commands.add_parser(
        "sandbox",
        help="try the bot without Telegram: the real bot against a local emulator, in a browser",
    )
    sandbox.add_argument("--port", type=int, default=8090, help="the page's port (default 8090)")
    sandbox.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)"
    )
    doctor = commands.add_parser(
        "doctor", help="check token, database, catalogs, calendar, roles and the outbox"
    )
    doctor.add_argument(
        "--quick",
        action="store_true",
        help="only the database and the last successful poll (the container's health check)",
    )
    for command in (importer, exporter, doctor):
        command.add_argument(
            "--locale",
            choices=SUPPORTED_LOCALES,
            help="language of the output (default: DEFAULT_LOCALE)",
        )
    return parser


def load_settings() -> Settings:
    """Settings, or one line on stderr naming what is wrong and a non-zero exit."""
    from pydantic import ValidationError

    from bot.app.config import Settings, describe_settings_error

    try:
        return Settings()
    except ValidationError as error:
        print(describe_settings_error(error), file=sys.stderr)
        raise SystemExit(EXIT_CONFIG_ERROR) from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in (None, "run"):
        # The bot's start builds some 240,000 objects that live as long as it does, and the
        # collector's full passes over them (0.08-0.14 s each, four during a start) find nothing
        # to free. Off until the application is built: `freeze_startup_heap` turns it back on.
        gc.disable()

    if args.command == "compile-catalogs":
        from bot.core.catalogs import compile_catalogs

        for path in compile_catalogs():
            print(f"compiled {path}")
        return 0

    if args.command == "sandbox":  # its own fake token and database: no .env needed
        import logging

        from bot.app.logs import configure_logging
        from bot.sandbox.run import sandbox_command
        from bot.sandbox.world import SANDBOX_TOKEN

        configure_logging(SANDBOX_TOKEN, logging.INFO)
        return sandbox_command(args.host, args.port)

    settings = load_settings()
    import asyncio
    import logging

    from bot.app.logs import configure_logging

    quiet = args.command == "doctor"  # its checklist is the output; library chatter hides it
    configure_logging(
        settings.bot_token.get_secret_value(), logging.WARNING if quiet else logging.INFO
    )
    locale = getattr(args, "locale", None) or settings.default_locale
    if args.command == "migrate":
        from bot.app.commands import migrate_command

        return migrate_command(settings.database_url)
    if args.command == "import":
        from bot.app.cli_spreadsheets import cli_import

        return asyncio.run(
            cli_import(
                settings,
                args.file,
                args.apply,
                locale=locale,
                sheet=args.sheet,
                comments=args.comments,
            )
        )
    if args.command == "export":
        from bot.app.cli_spreadsheets import cli_export

        return asyncio.run(cli_export(settings, args.file, locale=locale))
    if args.command == "seed-demo":
        from bot.app.commands import seed_demo_command

        return asyncio.run(seed_demo_command(settings))
    if args.command == "doctor":
        from bot.app.doctor import doctor_command

        return asyncio.run(doctor_command(settings, quick=args.quick, locale=locale))

    from bot.app.commands import run_bot

    return run_bot(settings)

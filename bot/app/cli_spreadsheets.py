"""`python -m bot import FILE [--apply]` and `python -m bot export FILE`: the first load by hand.

Texts are printed in the language given by `--locale` (default: DEFAULT_LOCALE); changes are
audited without a person (the command line has no Telegram account), with the file name as the
target.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aiogram.utils.i18n import gettext as _

from bot.app.config import Settings
from bot.core.clock import SystemClock, local_today
from bot.spreadsheets.annotate import annotated_workbook
from bot.spreadsheets.apply import apply_import
from bot.spreadsheets.export import build_export
from bot.spreadsheets.parse import SheetChoiceNeeded, SpreadsheetFileError, parse_spreadsheet
from bot.spreadsheets.plan import plan_import
from bot.spreadsheets.texts import file_problem_text, localized_header_aliases, plan_summary_lines
from bot.telegram.i18n import build_i18n, compile_catalogs, in_locale
from db.engine import create_engine, create_session_maker
from db.migrate import upgrade

EXIT_OK = 0
EXIT_ROW_ERRORS = 1
EXIT_FILE_ERROR = 2


async def cli_import(
    settings: Settings,
    path: Path,
    apply: bool,
    *,
    locale: str,
    sheet: str | None = None,
    comments: Path | None = None,
) -> int:
    """Dry run by default; with `apply`, writes the valid rows. 1 if some rows had errors.

    With `comments`, the file is written back with a comment column, as the bot sends it.
    """
    compile_catalogs()
    i18n = build_i18n(settings.default_locale)
    with in_locale(i18n, locale):
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as error:
            print(_("Cannot read {path}: {error}").format(path=path, error=error), file=sys.stderr)
            return EXIT_FILE_ERROR
        try:
            parsed = parse_spreadsheet(
                data, path.name, extra_aliases=localized_header_aliases(i18n), sheet=sheet
            )
        except SpreadsheetFileError as error:
            print(file_problem_text(error), file=sys.stderr)
            return EXIT_FILE_ERROR
        except SheetChoiceNeeded as choice:
            print(
                _(
                    "Several sheets look like the Road Map: {sheets}. Choose one with --sheet."
                ).format(sheets=", ".join(f"«{name}»" for name in choice.sheets)),
                file=sys.stderr,
            )
            return EXIT_FILE_ERROR
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
            async with create_session_maker(engine)() as session:
                plan = await plan_import(session, parsed)
                for line in plan_summary_lines(plan):
                    print(line)
                if comments is not None:
                    annotated = annotated_workbook(data, plan)
                    try:
                        await asyncio.to_thread(comments.write_bytes, annotated)
                    except OSError as error:
                        message = _("Cannot write {path}: {error}").format(
                            path=comments, error=error
                        )
                        print(message, file=sys.stderr)
                        return EXIT_FILE_ERROR
                if not apply:
                    print(_("Dry run: nothing was written. Add --apply to write the changes."))
                elif plan.has_changes:
                    result = await apply_import(
                        session, plan, actor=None, now=SystemClock().now(), source=path.name
                    )
                    print(
                        _("Written: {created} new, {updated} updated.").format(
                            created=result.created, updated=result.updated
                        )
                    )
                else:
                    print(_("There is nothing to change. Nothing was written."))
        finally:
            await engine.dispose()
    return EXIT_ROW_ERRORS if plan.errors else EXIT_OK


async def cli_export(settings: Settings, path: Path, *, locale: str) -> int:
    """Writes the same workbook as /export, in the given language."""
    compile_catalogs()
    i18n = build_i18n(settings.default_locale)
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        with in_locale(i18n, locale):
            async with create_session_maker(engine)() as session:
                today = local_today(SystemClock(), settings.tz)
                data = await build_export(
                    session, today=today, tz=settings.tz, thresholds=settings.risk_thresholds
                )
            try:
                await asyncio.to_thread(path.write_bytes, data)
            except OSError as error:
                message = _("Cannot write {path}: {error}").format(path=path, error=error)
                print(message, file=sys.stderr)
                return EXIT_FILE_ERROR
            print(_("Written: {path}").format(path=path))
    finally:
        await engine.dispose()
    return EXIT_OK

"""`python -m bot import FILE [--apply]` and `python -m bot export FILE`: the first load by hand.

The same use cases as the chat's /import and /export (bot/usecases/imports.py, exports.py):
only reading the file and printing are the command line's own. Texts are printed in the
language given by `--locale` (default: DEFAULT_LOCALE); changes are audited without a person
(the command line has no Telegram account), with the file name as the target.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.app.config import Settings
from bot.core.clock import SystemClock
from bot.telegram.i18n import build_i18n, compile_catalogs, in_locale
from bot.usecases import exports, imports
from bot.usecases.ports import NoSignals, UseCaseContext
from db.engine import create_engine, create_session_maker
from db.migrate import upgrade

EXIT_OK = 0
EXIT_ROW_ERRORS = 1
EXIT_FILE_ERROR = 2


@asynccontextmanager
async def _context(settings: Settings, i18n: I18n) -> AsyncIterator[UseCaseContext]:
    """The use cases' context on a migrated database, with nothing to wake.

    Migrated quietly: what the command prints is the import's answer (`migrate` is the
    command that tells about migrations)."""
    engine = create_engine(settings.database_url)
    migrations = logging.getLogger("alembic")
    level = migrations.level
    try:
        migrations.setLevel(logging.WARNING)
        try:
            await upgrade(engine)
        finally:
            migrations.setLevel(level)
        yield UseCaseContext(
            session_maker=create_session_maker(engine),
            clock=SystemClock(),
            tz=settings.tz,
            i18n=i18n,
            signals=NoSignals(),
            thresholds=settings.risk_thresholds,
        )
    finally:
        await engine.dispose()


def _error(text: str) -> None:
    print(text, file=sys.stderr)


async def _write(path: Path, data: bytes) -> bool:
    try:
        await asyncio.to_thread(path.write_bytes, data)
    except OSError as error:
        _error(_("Cannot write {path}: {error}").format(path=path, error=error))
        return False
    return True


def _refusal(outcome: imports.SheetToChoose | imports.FileRefused) -> str:
    if isinstance(outcome, imports.SheetToChoose):
        text = _("Several sheets look like the Road Map: {sheets}. Choose one with --sheet.")
        return text.format(sheets=", ".join(f"«{name}»" for name in outcome.sheets))
    from bot.spreadsheets.texts import file_problem_text

    return file_problem_text(outcome.error)


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
            _error(_("Cannot read {path}: {error}").format(path=path, error=error))
            return EXIT_FILE_ERROR
        async with _context(settings, i18n) as ctx:
            checked = await imports.check_import(
                ctx, data, path.name, sheet=sheet, comments=comments is not None
            )
            if not isinstance(checked, imports.ImportChecked):
                _error(_refusal(checked))
                return EXIT_FILE_ERROR
            from bot.spreadsheets.texts import plan_summary_lines

            for line in plan_summary_lines(checked.plan):
                print(line)
            annotated = checked.annotated
            if (
                comments is not None
                and annotated is not None
                and not await _write(comments, annotated)
            ):
                return EXIT_FILE_ERROR
            if not apply:
                print(_("Dry run: nothing was written. Add --apply to write the changes."))
            elif not checked.plan.has_changes:
                print(_("There is nothing to change. Nothing was written."))
            else:
                applied = await imports.apply_import(
                    ctx, data, path.name, sheet=checked.sheet, digest=checked.digest, actor=None
                )
                if not isinstance(applied, imports.ImportApplied):  # changed while we read it
                    _error(_("The file or the Road Map changed after the check. Try again."))
                    return EXIT_FILE_ERROR
                print(
                    _("Written: {created} new, {updated} updated.").format(
                        created=applied.created, updated=applied.updated
                    )
                )
    return EXIT_ROW_ERRORS if checked.plan.errors else EXIT_OK


async def cli_export(settings: Settings, path: Path, *, locale: str) -> int:
    """Writes the same workbook as /export, in the given language."""
    compile_catalogs()
    i18n = build_i18n(settings.default_locale)
    async with _context(settings, i18n) as ctx:
        with in_locale(i18n, locale):
            export = await exports.export_roadmap(ctx)
            if not await _write(path, export.data):
                return EXIT_FILE_ERROR
            print(_("Written: {path}").format(path=path))
    return EXIT_OK

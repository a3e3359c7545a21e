"""Secretariat spreadsheets: import with a dry run, the template, export, statistics, the report.

The import dialog keeps only the Telegram file_id of the pending file in FSM data, not the
parsed rows: FSM data is a JSON row in our database, and 10,000 rows would make it megabytes.
On Apply the file is downloaded and checked again, and if what Apply would write differs from
what the dry run showed (the file or the Road Map changed meanwhile), a new dry run is shown
instead of applying.

The whole import (parser, plan, texts, writer, annotated check), the export and the statistics
are imported by the commands that run them: the bot's start does not pay for what is rarely
used (the parser alone is 2 MiB).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from contextlib import suppress
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    Document,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.app.config import SUPPORTED_LOCALES, Settings
from bot.core.clock import Clock, local_today
from bot.core.limits import TELEGRAM_DOWNLOAD_LIMIT
from bot.core.parsing import parse_int, parse_one_word
from bot.core.text import quote, split_message
from bot.risk.rules import RiskThresholds
from bot.telegram import menus
from bot.telegram.callbacks import ImportDecision, ImportSheet
from bot.telegram.i18n import current_locale, format_day, ngettext
from bot.telegram.middlewares import secretariat_only
from bot.telegram.texts import department_name, usage_line
from db.engine import AsyncSession
from db.models import Person

if TYPE_CHECKING:
    from bot.spreadsheets.parse import SheetChoiceNeeded
    from bot.spreadsheets.plan import ImportPlan
    from bot.spreadsheets.stats import DepartmentStats

PROGRESS_MIN_ROWS = 1000  # smaller files are checked faster than a progress message could help
PROGRESS_MIN_INTERVAL = 1.0  # seconds between edits: Telegram limits edits per chat
MAX_ERRORS_IN_CHAT = 50  # beyond this the full list comes as a file, not a flood of messages


class ImportDialog(StatesGroup):
    waiting_file = State()
    choosing_sheet = State()
    confirming = State()


def _decision_keyboard(token: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Apply"), callback_data=ImportDecision(action="ok", token=token))
    builder.button(text=_("Cancel"), callback_data=ImportDecision(action="no", token=token))
    builder.adjust(2)
    return builder.as_markup()


class _ProgressMessage:
    """Edits one message while rows are checked, rarely enough not to hit Telegram's limits."""

    def __init__(self, bot: Bot, chat_id: int, message_id: int) -> None:
        self.bot, self.chat_id, self.message_id = bot, chat_id, message_id
        self._last = 0.0

    async def __call__(self, checked: int, total: int) -> None:
        now = time.monotonic()
        if total < PROGRESS_MIN_ROWS or now - self._last < PROGRESS_MIN_INTERVAL:
            return
        self._last = now
        text = _("Checking the rows: {checked} of {total}…").format(checked=checked, total=total)
        with suppress(TelegramBadRequest):
            await self.bot.edit_message_text(
                text=text, chat_id=self.chat_id, message_id=self.message_id
            )


async def _read_plan(
    bot: Bot,
    session: AsyncSession,
    i18n: I18n,
    *,
    file_id: str,
    file_name: str,
    sheet: str | None = None,
    progress: _ProgressMessage | None = None,
) -> tuple[ImportPlan, bytes]:
    """Download, parse (in a thread: a big workbook takes seconds) and plan; writes nothing."""
    from bot.spreadsheets.parse import parse_spreadsheet
    from bot.spreadsheets.plan import plan_import
    from bot.spreadsheets.texts import localized_header_aliases

    buffer = await bot.download(file_id)
    data = buffer.read() if buffer is not None else b""
    parsed = await asyncio.to_thread(
        parse_spreadsheet,
        data,
        file_name,
        extra_aliases=localized_header_aliases(i18n),
        sheet=sheet,
    )
    return await plan_import(session, parsed, progress=progress), data


def _sheet_keyboard(sheets: tuple[str, ...], token: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index, name in enumerate(sheets):
        builder.button(text=name[:60], callback_data=ImportSheet(index=index, token=token))
    builder.adjust(1)
    return builder.as_markup()


async def _ask_sheet(
    status: Message, bot: Bot, state: FSMContext, choice: SheetChoiceNeeded, file_id: str, name: str
) -> None:
    token = secrets.token_hex(4)
    await state.set_state(ImportDialog.choosing_sheet)
    await state.set_data(
        {"file_id": file_id, "file_name": name, "sheets": list(choice.sheets), "token": token}
    )
    await bot.edit_message_text(
        text=quote(_("Several sheets look like the Road Map. Which one should I read?")),
        chat_id=status.chat.id,
        message_id=status.message_id,
        reply_markup=_sheet_keyboard(choice.sheets, token),
    )


def _dry_run_lines(plan: ImportPlan, file_name: str) -> list[str]:
    from bot.spreadsheets.texts import plan_summary_lines

    lines = [_("<b>Import check: {file}</b>").format(file=quote(file_name))]
    lines += [quote(line) for line in plan_summary_lines(plan, max_errors=MAX_ERRORS_IN_CHAT)]
    lines.append("")
    if not plan.has_changes:
        lines.append(_("There is nothing to change. Nothing was written."))
    else:
        lines.append(_("Nothing has been changed yet. Press Apply to write the changes."))
        if plan.errors:
            lines.append(_("Rows with errors will be skipped."))
    return lines


async def _show_dry_run(
    message: Message,
    bot: Bot,
    plan: ImportPlan,
    data: bytes,
    file_name: str,
    state: FSMContext,
    file_id: str,
) -> None:
    """Replaces the progress message with the summary; the buttons go on the last part.

    When rows were skipped or guessed, the file comes back with a comment column.
    """
    chunks = split_message(_dry_run_lines(plan, file_name))
    markup = None
    if plan.has_changes:
        token = secrets.token_hex(4)
        await state.set_state(ImportDialog.confirming)
        await state.set_data(
            {
                "file_id": file_id,
                "file_name": file_name,
                "sheet": plan.sheet,
                "digest": plan.digest(),
                "token": token,
            }
        )
        markup = _decision_keyboard(token)
    else:
        await state.clear()
    if plan.errors or any(guess.row_number > plan.header_row for guess in plan.guesses):
        from bot.spreadsheets.annotate import annotated_workbook

        annotated = await asyncio.to_thread(annotated_workbook, data, plan)
        await bot.send_document(
            message.chat.id,
            BufferedInputFile(annotated, filename="import-check.xlsx"),
            caption=_("Your file with a comment on each skipped or guessed row."),
        )
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        if index == 0:
            await bot.edit_message_text(
                text=chunk,
                chat_id=message.chat.id,
                message_id=message.message_id,
                reply_markup=markup if last else None,
            )
        else:
            await bot.send_message(message.chat.id, chunk, reply_markup=markup if last else None)


async def _check_document(
    message: Message,
    document: Document,
    state: FSMContext,
    bot: Bot,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    if document.file_size is not None and document.file_size > TELEGRAM_DOWNLOAD_LIMIT:
        from bot.spreadsheets.parse import FileProblem, SpreadsheetFileError
        from bot.spreadsheets.texts import file_problem_text

        await message.answer(file_problem_text(SpreadsheetFileError(FileProblem.TOO_LARGE)))
        return
    status = await message.answer(_("Reading the file…"))
    file_name = document.file_name or "file"
    progress = _ProgressMessage(bot, status.chat.id, status.message_id)
    await _check_file(
        status,
        state,
        bot,
        session,
        i18n,
        file_id=document.file_id,
        file_name=file_name,
        progress=progress,
    )


async def _check_file(
    status: Message,
    state: FSMContext,
    bot: Bot,
    session: AsyncSession,
    i18n: I18n,
    *,
    file_id: str,
    file_name: str,
    sheet: str | None = None,
    progress: _ProgressMessage | None = None,
) -> None:
    """The dry run in the status message, or why the file cannot be read, or which sheet."""
    from bot.spreadsheets.parse import SheetChoiceNeeded, SpreadsheetFileError
    from bot.spreadsheets.texts import file_problem_text

    try:
        plan, data = await _read_plan(
            bot,
            session,
            i18n,
            file_id=file_id,
            file_name=file_name,
            sheet=sheet,
            progress=progress,
        )
    except SheetChoiceNeeded as choice:
        await _ask_sheet(status, bot, state, choice, file_id, file_name)
        return
    except SpreadsheetFileError as error:
        await bot.edit_message_text(
            text=quote(file_problem_text(error)),
            chat_id=status.chat.id,
            message_id=status.message_id,
        )
        return
    await _show_dry_run(status, bot, plan, data, file_name, state, file_id)


async def import_sheet_choice(
    callback: CallbackQuery,
    callback_data: ImportSheet,
    state: FSMContext,
    bot: Bot,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    sheets = data.get("sheets") or []
    if (
        await state.get_state() != ImportDialog.choosing_sheet.state
        or data.get("token") != callback_data.token
        or not 0 <= callback_data.index < len(sheets)
    ):
        await callback.answer(_("This check is out of date. Send /import again."), show_alert=True)
        return
    await callback.answer()
    status = await bot.send_message(callback.from_user.id, _("Reading the file…"))
    await _check_file(
        status,
        state,
        bot,
        session,
        i18n,
        file_id=str(data["file_id"]),
        file_name=str(data.get("file_name", "")),
        sheet=str(sheets[callback_data.index]),
    )


async def import_command(
    message: Message,
    state: FSMContext,
    bot: Bot,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    if message.document is not None:  # the file came with /import as its caption
        await _check_document(message, message.document, state, bot, session, i18n)
        return
    await state.set_state(ImportDialog.waiting_file)
    await state.set_data({})
    await message.answer(
        _(
            "Send the Road Map as an .xlsx workbook or a .csv file with the columns: "
            "item code, title in Kazakh, title in Russian, department code, deadline, target.\n"
            "The empty template: /template. To stop: /cancel.\n"
            "First I only check the file and show what would change."
        )
    )


async def import_file(
    message: Message,
    state: FSMContext,
    bot: Bot,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    assert message.document is not None  # guaranteed by the F.document filter
    await _check_document(message, message.document, state, bot, session, i18n)


async def import_not_a_file(message: Message) -> None:
    await message.answer(_("Send the spreadsheet as a file (.xlsx or .csv), or /cancel."))


async def import_cancel_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Import cancelled. Nothing was changed."))


async def import_decision(
    callback: CallbackQuery,
    callback_data: ImportDecision,
    state: FSMContext,
    bot: Bot,
    session: AsyncSession,
    person: Person,
    clock: Clock,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    current = await state.get_state()
    if current != ImportDialog.confirming.state or data.get("token") != callback_data.token:
        await callback.answer(_("This check is out of date. Send /import again."), show_alert=True)
        return
    message = callback.message
    if callback_data.action != "ok":
        await state.clear()
        await callback.answer()
        if isinstance(message, Message):
            await message.edit_text(_("Import cancelled. Nothing was changed."))
        return
    await callback.answer(_("Applying…"))
    from bot.spreadsheets.parse import SheetChoiceNeeded, SpreadsheetFileError
    from bot.spreadsheets.texts import file_problem_text

    file_name = str(data.get("file_name", ""))
    try:
        plan, content = await _read_plan(
            bot,
            session,
            i18n,
            file_id=str(data["file_id"]),
            file_name=file_name,
            sheet=str(data.get("sheet") or "") or None,
        )
    except (SpreadsheetFileError, SheetChoiceNeeded) as error:
        await state.clear()
        reason = (
            file_problem_text(error)
            if isinstance(error, SpreadsheetFileError)
            else _("The file or the Road Map changed after the check. Send /import again.")
        )
        await bot.send_message(callback.from_user.id, quote(reason))
        return
    if plan.digest() != data.get("digest"):
        if isinstance(message, Message):
            await message.edit_text(
                _("The file or the Road Map changed after the check. Here is a new check.")
            )
        status = await bot.send_message(callback.from_user.id, _("Reading the file…"))
        await _show_dry_run(status, bot, plan, content, file_name, state, str(data["file_id"]))
        return
    from bot.spreadsheets.apply import apply_import

    result = await apply_import(session, plan, actor=person, now=clock.now(), source=file_name)
    await state.clear()
    text = _("Import done: {created} new, {updated} updated, {skipped} rows skipped.").format(
        created=result.created, updated=result.updated, skipped=len(plan.errors)
    )
    if isinstance(message, Message):
        await message.edit_text(text)
    else:
        await bot.send_message(callback.from_user.id, text)


async def template_command(message: Message) -> None:
    from bot.spreadsheets.texts import build_template

    await message.answer_document(
        BufferedInputFile(build_template(), filename="roadmap-template.xlsx"),
        caption=_("The import template: fill in one row per item and send it after /import."),
    )


async def export_command(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    risk_thresholds: RiskThresholds,
) -> None:
    from bot.spreadsheets.export import build_export

    today = local_today(clock, settings.tz)
    data = await build_export(session, today=today, tz=settings.tz, thresholds=risk_thresholds)
    await message.answer_document(
        BufferedInputFile(data, filename=f"roadmap-{today.isoformat()}.xlsx"),
        caption=_("The Road Map on {date}").format(date=format_day(today)),
    )


def _duration_text(seconds: float) -> str:
    hours = round(seconds / 3600)
    if hours < 1:
        return _("less than an hour")
    days, hours = divmod(hours, 24)
    parts = []
    if days:
        parts.append(ngettext("{count} day", "{count} days", days).format(count=days))
    if hours:
        parts.append(ngettext("{count} hour", "{count} hours", hours).format(count=hours))
    return " ".join(parts)


def stats_line(stats: DepartmentStats, settings: Settings) -> str:
    head = f"<code>{quote(stats.department.code)}</code> {quote(department_name(stats.department))}"
    parts = []
    if stats.nobody_registered:
        parts.append(_("<b>nobody registered</b>"))
    if stats.requests == 0:
        parts.append(_("no requests yet"))
    else:
        share = round(100 * stats.answered / stats.requests)
        parts.append(
            _("answered {answered} of {requests} ({share}%)").format(
                answered=stats.answered, requests=stats.requests, share=share
            )
        )
        if stats.never_answers:
            parts.append(_("<b>never answers</b>"))
    if stats.median_answer is not None:
        parts.append(
            _("median time to answer: {duration}").format(
                duration=_duration_text(stats.median_answer.total_seconds())
            )
        )
    if stats.last_update is not None:
        last = format_day(stats.last_update.astimezone(settings.tz).date())
        parts.append(_("last update: {date}").format(date=last))
    else:
        parts.append(_("no updates yet"))
    parts.append(_("overdue items: {count}").format(count=stats.overdue_items))
    return head + "\n    " + "; ".join(parts)


async def stats_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
) -> None:
    from bot.spreadsheets.stats import DEFAULT_ROUNDS, MAX_ROUNDS, department_stats

    rounds = DEFAULT_ROUNDS
    if command.args:
        word = parse_one_word(command.args)
        parsed = parse_int(word, 1, MAX_ROUNDS)
        if parsed is None:
            await message.answer(usage_line(menus.STATS))
            return
        rounds = parsed
    rows = await department_stats(session, today=local_today(clock, settings.tz), rounds=rounds)
    if not rows:
        await message.answer(_("No departments yet. Add one with /adddept."))
        return
    lines = [
        ngettext(
            "<b>How departments answered the last {count} request</b>",
            "<b>How departments answered the last {count} requests</b>",
            rounds,
        ).format(count=rounds)
    ]
    lines += [stats_line(row, settings) for row in rows]
    silent = [row.department for row in rows if row.nobody_registered]
    if silent:
        names = ", ".join(quote(department_name(row)) for row in silent)
        lines.append("")
        lines.append(
            _("Nobody is registered yet in: {names}. Invite them with /invite.").format(names=names)
        )
    for chunk in split_message(lines):
        await message.answer(chunk)


async def risk_report_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    i18n: I18n,
    risk_thresholds: RiskThresholds,
) -> None:
    locale = current_locale()
    if command.args:
        word = (parse_one_word(command.args) or "").lower()
        if word not in SUPPORTED_LOCALES:
            await message.answer(usage_line(menus.RISK_REPORT))
            return
        locale = word
    # python-docx loads with the first report, not at the bot's start
    from bot.spreadsheets.risk_report import build_risk_report

    today = local_today(clock, settings.tz)
    with i18n.use_locale(locale):
        data = await build_risk_report(
            session, today=today, tz=settings.tz, thresholds=risk_thresholds
        )
    await message.answer_document(
        BufferedInputFile(data, filename=f"risk-report-{today.isoformat()}-{locale}.docx"),
        caption=_("Draft report on at-risk items for the central office. Edit it before sending."),
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.middleware(secretariat_only())
    router.callback_query.middleware(secretariat_only())
    router.message.register(import_command, Command("import"))
    router.message.register(
        import_cancel_command,
        Command("cancel"),
        ImportDialog.waiting_file,
    )
    router.message.register(
        import_cancel_command,
        Command("cancel"),
        ImportDialog.confirming,
    )
    router.message.register(
        import_cancel_command,
        Command("cancel"),
        ImportDialog.choosing_sheet,
    )
    router.message.register(import_file, ImportDialog.waiting_file, F.document)
    router.message.register(import_not_a_file, ImportDialog.waiting_file, ~F.text.startswith("/"))
    router.callback_query.register(import_decision, ImportDecision.filter())
    router.callback_query.register(import_sheet_choice, ImportSheet.filter())
    router.message.register(template_command, Command("template"))
    router.message.register(export_command, Command("export"))
    router.message.register(stats_command, Command("stats"))
    router.message.register(risk_report_command, Command("risk_report"))
    return router

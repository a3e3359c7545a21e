"""Secretariat spreadsheets: import with a dry run, the template, export, statistics, the report.

The import dialog keeps only the Telegram file_id of the pending file in FSM data, not the
parsed rows: FSM data is a JSON row in our database, and 10,000 rows would make it megabytes.
On Apply the file is downloaded again and handed to `apply_import`, which writes only what
the dry run showed (its digest) and otherwise answers with a new dry run.
"""

from __future__ import annotations

import secrets
import time
from contextlib import suppress

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Document, Message

from bot.telegram.callbacks import ImportDecision, ImportSheet
from bot.usecases import exports, imports
from handlers.context import Caller, secretariat_router
from handlers.views import spreadsheets as views

PROGRESS_MIN_ROWS = 1000  # smaller files are checked faster than a progress message could help
PROGRESS_MIN_INTERVAL = 1.0  # seconds between edits: Telegram limits edits per chat


class ImportDialog(StatesGroup):
    waiting_file = State()
    choosing_sheet = State()
    confirming = State()


class _ProgressMessage:
    """Edits one message while rows are checked, rarely enough not to hit Telegram's limits."""

    def __init__(self, bot: Bot, status: Message) -> None:
        self.bot, self.chat_id, self.message_id = bot, status.chat.id, status.message_id
        self._last = 0.0

    async def __call__(self, checked: int, total: int) -> None:
        now = time.monotonic()
        if total < PROGRESS_MIN_ROWS or now - self._last < PROGRESS_MIN_INTERVAL:
            return
        self._last = now
        with suppress(TelegramBadRequest):
            await self.bot.edit_message_text(
                text=views.checking_rows(checked, total),
                chat_id=self.chat_id,
                message_id=self.message_id,
            )


async def _download(bot: Bot, file_id: str) -> bytes:
    buffer = await bot.download(file_id)
    return buffer.read() if buffer is not None else b""


async def _show_check(
    status: Message, bot: Bot, state: FSMContext, file: tuple[str, str], checked: imports.Checked
) -> None:
    """The dry run in the status message (the buttons on its last part), the sheet question,
    or why the file cannot be read; with the annotated file when rows were skipped or
    guessed."""
    chat_id, message_id = status.chat.id, status.message_id
    file_id, file_name = file
    if isinstance(checked, imports.FileRefused):
        await bot.edit_message_text(
            text=views.file_problem(checked), chat_id=chat_id, message_id=message_id
        )
        return
    token = secrets.token_hex(4)
    if isinstance(checked, imports.SheetToChoose):
        await state.set_state(ImportDialog.choosing_sheet)
        await state.set_data(
            {
                "file_id": file_id,
                "file_name": file_name,
                "sheets": list(checked.sheets),
                "token": token,
            }
        )
        await bot.edit_message_text(
            text=views.sheet_question(),
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=views.sheet_keyboard(checked.sheets, token),
        )
        return
    markup = None
    if checked.plan.has_changes:
        await state.set_state(ImportDialog.confirming)
        await state.set_data(
            {
                "file_id": file_id,
                "file_name": file_name,
                "sheet": checked.sheet,
                "digest": checked.digest,
                "token": token,
            }
        )
        markup = views.decision_keyboard(token)
    else:
        await state.clear()
    if checked.annotated is not None:
        await bot.send_document(
            chat_id,
            BufferedInputFile(checked.annotated, filename="import-check.xlsx"),
            caption=views.row_notes_caption(),
        )
    chunks = views.dry_run(checked)
    for index, chunk in enumerate(chunks):
        keyboard = markup if index == len(chunks) - 1 else None
        if index == 0:
            await bot.edit_message_text(
                text=chunk, chat_id=chat_id, message_id=message_id, reply_markup=keyboard
            )
        else:
            await bot.send_message(chat_id, chunk, reply_markup=keyboard)


async def _check_document(
    message: Message, document: Document, state: FSMContext, caller: Caller
) -> None:
    refusal = views.download_refusal(document.file_size)
    if refusal is not None:
        await message.answer(refusal)
        return
    bot = message.bot
    assert bot is not None  # a dispatched update carries its bot
    status = await message.answer(views.reading())
    name = document.file_name or "file"
    checked = await imports.check_import(
        caller.ctx,
        await _download(bot, document.file_id),
        name,
        progress=_ProgressMessage(bot, status),
    )
    await _show_check(status, bot, state, (document.file_id, name), checked)


async def import_sheet_choice(
    callback: CallbackQuery, callback_data: ImportSheet, state: FSMContext, caller: Caller, bot: Bot
) -> None:
    data = await state.get_data()
    sheets = data.get("sheets") or []
    if (
        await state.get_state() != ImportDialog.choosing_sheet.state
        or data.get("token") != callback_data.token
        or not 0 <= callback_data.index < len(sheets)
    ):
        await callback.answer(views.out_of_date(), show_alert=True)
        return
    await callback.answer()
    status = await bot.send_message(callback.from_user.id, views.reading())
    file = (str(data["file_id"]), str(data.get("file_name", "")))
    checked = await imports.check_import(
        caller.ctx, await _download(bot, file[0]), file[1], sheet=str(sheets[callback_data.index])
    )
    await _show_check(status, bot, state, file, checked)


async def import_command(message: Message, state: FSMContext, caller: Caller) -> None:
    if message.document is not None:  # the file came with /import as its caption
        await _check_document(message, message.document, state, caller)
        return
    await state.set_state(ImportDialog.waiting_file)
    await state.set_data({})
    await message.answer(views.send_the_file())


async def import_file(message: Message, state: FSMContext, caller: Caller) -> None:
    assert message.document is not None  # guaranteed by the F.document filter
    await _check_document(message, message.document, state, caller)


async def import_not_a_file(message: Message) -> None:
    await message.answer(views.not_a_file())


async def import_cancel_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(views.cancelled())


async def import_decision(
    callback: CallbackQuery,
    callback_data: ImportDecision,
    state: FSMContext,
    caller: Caller,
    bot: Bot,
) -> None:
    data = await state.get_data()
    current = await state.get_state()
    if current != ImportDialog.confirming.state or data.get("token") != callback_data.token:
        await callback.answer(views.out_of_date(), show_alert=True)
        return
    message = callback.message
    if callback_data.action != "ok":
        await state.clear()
        await callback.answer()
        if isinstance(message, Message):
            await message.edit_text(views.cancelled())
        return
    await callback.answer(views.applying())
    file = (str(data["file_id"]), str(data.get("file_name", "")))
    outcome = await imports.apply_import(
        caller.ctx,
        await _download(bot, file[0]),
        file[1],
        sheet=str(data.get("sheet") or "") or None,
        digest=str(data.get("digest")),
        actor=caller.actor,
    )
    if isinstance(outcome, imports.ImportChanged):
        if isinstance(message, Message):
            await message.edit_text(views.changed_new_check())
        status = await bot.send_message(callback.from_user.id, views.reading())
        await _show_check(status, bot, state, file, outcome.check)
        return
    await state.clear()
    if isinstance(outcome, imports.FileRefused):
        await bot.send_message(callback.from_user.id, views.file_problem(outcome))
    elif isinstance(outcome, imports.SheetToChoose):
        await bot.send_message(callback.from_user.id, views.changed_after_check())
    elif isinstance(message, Message):
        await message.edit_text(views.applied(outcome))
    else:
        await bot.send_message(callback.from_user.id, views.applied(outcome))


async def template_command(message: Message, caller: Caller) -> None:
    await message.answer_document(
        BufferedInputFile(
            await exports.import_template(caller.ctx), filename="roadmap-template.xlsx"
        ),
        caption=views.template_caption(),
    )


async def export_command(message: Message, caller: Caller) -> None:
    export = await exports.export_roadmap(caller.ctx)
    await message.answer_document(
        BufferedInputFile(export.data, filename=f"roadmap-{export.day.isoformat()}.xlsx"),
        caption=views.export_caption(export.day),
    )


async def stats_command(message: Message, command: CommandObject, caller: Caller) -> None:
    rounds = exports.stats_rounds(command.args)
    if rounds is None:
        await message.answer(views.usage("stats"))
        return
    stats = await exports.answer_stats(caller.ctx, rounds)
    for chunk in views.stats(stats, caller.ctx.tz):
        await message.answer(chunk)


async def risk_report_command(message: Message, command: CommandObject, caller: Caller) -> None:
    locale = exports.report_locale(command.args, default=views.current_locale())
    if locale is None:
        await message.answer(views.usage("risk_report"))
        return
    report = await exports.risk_report(caller.ctx, locale)
    await message.answer_document(
        BufferedInputFile(
            report.data, filename=f"risk-report-{report.day.isoformat()}-{locale}.docx"
        ),
        caption=views.risk_report_caption(),
    )


def create_router() -> Router:
    router = secretariat_router(__name__)
    router.message.register(import_command, Command("import"))
    for state in (ImportDialog.waiting_file, ImportDialog.confirming, ImportDialog.choosing_sheet):
        router.message.register(import_cancel_command, Command("cancel"), state)
    router.message.register(import_file, ImportDialog.waiting_file, F.document)
    router.message.register(import_not_a_file, ImportDialog.waiting_file, ~F.text.startswith("/"))
    router.callback_query.register(import_decision, ImportDecision.filter())
    router.callback_query.register(import_sheet_choice, ImportSheet.filter())
    router.message.register(template_command, Command("template"))
    router.message.register(export_command, Command("export"))
    router.message.register(stats_command, Command("stats"))
    router.message.register(risk_report_command, Command("risk_report"))
    return router

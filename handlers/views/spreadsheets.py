"""The secretariat's spreadsheet views: the import dialog's texts and buttons, the captions
of the files, the statistics.

The spreadsheet texts are imported when an import is rendered, like the import itself.
"""

from __future__ import annotations

from datetime import date, timedelta, tzinfo
from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date, format_timedelta

from bot.core.limits import TELEGRAM_DOWNLOAD_LIMIT
from bot.core.text import quote, split_message
from bot.telegram.callbacks import ImportDecision, ImportSheet
from bot.telegram.i18n import current_locale as current_locale
from bot.telegram.i18n import format_day, ngettext
from bot.telegram.texts import department_short_name
from bot.usecases.exports import AnswerStats
from bot.usecases.imports import FileRefused, ImportApplied, ImportChecked
from handlers.views.common import usage as usage

if TYPE_CHECKING:
    from bot.spreadsheets.parse import SpreadsheetFileError
    from bot.spreadsheets.stats import DepartmentStats

MAX_ERRORS_IN_CHAT = 50  # beyond this the full list comes as a file, not a flood of messages


def decision_keyboard(token: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Apply"), callback_data=ImportDecision(action="ok", token=token))
    builder.button(text=_("Cancel"), callback_data=ImportDecision(action="no", token=token))
    builder.adjust(2)
    return builder.as_markup()


def sheet_keyboard(sheets: tuple[str, ...], token: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index, name in enumerate(sheets):
        builder.button(text=name[:60], callback_data=ImportSheet(index=index, token=token))
    builder.adjust(1)
    return builder.as_markup()


def sheet_question() -> str:
    return quote(_("Several sheets look like the Road Map. Which one should I read?"))


def dry_run(check: ImportChecked) -> list[str]:
    """The dry run in messages that fit Telegram's limit."""
    return split_message(dry_run_lines(check))


def dry_run_lines(check: ImportChecked, max_errors: int | None = MAX_ERRORS_IN_CHAT) -> list[str]:
    """The chat's dry run: the same summary the command line prints, HTML-escaped."""
    from bot.spreadsheets.texts import plan_summary_lines

    plan = check.plan
    lines = [_("<b>Import check: {file}</b>").format(file=quote(check.file_name))]
    lines += [quote(line) for line in plan_summary_lines(plan, max_errors=max_errors)]
    lines.append("")
    if not plan.has_changes:
        lines.append(_("There is nothing to change. Nothing was written."))
    else:
        lines.append(_("Nothing has been changed yet. Press Apply to write the changes."))
        if plan.errors:
            lines.append(_("Rows with errors will be skipped."))
    return lines


def row_notes_caption() -> str:
    return _("Your file with a comment on each skipped or guessed row.")


def file_problem(refused: FileRefused) -> str:
    return quote(_file_problem_text(refused.error))


def _file_problem_text(error: SpreadsheetFileError) -> str:
    from bot.spreadsheets.texts import file_problem_text

    return file_problem_text(error)


def download_refusal(file_size: int | None) -> str | None:
    """Why a document cannot be checked before it is even downloaded (Telegram lets a bot
    download 20 MB at most), or None."""
    if file_size is None or file_size <= TELEGRAM_DOWNLOAD_LIMIT:
        return None
    from bot.spreadsheets.parse import FileProblem, SpreadsheetFileError

    return _file_problem_text(SpreadsheetFileError(FileProblem.TOO_LARGE))


def applied(result: ImportApplied) -> str:
    return _("Import done: {created} new, {updated} updated, {skipped} rows skipped.").format(
        created=result.created, updated=result.updated, skipped=result.skipped
    )


def out_of_date() -> str:
    return _("This check is out of date. Send /import again.")


def changed_after_check() -> str:
    return quote(_("The file or the Road Map changed after the check. Send /import again."))


def changed_new_check() -> str:
    return _("The file or the Road Map changed after the check. Here is a new check.")


def cancelled() -> str:
    return _("Import cancelled. Nothing was changed.")


def reading() -> str:
    return _("Reading the file…")


def checking_rows(checked: int, total: int) -> str:
    return _("Checking the rows: {checked} of {total}…").format(checked=checked, total=total)


def send_the_file() -> str:
    return _(
        "Send the Road Map as an .xlsx workbook or a .csv file with the columns: "
        "item code, title in Kazakh, title in Russian, department code, deadline, target.\n"
        "The empty template: /template. To stop: /cancel.\n"
        "First I only check the file and show what would change."
    )


def not_a_file() -> str:
    return _("Send the spreadsheet as a file (.xlsx or .csv), or /cancel.")


def applying() -> str:
    return _("Applying…")


def template_caption() -> str:
    return _("The import template: fill in one row per item and send it after /import.")


def export_caption(day: date) -> str:
    return _("The Road Map on {date}").format(date=format_day(day))


def risk_report_caption() -> str:
    return _("Draft report on at-risk items for the central office. Edit it before sending.")


def _short_duration(duration: timedelta) -> str:
    """«6 ч», «3 дн.», «20 мин»: Babel's short units in the reader's language."""
    return format_timedelta(duration, threshold=1.0, format="short", locale=current_locale())


def stats_line(stats: DepartmentStats, tz: tzinfo) -> str:
    """One department on one line: its short name, answers, median time, last update and
    overdue items (only the figures there are)."""
    head = (
        f"<code>{quote(stats.department.code)}</code> "
        f"{quote(department_short_name(stats.department))}"
    )
    parts = []
    if stats.nobody_registered:
        parts.append(_("<b>nobody registered</b>"))
    if stats.requests == 0:
        parts.append(_("no requests yet"))
    else:
        share = round(100 * stats.answered / stats.requests)
        parts.append(
            _("answers {answered}/{requests} ({share}%)").format(
                answered=stats.answered, requests=stats.requests, share=share
            )
        )
        if stats.never_answers:
            parts.append(_("<b>never answers</b>"))
    if stats.median_answer is not None:
        parts.append(_("median {duration}").format(duration=_short_duration(stats.median_answer)))
    if stats.last_update is not None:
        day = stats.last_update.astimezone(tz).date()
        parts.append(
            _("updated {date}").format(date=format_date(day, "d MMM", locale=current_locale()))
        )
    else:
        parts.append(_("no updates yet"))
    if stats.overdue_items:
        parts.append(_("overdue {count}").format(count=stats.overdue_items))
    return head + " — " + ", ".join(parts)


def stats(outcome: AnswerStats, tz: tzinfo) -> list[str]:
    """/stats: a heading that says what is counted (nothing before the first request), one
    line per department that has been asked or has people, and the departments with nobody
    registered and nothing asked on one line."""
    if not outcome.departments:
        return [
            _(
                "No departments yet: add them with /adddept, then load the items with "
                "/template and /import."
            )
        ]
    asked = min(outcome.rounds, max(row.requests for row in outcome.departments))
    if asked == 0:
        lines = [
            _(
                "<b>How departments answer</b>: no status request has been sent yet. "
                "/request_now asks now; otherwise the schedule does (/schedule)."
            )
        ]
    else:
        lines = [
            ngettext(
                "<b>How departments answered the last {count} request</b>",
                "<b>How departments answered the last {count} requests</b>",
                asked,
            ).format(count=asked)
        ]
    waiting = [row for row in outcome.departments if row.nobody_registered and not row.requests]
    waiting_codes = {row.department.code for row in waiting}
    lines += [
        stats_line(row, tz)
        for row in outcome.departments
        if row.department.code not in waiting_codes
    ]
    if waiting:
        codes = ", ".join(f"<code>{quote(row.department.code)}</code>" for row in waiting)
        lines.append("")
        lines.append(
            ngettext(
                "Nobody registered, nothing asked yet ({count} department): {codes}. "
                "Invite them with /invite and the code.",
                "Nobody registered, nothing asked yet ({count} departments): {codes}. "
                "Invite them with /invite and the code.",
                len(waiting),
            ).format(count=len(waiting), codes=codes)
        )
    return split_message(lines)

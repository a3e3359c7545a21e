"""The audit log's filtered view as a workbook: one row per entry, newest first."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import tzinfo

from aiogram.utils.i18n import gettext as _

from db.models import AuditLog, Person


def build_audit_workbook(rows: Sequence[tuple[AuditLog, Person | None]], tz: tzinfo) -> bytes:
    """XLSX bytes: when (local time), who, their Telegram id, action, target, details."""
    from openpyxl import Workbook  # on first use: the bot's start does not pay for it

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Audit log")[:31]
    sheet.append(
        [_("When"), _("Who"), _("Telegram ID"), _("Action"), _("Item or target"), _("Details")]
    )
    for entry, person in rows:
        when = entry.created_at.astimezone(tz).replace(tzinfo=None)
        sheet.append(
            [
                when,
                person.display_name if person else "",
                entry.actor_telegram_id,
                entry.action,
                entry.target or "",
                entry.details or "",
            ]
        )
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.data_type == "f":  # a person's words that look like a formula stay words
                cell.data_type = "s"
    for column, width in zip("ABCDEF", (18, 28, 14, 22, 18, 60), strict=True):
        sheet.column_dimensions[column].width = width
    for cell in sheet["A"][1:]:
        cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

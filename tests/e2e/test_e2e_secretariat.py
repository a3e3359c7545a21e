"""End to end over HTTP: the secretariat imports a 93-item workbook, the chair reads the
summary with its chart, and the secretariat exports the workbook and the DOCX report."""

from __future__ import annotations

import io

from docx import Document
from openpyxl import load_workbook
from sqlmodel import func, select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator
from db.engine import SessionMaker
from db.models import AuditLog, RoadmapItem
from tests.data.spreadsheets.workbooks import DEPARTMENTS, roadmap_rows, xlsx
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import build_world, joined_notice, live_bot, say

CHAIR = 6001


async def test_import_summary_and_exports_over_http(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
) -> None:
    async with live_bot(live_settings, clock, emulator):
        commands = [f"/adddept {code} {kk} | {ru}" for code, (kk, ru) in DEPARTMENTS.items()]
        await build_world(emulator, commands)

        await say(emulator, ADMIN_ID, "/import")
        emulator.send_document(
            ADMIN_ID,
            xlsx(roadmap_rows(93)),
            "roadmap.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        progress = await emulator.next_message(ADMIN_ID)
        dry_run = progress
        while not dry_run.buttons:
            dry_run = await emulator.next_edit(ADMIN_ID)
        assert "93" in dry_run.text
        async with session_maker() as session:
            assert (await session.exec(select(func.count()).select_from(RoadmapItem))).one() == 0
        apply_label = dry_run.buttons[0][0][0]
        emulator.press_button(ADMIN_ID, dry_run.message_id, dry_run.button(apply_label))
        applied = await emulator.next_edit(ADMIN_ID)
        while applied.message_id != dry_run.message_id:
            applied = await emulator.next_edit(ADMIN_ID)
        assert "93" in applied.text

        invitation = await say(emulator, ADMIN_ID, "/invite chair")
        token = next(w for w in invitation.text.split() if "?start=" in w).split("?start=")[1]
        emulator.send_text(CHAIR, f"/start {token}", language_code="kk")
        prompt = await emulator.next_message(CHAIR)
        emulator.press_button(CHAIR, prompt.message_id, prompt.button("Қазақша"))
        await emulator.next_edit(CHAIR)
        await joined_notice(emulator)  # issue 22 (#27): the secretariat is told who joined

        emulator.send_text(CHAIR, "/summary")
        summary = await emulator.next_message(CHAIR, timeout=60)  # the text first (#32)
        assert "93" in (summary.text or "") and summary.buttons
        chart = await emulator.next_message(CHAIR, timeout=60)  # then the chart
        assert chart.photo
        assert emulator.file_bytes(chart.photo[-1]["file_id"]).startswith(b"\x89PNG")

        export = await say(emulator, ADMIN_ID, "/export")
        assert export.document is not None
        workbook = load_workbook(io.BytesIO(emulator.file_bytes(export.document["file_id"])))
        assert workbook.sheetnames[0] and workbook.worksheets[0].max_row == 94  # header + 93

        report = await say(emulator, ADMIN_ID, "/risk_report ru")
        assert report.document is not None and report.document["file_name"].endswith(".docx")
        document = Document(io.BytesIO(emulator.file_bytes(report.document["file_id"])))
        assert document.paragraphs and document.tables

        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []

    async with session_maker() as session:
        items = (await session.exec(select(func.count()).select_from(RoadmapItem))).one()
        imports = (
            await session.exec(select(AuditLog).where(AuditLog.action == "import.apply"))
        ).all()
    assert items == 93 and len(imports) == 1

"""Loading the Road Map from a file: one pipeline for the chat, the command line and the web.

bytes → parse → plan → a dry run (`check_import`), then `apply_import`, which reads the same
bytes again and writes only if what it would write is what the dry run showed (the digest):
the file or the Road Map may have changed in between. Fetching the bytes (a Telegram download,
a file on disk, an upload) is the caller's job.

The parser, the planner and the writer are imported when an import runs: the bot's start does
not pay for what is rarely used (the parser alone is 2 MiB).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.usecases.ports import UseCaseContext
from bot.usecases.roadmap import (
    Reassignment,
    tell_departments_of_moves,
    tell_of_new_items,
    tell_of_reassignments,
)
from db import queries
from db.models import Person

if TYPE_CHECKING:
    from bot.spreadsheets.apply import Notices
    from bot.spreadsheets.parse import ParsedFile, SpreadsheetFileError
    from bot.spreadsheets.plan import ImportPlan
    from bot.telegram.texts import NamedItem
    from db.engine import AsyncSession

Progress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class ImportChecked:
    """The dry run: what Apply would write, nothing written yet.

    `annotated` is the file with a comment on each skipped or guessed row, when asked for.
    """

    file_name: str
    plan: ImportPlan
    annotated: bytes | None = None

    @property
    def digest(self) -> str:
        return self.plan.digest()

    @property
    def sheet(self) -> str | None:
        return self.plan.sheet

    @property
    def has_row_notes(self) -> bool:
        """Some rows were skipped or guessed: the annotated file is worth sending."""
        plan = self.plan
        return bool(plan.errors) or any(g.row_number > plan.header_row for g in plan.guesses)


@dataclass(frozen=True)
class SheetToChoose:
    """Several sheets look like the Road Map: the caller asks which one, then checks again."""

    sheets: tuple[str, ...]


@dataclass(frozen=True)
class FileRefused:
    """The file cannot be read as a Road Map at all (empty, too big, not a spreadsheet...)."""

    error: SpreadsheetFileError


@dataclass(frozen=True)
class ImportApplied:
    created: int
    updated: int
    skipped: int


@dataclass(frozen=True)
class ImportChanged:
    """The file or the Road Map changed since the dry run: nothing written, here is a new one."""

    check: ImportChecked


Checked = ImportChecked | SheetToChoose | FileRefused
Applied = ImportApplied | ImportChanged | SheetToChoose | FileRefused


async def _parse(ctx: UseCaseContext, data: bytes, file_name: str, sheet: str | None) -> ParsedFile:
    """In a thread: a big workbook takes seconds, and the bot keeps answering meanwhile."""
    from bot.spreadsheets.parse import parse_spreadsheet
    from bot.spreadsheets.texts import localized_header_aliases

    return await asyncio.to_thread(
        parse_spreadsheet,
        data,
        file_name,
        extra_aliases=localized_header_aliases(ctx.i18n),
        sheet=sheet,
    )


async def _plan(
    ctx: UseCaseContext, data: bytes, file_name: str, sheet: str | None, progress: Progress | None
) -> ImportPlan | SheetToChoose | FileRefused:
    from bot.spreadsheets.parse import SheetChoiceNeeded, SpreadsheetFileError
    from bot.spreadsheets.plan import plan_import

    try:
        parsed = await _parse(ctx, data, file_name, sheet)
    except SheetChoiceNeeded as choice:
        return SheetToChoose(tuple(choice.sheets))
    except SpreadsheetFileError as error:
        return FileRefused(error)
    async with ctx.session_maker() as session:  # reads only
        return await plan_import(session, parsed, progress=progress)


async def _dry_run(
    data: bytes, file_name: str, plan: ImportPlan, comments: bool | None
) -> ImportChecked:
    check = ImportChecked(file_name, plan)
    if comments or (comments is None and check.has_row_notes):
        from bot.spreadsheets.annotate import annotated_workbook

        annotated = await asyncio.to_thread(annotated_workbook, data, plan)
        check = ImportChecked(file_name, plan, annotated)
    return check


async def check_import(
    ctx: UseCaseContext,
    data: bytes,
    file_name: str,
    *,
    sheet: str | None = None,
    comments: bool | None = None,
    progress: Progress | None = None,
) -> Checked:
    """The dry run of importing `data`; writes nothing.

    `comments`: annotate the file always (True), never (False), or when some rows were skipped
    or guessed (None). `progress(checked, total)` hears how far the rows are checked.
    """
    planned = await _plan(ctx, data, file_name, sheet, progress)
    if isinstance(planned, SheetToChoose | FileRefused):
        return planned
    return await _dry_run(data, file_name, planned, comments)


def import_notices(
    ctx: UseCaseContext, planned: ImportPlan, actor: Person | None, now: datetime
) -> Notices:
    """The import's notices, queued by the writer inside its transaction: the deadlines it
    moved (with the file's reasons), the items it gave to other departments, its new items."""

    async def queue(session: AsyncSession) -> int:
        told = await _tell_of_moves(ctx, session, planned, actor, now)
        told += await _tell_of_reassignments(ctx, session, planned, now)
        return told + await _tell_of_new_items(ctx, session, planned, now)

    return queue


async def _tell_of_moves(
    ctx: UseCaseContext,
    session: AsyncSession,
    planned: ImportPlan,
    actor: Person | None,
    now: datetime,
) -> int:
    """The departments whose deadlines the import moved are told, with the file's reasons."""
    moved = [u.item_id for u in planned.updated if any(c.name == "deadline" for c in u.changes)]
    if not moved:
        return 0
    moves = await queries.deadline_changes_at(session, moved, now)
    return await tell_departments_of_moves(ctx, session, moves, actor)


async def _tell_of_reassignments(
    ctx: UseCaseContext, session: AsyncSession, plan: ImportPlan, now: datetime
) -> int:
    """The heads of the departments that gained or lost an item by this import are told."""
    from bot.spreadsheets.parse import Column

    moved = [
        (update, change)
        for update in plan.updated
        for change in update.changes
        if change.name == Column.DEPARTMENT
    ]
    if not moved:
        return 0
    departments = {row.id: row for row in await queries.all_departments(session)}
    by_code = {row.code: row for row in departments.values()}
    # One read for every moved item, as for the new ones (an import may move thousands).
    items = await queries.items_by_codes(session, [update.row.code for update, _ in moved])
    by_item_id = {item.id: item for item in items}
    moves = [
        Reassignment(item, by_code.get(change.old), departments[update.department_id])
        for update, change in moved
        if (item := by_item_id.get(update.item_id)) is not None
    ]
    return await tell_of_reassignments(session, ctx.i18n, moves, now) if moves else 0


async def _tell_of_new_items(
    ctx: UseCaseContext, session: AsyncSession, plan: ImportPlan, now: datetime
) -> int:
    """The members of each department that got new items by this import are told, one
    message per person listing them. Named from the plan's rows, which hold what the items
    were written with: reading thousands back would lengthen the import's write lock."""
    added: dict[int, list[NamedItem]] = {}
    for new in plan.new:
        added.setdefault(new.department_id, []).append(new.row)
    return await tell_of_new_items(session, ctx.i18n, added, now)


async def apply_import(
    ctx: UseCaseContext,
    data: bytes,
    file_name: str,
    *,
    sheet: str | None,
    digest: str,
    actor: Person | None,
) -> Applied:
    """Write the import the dry run with `digest` showed, or nothing.

    The bytes are read and planned again (a caller keeps only the digest, not the rows). If
    the plan differs, nothing is written and a new dry run comes back (`ImportChanged`).
    Without a person (the command line) the audit names the file only.
    """
    from bot.spreadsheets.apply import apply_import as write_plan

    planned = await _plan(ctx, data, file_name, sheet, None)
    if isinstance(planned, SheetToChoose | FileRefused):
        return planned
    if planned.digest() != digest:
        return ImportChanged(await _dry_run(data, file_name, planned, None))
    now = ctx.clock.now()
    async with ctx.session_maker() as session:
        # One transaction: the changes and every notice of them, or nothing.
        result = await write_plan(
            session,
            planned,
            actor=actor,
            now=now,
            source=file_name,
            notices=import_notices(ctx, planned, actor, now),
        )
    if result.told:
        ctx.signals.wake_outbox()
    return ImportApplied(
        created=result.created, updated=result.updated, skipped=len(planned.errors)
    )

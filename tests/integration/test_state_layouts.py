"""Road Maps laid out as state action plans import whole (issue 24, «Done when»).

Nine files (Russian, Kazakh and bilingual layouts; .xlsx, .xls and .docx), 93 items each,
built in tests/helpers/state_layouts.py with the truth of every item: each must import with
its code, lead, co-executors, deadline (date and wording) and titles, and the dry run must
name every guess the importer made.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram.utils.i18n import I18n
from sqlmodel import select

from bot.spreadsheets.apply import apply_import
from bot.spreadsheets.parse import GuessKind, parse_spreadsheet
from bot.spreadsheets.plan import ImportPlan, plan_import
from bot.spreadsheets.texts import plan_summary_lines
from bot.telegram.i18n import format_day, in_locale
from db.engine import SessionMaker
from db.models import Department, ItemCoExecutor, RoadmapItem
from tests.helpers.state_layouts import (
    ALL_DEPARTMENTS,
    BY_DISTRICT,
    Built,
    state_roadmap,
)

LAYOUTS = [(language, kind) for language in ("ru", "kk", "bi") for kind in ("xlsx", "xls", "docx")]
NOW = datetime(2025, 1, 10, 5, tzinfo=UTC)


async def _seed(session_maker: SessionMaker) -> dict[int, str]:
    async with session_maker() as session:
        for code, (name_kk, name_ru) in ALL_DEPARTMENTS.items():
            session.add(Department(code=code, name_kk=name_kk, name_ru=name_ru, created_at=NOW))
        await session.commit()
        found = (await session.exec(select(Department))).all()
    return {department.id: department.code for department in found if department.id}


async def _plan(session_maker: SessionMaker, built: Built) -> ImportPlan:
    parsed = parse_spreadsheet(built.data, built.filename)
    async with session_maker() as session:
        return await plan_import(session, parsed)


@pytest.mark.parametrize(("language", "kind"), LAYOUTS, ids=[f"{a}-{b}" for a, b in LAYOUTS])
async def test_a_state_action_plan_imports_every_item_right(
    language: str, kind: str, session_maker: SessionMaker
) -> None:
    codes = await _seed(session_maker)
    built = state_roadmap(language, kind)
    plan = await _plan(session_maker, built)
    assert plan.errors == []
    assert len(plan.new) == 93
    truth = {item.code: item for item in built.table.truth}
    for planned in plan.new:
        row, meant = planned.row, truth[planned.row.code]
        assert (row.title_kk, row.title_ru) == (meant.title_kk, meant.title_ru), row.code
        assert (row.deadline, row.deadline_text) == (meant.deadline, meant.deadline_text), row.code
        assert codes[planned.department_id] == meant.lead, row.code
        found = tuple(codes[i] for i in planned.co_executor_ids)
        assert found == meant.co_executors, row.code
    async with session_maker() as session:
        result = await apply_import(session, plan, actor=None, now=NOW, source=built.filename)
    assert (result.created, result.updated) == (93, 0)
    again = await _plan(session_maker, built)  # codes formed from sections are stable
    assert (len(again.new), len(again.updated), len(again.unchanged)) == (0, 0, 93)
    async with session_maker() as session:
        items = (await session.exec(select(RoadmapItem))).all()
        links = (await session.exec(select(ItemCoExecutor))).all()
    assert sorted(item.code for item in items) == sorted(truth)
    expected_links = sum(len(item.co_executors) for item in truth.values())
    assert len(links) == expected_links


@pytest.mark.parametrize(("language", "kind"), LAYOUTS, ids=[f"{a}-{b}" for a, b in LAYOUTS])
async def test_the_dry_run_names_every_guess(
    language: str, kind: str, session_maker: SessionMaker, i18n: I18n
) -> None:
    await _seed(session_maker)
    built = state_roadmap(language, kind)
    plan = await _plan(session_maker, built)
    kinds = {guess.kind for guess in plan.guesses}
    assert {
        GuessKind.HEADER_ROW,
        GuessKind.SUBHEADER_ROW,
        GuessKind.NUMBER_ROW,
        GuessKind.SECTION,
        GuessKind.CODES_FROM_SECTIONS,
        GuessKind.LEGEND,
        GuessKind.ITEM_BY_DISTRICT,
        GuessKind.COLLECTIVE_EXPANDED,
        GuessKind.DEADLINE,
        GuessKind.ROADMAP_YEAR,
    } <= kinds
    if kind == "xlsx":
        assert {GuessKind.HIDDEN_COLUMN, GuessKind.HIDDEN_ROWS, GuessKind.HIDDEN_SHEETS} <= kinds
    if language != "bi":
        assert GuessKind.TITLE_FALLBACK in kinds
    districts = [g for g in plan.guesses if g.kind == GuessKind.ITEM_BY_DISTRICT]
    assert len(districts) == len(BY_DISTRICT)
    worded = {g.row_number: g.args for g in plan.guesses if g.kind == GuessKind.DEADLINE}
    by_row = {p.row.row_number: p.row for p in plan.new}
    for number, args in worded.items():  # each worded deadline names the date it chose
        assert args["date"] == by_row[number].deadline.isoformat()
    for locale in ("kk", "ru"):
        with in_locale(i18n, locale):
            text = "\n".join(plan_summary_lines(plan))
            day = format_day(by_row[next(iter(worded))].deadline)
        assert day in text and "{" not in text

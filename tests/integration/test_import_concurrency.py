"""An import is all-or-nothing while a department head saves a report at the same moment.

The head's Save starts while the import's transaction is writing (launched from inside it) and
must neither fail nor be lost: on SQLite it waits for the import's short write lock; on
PostgreSQL the two transactions touch different rows. A failing import leaves nothing behind,
and the Save made meanwhile stays.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from bot.core.clock import FrozenClock
from bot.reporting.service import Draft, save_update
from bot.spreadsheets import apply
from bot.spreadsheets.apply import apply_import
from bot.spreadsheets.parse import parse_spreadsheet
from bot.spreadsheets.plan import plan_import
from db.engine import SessionMaker
from db.models import AuditLog, Person, RoadmapItem, Role, StatusUpdate
from tests.data.spreadsheets.workbooks import roadmap_rows, xlsx
from tests.helpers.chat import rows
from tests.helpers.import_dialog import seed_departments

ROWS = 600


async def _head_and_item(session_maker: SessionMaker, clock: FrozenClock) -> tuple[int, int]:
    departments = await seed_departments(session_maker, clock)
    async with session_maker() as session:
        head = Person(
            telegram_id=4242,
            display_name="Head",
            role=Role.MEMBER,
            department_id=departments["edu"],
            active=True,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        item = RoadmapItem(
            code="99.9.9",
            title_kk="Тармақ",
            title_ru="Пункт",
            department_id=departments["edu"],
            deadline=date(2025, 12, 1),
            year=2025,
            created_at=clock.now(),
        )
        session.add_all([head, item])
        await session.commit()
        assert head.id is not None and item.id is not None
        return head.id, item.id


async def _save(
    session_maker: SessionMaker, clock: FrozenClock, head_id: int, item_id: int
) -> None:
    async with session_maker() as session:
        head = await session.get(Person, head_id)
        assert head is not None
        draft = Draft(item_id=item_id, status="on_track", progress=40)
        await save_update(session, person=head, draft=draft, now=clock.now())


@pytest.mark.parametrize("fails", [False, True], ids=["applied", "failed"])
async def test_an_import_is_all_or_nothing_under_a_concurrent_save(
    session_maker: SessionMaker,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
    fails: bool,
) -> None:
    head_id, item_id = await _head_and_item(session_maker, clock)
    async with session_maker() as session:
        plan = await plan_import(session, parse_spreadsheet(xlsx(roadmap_rows(ROWS)), "r.xlsx"))
    assert len(plan.new) == ROWS
    saves: list[asyncio.Task[None]] = []
    original = apply.queries.mark_risk_dirty

    async def marks_while_a_head_saves(*args: Any, **kwargs: Any) -> None:
        if saves:  # the Save's own marks (db.queries is one module)
            return await original(*args, **kwargs)
        # The import's rows are written and its transaction is open: the head taps Save now.
        saves.append(asyncio.create_task(_save(session_maker, clock, head_id, item_id)))
        await asyncio.sleep(0.05)  # the Save reaches the database while the import holds it
        if fails:
            raise RuntimeError("disk full")
        await original(*args, **kwargs)

    monkeypatch.setattr(apply.queries, "mark_risk_dirty", marks_while_a_head_saves)
    async with session_maker() as session:
        if fails:
            with pytest.raises(RuntimeError):
                await apply_import(session, plan, actor=None, now=clock.now(), source="r.xlsx")
        else:
            await apply_import(session, plan, actor=None, now=clock.now(), source="r.xlsx")
    (save,) = saves
    await save  # the head's Save neither failed nor waited out the busy timeout

    (report,) = await rows(session_maker, StatusUpdate)
    assert (report.item_id, report.progress) == (item_id, 40)
    async with session_maker() as session:
        codes = set((await session.exec(select(RoadmapItem.code))).all())
    actions = {entry.action for entry in await rows(session_maker, AuditLog)}
    if fails:
        assert codes == {"99.9.9"}
        assert "import.apply" not in actions and "item.add" not in actions
    else:
        assert codes == {"99.9.9"} | {planned.row.code for planned in plan.new}
        assert "import.apply" in actions

"""An export of a history-heavy roadmap says what the database says, row for row.

Many reports per item (more than one partition of the streamed read), comments with
formulas, markup, control characters and long text, co-executors and items without reports:
every History row and every item's newest update must come back from the file as stored.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram.utils.i18n import I18n
from openpyxl import load_workbook
from sqlalchemy import insert
from sqlmodel import select

from bot.risk.rules import RiskThresholds
from bot.spreadsheets import export
from bot.spreadsheets.export import build_export
from bot.telegram.i18n import in_locale
from bot.telegram.texts import status_label
from db.engine import SessionMaker
from db.models import Department, ItemCoExecutor, Person, RoadmapItem, StatusUpdate

TZ = ZoneInfo("Asia/Almaty")
TODAY = date(2025, 9, 15)
ITEMS = 60
REPORTS = 40  # 2,400 history rows: the read comes in several partitions
COMMENTS = (
    "=SUM(A1:A2)",
    "+7 700 000 00 00",
    "<b>жирный</b> & «кавычки»",
    "строка\nвторая  ",
    "\x07звонок",
    "ұзын " * 300,
    None,
    "",
)
STATUSES = ("on_track", "at_risk", "blocked", "done")


async def _seed(session_maker: SessionMaker) -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    async with session_maker() as session, session.begin():
        connection = await session.connection()
        await connection.execute(
            insert(Department),
            [
                {"id": n, "code": f"d{n}", "name_kk": f"Басқарма {n}", "name_ru": f"Управление {n}"}
                | {"created_at": now}
                for n in (1, 2, 3)
            ],
        )
        await connection.execute(
            insert(Person),
            [
                {
                    "id": n,
                    "telegram_id": 500 + n,
                    "display_name": f"=Автор {n}" if n == 2 else f"Автор {n}",
                    "role": "member",
                    "department_id": n,
                    "active": True,
                    "blocked_bot": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in (1, 2, 3)
            ],
        )
        await connection.execute(
            insert(RoadmapItem),
            [
                {
                    "id": n,
                    "code": f"{n // 10 + 1}.{n % 10 + 1}",
                    "title_kk": f"Тармақ {n}",
                    "title_ru": f"-Пункт {n}",
                    "department_id": n % 3 + 1,
                    "deadline": date(2025, 3, 1) + timedelta(days=n * 5),
                    "year": 2025,
                    "target": "100%",
                    "archived": n % 17 == 0,
                    "created_at": now,
                }
                for n in range(1, ITEMS + 1)
            ],
        )
        await connection.execute(
            insert(ItemCoExecutor), [{"item_id": n, "department_id": 3} for n in range(1, 9)]
        )
        await connection.execute(
            insert(StatusUpdate),
            [
                {
                    "item_id": n,
                    "author_id": k % 3 + 1,
                    "status": STATUSES[(n + k) % 4],
                    "progress": (n + k) % 101,
                    "comment": COMMENTS[(n * k) % len(COMMENTS)],
                    "cause": "financing" if (n + k) % 4 in (1, 2) else None,
                    "evidence_kind": "document" if k % 9 == 0 else None,
                    "evidence_name": f"акт-{k}.pdf" if k % 9 == 0 else None,
                    "created_at": now + timedelta(hours=5 * k + n, minutes=n),
                }
                for n in range(1, ITEMS + 1)
                if n % 11  # every eleventh item has no reports
                for k in range(REPORTS)
            ],
        )


def _clean(text: str | None) -> str | None:
    """What a cell can hold: XML has no control characters; an empty text is an empty cell."""
    if not text:
        return None
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 32)


async def test_history_heavy_export_matches_the_database(
    session_maker: SessionMaker, i18n: I18n, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PARTITION", 500)
    await _seed(session_maker)
    async with session_maker() as session:
        with in_locale(i18n, "ru"):
            data = await build_export(session, today=TODAY, tz=TZ, thresholds=RiskThresholds())
        updates = (await session.exec(select(StatusUpdate))).all()
        items = {item.id: item for item in (await session.exec(select(RoadmapItem))).all()}
    workbook = load_workbook(io.BytesIO(data))
    items_sheet, history_sheet, _departments = workbook.worksheets

    def local(moment: datetime) -> datetime:
        return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(TZ).replace(tzinfo=None)

    def status(name: str) -> str:
        with in_locale(i18n, "ru"):
            return status_label(name)

    history = [list(row) for row in history_sheet.iter_rows(min_row=2, values_only=True)]
    ordered = sorted(updates, key=lambda u: (u.created_at, u.id or 0))
    assert len(history) == len(ordered) == (ITEMS - ITEMS // 11) * REPORTS
    for row, update in zip(history, ordered, strict=True):
        item = items[update.item_id]
        assert row[0] == item.code
        assert abs(row[1] - local(update.created_at)) < timedelta(seconds=1)
        assert row[2] == f"Управление {item.department_id}"
        author = update.author_id
        assert row[3] == (f"=Автор {author}" if author == 2 else f"Автор {author}")
        assert row[5] == update.progress
        assert row[6] == _clean(update.comment)
        assert (row[8] is not None) == (update.evidence_kind is not None)

    newest: dict[int, StatusUpdate] = {}
    for update in ordered:
        newest[update.item_id] = update
    rows = [list(row) for row in items_sheet.iter_rows(min_row=2, values_only=True)]
    assert [row[0] for row in rows] == sorted(item.code for item in items.values())
    for row in rows:
        item = next(i for i in items.values() if i.code == row[0])
        item_id = item.id or 0
        newest_update = newest.get(item_id)
        assert row[1:3] == [item.title_kk, item.title_ru]
        assert row[3] == (
            f"d{item.department_id}, d3" if item_id <= 8 else f"d{item.department_id}"
        )
        assert row[5] == datetime.combine(item.deadline, datetime.min.time())
        assert row[14] == (i18n.gettext("yes", locale="ru") if item.archived else None)
        if newest_update is None:
            assert row[8] == i18n.gettext("no reports yet", locale="ru")
            assert row[9] is None and row[11] is None
        else:
            assert row[8] == status(newest_update.status)
            assert row[9] == newest_update.progress
            assert abs(row[11] - local(newest_update.created_at)) < timedelta(seconds=1)
            assert row[13] == _clean(newest_update.comment)
    cell = history_sheet["G2"]
    assert cell.data_type == "s"

"""/alias: the secretariat says once what a Road Map's abbreviation means (issue 24)."""

from __future__ import annotations

from aiogram.utils.i18n import I18n

from bot.core.clock import FrozenClock
from bot.spreadsheets.parse import parse_spreadsheet
from bot.spreadsheets.plan import plan_import
from bot.telegram.i18n import in_locale
from db.engine import SessionMaker
from db.models import AuditLog, DepartmentAlias
from tests.helpers.chat import ADMIN_ID, Chatter, only_text, register_admin, rows
from tests.helpers.import_dialog import seed_departments
from tests.helpers.office_workbooks import simple_workbook

HEADERS = ["№ п/п", "Наименование мероприятия", "Ответственные за исполнение", "Срок исполнения"]


async def _plan_codes(session_maker: SessionMaker) -> list[tuple[str, int]]:
    data = simple_workbook(HEADERS, [["1", "Ремонт школ", "УО", "IV квартал 2025 года"]])
    parsed = parse_spreadsheet(data, "plan.xlsx")
    async with session_maker() as session:
        plan = await plan_import(session, parsed)
    return [(p.row.code, p.department_id) for p in plan.new]


async def test_an_alias_resolves_an_abbreviation_in_every_later_import(
    chatter: Chatter, session_maker: SessionMaker, clock: FrozenClock, i18n: I18n
) -> None:
    await register_admin(chatter, "ru")
    ids = await seed_departments(session_maker, clock)
    assert await _plan_codes(session_maker) == []  # «УО» means nothing yet
    answer = only_text(await chatter.send(ADMIN_ID, "/alias УО edu"))
    with in_locale(i18n, "ru"):
        expected = i18n.gettext("«{alias}» now means {name} in every import.", locale="ru")
    assert answer == expected.format(alias="УО", name="Управление образования")
    assert await _plan_codes(session_maker) == [("1", ids["edu"])]
    answer = only_text(await chatter.send(ADMIN_ID, "/alias уо health"))  # case does not matter
    assert "Управление здравоохранения" in answer and "Управление образования" in answer
    assert [(a.alias, a.department_id) for a in await rows(session_maker, DepartmentAlias)] == [
        ("уо", ids["health"])
    ]
    listing = only_text(await chatter.send(ADMIN_ID, "/alias"))
    assert "уо → <code>health</code>" in listing
    assert "nope" not in only_text(await chatter.send(ADMIN_ID, "/alias УО nope"))
    only_text(await chatter.send(ADMIN_ID, "/alias УО off"))
    assert await rows(session_maker, DepartmentAlias) == []
    actions = [entry.action for entry in await rows(session_maker, AuditLog)]
    assert actions.count("department.alias") == 2 and "department.alias_removed" in actions


async def test_alias_is_for_the_secretariat_only(
    chatter: Chatter, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    await seed_departments(session_maker, clock)
    chatter_answer = only_text(await chatter.send(999, "/alias УО edu"))
    assert "УО" not in chatter_answer
    assert await rows(session_maker, DepartmentAlias) == []

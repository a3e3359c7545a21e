"""The secretariat names departments the way buttons, summaries and the chart show them,
and items the way their buttons do (issue 22, #16)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.errors import UnknownDepartmentError
from bot.core.parsing import NewDepartment, ShortTitle
from bot.roadmap.service import SHORT_NAME_LENGTH
from bot.roadmap.service import set_short_names as store_short_names
from bot.usecases.ports import Person, UseCaseContext
from db import queries
from db.models import Department, RoadmapItem


@dataclass(frozen=True)
class ShortNamesSet:
    department: Department


@dataclass(frozen=True)
class ShortNamesTooLong:
    limit: int


@dataclass(frozen=True)
class UnknownDepartment:
    code: str


ShortNamesOutcome = ShortNamesSet | ShortNamesTooLong | UnknownDepartment


async def set_short_names(
    ctx: UseCaseContext, actor: Person, names: NewDepartment
) -> ShortNamesOutcome:
    """A department's short names in both languages (`names.code` says which); audited."""
    if max(len(names.name_kk), len(names.name_ru)) > SHORT_NAME_LENGTH:
        return ShortNamesTooLong(SHORT_NAME_LENGTH)
    async with ctx.session_maker() as session:
        try:
            department = await store_short_names(
                session,
                actor=actor,
                code=names.code,
                kk=names.name_kk,
                ru=names.name_ru,
                now=ctx.clock.now(),
            )
        except UnknownDepartmentError:
            return UnknownDepartment(names.code)
    return ShortNamesSet(department)


@dataclass(frozen=True)
class ShortTitleSet:
    item: RoadmapItem


@dataclass(frozen=True)
class UnknownItem:
    code: str


async def set_short_title(
    ctx: UseCaseContext, actor: Person, typed: ShortTitle
) -> ShortTitleSet | UnknownItem:
    """What an item's buttons show (None: the rule's guess again); audited."""
    async with ctx.session_maker() as session:
        item = await queries.item_by_code(session, typed.code)
        if item is None:
            return UnknownItem(typed.code)
        before = f"{item.short_title_kk or ''} | {item.short_title_ru or ''}"
        item.short_title_kk, item.short_title_ru = typed.kk, typed.ru
        session.add(item)
        await queries.add_audit(
            session,
            at=ctx.clock.now(),
            action="item.short_title",
            actor=actor,
            target=item.code,
            details=f"was {before}",
        )
        await session.commit()
        await session.refresh(item)
    return ShortTitleSet(item)

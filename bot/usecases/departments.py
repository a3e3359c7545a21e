"""The secretariat names departments the way buttons, summaries and the chart show them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.errors import UnknownDepartmentError
from bot.core.parsing import NewDepartment
from bot.roadmap.service import SHORT_NAME_LENGTH
from bot.roadmap.service import set_short_names as store_short_names
from bot.usecases.ports import Person, UseCaseContext
from db.models import Department


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

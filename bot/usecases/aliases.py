"""The secretariat's aliases of departments: what a Road Map calls a department («УО»).

State action plans name executors by abbreviations their own legend spells out; when a file
has no legend, or spells a name the directory does not know, the secretariat says once what
it means (`/alias УО education`) and every later import resolves it
(bot.spreadsheets.plan.DepartmentMatcher). Each use case commits its own change and audits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.usecases.caller import Caller
from bot.usecases.ports import UseCaseContext
from db import queries
from db.models import Department, DepartmentAlias

MAX_ALIAS_LENGTH = 64


class AliasResult(StrEnum):
    SAVED = "saved"
    REPLACED = "replaced"
    REMOVED = "removed"
    UNKNOWN_DEPARTMENT = "unknown_department"
    BAD_ALIAS = "bad_alias"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class AliasOutcome:
    result: AliasResult
    alias: str
    department: Department | None = None
    previous: Department | None = None


@dataclass(frozen=True)
class AliasEntry:
    alias: str
    department: Department


def normalize_alias(text: str) -> str:
    """Compared without case or extra spaces: «уо» and «УО» are one alias."""
    return " ".join(text.split()).lower()


async def _find(session: AsyncSession, alias: str) -> DepartmentAlias | None:
    found = await session.exec(select(DepartmentAlias).where(col(DepartmentAlias.alias) == alias))
    return found.first()


async def set_alias(caller: Caller, alias: str, department_code: str) -> AliasOutcome:
    """Say once what a Road Map's name or abbreviation means (audited)."""
    async with caller.ctx.session_maker() as session:
        return await _set_alias(session, caller, alias, department_code)


async def _set_alias(
    session: AsyncSession, caller: Caller, alias: str, department_code: str
) -> AliasOutcome:
    """`alias` means the department with `department_code` from now on, for every import."""
    key = normalize_alias(alias)
    if not key or len(key) > MAX_ALIAS_LENGTH:
        return AliasOutcome(AliasResult.BAD_ALIAS, alias)
    department = await queries.department_by_code(session, department_code.strip())
    if department is None or department.id is None:
        return AliasOutcome(AliasResult.UNKNOWN_DEPARTMENT, alias)
    existing = await _find(session, key)
    previous = None
    if existing is None:
        session.add(
            DepartmentAlias(
                alias=key, department_id=department.id, created_at=caller.ctx.clock.now()
            )
        )
    else:
        previous = await session.get(Department, existing.department_id)
        existing.department_id = department.id
        session.add(existing)
    await queries.add_audit(
        session,
        at=caller.ctx.clock.now(),
        action="department.alias",
        actor=caller.actor,
        target=key,
        details=department.code,
    )
    await session.commit()
    if previous is not None and previous.id != department.id:
        return AliasOutcome(AliasResult.REPLACED, alias, department, previous)
    return AliasOutcome(AliasResult.SAVED, alias, department)


async def remove_alias(caller: Caller, alias: str) -> AliasOutcome:
    """Forget an alias (audited)."""
    async with caller.ctx.session_maker() as session:
        return await _remove_alias(session, caller, alias)


async def _remove_alias(session: AsyncSession, caller: Caller, alias: str) -> AliasOutcome:
    existing = await _find(session, normalize_alias(alias))
    if existing is None:
        return AliasOutcome(AliasResult.NOT_FOUND, alias)
    await session.delete(existing)
    await queries.add_audit(
        session,
        at=caller.ctx.clock.now(),
        action="department.alias_removed",
        actor=caller.actor,
        target=existing.alias,
    )
    await session.commit()
    return AliasOutcome(AliasResult.REMOVED, alias)


async def list_aliases(ctx: UseCaseContext) -> list[AliasEntry]:
    async with ctx.session_maker() as session:
        return await _list_aliases(session)


async def _list_aliases(session: AsyncSession) -> list[AliasEntry]:
    departments = {d.id: d for d in await queries.all_departments(session)}
    found = await session.exec(select(DepartmentAlias).order_by(col(DepartmentAlias.alias)))
    return [
        AliasEntry(alias.alias, departments[alias.department_id])
        for alias in found.all()
        if alias.department_id in departments
    ]

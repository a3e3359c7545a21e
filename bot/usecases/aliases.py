"""The secretariat's aliases of departments: what a Road Map calls a department («УО»).

State action plans name executors by abbreviations their own legend spells out; when a file
has no legend, or spells a name the directory does not know, the secretariat says once what
it means (`/alias УО education`) and every later import resolves it
(bot.spreadsheets.plan.DepartmentMatcher). Each use case commits its own change and audits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db import queries
from db.models import Department, DepartmentAlias, Person

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


async def set_alias(
    session: AsyncSession, *, actor: Person | None, alias: str, department_code: str, now: datetime
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
        session.add(DepartmentAlias(alias=key, department_id=department.id, created_at=now))
    else:
        previous = await session.get(Department, existing.department_id)
        existing.department_id = department.id
        session.add(existing)
    await queries.add_audit(
        session, at=now, action="department.alias", actor=actor, target=key, details=department.code
    )
    await session.commit()
    if previous is not None and previous.id != department.id:
        return AliasOutcome(AliasResult.REPLACED, alias, department, previous)
    return AliasOutcome(AliasResult.SAVED, alias, department)


async def remove_alias(
    session: AsyncSession, *, actor: Person | None, alias: str, now: datetime
) -> AliasOutcome:
    existing = await _find(session, normalize_alias(alias))
    if existing is None:
        return AliasOutcome(AliasResult.NOT_FOUND, alias)
    await session.delete(existing)
    await queries.add_audit(
        session, at=now, action="department.alias_removed", actor=actor, target=existing.alias
    )
    await session.commit()
    return AliasOutcome(AliasResult.REMOVED, alias)


async def list_aliases(session: AsyncSession) -> list[AliasEntry]:
    departments = {d.id: d for d in await queries.all_departments(session)}
    found = await session.exec(select(DepartmentAlias).order_by(col(DepartmentAlias.alias)))
    return [
        AliasEntry(alias.alias, departments[alias.department_id])
        for alias in found.all()
        if alias.department_id in departments
    ]

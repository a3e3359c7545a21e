"""The audit log as the secretariat reads it: filtered, newest first, and exported.

Every administrative change and refusal is already on record (db.models.AuditLog); this is
the reading side: one page of a filtered view, and the same view as a workbook the bot sends
into the reader's chat (the export is itself put on record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.core.text import quote
from bot.delivery.enqueue import enqueue_document
from bot.telegram.i18n import in_locale, ngettext
from bot.usecases.caller import Caller
from bot.usecases.ports import UseCaseContext
from db import queries
from db.models import AuditLog, Person
from db.queries import AuditQuery as AuditQuery

AUDIT_PAGE = 50
EXPORT_LIMIT = 50_000  # rows in one workbook: a year of a busy council is far below
EXPORTED = "export.audit_log"


@dataclass(frozen=True)
class AuditFilter:
    """What the reader asked for: by whom (Telegram id), the action, the item (its code or
    another target), and the council's days from and to (both included)."""

    who: int | None = None
    action: str | None = None
    item: str | None = None
    since: date | None = None
    until: date | None = None

    def query(self, ctx: UseCaseContext) -> AuditQuery:
        def start_of(day: date) -> datetime:
            return datetime.combine(day, time.min, tzinfo=ctx.tz)

        return AuditQuery(
            actor_telegram_id=self.who,
            action=self.action or None,
            target=self.item or None,
            since=start_of(self.since) if self.since else None,
            until=start_of(self.until + timedelta(days=1)) if self.until else None,
        )

    def described(self) -> str:
        """The filter in a line of the audit entry that records an export."""
        parts = [
            f"{name}={value}"
            for name, value in (
                ("who", self.who),
                ("action", self.action),
                ("item", self.item),
                ("since", self.since),
                ("until", self.until),
            )
            if value
        ]
        return " ".join(parts) or "all"


@dataclass(frozen=True)
class AuditPage:
    """One page of the filtered log, the number of matching entries, and the filter's choices
    (every action on record; every person, for "who")."""

    entries: list[tuple[AuditLog, Person | None]]
    total: int
    page: int
    pages: int
    actions: list[str]
    people: list[Person]


async def audit_log(ctx: UseCaseContext, wanted: AuditFilter, page: int = 1) -> AuditPage:
    async with ctx.session_maker() as session:
        page = max(page, 1)
        entries, total = await queries.audit_entries(
            session, wanted.query(ctx), offset=(page - 1) * AUDIT_PAGE, limit=AUDIT_PAGE
        )
        actions = await queries.audit_actions(session)
        people = list(await queries.all_people(session))
    pages = max(1, -(-total // AUDIT_PAGE))
    return AuditPage(entries, total, page, pages, actions, people)


@dataclass(frozen=True)
class AuditExported:
    """The workbook of `rows` entries is on its way to the reader's chat."""

    rows: int
    filename: str


async def export_audit_log(caller: Caller, wanted: AuditFilter) -> AuditExported:
    """The filtered view (newest first) as XLSX, sent into the caller's chat through the
    outbox; the export is audited with the filter it used."""
    from bot.spreadsheets.audit_export import build_audit_workbook

    ctx, actor = caller.ctx, caller.actor
    now = ctx.clock.now()
    async with ctx.session_maker() as session:
        entries, _total = await queries.audit_entries(
            session, wanted.query(ctx), limit=EXPORT_LIMIT
        )
        record = await queries.add_audit(
            session, at=now, action=EXPORTED, actor=actor, details=wanted.described()
        )
        filename = f"audit-log-{now.astimezone(ctx.tz).date().isoformat()}.xlsx"
        with in_locale(ctx.i18n, actor.locale):
            data = build_audit_workbook(entries, ctx.tz)
            caption = ngettext(
                "Audit log: {count} entry ({filter})",
                "Audit log: {count} entries ({filter})",
                len(entries),
            ).format(count=len(entries), filter=quote(wanted.described()))
        await enqueue_document(
            session,
            key=f"audit-export:{record.id}",
            kind="export",
            person=actor,
            data=data,
            filename=filename,
            caption=caption,
            now=now,
        )
        await session.commit()
    ctx.signals.wake_outbox()
    return AuditExported(len(entries), filename)

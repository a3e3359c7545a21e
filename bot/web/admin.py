"""The secretariat's part of the dashboard's API: each screen reads one use case, each action
calls the same use case as the chat's command (and so writes the same audit entry).

Every route is the secretariat's: anybody else (the chair, a department's member) gets a 403
on record, as the middleware already answered 401 to initData Telegram did not sign.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from aiohttp import web

from bot.core.errors import UnknownItemError
from bot.core.parsing import MAX_SHORT_TITLE_LENGTH, ShortTitle, parse_date
from bot.risk.digest import Category
from bot.risk.rules import RiskReason
from bot.usecases import aliases, audit, exports, overview, people, roadmap
from bot.usecases.caller import Caller, Refused
from bot.usecases.dashboard import may_dismiss_risks
from bot.usecases.departments import ShortTitleSet, set_short_title
from bot.usecases.items import ItemCardShown, item_card
from bot.usecases.overview import PAST, TableFilter, TableSort
from bot.web import admin_pages
from bot.web.common import (
    BOT_USERNAME,
    CONTEXT,
    PERSON,
    POLICY,
    answer_json,
    path_int,
    refuse_role,
    screen_json,
)
from bot.web.pages import not_found_screen

Handler = Callable[[web.Request], Awaitable[web.Response]]
MAX_FIELD = 500


def secretariat_only(handler: Handler) -> Handler:
    """The route answers the secretariat; a 403 on record for everybody else."""

    async def guarded(request: web.Request) -> web.Response:
        if not may_dismiss_risks(request[PERSON]):
            return await refuse_role(request)
        return await handler(request)

    guarded.__doc__ = handler.__doc__
    return guarded


def _caller(request: web.Request) -> Caller:
    return Caller(request.app[CONTEXT], request.app[POLICY], request[PERSON])


async def _form(request: web.Request) -> dict[str, Any] | None:
    """The posted JSON object, or None for anything else (the answer is then a 400)."""
    try:
        form = await request.json()
    except ValueError:
        return None
    return form if isinstance(form, dict) else None


def _text(form: dict[str, Any], name: str, limit: int = MAX_FIELD) -> str | None:
    value = form.get(name)
    if not isinstance(value, str) or len(value) > limit:
        return None
    return value.strip()


def _bad_form() -> web.Response:
    return answer_json({"text": admin_pages.bad_form_text()}, 400)


def _refused(outcome: Refused) -> web.Response:
    return answer_json({"text": admin_pages.refusal_text(outcome.error)}, 409)


def _query_int(request: web.Request, name: str) -> int | None:
    value = request.query.get(name, "")
    if value.lstrip("-").isascii() and value.lstrip("-").isdigit() and len(value) < 10:
        return int(value)
    return None


def _page(request: web.Request) -> int:
    return max(_query_int(request, "page") or 1, 1)


def _category(value: str) -> Category | None:
    return Category(value) if value in Category.__members__.values() else None


def _reason(value: str) -> RiskReason | None:
    return RiskReason(value) if value in RiskReason.__members__.values() else None


def _sort(value: str) -> TableSort:
    return TableSort(value) if value in TableSort.__members__.values() else TableSort.CODE


def table_filter(request: web.Request) -> TableFilter:
    """The table's query; a value that does not parse is left out, never an error."""
    window = _query_int(request, "window")
    return TableFilter(
        department_id=_query_int(request, "department"),
        category=_category(request.query.get("status", "")),
        reason=_reason(request.query.get("risk", "")),
        window=window if window in (*admin_pages.WINDOWS, PAST) else None,
        sort=_sort(request.query.get("sort", "")),
    )


def _day(value: str) -> date | None:
    return parse_date(value) if value else None


def audit_filter(request: web.Request) -> audit.AuditFilter:
    query = request.query
    return audit.AuditFilter(
        who=_query_int(request, "who"),
        action=query.get("action", "")[:64] or None,
        item=query.get("item", "").strip()[:200] or None,
        since=_day(query.get("since", "")),
        until=_day(query.get("until", "")),
    )


@secretariat_only
async def roadmap_api(request: web.Request) -> web.Response:
    wanted = table_filter(request)
    table = await overview.roadmap_table(request.app[CONTEXT], wanted, _page(request))
    return screen_json(admin_pages.roadmap_screen(table, wanted))


@secretariat_only
async def edit_api(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    item_id = path_int(request, "item_id")
    shown = (
        None
        if item_id is None
        else await item_card(ctx, request[PERSON], item_id, history=0, assess=False)
    )
    if not isinstance(shown, ItemCardShown):
        return screen_json(not_found_screen(), 404)
    return screen_json(admin_pages.edit_screen(shown, await roadmap.departments(ctx)))


@secretariat_only
async def deadline_api(request: web.Request) -> web.Response:
    """/deadline: {"code", "deadline" (YYYY-MM-DD), "reason"}."""
    form = await _form(request) or {}
    code, reason = _text(form, "code", 64), _text(form, "reason")
    deadline = parse_date(_text(form, "deadline", 10) or "")
    if not code or deadline is None or not reason:
        return _bad_form()
    moved = await roadmap.move_deadline(_caller(request), code, deadline, reason=reason)
    if isinstance(moved, Refused):
        return _refused(moved)
    text = admin_pages.deadline_moved_text(
        moved.item.code, moved.change.old_deadline, moved.change.new_deadline
    )
    return answer_json({"text": text})


@secretariat_only
async def assign_api(request: web.Request) -> web.Response:
    """/assign: {"code", "department" (its code)}."""
    form = await _form(request) or {}
    code, department = _text(form, "code", 64), _text(form, "department", 64)
    if not code or not department:
        return _bad_form()
    owned = await roadmap.assign_item(_caller(request), code, department)
    if isinstance(owned, Refused):
        return _refused(owned)
    return answer_json({"text": admin_pages.assigned_text(owned.item.code, owned.department)})


@secretariat_only
async def co_executors_api(request: web.Request) -> web.Response:
    """{"code", "departments": [codes]}: the item's co-executors, replaced as a whole."""
    form = await _form(request) or {}
    code, chosen = _text(form, "code", 64), form.get("departments", [])
    if isinstance(chosen, str):
        chosen = [chosen]
    if not code or not isinstance(chosen, list) or len(chosen) > 100:
        return _bad_form()
    if not all(isinstance(value, str) and len(value) <= 64 for value in chosen):
        return _bad_form()
    done = await roadmap.set_co_executors(_caller(request), code, chosen)
    if isinstance(done, Refused):
        return _refused(done)
    return answer_json({"text": admin_pages.co_executors_text(done.item.code, done.departments)})


@secretariat_only
async def short_title_api(request: web.Request) -> web.Response:
    """/short: {"code", "kk", "ru"} (one of them: both languages; neither: the rule's again)."""
    form = await _form(request) or {}
    code = _text(form, "code", 64)
    kk = " ".join((_text(form, "kk", 200) or "").split())
    ru = " ".join((_text(form, "ru", 200) or "").split())
    if not code or max(len(kk), len(ru)) > MAX_SHORT_TITLE_LENGTH:
        return _bad_form()
    typed = ShortTitle(code, kk or ru or None, ru or kk or None)
    done = await set_short_title(request.app[CONTEXT], request[PERSON], typed)
    if not isinstance(done, ShortTitleSet):
        return answer_json({"text": admin_pages.refusal_text(UnknownItemError(code))}, 409)
    return answer_json({"text": admin_pages.short_title_text(done.item)})


@secretariat_only
async def aliases_api(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    entries = await aliases.list_aliases(ctx)
    return screen_json(admin_pages.aliases_screen(entries, await roadmap.departments(ctx)))


@secretariat_only
async def set_alias_api(request: web.Request) -> web.Response:
    """/alias: {"alias", "department" (its code)}."""
    form = await _form(request) or {}
    alias, department = _text(form, "alias", 200), _text(form, "department", 64)
    if alias is None or department is None:
        return _bad_form()
    outcome = await aliases.set_alias(_caller(request), alias, department)
    saved = outcome.result in (aliases.AliasResult.SAVED, aliases.AliasResult.REPLACED)
    body: dict[str, Any] = {"text": admin_pages.alias_text(outcome)}
    if saved:
        body["reload"] = True
    return answer_json(body, 200 if saved else 409)


@secretariat_only
async def remove_alias_api(request: web.Request) -> web.Response:
    form = await _form(request) or {}
    alias = _text(form, "alias", 200)
    if not alias:
        return _bad_form()
    outcome = await aliases.remove_alias(_caller(request), alias)
    removed = outcome.result == aliases.AliasResult.REMOVED
    body: dict[str, Any] = {"text": admin_pages.alias_text(outcome), "reload": removed}
    return answer_json(body, 200 if removed else 409)


@secretariat_only
async def people_api(request: web.Request) -> web.Response:
    found = await people.people(request.app[CONTEXT])
    return screen_json(admin_pages.people_screen(found, request[PERSON]))


@secretariat_only
async def invite_api(request: web.Request) -> web.Response:
    """/invite: {"target": "chair", "secretariat" or a department's code}."""
    form = await _form(request) or {}
    target = _text(form, "target", 64)
    if not target:
        return _bad_form()
    invited = await people.invite(_caller(request), target)
    if isinstance(invited, Refused):
        return _refused(invited)
    link = f"https://t.me/{request.app[BOT_USERNAME]}?start={invited.token}"
    text = admin_pages.invited_text(link, invited, request.app[CONTEXT].tz)
    return answer_json({"text": text, "link": link})


@secretariat_only
async def revoke_screen_api(request: web.Request) -> web.Response:
    telegram_id = path_int(request, "telegram_id")
    found = await people.people(request.app[CONTEXT])
    person = next((row for row in found.people if row.telegram_id == telegram_id), None)
    if person is None or not person.active:
        return screen_json(not_found_screen(), 404)
    return screen_json(admin_pages.revoke_screen(person))


@secretariat_only
async def revoke_api(request: web.Request) -> web.Response:
    """/revoke, confirmed on its own screen first: {"telegram_id"}."""
    form = await _form(request) or {}
    value = str(form.get("telegram_id", ""))
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        return _bad_form()
    revoked = await people.revoke(_caller(request), int(value))
    if isinstance(revoked, Refused):
        return _refused(revoked)
    return answer_json({"text": admin_pages.revoked_text(revoked), "next": "/app/people"})


@secretariat_only
async def audit_api(request: web.Request) -> web.Response:
    ctx, wanted = request.app[CONTEXT], audit_filter(request)
    found = await audit.audit_log(ctx, wanted, _page(request))
    return screen_json(admin_pages.audit_screen(found, wanted, ctx.tz))


@secretariat_only
async def audit_export_api(request: web.Request) -> web.Response:
    """The filtered view (the query string, as on the screen) into the chat as XLSX."""
    exported = await audit.export_audit_log(_caller(request), audit_filter(request))
    return answer_json({"text": admin_pages.audit_exported_text(exported.rows)})


@secretariat_only
async def exports_api(_request: web.Request) -> web.Response:
    return screen_json(admin_pages.exports_screen())


@secretariat_only
async def export_api(request: web.Request) -> web.Response:
    """{"kind": "roadmap" or "risk_report"}: the file into the chat."""
    form = await _form(request) or {}
    try:
        kind = exports.ExportKind(str(form.get("kind", "")))
    except ValueError:
        return _bad_form()
    await exports.send_export(_caller(request), kind)
    return answer_json({"text": admin_pages.export_sent_text()})


SCREENS = {
    "/app/api/roadmap": roadmap_api,
    "/app/api/edit/{item_id}": edit_api,
    "/app/api/aliases": aliases_api,
    "/app/api/people": people_api,
    "/app/api/revoke/{telegram_id}": revoke_screen_api,
    "/app/api/audit": audit_api,
    "/app/api/exports": exports_api,
}
ACTIONS = {
    "/app/api/deadline": deadline_api,
    "/app/api/assign": assign_api,
    "/app/api/co-executors": co_executors_api,
    "/app/api/short-title": short_title_api,
    "/app/api/aliases": set_alias_api,
    "/app/api/aliases/remove": remove_alias_api,
    "/app/api/invite": invite_api,
    "/app/api/revoke": revoke_api,
    "/app/api/audit/export": audit_export_api,
    "/app/api/export": export_api,
}
PAGES = (
    "roadmap",
    "edit/{item_id}",
    "aliases",
    "people",
    "revoke/{telegram_id}",
    "audit",
    "exports",
)


def add_routes(app: web.Application, shell: Handler) -> None:
    """The secretariat's API routes, and its screens' addresses (the shell page)."""
    for path, screen in SCREENS.items():
        app.router.add_get(path, screen)
    for path, action in ACTIONS.items():
        app.router.add_post(path, action)
    for page in PAGES:
        app.router.add_get(f"/app/{page}", shell)

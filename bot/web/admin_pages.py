"""The secretariat's screens as HTML fragments: the roadmap table, an item's edit screen,
aliases, people and invitations, the audit log and the exports.

Forms carry `data-post` (an action: the script sends the fields as JSON with initData) or
`data-filter` (the screen read again with the fields as its query); `data-main` marks the one
form whose button is Telegram's MainButton on that screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, tzinfo
from urllib.parse import urlencode

from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime

from bot.core.errors import (
    DomainError,
    ProtectedPersonError,
    UnchangedError,
    UnknownDepartmentError,
    UnknownItemError,
    UnknownPersonError,
)
from bot.core.parsing import MAX_SHORT_TITLE_LENGTH
from bot.core.text import quote
from bot.risk.digest import Category, short_title
from bot.risk.labels import reason_label
from bot.risk.rules import ItemRisk, RiskReason
from bot.telegram.i18n import current_locale, format_day, ngettext, pick_name
from bot.telegram.texts import (
    days_left_text,
    department_name,
    department_short_name,
    role_label,
    status_label,
)
from bot.usecases.aliases import AliasEntry, AliasOutcome, AliasResult
from bot.usecases.audit import AuditFilter, AuditPage
from bot.usecases.items import ItemCardShown
from bot.usecases.overview import PAST, RoadmapTable, TableFilter, TableSort
from bot.usecases.people import Invited, People
from bot.web.pages import HOME, Screen, item_link
from db.models import Department, Person, RoadmapItem

WINDOWS = (30, 90, 180)


def _options(choices: Iterable[tuple[str, str]], chosen: str) -> str:
    return "".join(
        f'<option value="{quote(value)}"{" selected" if value == chosen else ""}>'
        f"{quote(label)}</option>"
        for value, label in choices
    )


def _select(name: str, label: str, choices: Iterable[tuple[str, str]], chosen: str) -> str:
    return (
        f'<label class="field">{quote(label)}<select name="{name}">'
        f"{_options(choices, chosen)}</select></label>"
    )


def _departments(departments: Sequence[Department]) -> list[tuple[str, str]]:
    return sorted(
        ((department.code, department_short_name(department)) for department in departments),
        key=lambda choice: choice[1],
    )


def category_label(value: Category) -> str:
    labels = {
        Category.DONE: _("done"),
        Category.ON_TRACK: _("on track"),
        Category.AT_RISK: _("at risk"),
        Category.OVERDUE: _("overdue"),
        Category.NOT_REPORTED: _("not reported yet"),
    }
    return labels[value]


def nav_html() -> str:
    """The secretariat's own screens, under the totals."""
    links = [
        ("roadmap", _("Road Map table")),
        ("audit", _("Audit log")),
        ("people", _("People and invitations")),
        ("aliases", _("Department aliases")),
        ("exports", _("Exports to the chat")),
    ]
    items = "".join(
        f'<li><a class="row is-calm" href="{HOME}{path}" data-nav>'
        f'<span class="name">{quote(label)}</span></a></li>'
        for path, label in links
    )
    heading = quote(_("The secretariat's screens"))
    return f'<h2>{heading}</h2><ul class="rows nav">{items}</ul>'


def _pager(path: str, query: dict[str, str], page: int, pages: int) -> str:
    if pages <= 1:
        return ""
    links = []
    if page > 1:
        target = urlencode({**query, "page": str(page - 1)})
        links.append(f'<a href="{path}?{target}" data-nav>← ' + quote(_("Previous")) + "</a>")
    links.append(
        "<span>" + quote(_("Page {page} of {pages}").format(page=page, pages=pages)) + "</span>"
    )
    if page < pages:
        target = urlencode({**query, "page": str(page + 1)})
        links.append(f'<a href="{path}?{target}" data-nav>' + quote(_("Next")) + " →</a>")
    return f'<nav class="pager">{"".join(links)}</nav>'


def _status(risk: ItemRisk) -> str:
    if risk.latest_status is None:
        return _("no reports yet")
    return f"{status_label(risk.latest_status)}, {risk.latest_progress or 0}%"


def table_query(wanted: TableFilter) -> dict[str, str]:
    """The filter as the screen's query string (what a page link keeps)."""
    query = {
        "department": "" if wanted.department_id is None else str(wanted.department_id),
        "status": wanted.category.value if wanted.category else "",
        "risk": wanted.reason.value if wanted.reason else "",
        "window": "" if wanted.window is None else str(wanted.window),
        "sort": wanted.sort.value,
    }
    return {key: value for key, value in query.items() if value}


def _table_filters(table: RoadmapTable, wanted: TableFilter) -> str:
    every = [("", _("all"))]
    departments = sorted(
        (
            (str(department.id), department_short_name(department))
            for department in table.departments
        ),
        key=lambda choice: choice[1],
    )
    windows = [(str(days), _("within {days} days").format(days=days)) for days in WINDOWS]
    windows.append((str(PAST), _("already passed")))
    sorts = [
        (TableSort.CODE.value, _("by code")),
        (TableSort.DEADLINE.value, _("by deadline")),
        (TableSort.RISK.value, _("most reasons first")),
        (TableSort.PROGRESS.value, _("least progress first")),
    ]
    fields = [
        _select(
            "department",
            _("Department"),
            every + departments,
            "" if wanted.department_id is None else str(wanted.department_id),
        ),
        _select(
            "status",
            _("Status"),
            every + [(value.value, category_label(value)) for value in Category],
            wanted.category.value if wanted.category else "",
        ),
        _select(
            "risk",
            _("Risk reason"),
            every + [(reason.value, reason_label(reason)) for reason in RiskReason],
            wanted.reason.value if wanted.reason else "",
        ),
        _select(
            "window",
            _("Deadline"),
            every + windows,
            "" if wanted.window is None else str(wanted.window),
        ),
        _select("sort", _("Order"), sorts, wanted.sort.value),
    ]
    button = quote(_("Show"))
    return (
        f'<form class="filters" data-filter>{"".join(fields)}'
        f'<button class="action" type="submit">{button}</button></form>'
    )


def roadmap_screen(table: RoadmapTable, wanted: TableFilter) -> Screen:
    title = _("Road Map table")
    names = {department.id: department_short_name(department) for department in table.departments}
    rows = []
    for risk in table.rows:
        deadline = f"{format_day(risk.deadline)} ({days_left_text(risk.deadline, table.today)})"
        reasons = ", ".join(reason_label(reason) for reason in risk.reasons) or "—"
        tone = "is-risk" if risk.reasons else "is-calm"
        rows.append(
            f'<tr class="{tone}"><td><a href="{item_link(risk.item_id)}" data-nav>'
            f"<b>{quote(risk.code)}</b></a> {quote(short_title(risk))}"
            f'<div class="muted">{quote(names.get(risk.department_id, "—"))}</div></td>'
            f"<td>{quote(deadline)}</td><td>{quote(_status(risk))}</td>"
            f"<td>{quote(reasons)}</td></tr>"
        )
    found = ngettext("{count} item found", "{count} items found", table.total).format(
        count=table.total
    )
    head = "".join(
        f"<th>{quote(label)}</th>"
        for label in (_("Item"), _("Deadline"), _("Status"), _("Risk reasons"))
    )
    body = (
        f'<div class="table-wrap"><table class="roadmap"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        if rows
        else '<p class="notice">' + quote(_("No items match these filters.")) + "</p>"
    )
    pager = _pager(f"{HOME}roadmap", table_query(wanted), table.page, table.pages)
    html = (
        f"<h1>{quote(title)}</h1>{_table_filters(table, wanted)}"
        f'<p class="muted" role="status">{quote(found)}</p>{body}{pager}'
    )
    return Screen(title, html)


def edit_link(item_id: int) -> str:
    return f"{HOME}edit/{item_id}"


def edit_screen(shown: ItemCardShown, departments: Sequence[Department]) -> Screen:
    """One item's deadline (with the reason: the MainButton's action), its department and
    its co-executors, each through the chat's use case."""
    item, card = shown.card.item, shown.card
    title = _("Edit item {code}").format(code=item.code)
    code = quote(item.code)
    deadline_button = quote(_("Move the deadline"))
    deadline_form = (
        f'<form class="edit" data-post="/app/api/deadline" data-main="{deadline_button}">'
        f"<h2>" + quote(_("Deadline")) + f'</h2><input type="hidden" name="code" value="{code}">'
        f'<p class="muted">'
        + quote(_("Now: {date}").format(date=format_day(item.deadline)))
        + "</p>"
        '<label class="field">'
        + quote(_("New deadline"))
        + f'<input type="date" name="deadline" value="{item.deadline.isoformat()}" required>'
        f'</label><label class="field">'
        + quote(_("Reason (the department is told)"))
        + '<textarea name="reason" maxlength="500" rows="2" required></textarea></label>'
        f'<button class="action form-submit" type="submit">{deadline_button}</button>'
        '<p class="status" role="status"></p></form>'
    )
    lead = card.department.code if card.department else ""
    choices = _departments(departments)
    assign_button = quote(_("Give to this department"))
    assign_form = (
        '<form class="edit" data-post="/app/api/assign"><h2>' + quote(_("Department")) + f"</h2>"
        f'<input type="hidden" name="code" value="{code}">'
        + _select("department", _("Responsible department"), choices, lead)
        + f'<button class="action" type="submit">{assign_button}</button>'
        '<p class="status" role="status"></p></form>'
    )
    sharing = {department.code for department in card.co_executors}
    boxes = "".join(
        f'<label class="choice"><input type="checkbox" name="departments" '
        f'value="{quote(value)}"{" checked" if value in sharing else ""}> {quote(label)}</label>'
        for value, label in choices
        if value != lead
    )
    co_button = quote(_("Save the co-executors"))
    co_form = (
        '<form class="edit" data-post="/app/api/co-executors">'
        "<h2>" + quote(_("Co-executors")) + f'</h2><input type="hidden" name="code" value="{code}">'
        f'<div class="choices">{boxes}</div>'
        f'<button class="action" type="submit">{co_button}</button>'
        '<p class="status" role="status"></p></form>'
    )
    short_button = quote(_("Save the short title"))
    explain = quote(_("What the item's buttons show; leave both empty for the automatic one."))
    short_form = (
        '<form class="edit" data-post="/app/api/short-title"><h2>'
        + quote(_("Short title"))
        + f'</h2><input type="hidden" name="code" value="{code}">'
        f'<p class="muted">{explain}</p>'
        + _text_field("kk", _("In Kazakh"), item.short_title_kk or "")
        + _text_field("ru", _("In Russian"), item.short_title_ru or "")
        + f'<button class="action" type="submit">{short_button}</button>'
        '<p class="status" role="status"></p></form>'
    )
    heading = f"<h1>{quote(title)}</h1><p>{quote(short_title_of(shown))}</p>"
    return Screen(title, heading + deadline_form + assign_form + co_form + short_form)


def _text_field(name: str, label: str, value: str) -> str:
    return (
        f'<label class="field">{quote(label)}<input type="text" name="{name}" '
        f'maxlength="{MAX_SHORT_TITLE_LENGTH}" value="{quote(value)}"></label>'
    )


def short_title_text(item: RoadmapItem) -> str:
    if item.short_title_kk is None and item.short_title_ru is None:
        return _("Item {code}: its buttons show the automatic short title again.").format(
            code=item.code
        )
    return _("Short title of item {code}: {kk} / {ru}").format(
        code=item.code, kk=item.short_title_kk or "—", ru=item.short_title_ru or "—"
    )


def short_title_of(shown: ItemCardShown) -> str:
    item = shown.card.item
    return pick_name(item.title_kk, item.title_ru)


def refusal_text(error: DomainError) -> str:
    """Why a change was refused, in the chat's words."""
    if isinstance(error, UnknownDepartmentError):
        return _("There is no department with the code {code}.").format(code=error.code)
    if isinstance(error, UnknownItemError):
        return _("There is no Road Map item with the code {code}.").format(code=error.code)
    if isinstance(error, UnchangedError):
        return _("Nothing to change: it is already so.")
    if isinstance(error, UnknownPersonError):
        return _("Nobody with this Telegram ID is registered.")
    if isinstance(error, ProtectedPersonError):
        return _("This access cannot be revoked: it is your own or it is set in ADMIN_IDS.")
    return _("The change was refused.")


def deadline_moved_text(code: str, old: date, new: date) -> str:
    return _("Deadline of item {code} changed: {old} → {new}").format(
        code=code, old=format_day(old), new=format_day(new)
    )


def assigned_text(code: str, department: Department) -> str:
    return _("Item {code} now belongs to: {department}").format(
        code=code, department=department_name(department)
    )


def co_executors_text(code: str, departments: Sequence[Department]) -> str:
    names = ", ".join(department_short_name(department) for department in departments)
    return _("Co-executors of item {code}: {names}").format(code=code, names=names or "—")


def aliases_screen(entries: Sequence[AliasEntry], departments: Sequence[Department]) -> Screen:
    title = _("Department aliases")
    explain = _(
        "What a Road Map file calls a department (an abbreviation such as «УО»): every "
        "later import reads it as the department chosen here."
    )
    rows = "".join(
        f'<li class="line"><span><b>{quote(entry.alias)}</b> → '
        f"{quote(department_short_name(entry.department))}</span>"
        f'<form data-post="/app/api/aliases/remove"><input type="hidden" name="alias" '
        f'value="{quote(entry.alias)}"><button class="small" type="submit">'
        + quote(_("Remove"))
        + "</button></form></li>"
        for entry in entries
    )
    listing = (
        f'<ul class="lines">{rows}</ul>'
        if rows
        else '<p class="muted">' + quote(_("No aliases yet.")) + "</p>"
    )
    button = quote(_("Save the alias"))
    form = (
        f'<form class="edit" data-post="/app/api/aliases" data-main="{button}">'
        f"<h2>" + quote(_("New alias")) + "</h2>"
        '<label class="field">' + quote(_("Name or abbreviation in the file")) + ""
        '<input type="text" name="alias" maxlength="64" required></label>'
        ""
        + _select("department", _("Department"), _departments(departments), "")
        + f'<button class="action form-submit" type="submit">{button}</button>'
        '<p class="status" role="status"></p></form>'
    )
    return Screen(
        title, f'<h1>{quote(title)}</h1><p class="muted">{quote(explain)}</p>{form}{listing}'
    )


def alias_text(outcome: AliasOutcome) -> str:
    if outcome.result == AliasResult.BAD_ALIAS:
        return _("An alias is one to 64 characters.")
    if outcome.result == AliasResult.UNKNOWN_DEPARTMENT:
        return _("Choose a department.")
    if outcome.result == AliasResult.NOT_FOUND:
        return _("There is no such alias.")
    if outcome.result == AliasResult.REMOVED:
        return _("Alias «{alias}» removed.").format(alias=outcome.alias)
    return _("«{alias}» now means: {department}").format(
        alias=outcome.alias, department=department_name(outcome.department)
    )


def people_screen(found: People, viewer: Person) -> Screen:
    title = _("People and invitations")
    rows = []
    for person in sorted(found.people, key=lambda row: (not row.active, row.display_name)):
        department = found.departments.get(person.department_id or 0)
        what = role_label(person.role)
        if department is not None:
            what += f", {department_short_name(department)}"
        if not person.active:
            what += " · " + _("no access") + ""
        revoke = ""
        if person.active and person.id != viewer.id:
            revoke = (
                f'<a class="small" href="{HOME}revoke/{person.telegram_id}" data-nav>'
                + quote(_("Revoke"))
                + "</a>"
            )
        rows.append(
            f'<li class="line"><span><b>{quote(person.display_name)}</b>'
            f'<span class="muted"> {quote(what)} · {person.telegram_id}</span></span>'
            f"{revoke}</li>"
        )
    targets = [("chair", _("the chair")), ("secretariat", _("the secretariat"))]
    targets += [
        (department.code, department_short_name(department))
        for department in sorted(found.departments.values(), key=department_short_name)
    ]
    button = quote(_("Create an invitation"))
    form = (
        f'<form class="edit" data-post="/app/api/invite" data-main="{button}">'
        f"<h2>" + quote(_("Invite")) + "</h2>"
        ""
        + _select("target", _("Who is invited"), targets, "chair")
        + f'<button class="action form-submit" type="submit">{button}</button>'
        '<p class="status" role="status"></p></form>'
    )
    listing = "<h2>" + quote(_("People")) + f'</h2><ul class="lines">{"".join(rows)}</ul>'
    return Screen(title, f"<h1>{quote(title)}</h1>{form}{listing}")


def invited_text(link: str, invited: Invited, tz: tzinfo) -> str:
    who = role_label(invited.role)
    if invited.department is not None:
        who += f" — {department_name(invited.department)}"
    expires = invited.expires_at.astimezone(tz).date()
    return _(
        "One-time invitation link for: {who}\n{link}\n\n"
        "It works once and expires on {date}. Send it to the person personally."
    ).format(who=who, link=link, date=format_day(expires))


def revoke_screen(person: Person) -> Screen:
    """The confirmation before access is taken away: nothing happens without it."""
    title = _("Revoke access")
    question = _("Take access away from {name} ({role})? They can no longer use the bot.").format(
        name=person.display_name, role=role_label(person.role)
    )
    button = quote(_("Revoke access"))
    form = (
        f'<form class="edit" data-post="/app/api/revoke" data-main="{button}">'
        f'<input type="hidden" name="telegram_id" value="{person.telegram_id}">'
        f"<p>{quote(question)}</p>"
        f'<button class="action danger form-submit" type="submit">{button}</button>'
        f'<a class="cancel" href="{HOME}people" data-nav>' + quote(_("Cancel")) + "</a>"
        '<p class="status" role="status"></p></form>'
    )
    return Screen(title, f"<h1>{quote(title)}</h1>{form}")


def revoked_text(person: Person) -> str:
    return _("Access revoked: {name}.").format(name=person.display_name)


def action_labels() -> dict[str, str]:
    """The audit log's actions in words; an action not named here is shown as recorded."""
    return {
        "item.deadline": _("deadline moved"),
        "item.assign": _("item given to another department"),
        "item.co_executors": _("co-executors changed"),
        "item.add": _("item added"),
        "item.edit": _("item edited"),
        "item.short_title": _("item's short title changed"),
        "department.add": _("department added"),
        "department.alias": _("alias saved"),
        "department.alias_removed": _("alias removed"),
        "department.short_name": _("short name changed"),
        "person.revoke": _("access revoked"),
        "person.away": _("time away set"),
        "person.back": _("back at work"),
        "person.admin_from_config": _("administrator from the settings"),
        "invite.issue": _("invitation created"),
        "invite.redeem": _("invitation used"),
        "risk.dismiss": _("risk reason dismissed"),
        "round.start": _("requests sent"),
        "round.item_request": _("update requested"),
        "round.item_question": _("question asked"),
        "schedule.rounds": _("request schedule changed"),
        "calendar.day_off": _("calendar changed"),
        "import.apply": _("Road Map imported"),
        "export.audit_log": _("audit log exported"),
        "export.roadmap": _("Road Map exported"),
        "export.risk_report": _("risk report exported"),
    }


def action_label(action: str, labels: dict[str, str]) -> str:
    if action in labels:
        return labels[action]
    if action.startswith("refused."):
        return _("refused: {what}").format(what=action.removeprefix("refused."))
    if action.startswith("invite."):
        return _("invitation refused")
    return action


def audit_query(wanted: AuditFilter) -> dict[str, str]:
    query = {
        "who": "" if wanted.who is None else str(wanted.who),
        "action": wanted.action or "",
        "item": wanted.item or "",
        "since": wanted.since.isoformat() if wanted.since else "",
        "until": wanted.until.isoformat() if wanted.until else "",
    }
    return {key: value for key, value in query.items() if value}


def audit_screen(found: AuditPage, wanted: AuditFilter, tz: tzinfo) -> Screen:
    title = _("Audit log")
    every = [("", _("all"))]
    labels = action_labels()
    actions = sorted(
        ((action, action_label(action, labels)) for action in found.actions),
        key=lambda choice: choice[1],
    )
    people = sorted(
        ((str(person.telegram_id), person.display_name) for person in found.people),
        key=lambda choice: choice[1],
    )
    filters = (
        '<form class="filters" data-filter>'
        + _select("who", _("Who"), every + people, "" if wanted.who is None else str(wanted.who))
        + _select("action", _("Action"), every + actions, wanted.action or "")
        + '<label class="field">'
        + quote(_("Item or target"))
        + f'<input type="text" name="item" '
        f'maxlength="200" value="{quote(wanted.item or "")}"></label>'
        + '<label class="field">'
        + quote(_("From"))
        + f'<input type="date" name="since" '
        f'value="{wanted.since.isoformat() if wanted.since else ""}"></label>'
        + '<label class="field">'
        + quote(_("To"))
        + f'<input type="date" name="until" '
        f'value="{wanted.until.isoformat() if wanted.until else ""}"></label>'
        + '<button class="action" type="submit">'
        + quote(_("Show"))
        + "</button></form>"
    )
    query = audit_query(wanted)
    export_button = quote(_("Send this view to the chat as XLSX"))
    export = (
        f'<form data-post="/app/api/audit/export?{quote(urlencode(query))}" '
        f'data-main="{export_button}"><button class="action form-submit" type="submit">'
        f'{export_button}</button><p class="status" role="status"></p></form>'
    )
    rows = []
    for entry, person in found.entries:
        when = format_datetime(
            entry.created_at.astimezone(tz), "d MMM y, HH:mm", locale=current_locale()
        )
        who = person.display_name if person else str(entry.actor_telegram_id or "—")
        what = " · ".join(
            part for part in (action_label(entry.action, labels), entry.target or "") if part
        )
        details = f'<div class="muted">{quote(entry.details)}</div>' if entry.details else ""
        rows.append(
            f'<li><div class="when">{quote(when)} — {quote(who)}</div>'
            f'<div class="what">{quote(what)}</div>{details}</li>'
        )
    count = ngettext("{count} entry", "{count} entries", found.total).format(count=found.total)
    listing = (
        f'<ul class="history">{"".join(rows)}</ul>'
        if rows
        else '<p class="notice">' + quote(_("No entries match these filters.")) + "</p>"
    )
    pager = _pager(f"{HOME}audit", query, found.page, found.pages)
    html = (
        f'<h1>{quote(title)}</h1>{filters}<p class="muted" role="status">{quote(count)}</p>'
        f"{export}{listing}{pager}"
    )
    return Screen(title, html)


def audit_exported_text(rows: int) -> str:
    return ngettext(
        "The workbook ({count} entry) is on its way to your chat with the bot.",
        "The workbook ({count} entries) is on its way to your chat with the bot.",
        rows,
    ).format(count=rows)


def exports_screen() -> Screen:
    title = _("Exports to the chat")
    explain = _("The bot sends the file into your chat with it: open it there.")
    buttons = "".join(
        f'<form data-post="/app/api/export"><input type="hidden" name="kind" value="{kind}">'
        f'<button class="action" type="submit">{quote(label)}</button>'
        '<p class="status" role="status"></p></form>'
        for kind, label in (
            ("roadmap", _("The Road Map (XLSX)")),
            ("risk_report", _("The risk report (DOCX)")),
        )
    )
    return Screen(title, f'<h1>{quote(title)}</h1><p class="muted">{quote(explain)}</p>{buttons}')


def export_sent_text() -> str:
    return _("The file is on its way to your chat with the bot.")


def bad_form_text() -> str:
    return _("The form is incomplete or wrong: check it and send it again.")

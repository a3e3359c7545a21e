"""The dashboard's screens as HTML fragments, rendered on the server in the reader's language.

Each builder takes a use case's outcome and returns a `Screen`; every piece of data is escaped
(`quote`), every word comes from the gettext catalogs the chat uses. The shell page
(`shell_page`) only loads the vendored telegram-web-app.js and the dashboard's script, which
fetches the screens with the person's initData.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from aiogram.utils.i18n import gettext as _
from babel.dates import format_time

from bot.core.text import quote
from bot.risk import forecast_views
from bot.risk.digest import CHART_WEEKS, Category, DigestData, short_title, week_line
from bot.risk.labels import reason_label, reasons_explained, short_reasons
from bot.risk.rules import DISMISSIBLE_REASONS, ItemRisk
from bot.telegram.i18n import current_locale, format_day, ngettext, pick_name
from bot.telegram.texts import (
    days_left_text,
    department_name,
    evidence_label,
    hidden_item_text,
    status_label,
)
from bot.usecases.items import ItemCardShown
from db.ids import row_id
from db.models import Department, Person, StatusUpdate

HOME = "/app/"


@dataclass(frozen=True)
class Screen:
    """One screen: its title, its HTML, and whether Telegram's BackButton leads back from it."""

    title: str
    html: str
    back: bool = True

    def as_json(self) -> dict[str, object]:
        return {"title": self.title, "html": self.html, "back": self.back}


def department_link(department_id: int) -> str:
    return f"{HOME}department/{department_id}"


def item_link(item_id: int) -> str:
    return f"{HOME}item/{item_id}"


def data_as_of(now: datetime, tz: tzinfo) -> str:
    local = now.astimezone(tz)
    moment = format_time(local.time(), format="short", locale=current_locale())
    return _("Data as of {date}, {time}").format(date=format_day(local.date()), time=moment)


def _total(count: int, label: str, definition: str, tone: str) -> str:
    return (
        f'<div class="total tone-{tone}"><div class="count">{count}</div>'
        f'<div class="label">{quote(label)}</div>'
        f'<div class="definition">{quote(definition)}</div></div>'
    )


def totals_html(data: DigestData) -> str:
    counts = data.summary.counts
    total = data.summary.total
    cards = [
        _total(
            total,
            ngettext("item", "items", total),
            _("Every item of the {year} Road Map.").format(year=data.year),
            "all",
        ),
        _total(
            data.summary.at_risk,
            _("at risk"),
            _("At least one risk reason below holds (overdue items included)."),
            "risk",
        ),
        _total(
            counts[Category.OVERDUE],
            _("overdue"),
            _("The deadline has passed and the department has not reported it done."),
            "overdue",
        ),
        _total(
            counts[Category.DONE],
            _("done"),
            _("The department's latest report says done."),
            "done",
        ),
    ]
    others = " · ".join(
        [
            _("on track: {count}").format(count=counts[Category.ON_TRACK]),
            _("not reported yet: {count}").format(count=counts[Category.NOT_REPORTED]),
        ]
    )
    return f'<div class="totals">{"".join(cards)}</div><p class="muted">{quote(others)}</p>'


def trend_svg(weekly: Sequence[tuple[date, int]]) -> str:
    """The at-risk count of each recent week as bars, in the theme's colours (inline SVG)."""
    if not weekly:
        return ""
    width, height, top, bottom = 320, 120, 16, 22
    highest = max(count for _day, count in weekly) or 1
    step = width / max(len(weekly), CHART_WEEKS)  # one week is as wide as in a full chart
    offset = width - step * len(weekly)  # the latest week on the right
    bars = []
    for index, (day, count) in enumerate(weekly):
        bar = (height - top - bottom) * count / highest
        x = offset + index * step + step * 0.15
        y = height - bottom - bar
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{bar:.1f}" '
            f'class="bar"/><text x="{x + step * 0.35:.1f}" y="{y - 3:.1f}" '
            f'class="value">{count}</text><text x="{x + step * 0.35:.1f}" '
            f'y="{height - 6}" class="axis">{day.day:02d}.{day.month:02d}</text>'
        )
    title = quote(_("Items at risk, week by week"))
    return (
        f'<h2>{title}</h2><svg class="trend" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{title}">{"".join(bars)}</svg>'
    )


def _risk_order(counts: Counter[Category]) -> tuple[int, ...]:
    return (
        -(counts[Category.AT_RISK] + counts[Category.OVERDUE]),
        -counts[Category.OVERDUE],
        -counts[Category.NOT_REPORTED],
    )


def departments_html(data: DigestData) -> str:
    rows = []
    ranked = sorted(
        data.summary.by_department.items(),
        key=lambda entry: (
            _risk_order(entry[1]),
            department_name(data.departments.get(entry[0])),
        ),
    )
    for department_id, counts in ranked:
        at_risk = counts[Category.AT_RISK] + counts[Category.OVERDUE]
        total = sum(counts.values())
        figures = _("at risk: {count}").format(count=at_risk)
        if counts[Category.OVERDUE]:
            figures += " · " + _("overdue: {count}").format(count=counts[Category.OVERDUE])
        figures += " · " + _("done: {done} of {total}").format(
            done=counts[Category.DONE], total=total
        )
        tone = "is-risk" if at_risk else "is-calm"
        name = quote(department_name(data.departments.get(department_id)))
        rows.append(
            f'<li><a class="row {tone}" href="{department_link(department_id)}" data-nav>'
            f'<span class="name">{name}</span>'
            f'<span class="figures">{quote(figures)}</span></a></li>'
        )
    heading = quote(_("Departments, the most at risk first"))
    return f'<h2>{heading}</h2><ul class="rows">{"".join(rows)}</ul>'


def summary_screen(data: DigestData, now: datetime, tz: tzinfo, *, nav: str = "") -> Screen:
    """The totals; `nav`: links to the reader's own screens above them (the secretariat's)."""
    title = _("Road Map {year}").format(year=data.year)
    if data.summary.total == 0:
        empty = _("There are no items for {year} yet.").format(year=data.year)
        body = f"<p>{quote(empty)}</p>"
    else:
        # The digest's first line, as the chat has it (its own markup, its words escaped).
        week = f'<p class="week">{week_line(data.week)}</p>' if data.week else ""
        body = totals_html(data) + week + trend_svg(data.weekly) + departments_html(data)
    asof = quote(data_as_of(now, tz))
    html = f'<h1>{quote(title)}</h1><p class="muted asof">{asof}</p>{nav}{body}'
    return Screen(title, html, back=False)


def _item_status(risk: ItemRisk) -> str:
    facts = risk.facts
    if facts.latest_status is None:
        return _("no reports yet")
    return f"{status_label(facts.latest_status)}, {facts.latest_progress or 0}%"


DEPARTMENT_PAGE = 100  # rows on one page: 5,000 items in a department stay under 100 KB a page


def department_screen(
    department: Department,
    items: Sequence[ItemRisk],
    today: date,
    now: datetime,
    tz: tzinfo,
    *,
    page: int = 1,
) -> Screen:
    """One department's items, the least likely to be met first, DEPARTMENT_PAGE a page."""
    title = department_name(department)
    pages = max(1, -(-len(items) // DEPARTMENT_PAGE))
    page = min(max(page, 1), pages)
    rows = []
    for risk in items[(page - 1) * DEPARTMENT_PAGE : page * DEPARTMENT_PAGE]:
        deadline = _("until {date} ({days_left})").format(
            date=format_day(risk.deadline), days_left=days_left_text(risk.deadline, today)
        )
        reasons = (
            f'<span class="reasons">{quote(short_reasons(risk))}</span>' if risk.reasons else ""
        )
        tone = "is-risk" if risk.reasons else "is-calm"
        rows.append(
            f'<li><a class="row {tone}" href="{item_link(risk.item_id)}" data-nav>'
            f'<span class="name"><b>{quote(risk.code)}</b> {quote(short_title(risk))}</span>'
            f'<span class="figures">{quote(_item_status(risk))} · {quote(deadline)}</span>'
            f"{reasons}</a></li>"
        )
    nothing = _("The department has no items this year.")
    empty = f"<p>{quote(nothing)}</p>"
    html = f'<h1>{quote(title)}</h1><p class="muted asof">{quote(data_as_of(now, tz))}</p>' + (
        f'<ul class="rows">{"".join(rows)}</ul>' if rows else empty
    )
    return Screen(title, html + department_pager(department, page, pages))


def department_pager(department: Department, page: int, pages: int) -> str:
    if pages <= 1:
        return ""
    link = department_link(row_id(department))
    parts = []
    if page > 1:
        parts.append(
            f'<a href="{link}?page={page - 1}" data-nav>← ' + quote(_("Previous")) + "</a>"
        )
    where = _("Page {page} of {pages}").format(page=page, pages=pages)
    parts.append(f"<span>{quote(where)}</span>")
    if page < pages:
        parts.append(f'<a href="{link}?page={page + 1}" data-nav>' + quote(_("Next")) + " →</a>")
    return '<nav class="pager">' + "".join(parts) + "</nav>"


def _history_row(update: StatusUpdate, author: Person | None, tz: tzinfo) -> str:
    when = format_day(update.created_at.astimezone(tz).date())
    head = f"{status_label(update.status)}, {update.progress}%"
    details = []
    if update.comment:
        details.append(f"<p>{quote(update.comment)}</p>")
    if update.confirmation:
        unchanged = _("no change")
        details.append(f'<p class="muted">{quote(unchanged)}</p>')
    if update.evidence_kind:
        label = evidence_label(update.evidence_kind, update.evidence_name)
        show = quote(_("Send the file to my chat"))
        details.append(
            f'<p class="muted">📎 {quote(label)}</p><form data-post="/app/api/evidence/'
            f'{update.id}"><button class="small" type="submit">{show}</button>'
            '<p class="status" role="status"></p></form>'
        )
    who = quote(author.display_name if author else "—")
    return (
        f'<li><div class="when">{quote(when)} — {who}</div>'
        f'<div class="what">{quote(head)}</div>{"".join(details)}</li>'
    )


def dismiss_form(code: str, risk: ItemRisk) -> str:
    """The secretariat's /dismiss on the card: pick one computed reason, say why; Telegram's
    MainButton sends it (the form's own button where there is no MainButton)."""
    reasons = [reason for reason in risk.reasons if reason in DISMISSIBLE_REASONS]
    if not reasons:
        return ""
    choices = "".join(
        f'<label class="choice"><input type="checkbox" name="reasons" value="{reason.value}"'
        f"{' checked' if index == 0 else ''}> {quote(reason_label(reason))}</label>"
        for index, reason in enumerate(reasons)
    )
    button = quote(_("Dismiss the reason"))
    heading = quote(_("Dismiss a computed risk reason"))
    why = quote(_("Why it is not a risk (kept in the audit log)"))
    return (
        f'<form class="dismiss" data-post="/app/api/dismiss" data-main="{button}">'
        f'<h2>{heading}</h2><input type="hidden" name="code" value="{quote(code)}">{choices}'
        f'<label class="field">{why}'
        '<textarea name="text" maxlength="500" rows="3" required></textarea></label>'
        f'<button class="action form-submit" type="submit">{button}</button>'
        '<p class="status" role="status"></p></form>'
    )


def item_screen(shown: ItemCardShown, tz: tzinfo, *, may_dismiss: bool = False) -> Screen:
    """The one item card: facts, why it is at risk (with thresholds), the ask button for those
    who may ask, and the history with its authors."""
    card, risk, today = shown.card, shown.risk, shown.today
    item = card.item
    title = f"{item.code} {pick_name(item.title_kk, item.title_ru)}"
    facts = [
        _("Responsible department: {name}").format(name=department_name(card.department)),
        _("Deadline: {date} ({days_left})").format(
            date=format_day(item.deadline), days_left=days_left_text(item.deadline, today)
        ),
    ]
    if card.co_executors:
        names = ", ".join(department_name(d) for d in card.co_executors)
        facts.append(_("Co-executors: {names}").format(names=names))
    if item.target:
        facts.append(_("Target: {target}").format(target=item.target))
    if card.latest is None:
        facts.append(_("Status: no reports yet"))
    else:
        facts.append(
            _("Status: {status}, {progress}%").format(
                status=status_label(card.latest.status), progress=card.latest.progress
            )
        )
    parts = [
        f"<h1><b>{quote(item.code)}</b> {quote(pick_name(item.title_kk, item.title_ru))}</h1>",
        '<ul class="facts">' + "".join(f"<li>{quote(fact)}</li>" for fact in facts) + "</ul>",
    ]
    if risk is not None:
        reasons = "".join(f"<li>{quote(line)}</li>" for line in reasons_explained(risk, today))
        heading = quote(_("At risk:"))
        parts.append(f'<section class="risk"><h2>{heading}</h2><ul>{reasons}</ul>')
        parts.append("</section>")
    forecast = forecast_views.forecast_section(risk, today)
    if forecast:
        lines = "<br>".join(forecast.split("\n"))
        parts.append(f'<section class="forecast"><p>{lines}</p></section>')
    if may_dismiss:
        label = quote(_("Edit the deadline, department, co-executors"))
        parts.append(f'<a class="row is-calm" href="{HOME}edit/{item.id}" data-nav>{label}</a>')
    if may_dismiss and risk is not None:
        parts.append(dismiss_form(item.code, risk))
    if shown.may_ask:
        label = quote(_("Ask the department for an update now"))
        parts.append(
            f'<button class="action" data-ask="{item.id}">{label}</button>'
            '<p class="notice" role="status"></p>'
        )
    if card.history:
        rows = "".join(_history_row(update, author, tz) for update, author in card.history)
        latest = quote(_("Latest updates:"))
        parts.append(f'<h2>{latest}</h2><ul class="history">{rows}</ul>')
    return Screen(title, "".join(parts))


def dismiss_invalid_text() -> str:
    return _("Pick a reason and say in a few words why it is not a risk (up to 500 characters).")


def not_found_screen() -> Screen:
    """The one answer for a missing item and another department's: nothing to learn from it."""
    text = hidden_item_text()
    return Screen(text, f'<p class="notice">{quote(text)}</p>')


def evidence_sent_text() -> str:
    return _("The bot has sent the file to your chat.")


def evidence_missing_text() -> str:
    return _("There is no such file.")


def error_screen() -> Screen:
    """Instead of a blank page when the server fails: what happened and what to do."""
    text = failed_text()
    return Screen(text, f'<p class="notice">{quote(text)}</p>', back=False)


def failed_text() -> str:
    return _("Something went wrong on our side. Go back and try again in a minute.")


def refused_screen(unauthorized: bool) -> Screen:
    if unauthorized:
        text = _("Telegram did not confirm who you are. Close the dashboard and open it again.")
    else:
        text = _("The dashboard is for the chair and the secretariat.")
    return Screen(text, f'<p class="notice">{quote(text)}</p>', back=False)


def loading_text() -> str:
    return _("Loading…")


def shell_page(
    *,
    script: str,
    telegram_script: str,
    stylesheet: str,
    loading: str,
    failed: dict[str, str] | None = None,
) -> str:
    """The page Telegram opens: the vendored SDK, the style and the script; no data in it.
    `failed`: by language, what the script shows when the server cannot be reached."""
    errors = "".join(
        f' data-failed-{locale}="{quote(text)}"' for locale, text in (failed or {}).items()
    )
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1, '
        'viewport-fit=cover"><meta name="referrer" content="no-referrer">'
        f'<link rel="stylesheet" href="{stylesheet}">'
        f'<script src="{telegram_script}"></script>'
        f'<script src="{script}" defer></script>'
        f'</head><body><main id="screen"{errors}><p class="muted">{quote(loading)}</p></main>'
        "</body></html>"
    )

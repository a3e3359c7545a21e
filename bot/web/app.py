"""The dashboard's aiohttp application: the shell page, hashed static files, the JSON API.

Every API request carries Telegram's initData in the `X-Telegram-Init-Data` header (no cookie
sessions: some Telegram clients drop them). The middleware checks it and loads the person from
our database; each endpoint then parses, calls one use case and renders its outcome.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path

from aiohttp import web

from bot.core.weekly import WeeklyTime
from bot.risk import views
from bot.telegram.i18n import in_locale
from bot.usecases.caller import Policy
from bot.usecases.dashboard import (
    dashboard_viewer,
    may_dismiss_risks,
    reads_the_dashboard,
    refuse_web,
)
from bot.usecases.items import (
    ItemCardShown,
    UpdateRequested,
    item_card,
    request_item_update,
    send_evidence,
)
from bot.usecases.overview import DepartmentView, department_view, summary
from bot.usecases.ports import Person, UseCaseContext
from bot.usecases.risks import Dismissed, DismissRefused, dismiss_risk
from bot.web import admin, admin_pages, pages
from bot.web.auth import Rejected, verify_init_data
from bot.web.common import (
    BOT_USERNAME,
    CONTEXT,
    PERSON,
    POLICY,
    SECURITY_HEADERS,
    answer_json,
    path_int,
    refuse_role,
    screen_json,
)

logger = logging.getLogger(__name__)

INIT_DATA_HEADER = "X-Telegram-Init-Data"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = ("telegram-web-app.js", "dashboard.js", "dashboard.css")
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}
# Without the bot's policy (tests, the benchmark): no configured administrators, a week's
# invitations; the running bot passes its own (bot.app.factory.policy).
STANDALONE_POLICY = Policy(frozenset(), timedelta(days=7), WeeklyTime(("mon",), time(10)))

AUTH: web.AppKey[Authentication] = web.AppKey("authentication")
ASSETS: web.AppKey[Assets] = web.AppKey("assets")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Authentication:
    token: str
    max_age: timedelta


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str


class Assets:
    """The static files under names with their content's hash: cached for ever, never stale."""

    def __init__(self, folder: Path = STATIC_DIR, names: tuple[str, ...] = STATIC_FILES) -> None:
        self.urls: dict[str, str] = {}
        self.files: dict[str, Asset] = {}
        for name in names:
            body = (folder / name).read_bytes()
            stem, suffix = name.rsplit(".", 1)
            hashed = f"{stem}.{hashlib.sha256(body).hexdigest()[:12]}.{suffix}"
            self.urls[name] = f"/app/static/{hashed}"
            self.files[hashed] = Asset(body, CONTENT_TYPES[f".{suffix}"])


def _locale(ctx: UseCaseContext, person: Person | None) -> str:
    saved = person.locale if person is not None else None
    return saved if saved in ctx.i18n.available_locales else ctx.i18n.default_locale


@web.middleware
async def authenticated(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every /app/api/ request: a genuine, recent initData of a person we know, or a refusal
    on record (401 for initData Telegram did not sign or that is too old, 403 for the rest)."""
    if not request.path.startswith("/app/api/"):
        return await handler(request)
    ctx, auth = request.app[CONTEXT], request.app[AUTH]
    user = verify_init_data(
        auth.token, request.headers.get(INIT_DATA_HEADER), now=ctx.clock.now(), max_age=auth.max_age
    )
    target = f"{request.method} {request.path}"
    if isinstance(user, Rejected):
        await refuse_web(
            ctx, person=None, telegram_id=user.telegram_id, target=target, reason=user.reason
        )
        with in_locale(ctx.i18n, None):
            return screen_json(pages.refused_screen(unauthorized=True), 401)
    person = await dashboard_viewer(ctx, user.id)
    if person is None:
        await refuse_web(ctx, person=None, telegram_id=user.id, target=target, reason="stranger")
        with in_locale(ctx.i18n, None):
            return screen_json(pages.refused_screen(unauthorized=False), 403)
    request[PERSON] = person
    with in_locale(ctx.i18n, _locale(ctx, person)):
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:  # the reader gets a screen that says so, the log the traceback
            logger.exception("Dashboard request %s failed", target)
            return screen_json(pages.error_screen(), 500)


async def _readers_only(request: web.Request) -> web.Response | None:
    """The overview screens are the chair's and the secretariat's: others get a 403 on record."""
    if reads_the_dashboard(request[PERSON]):
        return None
    return await refuse_role(request)


async def summary_api(request: web.Request) -> web.Response:
    refused = await _readers_only(request)
    if refused is not None:
        return refused
    ctx = request.app[CONTEXT]
    data = await summary(ctx)
    nav = admin_pages.nav_html() if may_dismiss_risks(request[PERSON]) else ""
    return screen_json(pages.summary_screen(data, ctx.clock.now(), ctx.tz, nav=nav))


async def department_api(request: web.Request) -> web.Response:
    refused = await _readers_only(request)
    if refused is not None:
        return refused
    ctx = request.app[CONTEXT]
    department_id = path_int(request, "department_id")
    shown = None if department_id is None else await department_view(ctx, department_id)
    if not isinstance(shown, DepartmentView):  # no such department: the chat offers a choice
        return screen_json(pages.not_found_screen(), 404)
    page = request.query.get("page", "1")
    screen = pages.department_screen(
        shown.department,
        shown.items,
        shown.today,
        ctx.clock.now(),
        ctx.tz,
        page=int(page) if page.isascii() and page.isdigit() and len(page) < 6 else 1,
    )
    return screen_json(screen)


async def item_api(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    item_id = path_int(request, "item_id")
    shown = None if item_id is None else await item_card(ctx, request[PERSON], item_id)
    if not isinstance(shown, ItemCardShown):  # missing and hidden: one answer
        return screen_json(pages.not_found_screen(), 404)
    may_dismiss = may_dismiss_risks(request[PERSON])
    return screen_json(pages.item_screen(shown, ctx.tz, may_dismiss=may_dismiss))


async def ask_update_api(request: web.Request) -> web.Response:
    """[Ask for an update]: the chat button's use case; the answer is the chat's text."""
    ctx = request.app[CONTEXT]
    item_id = path_int(request, "item_id")
    asked = None if item_id is None else await request_item_update(ctx, request[PERSON], item_id)
    if not isinstance(asked, UpdateRequested):
        return screen_json(pages.not_found_screen(), 404)
    text = views.update_requested_text(asked.department, asked.people)
    return web.json_response({"html": text}, headers=SECURITY_HEADERS)


async def evidence_api(request: web.Request) -> web.Response:
    """[Show the file]: the bot sends an update's photo or document into the reader's chat."""
    refused = await _readers_only(request)
    if refused is not None:
        return refused
    update_id = path_int(request, "update_id")
    ctx = request.app[CONTEXT]
    sent = None if update_id is None else await send_evidence(ctx, request[PERSON], update_id)
    if sent is None:  # no such file, or not the reader's to see: one answer
        return answer_json({"text": pages.evidence_missing_text()}, 404)
    return answer_json({"text": pages.evidence_sent_text()})


def _dismiss_form(form: object) -> tuple[str, list[str], str] | None:
    """{"code", "reasons": [codes] (or one "reason"), "text"}, or None when it does not parse."""
    if not isinstance(form, dict):
        return None
    code, text = form.get("code"), form.get("text")
    reasons = form.get("reasons", form.get("reason"))
    reasons = [reasons] if isinstance(reasons, str) else reasons
    if not isinstance(code, str) or not isinstance(text, str) or not isinstance(reasons, list):
        return None
    if not reasons or len(reasons) > 10 or not all(isinstance(r, str) for r in reasons):
        return None
    return code, list(dict.fromkeys(reasons)), text


async def dismiss_api(request: web.Request) -> web.Response:
    """The secretariat's /dismiss from the card, for each reason picked: the chat's answers
    (200 when every one was dismissed, 409 refused, 400 for a form that does not parse)."""
    if not may_dismiss_risks(request[PERSON]):
        return await refuse_role(request)
    try:
        parsed = _dismiss_form(await request.json())
    except ValueError:
        parsed = None
    if parsed is None:
        return answer_json({"text": pages.dismiss_invalid_text()}, 400)
    code, reasons, text = parsed
    answers, status = [], 200
    for reason in reasons:
        outcome = await dismiss_risk(request.app[CONTEXT], request[PERSON], code, reason, text)
        if isinstance(outcome, Dismissed):
            answers.append(views.dismissed_text(outcome.item_code, outcome.reason))
        elif isinstance(outcome, DismissRefused):
            answers.append(views.dismiss_refused_text(outcome.item_code, outcome.refusal))
            status = 409
        else:
            return answer_json({"text": pages.dismiss_invalid_text()}, 400)
    return answer_json({"html": "<br>".join(answers), "reload": status == 200}, status)


async def shell(request: web.Request) -> web.Response:
    """The same page for every screen's address: its script asks the API for the screen."""
    ctx, assets = request.app[CONTEXT], request.app[ASSETS]
    with in_locale(ctx.i18n, None):
        loading = pages.loading_text()
    failed = {}
    for locale in ctx.i18n.available_locales:
        with in_locale(ctx.i18n, locale):
            failed[locale] = pages.failed_text()
    html = pages.shell_page(
        script=assets.urls["dashboard.js"],
        telegram_script=assets.urls["telegram-web-app.js"],
        stylesheet=assets.urls["dashboard.css"],
        loading=loading,
        failed=failed,
    )
    return web.Response(text=html, content_type="text/html", headers=SECURITY_HEADERS)


async def static_file(request: web.Request) -> web.Response:
    asset = request.app[ASSETS].files.get(request.match_info["name"])
    if asset is None:
        raise web.HTTPNotFound
    return web.Response(
        body=asset.body,
        content_type=asset.content_type,
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


def create_web_app(
    ctx: UseCaseContext,
    *,
    token: str,
    max_age: timedelta,
    policy: Policy | None = None,
    bot_username: str = "",
) -> web.Application:
    """The dashboard for the running bot's use cases, signed by the bot's token; `policy`
    is the chat's (who may not be revoked, how long an invitation lives), `bot_username`
    makes the invitation links."""
    app = web.Application(middlewares=[authenticated], client_max_size=64 * 1024)
    app[CONTEXT] = ctx
    app[POLICY] = policy or STANDALONE_POLICY
    app[BOT_USERNAME] = bot_username
    app[AUTH] = Authentication(token, max_age)
    app[ASSETS] = Assets()
    app.router.add_get("/app/static/{name}", static_file)
    app.router.add_get("/app/api/summary", summary_api)
    app.router.add_get("/app/api/department/{department_id}", department_api)
    app.router.add_get("/app/api/item/{item_id}", item_api)
    app.router.add_post("/app/api/item/{item_id}/ask", ask_update_api)
    app.router.add_post("/app/api/dismiss", dismiss_api)
    app.router.add_post("/app/api/evidence/{update_id}", evidence_api)
    admin.add_routes(app, shell)
    app.router.add_get("/app/", shell)
    app.router.add_get("/app/department/{department_id}", shell)
    app.router.add_get("/app/item/{item_id}", shell)
    return app

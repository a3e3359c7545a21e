"""The dashboard's aiohttp application: the shell page, hashed static files, the JSON API.

Every API request carries Telegram's initData in the `X-Telegram-Init-Data` header (no cookie
sessions: some Telegram clients drop them). The middleware checks it and loads the person from
our database; each endpoint then parses, calls one use case and renders its outcome.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from bot.risk import views
from bot.telegram.i18n import in_locale
from bot.usecases.dashboard import (
    dashboard_viewer,
    may_dismiss_risks,
    reads_the_dashboard,
    refuse_web,
)
from bot.usecases.items import ItemCardShown, UpdateRequested, item_card, request_item_update
from bot.usecases.overview import DepartmentView, department_view, summary
from bot.usecases.ports import Person, UseCaseContext
from bot.usecases.risks import Dismissed, DismissRefused, dismiss_risk
from bot.web import pages
from bot.web.auth import Rejected, verify_init_data

INIT_DATA_HEADER = "X-Telegram-Init-Data"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = ("telegram-web-app.js", "dashboard.js", "dashboard.css")
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

CONTEXT: web.AppKey[UseCaseContext] = web.AppKey("usecases", UseCaseContext)
AUTH: web.AppKey[Authentication] = web.AppKey("authentication")
ASSETS: web.AppKey[Assets] = web.AppKey("assets")
PERSON: web.RequestKey[Person] = web.RequestKey("person", Person)

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


def _json(screen: pages.Screen, status: int = 200) -> web.Response:
    return web.json_response(screen.as_json(), status=status, headers=SECURITY_HEADERS)


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
            return _json(pages.refused_screen(unauthorized=True), 401)
    person = await dashboard_viewer(ctx, user.id)
    if person is None:
        await refuse_web(ctx, person=None, telegram_id=user.id, target=target, reason="stranger")
        with in_locale(ctx.i18n, None):
            return _json(pages.refused_screen(unauthorized=False), 403)
    request[PERSON] = person
    with in_locale(ctx.i18n, _locale(ctx, person)):
        return await handler(request)


async def _readers_only(request: web.Request) -> web.Response | None:
    """The overview screens are the chair's and the secretariat's: others get a 403 on record."""
    if reads_the_dashboard(request[PERSON]):
        return None
    return await _refuse_role(request)


def _int(request: web.Request, name: str) -> int | None:
    value = request.match_info.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


async def summary_api(request: web.Request) -> web.Response:
    refused = await _readers_only(request)
    if refused is not None:
        return refused
    ctx = request.app[CONTEXT]
    data = await summary(ctx)
    return _json(pages.summary_screen(data, ctx.clock.now(), ctx.tz))


async def department_api(request: web.Request) -> web.Response:
    refused = await _readers_only(request)
    if refused is not None:
        return refused
    ctx = request.app[CONTEXT]
    department_id = _int(request, "department_id")
    shown = None if department_id is None else await department_view(ctx, department_id)
    if not isinstance(shown, DepartmentView):  # no such department: the chat offers a choice
        return _json(pages.not_found_screen(), 404)
    screen = pages.department_screen(
        shown.department, shown.items, shown.today, ctx.clock.now(), ctx.tz
    )
    return _json(screen)


async def item_api(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    item_id = _int(request, "item_id")
    shown = None if item_id is None else await item_card(ctx, request[PERSON], item_id)
    if not isinstance(shown, ItemCardShown):  # missing and hidden: one answer
        return _json(pages.not_found_screen(), 404)
    may_dismiss = may_dismiss_risks(request[PERSON])
    return _json(pages.item_screen(shown, ctx.tz, may_dismiss=may_dismiss))


async def ask_update_api(request: web.Request) -> web.Response:
    """[Ask for an update]: the chat button's use case; the answer is the chat's text."""
    ctx = request.app[CONTEXT]
    item_id = _int(request, "item_id")
    asked = None if item_id is None else await request_item_update(ctx, request[PERSON], item_id)
    if not isinstance(asked, UpdateRequested):
        return _json(pages.not_found_screen(), 404)
    text = views.update_requested_text(asked.department, asked.people)
    return web.json_response({"text": text}, headers=SECURITY_HEADERS)


async def _refuse_role(request: web.Request) -> web.Response:
    person: Person = request[PERSON]
    await refuse_web(
        request.app[CONTEXT],
        person=person,
        telegram_id=person.telegram_id,
        target=f"{request.method} {request.path}",
        reason="role",
    )
    return _json(pages.refused_screen(unauthorized=False), 403)


async def dismiss_api(request: web.Request) -> web.Response:
    """The secretariat's /dismiss from the card: {"code", "reason", "text"} in, the chat's
    answer out (200 dismissed, 409 refused, 400 for a form that does not parse)."""
    if not may_dismiss_risks(request[PERSON]):
        return await _refuse_role(request)
    try:
        form = await request.json()
        code, reason, text = str(form["code"]), str(form["reason"]), str(form["text"])
    except (ValueError, KeyError, TypeError):
        return web.json_response({"text": pages.dismiss_invalid_text()}, status=400)
    outcome = await dismiss_risk(request.app[CONTEXT], request[PERSON], code, reason, text)
    if isinstance(outcome, Dismissed):
        answer, status = views.dismissed_text(outcome.item_code, outcome.reason), 200
    elif isinstance(outcome, DismissRefused):
        answer, status = views.dismiss_refused_text(outcome.item_code, outcome.refusal), 409
    else:
        answer, status = pages.dismiss_invalid_text(), 400
    return web.json_response({"text": answer}, status=status, headers=SECURITY_HEADERS)


async def shell(request: web.Request) -> web.Response:
    """The same page for every screen's address: its script asks the API for the screen."""
    ctx, assets = request.app[CONTEXT], request.app[ASSETS]
    with in_locale(ctx.i18n, None):
        loading = pages.loading_text()
    html = pages.shell_page(
        script=assets.urls["dashboard.js"],
        telegram_script=assets.urls["telegram-web-app.js"],
        stylesheet=assets.urls["dashboard.css"],
        loading=loading,
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


def create_web_app(ctx: UseCaseContext, *, token: str, max_age: timedelta) -> web.Application:
    """The dashboard for the running bot's use cases, signed by the bot's token."""
    app = web.Application(middlewares=[authenticated], client_max_size=64 * 1024)
    app[CONTEXT] = ctx
    app[AUTH] = Authentication(token, max_age)
    app[ASSETS] = Assets()
    app.router.add_get("/app/static/{name}", static_file)
    app.router.add_get("/app/api/summary", summary_api)
    app.router.add_get("/app/api/department/{department_id}", department_api)
    app.router.add_get("/app/api/item/{item_id}", item_api)
    app.router.add_post("/app/api/item/{item_id}/ask", ask_update_api)
    app.router.add_post("/app/api/dismiss", dismiss_api)
    app.router.add_get("/app/", shell)
    app.router.add_get("/app/department/{department_id}", shell)
    app.router.add_get("/app/item/{item_id}", shell)
    return app

"""The sandbox page and its JSON API (aiohttp), served beside the bot in its event loop.

The page is plain HTML, CSS and JavaScript from bot/sandbox/static (nothing from a CDN); every
word on it comes from the gettext catalogs, in the language chosen with `?lang=`. The script
polls `/api/state` and posts what the person on the page does: the emulator turns each action
into the update Telegram would send the bot.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiogram.utils.i18n import gettext as _
from aiohttp import web
from babel.dates import format_datetime

from bot.core.catalogs import SUPPORTED_LOCALES
from bot.sandbox.clock import Fired, TooFarError
from bot.sandbox.launch import init_data_fields, launch_fragment, sign
from bot.sandbox.render import message_json, request_json
from bot.sandbox.run import NoInvitationError, Sandbox
from bot.sandbox.world import SANDBOX_TOKEN, Persona
from bot.telegram.i18n import N_, in_locale, ngettext
from db import queries

STATIC_DIR = Path(__file__).parent / "static"
STATIC_TYPES = {"sandbox.js": "text/javascript", "sandbox.css": "text/css"}
LOG_SIZE = 80
MAX_DAYS = 120
SANDBOX: web.AppKey[Sandbox] = web.AppKey("sandbox", Sandbox)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Every word of the page, by the key its script uses.
PAGE_TEXTS = {
    "title": N_("Road Map bot sandbox"),
    "intro": N_(
        "The real bot, a Telegram emulator and a clock of its own, all on this computer: "
        "nothing is sent to Telegram."
    ),
    "people": N_("People"),
    "add_person": N_("Add a person"),
    "add_prompt": N_("Invite to which department (its code, e.g. culture), or chair?"),
    "name_prompt": N_("The newcomer's first name?"),
    "placeholder": N_("Message"),
    "send": N_("Send"),
    "attach": N_("Send a file"),
    "as_photo": N_("as a photo"),
    "edit": N_("Edit"),
    "edit_prompt": N_("The message's new text:"),
    "edited": N_("edited"),
    "typing": N_("typing…"),
    "time": N_("Time"),
    "round": N_("Next status round"),
    "scan": N_("Daily scan, 09:30"),
    "digest": N_("Friday, 17:00"),
    "deadline": N_("An item's deadline"),
    "item_prompt": N_("Which item (its code, e.g. 1.1.1)?"),
    "days": N_("Days ahead"),
    "go": N_("Go"),
    "dashboard": N_("Open the dashboard"),
    "dashboard_title": N_("Dashboard"),
    "close": N_("Close"),
    "log": N_("What the bot sent"),
    "language": N_("Language"),
    "stale_button": N_("That button is no longer on the message."),
}
JOB_NAMES = {
    "round": N_("status round"),
    "daily_scan": N_("daily scan"),
    "digest": N_("weekly digest"),
    "alerts_nightly": N_("night alert scan"),
}
REFUSALS = {
    400: N_("The sandbox did not understand that request: reload the page."),
    403: N_("Only the sandbox's own page can do that."),
    404: N_("Nobody and nothing of that name is in the sandbox."),
}
THEME = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#707579",
    "link_color": "#2481cc",
    "button_color": "#2481cc",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#f1f1f4",
    "destructive_text_color": "#d14e4e",
}


def _locale(request: web.Request) -> str:
    lang = request.query.get("lang", "")
    sandbox = request.app[SANDBOX]
    return lang if lang in SUPPORTED_LOCALES else sandbox.application.i18n.default_locale


def _refuse(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _number(value: str | None) -> int:
    """A chat or message id from the page; anything else is a bad request, not a crash."""
    try:
        return int(value or "")
    except ValueError:
        raise web.HTTPBadRequest from None


def _persona_label(persona: Persona) -> str:
    return _(persona.label) if persona.label else persona.first_name


async def page(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    locale = _locale(request)
    with in_locale(sandbox.application.i18n, locale):
        texts = {key: _(message) for key, message in PAGE_TEXTS.items()}
    body = (STATIC_DIR / "sandbox.html").read_text(encoding="utf-8")
    body = body.replace("{{lang}}", locale).replace("{{title}}", escape(texts["title"]))
    body = body.replace("{{texts}}", json.dumps(texts, ensure_ascii=False).replace("</", "<\\/"))
    return web.Response(text=body, content_type="text/html", headers={"Cache-Control": "no-store"})


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC_TYPES:
        raise web.HTTPNotFound
    return web.Response(
        body=(STATIC_DIR / name).read_bytes(),
        content_type=STATIC_TYPES[name],
        headers={"Cache-Control": "no-store"},  # a newer sandbox never runs yesterday's script
    )


def _now_text(sandbox: Sandbox, locale: str) -> str:
    local = sandbox.clock.now().astimezone(sandbox.usecases.tz)
    return format_datetime(local, "EEEE, d MMMM y, HH:mm", locale=locale)


async def state(request: web.Request) -> web.Response:
    """Who can be played, the chat on show, the sandbox's time and the bot's latest calls."""
    sandbox = request.app[SANDBOX]
    locale = _locale(request)
    emulator = sandbox.emulator
    chat_id = _number(request.query.get("chat", str(sandbox.personas[0].telegram_id)))
    with in_locale(sandbox.application.i18n, locale):
        people = [
            {
                "id": p.telegram_id,
                "label": _persona_label(p),
                # A newcomer is shown by name, with what they were invited to beneath it.
                "name": p.first_name if p.label else (p.department or ""),
                "received": len(emulator.messages(p.telegram_id)),
            }
            for p in sandbox.personas
        ]
    actions = [action for chat, action in emulator.chat_actions if chat == chat_id]
    calls = [
        request_json(index, record)
        for index, record in enumerate(emulator.requests)
        if record.method != "getUpdates"
    ]
    return web.json_response(
        {
            "now": sandbox.clock.now().isoformat(),
            "now_text": _now_text(sandbox, locale),
            "people": people,
            "chat": {
                "id": chat_id,
                "messages": [message_json(m) for m in emulator.chat_log(chat_id)],
                "actions": len(actions),
                "last_action": actions[-1] if actions else None,
            },
            "log": calls[-LOG_SIZE:],
        }
    )


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest
    return data


def _chat(request: web.Request) -> int:
    sandbox = request.app[SANDBOX]
    chat_id = _number(request.match_info["chat"])
    if sandbox.persona(chat_id) is None:
        raise web.HTTPNotFound
    return chat_id


async def send_text(request: web.Request) -> web.Response:
    chat_id = _chat(request)
    text = str((await _body(request)).get("text", "")).strip()
    if not text:
        raise web.HTTPBadRequest
    message = request.app[SANDBOX].emulator.send_text(chat_id, text)
    return web.json_response({"id": message.message_id})


async def press(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    chat_id = _chat(request)
    data = await _body(request)
    try:
        sandbox.emulator.press_button(chat_id, int(data["message"]), str(data["data"]))
    except (AssertionError, KeyError, TypeError, ValueError):
        with in_locale(sandbox.application.i18n, _locale(request)):
            return _refuse(409, _(PAGE_TEXTS["stale_button"]))
    return web.json_response({"ok": True})


async def edit(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    chat_id = _chat(request)
    data = await _body(request)
    text = str(data.get("text", "")).strip()
    if not text:
        raise web.HTTPBadRequest
    try:
        sandbox.emulator.edit_text(chat_id, int(data["message"]), text)
    except (AssertionError, KeyError, TypeError, ValueError):
        raise web.HTTPNotFound from None
    return web.json_response({"ok": True})


async def upload(request: web.Request) -> web.Response:
    """A file or a photo from disk, as the person's Telegram client would send it."""
    sandbox = request.app[SANDBOX]
    chat_id = _chat(request)
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise web.HTTPBadRequest
    content = upload.file.read()
    caption = str(form.get("caption") or "").strip() or None
    if form.get("as_photo"):
        message = sandbox.emulator.send_photo(chat_id, content, caption=caption)
    else:
        mime = upload.content_type or "application/octet-stream"
        message = sandbox.emulator.send_document(
            chat_id, content, upload.filename or "file", mime, caption=caption
        )
    return web.json_response({"id": message.message_id})


async def file(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    try:
        content = sandbox.emulator.file_bytes(request.match_info["file_id"])
    except KeyError:
        raise web.HTTPNotFound from None
    name = request.query.get("name", "file")
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content.startswith(b"\x89PNG"):
        kind = "image/png"
    elif content.startswith(b"\xff\xd8\xff"):
        kind = "image/jpeg"
    return web.Response(body=content, content_type=kind)


async def _jump_target(sandbox: Sandbox, data: dict[str, Any]) -> datetime | str:
    """The moment asked for, or the message id saying why it cannot be reached."""
    time_machine, to = sandbox.time, data.get("to")
    if to in ("round", "digest"):
        return time_machine.next_fire(str(to))
    if to == "scan":
        return time_machine.next_fire("daily_scan")
    if to == "days":
        days = data.get("days")
        if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            return N_("Give a number of days from 1 to 120.")
        return sandbox.clock.now() + timedelta(days=days)
    if to == "deadline":
        async with sandbox.usecases.session_maker() as session:
            item = await queries.item_by_code(session, str(data.get("item", "")).strip())
        if item is None:
            return N_("There is no item with that code.")
        reminder = sandbox.application.settings.reminder_time
        target = time_machine.day_at(item.deadline, reminder)
        if target <= sandbox.clock.now():
            return N_("That deadline has passed already.")
        return target
    raise web.HTTPBadRequest


async def jump(request: web.Request) -> web.Response:
    """Move the sandbox's time; the scheduler's jobs due on the way run at their moments."""
    sandbox = request.app[SANDBOX]
    target = await _jump_target(sandbox, await _body(request))
    locale = _locale(request)
    with in_locale(sandbox.application.i18n, locale):
        if isinstance(target, str):
            return _refuse(400, _(target))
        try:
            fired = await sandbox.time.jump_to(target.astimezone(UTC))
        except TooFarError:
            return _refuse(400, _("That is more than 120 days ahead: go there in steps."))
        return web.json_response(
            {
                "now_text": _now_text(sandbox, locale),
                "ran": _ran_text(sandbox, fired, locale),
            }
        )


def _ran_text(sandbox: Sandbox, fired: list[Fired], locale: str) -> str:
    tz = sandbox.usecases.tz
    lines = [ngettext("%(count)d scheduled job ran", "%(count)d scheduled jobs ran", len(fired))]
    lines[0] %= {"count": len(fired)}
    for run in fired:
        when = format_datetime(run.at.astimezone(tz), "EEE d MMM, HH:mm", locale=locale)
        lines.append(f"{when}: {_(JOB_NAMES.get(run.job, run.job))}")
    return "\n".join(lines)


async def add_person(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    data = await _body(request)
    target = str(data.get("target", "")).strip()
    name = str(data.get("name", "")).strip()[:60]
    if not target or not name:
        raise web.HTTPBadRequest
    language = "ru" if _locale(request) == "ru" else "kk"
    try:
        newcomer = await sandbox.add_person(target, name, language)
    except NoInvitationError:
        with in_locale(sandbox.application.i18n, _locale(request)):
            return _refuse(
                409,
                _(
                    "The secretariat's chat gave no invitation link: see what the bot "
                    "answered there (the secretariat starts with /start)."
                ),
            )
    return web.json_response({"id": newcomer.telegram_id})


async def dashboard(request: web.Request) -> web.Response:
    """The dashboard's address with launch data signed for the person, as Telegram opens it."""
    sandbox = request.app[SANDBOX]
    persona = sandbox.persona(_number(request.query.get("chat")))
    if persona is None:
        raise web.HTTPNotFound
    fields = init_data_fields(
        persona.telegram_id,
        sandbox.clock.now(),
        first_name=persona.first_name,
        language_code=persona.language_code,
    )
    init_data = sign(fields, SANDBOX_TOKEN)
    # The host the browser reached the page by: the dashboard listens beside it.
    host = request.url.host or sandbox.dashboard.host
    host = f"[{host}]" if ":" in host else host
    base = f"{request.url.scheme}://{host}:{sandbox.dashboard.port}"
    url = f"{base}/app/#{launch_fragment(init_data, THEME)}"
    return web.json_response({"url": url})


@web.middleware
async def clear_refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A refused API call answers in the page's language, never with aiohttp's plain text."""
    try:
        return await handler(request)
    except web.HTTPClientError as error:
        if not request.path.startswith("/api/"):
            raise
        with in_locale(request.app[SANDBOX].application.i18n, _locale(request)):
            return _refuse(error.status, _(REFUSALS.get(error.status, REFUSALS[400])))


@web.middleware
async def same_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Only the page itself acts: another site open in the same browser cannot post here."""
    origin = request.headers.get("Origin")
    if request.method == "POST" and origin is not None and urlsplit(origin).netloc != request.host:
        raise web.HTTPForbidden
    return await handler(request)


def create_page_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(
        client_max_size=60 * 1024 * 1024, middlewares=[clear_refusals, same_origin]
    )
    app[SANDBOX] = sandbox
    app.router.add_get("/", page)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/api/state", state)
    app.router.add_post("/api/chat/{chat}/text", send_text)
    app.router.add_post("/api/chat/{chat}/press", press)
    app.router.add_post("/api/chat/{chat}/edit", edit)
    app.router.add_post("/api/chat/{chat}/file", upload)
    app.router.add_get("/api/file/{file_id}", file)
    app.router.add_post("/api/time", jump)
    app.router.add_post("/api/people", add_person)
    app.router.add_get("/api/dashboard", dashboard)
    return app


class PageServer:
    """The page on host:port (port 0: any free port)."""

    def __init__(self, sandbox: Sandbox, host: str, port: int) -> None:
        self.runner = web.AppRunner(create_page_app(sandbox), access_log=None)
        self.host, self.port = host, port

    async def start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, self.host, self.port).start()
        self.port = self.runner.addresses[0][1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def stop(self) -> None:
        await self.runner.cleanup()

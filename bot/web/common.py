"""What every part of the dashboard's application shares: its keys, the JSON answers, and the
role checks that put each refusal on record."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.usecases.caller import Policy
from bot.usecases.dashboard import refuse_web
from bot.usecases.ports import Person, UseCaseContext
from bot.web import pages

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

CONTEXT: web.AppKey[UseCaseContext] = web.AppKey("usecases", UseCaseContext)
POLICY: web.AppKey[Policy] = web.AppKey("policy", Policy)
BOT_USERNAME: web.AppKey[str] = web.AppKey("bot_username", str)
PERSON: web.RequestKey[Person] = web.RequestKey("person", Person)


def screen_json(screen: pages.Screen, status: int = 200) -> web.Response:
    return web.json_response(screen.as_json(), status=status, headers=SECURITY_HEADERS)


def answer_json(body: dict[str, Any], status: int = 200) -> web.Response:
    """An action's answer: {"text"} shown beside its form, {"next"} a screen to open,
    {"reload": true} the current screen read again."""
    return web.json_response(body, status=status, headers=SECURITY_HEADERS)


async def refuse_role(request: web.Request) -> web.Response:
    """A 403 on record: the person is known, the screen is not for his role."""
    person: Person = request[PERSON]
    await refuse_web(
        request.app[CONTEXT],
        person=person,
        telegram_id=person.telegram_id,
        target=f"{request.method} {request.path}",
        reason="role",
    )
    return screen_json(pages.refused_screen(unauthorized=False), 403)


def path_int(request: web.Request, name: str) -> int | None:
    value = request.match_info.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None

"""initData signed exactly as Telegram signs it for a Mini App, and a dashboard over real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from urllib.parse import urlencode

from aiohttp import ClientSession

from bot.usecases.ports import UseCaseContext
from bot.web.app import INIT_DATA_HEADER, create_web_app
from bot.web.server import WebServer
from tests.helpers.chat import TEST_TOKEN

MAX_AGE = timedelta(hours=24)


def init_data_fields(user_id: int, signed_at: datetime, **extra: str) -> dict[str, str]:
    user = {"id": user_id, "first_name": f"User {user_id}", "language_code": "ru"}
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(int(signed_at.timestamp())),
    }
    fields.update(extra)
    return fields


def sign(fields: dict[str, str], token: str = TEST_TOKEN) -> str:
    """The query string with the `hash` Telegram computes: HMAC-SHA256 of the sorted fields
    with the key HMAC-SHA256("WebAppData", token)."""
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


def signed_for(user_id: int, signed_at: datetime, token: str = TEST_TOKEN) -> str:
    return sign(init_data_fields(user_id, signed_at), token)


@asynccontextmanager
async def dashboard(ctx: UseCaseContext) -> AsyncIterator[WebServer]:
    """The dashboard for `ctx`, on a free local port."""
    server = WebServer(create_web_app(ctx, token=TEST_TOKEN, max_age=MAX_AGE), "127.0.0.1", 0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class WebClient:
    """Calls the dashboard's API as its script does: initData in the header, no cookies."""

    def __init__(self, server: WebServer, http: ClientSession) -> None:
        self.server, self.http = server, http

    async def get(self, path: str, init_data: str | None) -> tuple[int, dict[str, object]]:
        headers = {INIT_DATA_HEADER: init_data} if init_data is not None else {}
        async with self.http.get(self.server.base_url + path, headers=headers) as response:
            return response.status, await response.json()

    async def post(self, path: str, init_data: str) -> tuple[int, dict[str, object]]:
        headers = {INIT_DATA_HEADER: init_data}
        async with self.http.post(self.server.base_url + path, headers=headers) as response:
            return response.status, await response.json()

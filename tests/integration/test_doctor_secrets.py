"""`doctor` behind a proxy that answers a non-JSON page echoing the request path (the bot
token is in that path): the checklist is printed in full, the token check says ✗ with the
reason, and the token appears nowhere in the output (masked as `<bot id>:***`)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from tests.helpers.chat import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]
BOT_ID, SECRET = TEST_TOKEN.split(":")


@pytest.fixture(params=[200, pytest.param(502, marks=pytest.mark.slow)])
async def echoing_proxy(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A web server that answers every request with an HTML page quoting its URL."""

    async def echo(incoming: web.Request) -> web.Response:
        return web.Response(
            status=request.param,
            text=f"<html><body>Cannot {incoming.method} {incoming.url}</body></html>",
            content_type="text/html",
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_doctor_never_prints_the_token(echoing_proxy: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_URL": echoing_proxy,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "PYTHONPATH": str(ROOT),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "doctor", "--locale", "ru", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    output = (out + err).decode()
    assert process.returncode == 1
    assert SECRET not in output and TEST_TOKEN not in output
    assert "Traceback" not in output
    lines = out.decode().splitlines()
    token_line = next(line for line in lines if "Telegram" in line)
    assert token_line.startswith("✗") and f"{BOT_ID}:***" in output
    assert any("базы данных" in line for line in lines)  # the rest of the checklist is there

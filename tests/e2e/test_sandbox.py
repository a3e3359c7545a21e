"""The sandbox's server over HTTP, without a browser: the real bot behind the emulator, the
page's API, the time machine firing the scheduler's jobs, and the safety rails."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp import ClientSession, FormData

from bot.sandbox.world import (
    CHAIR,
    KK_HEAD,
    SANDBOX_TOKEN,
    SECRETARIAT,
    UnsafeSandboxError,
    ensure_safe,
    sandbox_settings,
)
from bot.web.app import INIT_DATA_HEADER
from tests.helpers.sandbox import sandbox_page

Messages = list[dict[str, Any]]


class Page:
    """Calls the sandbox page's API as its script does."""

    def __init__(self, base: str, http: ClientSession, lang: str = "ru") -> None:
        self.base, self.http, self.lang = base.rstrip("/"), http, lang

    async def get(self, path: str, **query: Any) -> tuple[int, Any]:
        params = {"lang": self.lang, **{k: str(v) for k, v in query.items()}}
        async with self.http.get(self.base + path, params=params) as response:
            body = (
                await response.json() if "json" in response.content_type else await response.text()
            )
            return response.status, body

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        async with self.http.post(self.base + path, params={"lang": self.lang}, json=body) as r:
            return r.status, await r.json()

    async def chat(self, chat_id: int) -> Messages:
        status, state = await self.get("/api/state", chat=chat_id)
        assert status == 200
        return state["chat"]["messages"]

    async def until(self, chat_id: int, found: Callable[[Messages], bool]) -> Messages:
        for _ in range(200):
            messages = await self.chat(chat_id)
            if found(messages):
                return messages
            await _pause()
        raise AssertionError(f"chat {chat_id} never got there: {messages}")


async def _pause() -> None:
    import asyncio

    await asyncio.sleep(0.05)


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    async with sandbox_page(tmp_path / "sandbox") as url, ClientSession() as http:
        yield Page(url, http)


def _bot_says(text: str) -> Callable[[Messages], bool]:
    return lambda messages: any(m["from_bot"] and text in m["html"] for m in messages)


async def test_the_page_plays_a_start_a_round_and_the_digest(page: Page) -> None:
    status, html = await page.get("/")
    assert status == 200 and "Песочница бота Дорожной карты" in html
    page.lang = "kk"
    assert "Жол картасы боты: сынақ алаңы" in (await page.get("/"))[1]
    page.lang = "ru"

    elsewhere = {"Origin": "http://evil.example"}
    async with page.http.post(
        f"{page.base}/api/chat/{SECRETARIAT.telegram_id}/text",
        params={"lang": "ru"},
        json={"text": "/start"},
        headers=elsewhere,
    ) as response:
        assert response.status == 403
        assert await response.json() == {
            "error": "Это может сделать только страница самой песочницы."
        }
    assert await page.chat(SECRETARIAT.telegram_id) == []
    assert (await page.post(f"/api/chat/{SECRETARIAT.telegram_id}/text", {"text": "/start"}))[0]
    messages = await page.until(SECRETARIAT.telegram_id, _bot_says("Выберите язык"))
    choose = messages[-1]
    pressed = await page.post(
        f"/api/chat/{SECRETARIAT.telegram_id}/press", {"message": choose["id"], "data": "lang:ru"}
    )
    assert pressed == (200, {"ok": True})
    await page.until(SECRETARIAT.telegram_id, _bot_says("<b>секретариат</b>"))
    stale = await page.post(
        f"/api/chat/{SECRETARIAT.telegram_id}/press", {"message": choose["id"], "data": "lang:kk"}
    )
    assert stale == (409, {"error": "Этой кнопки в сообщении уже нет."})

    status, jumped = await page.post("/api/time", {"to": "round"})
    assert status == 200 and "запрос обновлений" in jumped["ran"]
    assert "понедельник" in jumped["now_text"] and "10:00" in jumped["now_text"]
    messages = await page.until(KK_HEAD.telegram_id, _bot_says("жай-күйін жаңарту қажет"))
    request = next(m for m in messages if "жай-күйін жаңарту қажет" in m["html"])
    labels = [button["text"] for row in request["markup"]["inline"] for button in row]
    assert "✓ Қалғаны өзгеріссіз" in labels

    status, jumped = await page.post("/api/time", {"to": "digest"})
    assert status == 200 and "еженедельная сводка" in jumped["ran"]
    assert "пятница" in jumped["now_text"] and "17:00" in jumped["now_text"]
    await page.until(CHAIR.telegram_id, _bot_says("Дорожная карта"))

    status, state = await page.get("/api/state", chat=CHAIR.telegram_id)
    methods = {entry["method"] for entry in state["log"]}
    assert {"sendMessage", "editMessageText", "answerCallbackQuery"} <= methods
    assert all(entry["status"] == 200 for entry in state["log"])


async def test_bad_jumps_and_unknown_people_get_clear_answers(page: Page) -> None:
    assert await page.post("/api/time", {"to": "days", "days": 0}) == (
        400,
        {"error": "Укажите число дней от 1 до 120."},
    )
    assert await page.post("/api/time", {"to": "deadline", "item": "99.9"}) == (
        400,
        {"error": "Пункта с таким кодом нет."},
    )
    assert await page.post("/api/chat/42/text", {"text": "hi"}) == (
        404,
        {"error": "Такого человека или файла в песочнице нет."},
    )
    assert await page.post("/api/time", {"to": "deadline", "item": "1.1.3"}) == (
        400,
        {"error": "Это дальше чем на 120 дней: переходите туда по шагам."},
    )
    refused = (400, {"error": "Песочница не поняла запрос: обновите страницу."})
    assert await page.get("/api/state", chat="me") == refused
    assert await page.post("/api/time", {"to": "yesterday"}) == refused
    status, jumped = await page.post("/api/time", {"to": "days", "days": 2})
    assert status == 200 and "ежедневная проверка" in jumped["ran"]


async def test_the_dashboard_opens_with_launch_data_it_accepts(page: Page) -> None:
    status, answer = await page.get("/api/dashboard", chat=CHAIR.telegram_id)
    assert status == 200
    base, fragment = answer["url"].split("/app/#")
    assert base.startswith("http://127.0.0.1:")
    fields = dict(part.split("=", 1) for part in fragment.split("&"))
    init_data = unquote(fields["tgWebAppData"])
    headers = {INIT_DATA_HEADER: init_data}
    async with page.http.get(f"{base}/app/api/summary", headers=headers) as response:
        assert response.status == 200
    async with page.http.get(
        f"{base}/app/api/summary", headers={INIT_DATA_HEADER: init_data + "0"}
    ) as response:
        assert response.status in (401, 403)


def test_the_sandbox_refuses_a_real_token_telegram_or_the_production_database(
    tmp_path: Path,
) -> None:
    settings = sandbox_settings("http://127.0.0.1:9", tmp_path / "sandbox")
    assert settings.bot_token.get_secret_value() == SANDBOX_TOKEN
    assert settings.database_url.endswith("sandbox/bot.db")
    real = settings.model_copy(update={"bot_token": settings.bot_token.__class__("1:" + "A" * 35)})
    with pytest.raises(UnsafeSandboxError):
        ensure_safe(real)
    with pytest.raises(UnsafeSandboxError):
        ensure_safe(settings.model_copy(update={"telegram_api_url": "https://api.telegram.org"}))
    with pytest.raises(UnsafeSandboxError):
        ensure_safe(settings.model_copy(update={"database_url": "sqlite+aiosqlite:///data/bot.db"}))


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def test_files_edits_and_a_deadline_jump(page: Page) -> None:
    head = KK_HEAD.telegram_id
    form = FormData()
    form.add_field("file", PNG, filename="site.png", content_type="image/png")
    form.add_field("caption", "5.1.1")
    form.add_field("as_photo", "1")
    async with page.http.post(f"{page.base}/api/chat/{head}/file", data=form) as response:
        assert response.status == 200
    form = FormData()
    form.add_field("file", b"%PDF-1.4 act", filename="akt.pdf", content_type="application/pdf")
    async with page.http.post(f"{page.base}/api/chat/{head}/file", data=form) as response:
        assert response.status == 200
    status, sent = await page.post(f"/api/chat/{head}/text", {"text": "сәлем"})
    assert status == 200
    assert await page.post(
        f"/api/chat/{head}/edit", {"message": sent["id"], "text": "сәлеметсіз бе"}
    ) == (200, {"ok": True})
    mine = [m for m in await page.chat(head) if not m["from_bot"]]
    assert [m["kind"] for m in mine] == ["photo", "document", "text"]
    assert mine[0]["html"] == "5.1.1" and mine[1]["file"]["name"] == "akt.pdf"
    assert (mine[2]["html"], mine[2]["edits"]) == ("сәлеметсіз бе", 1)
    async with page.http.get(f"{page.base}/api/file/{mine[0]['file']['id']}") as response:
        assert response.content_type == "image/png" and await response.read() == PNG

    status, jumped = await page.post("/api/time", {"to": "deadline", "item": "4.1.4"})
    assert status == 200 and "09:30" in jumped["now_text"]
    assert "ежедневная проверка" in jumped["ran"] and "запрос обновлений" in jumped["ran"]
    assert await page.post("/api/time", {"to": "deadline", "item": "4.1.4"}) == (
        400,
        {"error": "Этот срок уже прошёл."},
    )

"""The chat's /import and `python -m bot import` give the same dry run for the same file,
because both call the one use case (bot/usecases/imports.py: check_import)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest

from bot.app.cli_spreadsheets import cli_import
from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.usecases import imports
from db.engine import SessionMaker
from db.models import RoadmapItem
from tests.data.spreadsheets.workbooks import roadmap_rows, xlsx
from tests.helpers.chat import ADMIN_ID, Chatter, register_admin, rows
from tests.helpers.import_dialog import Files, send_file, texts
from tests.helpers.mocked_bot import MockedBot


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[imports.Checked]:
    """Every dry run the use case answered, whoever asked."""
    answered: list[imports.Checked] = []
    check_import = imports.check_import

    async def recorded(*args: Any, **kwargs: Any) -> imports.Checked:
        outcome = await check_import(*args, **kwargs)
        answered.append(outcome)
        return outcome

    monkeypatch.setattr(imports, "check_import", recorded)
    return answered


async def test_the_chat_and_the_command_line_give_the_same_dry_run(
    chatter: Chatter,
    bot: MockedBot,
    monkeypatch: pytest.MonkeyPatch,
    session_maker: SessionMaker,
    clock: FrozenClock,
    settings: Settings,
    tmp_path: Path,
    calls: list[imports.Checked],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.helpers.import_dialog import seed_departments

    await register_admin(chatter, "ru")
    await seed_departments(session_maker, clock)
    # 12 good rows, one with a department nobody knows: new items and a skipped row.
    data = xlsx([*roadmap_rows(12), {**roadmap_rows(1)[0], "code": "7.7", "department": "nosuch"}])

    await chatter.send(ADMIN_ID, "/import")
    chat = texts(await send_file(chatter, Files(bot, monkeypatch), "F1", data, "roadmap.xlsx"))
    path = tmp_path / "roadmap.xlsx"
    path.write_bytes(data)
    capsys.readouterr()
    assert await cli_import(settings, path, apply=False, locale="ru") == 1  # a row was skipped
    printed = capsys.readouterr().out.splitlines()

    chat_check, cli_check = calls
    assert isinstance(chat_check, imports.ImportChecked)
    assert isinstance(cli_check, imports.ImportChecked)
    assert chat_check.digest == cli_check.digest
    assert (len(chat_check.plan.new), len(chat_check.plan.errors)) == (12, 1)
    # The chat shows the command line's summary, line for line, under its own title.
    summary = printed[:-1]  # the last line is the command line's "Dry run: nothing written"
    chat_lines = html.unescape(chat[-1]).splitlines()
    assert chat_lines[0] == "<b>Проверка файла: roadmap.xlsx</b>"
    assert chat_lines[1 : 1 + len(summary)] == summary
    assert "nosuch" in "\n".join(summary)
    assert await rows(session_maker, RoadmapItem) == []  # neither wrote anything

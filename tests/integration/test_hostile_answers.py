"""The chat and the command line give the same answer to the same hostile file (issue 24)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n

from bot.app.cli_spreadsheets import cli_import
from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.spreadsheets.grid import FileProblem, SpreadsheetFileError
from bot.spreadsheets.texts import file_problem_text
from bot.telegram.i18n import in_locale
from db.engine import SessionMaker
from db.models import RoadmapItem
from tests.helpers.chat import ADMIN_ID, Chatter, register_admin, rows
from tests.helpers.hostile_files import pdf_file, with_macros, xfd_dimension
from tests.helpers.import_dialog import Files, seed_departments, send_file, texts
from tests.helpers.mocked_bot import MockedBot

CASES = [
    (xfd_dimension, "xfd.xlsx", FileProblem.HUGE_SHEET, "XFD1048576"),
    (with_macros, "macros.xlsm", FileProblem.MACROS, ""),
    (pdf_file, "plan.pdf", FileProblem.PDF, ""),
]


@pytest.fixture
def files(bot: MockedBot, monkeypatch: pytest.MonkeyPatch) -> Files:
    return Files(bot, monkeypatch)


@pytest.mark.parametrize("locale", ["kk", "ru"])
async def test_the_chat_and_the_command_line_answer_alike(
    locale: str,
    chatter: Chatter,
    files: Files,
    session_maker: SessionMaker,
    clock: FrozenClock,
    settings: Settings,
    i18n: I18n,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await register_admin(chatter, locale)
    await seed_departments(session_maker, clock)
    await chatter.send(ADMIN_ID, "/import")
    for make, name, problem, detail in CASES:
        data = make()
        with in_locale(i18n, locale):
            expected = file_problem_text(SpreadsheetFileError(problem, detail=detail))
        answer = await send_file(chatter, files, name, data, name)
        assert texts(answer)[-1] == expected
        path = tmp_path / name
        path.write_bytes(data)
        assert await cli_import(settings, path, apply=False, locale=locale) != 0
        assert capsys.readouterr().err.strip() == expected
    assert await rows(session_maker, RoadmapItem) == []

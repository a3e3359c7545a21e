"""The command line: `--help` without the bot, and `--locale` for the import and the export."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.app.cli import build_parser, main
from bot.core.catalogs import load_translations
from tests.helpers.chat import TEST_TOKEN

EMPTY = "The file is empty: there are no rows to import."
ITEMS = "Items"


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("BOT_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("DEFAULT_LOCALE", "ru")
    return tmp_path


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in (
        "run",
        "migrate",
        "compile-catalogs",
        "import",
        "export",
        "seed-demo",
        "doctor",
    ):
        assert command in out


def test_locale_must_be_kk_or_ru(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "x.xlsx", "--locale", "en"])
    assert "kk" in capsys.readouterr().err


@pytest.mark.parametrize(("flag", "locale"), [([], "ru"), (["--locale", "kk"], "kk")])
def test_import_speaks_the_given_language(
    configured: Path, capsys: pytest.CaptureFixture[str], flag: list[str], locale: str
) -> None:
    source = configured / "roadmap.csv"
    source.write_bytes(b"code;title_kk;title_ru;department;deadline\r\n")
    assert main(["import", str(source), *flag]) == 2
    expected = load_translations(locale).gettext(EMPTY)
    assert expected != EMPTY  # translated, not the English id
    assert capsys.readouterr().err.strip() == expected


@pytest.mark.parametrize(("flag", "locale"), [([], "ru"), (["--locale", "kk"], "kk")])
def test_export_speaks_the_given_language(configured: Path, flag: list[str], locale: str) -> None:
    target = configured / "out.xlsx"
    assert main(["export", str(target), *flag]) == 0
    sheet = load_translations(locale).gettext(ITEMS)
    assert sheet != ITEMS
    assert load_workbook(target).sheetnames[0] == sheet


@pytest.mark.parametrize("token", ["", "  ", "put-your-token-from-BotFather-here"])
def test_an_unedited_token_says_where_to_put_the_real_one(token: str) -> None:
    from pydantic import ValidationError

    from bot.app.config import Settings, describe_settings_error

    with pytest.raises(ValidationError) as error:
        Settings(_env_file=None, bot_token=token)  # type: ignore[call-arg]
    assert describe_settings_error(error.value) == (
        "Configuration error: put the token from @BotFather into BOT_TOKEN in .env; "
        "no token yet: try ./scripts/run.sh sandbox"
    )


def test_the_example_env_file_holds_the_placeholder() -> None:
    from bot.app.config import TOKEN_PLACEHOLDERS

    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    (line,) = [line for line in example.splitlines() if line.startswith("BOT_TOKEN=")]
    assert line.removeprefix("BOT_TOKEN=").lower() in TOKEN_PLACEHOLDERS

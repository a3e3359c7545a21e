"""`python -m bot doctor`: every line of the checklist, ✓ and ✗, and the exit status."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.config import Settings
from bot.app.doctor import (
    Check,
    check_backlog,
    check_catalogs,
    check_database,
    check_failed,
    check_holiday_data,
    check_last_poll,
    check_secretariat,
    check_today,
    check_token,
    kz_holidays,
    render,
    run_checks,
    telegram_get_me,
)
from bot.core.catalogs import LOCALES_DIR, compile_catalogs, load_translations
from bot.core.clock import FrozenClock
from bot.core.heartbeat import last_poll, record_poll
from bot.sandbox.emulator import BotApiEmulator
from bot.telegram.heartbeat import PollHeartbeat
from bot.workdays.calendar import WorkCalendar
from db.engine import SessionMaker, create_engine
from db.models import Notification, Person, Role
from tests.helpers.chat import ADMIN_ID, START_MOMENT, TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]
EN = load_translations("en")  # no catalog: the English message ids
OTHER_TOKEN = "7000000001:AAE-someoneelsestokenabcdefghijklmnop"


def at_emulator(settings: Settings, emulator: BotApiEmulator, **extra: object) -> Settings:
    return settings.model_copy(update={"telegram_api_url": emulator.base_url, **extra})


# --- token (getMe) ---


async def test_a_valid_token_names_the_bot(settings: Settings, emulator: BotApiEmulator) -> None:
    check = await check_token(at_emulator(settings, emulator), EN, telegram_get_me)
    assert check.ok, check
    assert "@roadmap_test_bot" in check.text
    assert [r.method for r in emulator.requests] == ["getMe"]


async def test_a_rejected_token_says_where_to_get_one(
    settings: Settings, emulator: BotApiEmulator
) -> None:
    from pydantic import SecretStr

    wrong = at_emulator(settings, emulator, bot_token=SecretStr(OTHER_TOKEN))
    check = await check_token(wrong, EN, telegram_get_me)
    assert not check.ok
    assert "rejects" in check.text
    assert "@BotFather" in check.fix and "BOT_TOKEN" in check.fix


async def test_an_unreachable_telegram_names_the_address(settings: Settings) -> None:
    nowhere = settings.model_copy(update={"telegram_api_url": "http://127.0.0.1:9"})
    check = await check_token(nowhere, EN, telegram_get_me)
    assert not check.ok
    assert "http://127.0.0.1:9" in check.text
    assert "TELEGRAM_API_URL" in check.fix


# --- database ---


async def test_a_migrated_database_passes(engine: AsyncEngine) -> None:
    check = await check_database(engine, EN)
    assert check.ok, check
    assert "migrated" in check.text


async def test_an_empty_database_asks_for_migrate(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        check = await check_database(engine, EN)
    finally:
        await engine.dispose()
    assert not check.ok
    assert "empty" in check.text
    assert "migrate" in check.fix


async def test_an_unreachable_database_names_the_setting() -> None:
    engine = create_engine("postgresql+asyncpg://nobody:secret@127.0.0.1:1/nothing")
    try:
        check = await check_database(engine, EN)
    finally:
        await engine.dispose()
    assert not check.ok
    assert "not reachable" in check.text
    assert "DATABASE_URL" in check.fix


# --- catalogs ---


def test_catalogs_compiled_or_not(tmp_path: Path) -> None:
    for locale in ("kk", "ru"):
        folder = tmp_path / locale / "LC_MESSAGES"
        folder.mkdir(parents=True)
        shutil.copy(LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po", folder)
    missing = check_catalogs(EN, tmp_path)
    assert not missing.ok
    assert "kk, ru" in missing.text
    assert "compile-catalogs" in missing.fix
    compile_catalogs(tmp_path)
    assert check_catalogs(EN, tmp_path).ok
    stale = tmp_path / "ru" / "LC_MESSAGES" / "messages.po"
    os.utime(stale, (stale.stat().st_mtime + 10, stale.stat().st_mtime + 10))
    again = check_catalogs(EN, tmp_path)
    assert not again.ok and "ru" in again.text and "kk" not in again.text


# --- time zone and today ---


def almaty(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)  # 11:00 in Almaty


@pytest.mark.parametrize(
    ("day", "overrides", "expected"),
    [
        (date(2025, 3, 3), {}, "a working day"),
        (date(2025, 3, 1), {}, "a weekend day"),
        (date(2025, 5, 1), {}, "a public holiday: Kazakhstan's People Solidarity Holiday"),
        (date(2025, 3, 4), {date(2025, 3, 4): True}, "a day off (set with /holiday)"),
        (date(2025, 3, 1), {date(2025, 3, 1): False}, "a working day (set with /holiday)"),
    ],
)
def test_today_in_the_council_time_zone(
    settings: Settings, day: date, overrides: dict[date, bool], expected: str
) -> None:
    check = check_today(settings, almaty(day), WorkCalendar(settings.tz, overrides), EN, "en")
    assert check.ok
    assert "Asia/Almaty" in check.text and "11:00" in check.text
    assert expected in check.text


@pytest.mark.parametrize(
    ("locale", "day", "expected"),
    [
        ("kk", date(2025, 5, 1), "мереке күні: Қазақстан халқының бірлігі мерекесі."),
        ("ru", date(2025, 5, 1), "Праздник единства народа Казахстана."),
        ("kk", date(2025, 3, 24), "Наурыз мейрамы (ауыстырылған демалыс күні)"),
        ("ru", date(2025, 3, 24), "Праздник Наурыз (перенесённый выходной)"),
        ("ru", date(2025, 1, 3), "Выходной день (перенесён с 01.05.2025)"),
    ],
)
def test_holidays_are_named_in_the_readers_language_whatever_the_server_locale(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, locale: str, day: date, expected: str
) -> None:
    """Issue 22 (B7): the package's names depend on LANG (English in the Docker image) and it
    has no Russian; the bot names the days from its own catalog."""
    for lang in ("C.UTF-8", "kk_KZ.UTF-8"):
        monkeypatch.setenv("LANG", lang)
        check = check_today(
            settings, almaty(day), WorkCalendar(settings.tz), load_translations(locale), locale
        )
        assert expected in check.text, check.text


def test_today_is_written_in_the_readers_language(settings: Settings) -> None:
    check = check_today(
        settings, almaty(date(2025, 3, 3)), WorkCalendar(settings.tz), load_translations("ru"), "ru"
    )
    assert "3 марта 2025" in check.text and "понедельник" in check.text
    assert "Часовой пояс" in check.text


# --- holiday data ---


def test_holiday_data_for_this_year_and_next(settings: Settings) -> None:
    now = almaty(date(2025, 12, 31))
    check = check_holiday_data(now, settings, kz_holidays, EN)
    assert check.ok, check
    assert "2025" in check.text and "2026" in check.text

    def only_this_year(year: int) -> dict[date, str]:
        return dict(kz_holidays(year)) if year == 2025 else {}

    missing = check_holiday_data(now, settings, only_this_year, EN)
    assert not missing.ok
    assert "2026" in missing.text and "2025" not in missing.text
    assert "/holiday" in missing.fix


# --- the secretariat ---


def test_who_holds_the_secretariat_role() -> None:
    names = [f"Person {n} ({n})" for n in range(7)]
    check = check_secretariat(names, frozenset(), EN)
    assert check.ok
    assert "Person 0 (0)" in check.text and "and 2 more" in check.text
    nobody = check_secretariat([], frozenset(), EN)
    assert not nobody.ok and "ADMIN_IDS" in nobody.fix
    configured = check_secretariat([], frozenset({ADMIN_ID}), EN)
    assert not configured.ok and str(ADMIN_ID) in configured.fix and "/start" in configured.fix


# --- the outbox ---


def test_outbox_backlog() -> None:
    now = START_MOMENT
    assert check_backlog(0, None, now, EN).ok
    fresh = check_backlog(3, now - timedelta(minutes=2), now, EN)
    assert fresh.ok and "3 messages wait" in fresh.text
    stuck = check_backlog(40, now - timedelta(minutes=25), now, EN)
    assert not stuck.ok
    assert "40 messages" in stuck.text and "25 minutes" in stuck.text
    assert "log" in stuck.fix


def test_failed_deliveries() -> None:
    assert check_failed(0, EN).ok
    one = check_failed(1, EN)
    assert not one.ok and "1 delivery failed" in one.text
    assert "last_error" in one.fix


# --- the last successful poll ---


def test_last_successful_poll(tmp_path: Path) -> None:
    path = tmp_path / "data" / "last-poll"
    now = START_MOMENT
    never = check_last_poll(path, now, EN)
    assert not never.ok and str(path) in never.text and "run.sh" in never.fix
    record_poll(path, now - timedelta(seconds=12))
    recent = check_last_poll(path, now, EN)
    assert recent.ok and "12 seconds ago" in recent.text
    record_poll(path, now - timedelta(minutes=5))
    assert not check_last_poll(path, now, EN).ok
    path.write_text("garbage")
    assert not check_last_poll(path, now, EN).ok


async def test_each_successful_get_updates_is_recorded(
    settings: Settings, emulator: BotApiEmulator, tmp_path: Path
) -> None:
    from bot.app.factory import create_bot

    path = tmp_path / "last-poll"
    clock = FrozenClock(START_MOMENT)
    bot = create_bot(at_emulator(settings, emulator))
    bot.session.middleware(PollHeartbeat(path, clock))
    try:
        await bot.get_me()
        assert last_poll(path) is None  # only getUpdates counts
        await bot.get_updates(timeout=0)
        assert last_poll(path) == START_MOMENT
        clock.advance(timedelta(seconds=30))
        await bot.get_updates(timeout=0)
        assert last_poll(path) == START_MOMENT + timedelta(seconds=30)
    finally:
        await bot.session.close()


# --- the whole checklist over a database ---


async def test_full_checklist_over_the_database(
    settings: Settings, engine: AsyncEngine, session_maker: SessionMaker, emulator: BotApiEmulator
) -> None:
    clock = FrozenClock(START_MOMENT)
    live = at_emulator(settings, emulator)

    async def run() -> list[Check]:
        return await run_checks(
            live,
            quick=False,
            tr=EN,
            locale="en",
            clock=clock,
            holidays_for=kz_holidays,
            get_me=telegram_get_me,
        )

    checks = await run()
    assert len(checks) == 10
    assert "The dashboard is off: PUBLIC_URL is not set." in checks[-2].text
    assert checks[-1].text == "Mode: long polling, one process (Redis is not used)."
    failing = [c.text for c in checks if not c.ok]
    assert failing == ["Nobody holds the secretariat role."]

    async with session_maker() as session:
        session.add(
            Person(
                telegram_id=ADMIN_ID,
                display_name="Aigerim",
                role=Role.SECRETARIAT,
                created_at=START_MOMENT,
                updated_at=START_MOMENT,
            )
        )
        for n, state in enumerate(["pending", "pending", "failed", "sent"]):
            session.add(
                Notification(
                    idempotency_key=f"k{n}",
                    kind="test",
                    chat_id=n,
                    payload="{}",
                    state=state,
                    not_before=START_MOMENT - timedelta(hours=1),
                    created_at=START_MOMENT - timedelta(hours=1),
                )
            )
        await session.commit()
    checks = await run()
    assert all(c.ok for c in checks[:5]), render(checks)
    secretariat, backlog, failed, dashboard, mode = checks[5:]
    assert dashboard.ok and mode.ok
    assert secretariat.ok and f"Aigerim ({ADMIN_ID})" in secretariat.text
    assert not backlog.ok and "2 messages" in backlog.text and "60 minutes" in backlog.text
    assert not failed.ok and "1 delivery" in failed.text


async def test_quick_checks_database_and_poll_only(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    clock = FrozenClock(START_MOMENT)
    beat = tmp_path / "last-poll"
    quick = settings.model_copy(update={"heartbeat_file": beat})

    async def fail_get_me(_: Settings) -> str:
        raise AssertionError("the health check must not call Telegram")

    async def run() -> list[Check]:
        return await run_checks(
            quick,
            quick=True,
            tr=EN,
            locale="en",
            clock=clock,
            holidays_for=kz_holidays,
            get_me=fail_get_me,
        )

    database, poll = await run()
    assert database.ok and not poll.ok
    record_poll(beat, START_MOMENT - timedelta(seconds=5))
    assert all(c.ok for c in await run())


def test_render_shows_the_fix_under_each_problem() -> None:
    text = render([Check(True, "fine", "unused"), Check(False, "broken", "do this")])
    assert text.splitlines() == ["✓ fine", "✗ broken", "  → do this"]


# --- the command line ---


def run_cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_doctor_quick_command_exit_status_and_language(tmp_path: Path) -> None:
    env = {"BOT_TOKEN": TEST_TOKEN, "DATABASE_URL": "sqlite+aiosqlite:///data/bot.db"}
    assert run_cli(["migrate"], tmp_path, **env).returncode == 0
    unhealthy = run_cli(["doctor", "--quick", "--locale", "ru"], tmp_path, **env)
    assert unhealthy.returncode == 1, unhealthy.stderr
    assert "✓" in unhealthy.stdout and "✗" in unhealthy.stdout
    assert "База данных" in unhealthy.stdout
    record_poll(tmp_path / "data" / "last-poll", datetime.now(UTC))
    healthy = run_cli(["doctor", "--quick", "--locale", "kk"], tmp_path, **env)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "✗" not in healthy.stdout
    assert healthy.stderr == ""  # no library log lines around the checklist


def test_a_configuration_error_imports_neither_aiogram_nor_a_feature(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from bot.app.cli import main\n"
        "try:\n    main(['doctor'])\nexcept SystemExit as exit:\n    print(exit.code)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'aiogram', 'handlers', 'db'}"
        " or m.startswith(('bot.risk', 'bot.spreadsheets', 'bot.app.factory'))))\n"
    )
    clean = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.splitlines() == ["2", "[]"], result.stdout + result.stderr
    assert "BOT_TOKEN is required" in result.stderr

"""`python -m bot doctor`: a checklist for when something is off, each line ✓ or ✗ with the fix.

`--quick` checks only the database and the last successful poll: it is the container's health
check, so it never talks to Telegram and never imports aiogram. Texts come straight from the
compiled catalogs (babel), in the language given by `--locale`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from babel.dates import format_date, format_time
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot.app.config import Settings
from bot.core.catalogs import LOCALES_DIR, SUPPORTED_LOCALES, load_translations, stale_catalogs
from bot.core.clock import Clock, SystemClock
from bot.core.faults import first_line
from bot.core.heartbeat import last_poll
from bot.core.secrets import scrub
from bot.workdays.calendar import WorkCalendar, load_calendar
from bot.workdays.holiday_names import holiday_label
from db import queries
from db.engine import create_engine, create_session_maker
from db.migrate import current_revisions, expected_heads
from db.models import Notification, Role

EXIT_OK = 0
EXIT_PROBLEM = 1
DATABASE_TIMEOUT = 10.0  # seconds: an unreachable server must not hang the health check
POLL_STALE_AFTER = timedelta(minutes=2)  # the bot long-polls every 10 s while idle
OUTBOX_STUCK_AFTER = timedelta(minutes=10)  # a due message this old means nobody is delivering
FAILED_WINDOW = timedelta(days=7)
SHOWN_NAMES = 5


class Texts(Protocol):
    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str
    fix: str = ""


HolidaysFor = Callable[[int], Mapping[date, str]]
GetMe = Callable[[Settings], Awaitable[str]]
PingRedis = Callable[[str], Awaitable[None]]
REDIS_TIMEOUT = 5.0  # seconds


def kz_holidays(year: int) -> Mapping[date, str]:
    """Kazakhstan's public holidays and transferred days off, as the bot's calendar sees them."""
    from bot.workdays.kazakhstan import kazakhstan_holidays

    return kazakhstan_holidays(year)


async def telegram_get_me(settings: Settings) -> str:
    """The bot's @username from getMe; raises what aiogram raises."""
    from bot.app.factory import create_bot

    bot = create_bot(settings)
    try:
        me = await bot.get_me()
    finally:
        await bot.session.close()
    return me.username or me.first_name


async def check_token(settings: Settings, tr: Texts, get_me: GetMe) -> Check:
    from aiogram.exceptions import AiogramError, TelegramAPIError, TelegramUnauthorizedError

    try:
        username = await get_me(settings)
    except TelegramUnauthorizedError:
        return Check(
            False,
            tr.gettext("Telegram rejects the bot token."),
            tr.gettext(
                "Put the token from @BotFather into BOT_TOKEN in .env (after /revoke there, "
                "the new one), then restart the bot."
            ),
        )
    except (TelegramAPIError, OSError, TimeoutError, AiogramError, ValueError) as error:
        # Network errors, 5xx, and an answer that is not Telegram's (a proxy's page, which
        # may echo the URL and the token in it): the reason, with any token masked.
        return Check(
            False,
            tr.gettext("Telegram is not reachable at {url}: {error}").format(
                url=settings.telegram_api_url, error=first_line(error)
            ),
            tr.gettext("Check the network, the firewall or proxy, and TELEGRAM_API_URL."),
        )
    return Check(
        True, tr.gettext("The token is valid: the bot is @{username}.").format(username=username)
    )


async def check_database(engine: AsyncEngine, tr: Texts) -> Check:
    """Reachable, and at the schema this code expects (the bot migrates at start)."""
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            current = await current_revisions(engine)
    except Exception as error:  # whatever the driver raises, the answer is "not reachable"
        return Check(
            False,
            tr.gettext("The database is not reachable: {error}").format(error=first_line(error)),
            tr.gettext(
                "Check DATABASE_URL in .env; for PostgreSQL, that the server runs and the "
                "user and password are right."
            ),
        )
    expected = expected_heads()
    if current != expected:
        return Check(
            False,
            tr.gettext(
                "The database schema is at {current}; this version needs {expected}."
            ).format(
                current=", ".join(sorted(current)) or tr.gettext("none (an empty database)"),
                expected=", ".join(sorted(expected)),
            ),
            tr.gettext("Run ./scripts/run.sh migrate (the bot also migrates when it starts)."),
        )
    return Check(
        True,
        tr.gettext("The database is reachable and migrated ({revision}).").format(
            revision=", ".join(sorted(current))
        ),
    )


def check_catalogs(tr: Texts, path: Path) -> Check:
    missing = [
        locale
        for locale in SUPPORTED_LOCALES
        if not (path / locale / "LC_MESSAGES" / "messages.mo").exists()
    ]
    stale = [po.parent.parent.name for po in stale_catalogs(path)]
    problems = sorted(set(missing) | set(stale))
    if problems:
        return Check(
            False,
            tr.gettext("Translations not compiled: {locales}.").format(locales=", ".join(problems)),
            tr.gettext("Run python -m bot compile-catalogs (run.sh does it at every start)."),
        )
    return Check(
        True,
        tr.gettext("Translations compiled: {locales}.").format(
            locales=", ".join(SUPPORTED_LOCALES)
        ),
    )


def check_today(
    settings: Settings, now: datetime, calendar: WorkCalendar, tr: Texts, locale: str
) -> Check:
    """Informational: the time zone the bot works in and what today is there."""
    local = now.astimezone(settings.tz)
    today = local.date()
    holiday = calendar.holiday_name(today)
    if today in calendar.overrides:
        status = (
            tr.gettext("a day off (set with /holiday)")
            if calendar.overrides[today]
            else tr.gettext("a working day (set with /holiday)")
        )
    elif calendar.is_working_day(today):
        status = tr.gettext("a working day")
    elif holiday:
        status = tr.gettext("a public holiday: {name}").format(
            name=holiday_label(holiday, tr.gettext)
        )
    else:
        status = tr.gettext("a weekend day: nothing is sent until the next working morning")
    return Check(
        True,
        tr.gettext("Time zone {zone}: it is {time}, {day}, {status}.").format(
            zone=settings.timezone,
            time=format_time(local.time(), format="short", locale=locale),
            day=format_date(today, format="full", locale=locale),
            status=status,
        ),
    )


def check_holiday_data(
    now: datetime, settings: Settings, holidays_for: HolidaysFor, tr: Texts
) -> Check:
    year = now.astimezone(settings.tz).year
    counts = {y: len(holidays_for(y)) for y in (year, year + 1)}
    empty = [str(y) for y, count in counts.items() if count == 0]
    if empty:
        return Check(
            False,
            tr.gettext("No public holidays known for {years}.").format(years=", ".join(empty)),
            tr.gettext(
                "Update the holidays package (scripts/lock.sh, then reinstall); until then "
                "declare days off with /holiday add."
            ),
        )
    return Check(
        True,
        tr.gettext(
            "Public holidays known: {first} ({first_count}) and {second} ({second_count})."
        ).format(
            first=year,
            first_count=counts[year],
            second=year + 1,
            second_count=counts[year + 1],
        ),
    )


def check_secretariat(names: Sequence[str], admin_ids: frozenset[int], tr: Texts) -> Check:
    if not names:
        if admin_ids:
            fix = tr.gettext(
                "Send /start to the bot from the account in ADMIN_IDS ({ids})."
            ).format(ids=", ".join(str(i) for i in sorted(admin_ids)))
        else:
            fix = tr.gettext(
                "Put your Telegram id into ADMIN_IDS in .env, restart the bot and send /start "
                "(a stranger's /start shows the id)."
            )
        return Check(False, tr.gettext("Nobody holds the secretariat role."), fix)
    shown = ", ".join(names[:SHOWN_NAMES])
    more = len(names) - SHOWN_NAMES
    if more > 0:
        shown += " " + tr.ngettext("and {n} more", "and {n} more", more).format(n=more)
    return Check(True, tr.gettext("Secretariat: {names}.").format(names=shown))


def check_backlog(due: int, oldest_due: datetime | None, now: datetime, tr: Texts) -> Check:
    waiting = tr.ngettext(
        "{n} message waits to be sent", "{n} messages wait to be sent", due
    ).format(n=due)
    if oldest_due is not None and now - oldest_due > OUTBOX_STUCK_AFTER:
        minutes = int((now - oldest_due).total_seconds() // 60)
        return Check(
            False,
            tr.ngettext(
                "Outbox: {waiting}, the oldest for {minutes} minute.",
                "Outbox: {waiting}, the oldest for {minutes} minutes.",
                minutes,
            ).format(waiting=waiting, minutes=minutes),
            tr.gettext(
                "Nothing is delivering: make sure the bot runs (one instance) and read its log."
            ),
        )
    return Check(True, tr.gettext("Outbox: {waiting}.").format(waiting=waiting))


def check_failed(failed: int, tr: Texts) -> Check:
    if failed:
        return Check(
            False,
            tr.ngettext(
                "{n} delivery failed in the last 7 days.",
                "{n} deliveries failed in the last 7 days.",
                failed,
            ).format(n=failed),
            tr.gettext(
                "Telegram refused these messages; the reason is in the notification table "
                "(last_error) and in the bot's log."
            ),
        )
    return Check(True, tr.gettext("No failed deliveries in the last 7 days."))


def check_dashboard(settings: Settings, tr: Texts) -> Check:
    """Not a problem either way: says whether the Mini App is served, and why not."""
    if settings.dashboard_url is None:
        return Check(
            True,
            tr.gettext(
                "The dashboard is off: PUBLIC_URL is not set. To turn it on, put into it the "
                "HTTPS address of a reverse proxy that forwards to WEB_HOST:WEB_PORT."
            ),
        )
    return Check(
        True,
        tr.gettext("The dashboard opens at {url} (served on {host}:{port}).").format(
            url=settings.dashboard_url, host=settings.web_host, port=settings.web_port
        ),
    )


async def ping_redis(url: str) -> None:
    """PING, or raise what redis-py raises (imported here: polling never needs it)."""
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)
    try:
        await client.ping()
    finally:
        await client.aclose()


def redis_address(url: str) -> str:
    """host:port/db of a Redis URL, without its user and password."""
    parts = urlsplit(url)
    return f"{parts.hostname or '?'}:{parts.port or 6379}{parts.path or '/0'}"


async def check_mode(settings: Settings, tr: Texts, ping: PingRedis) -> Check:
    """Polling needs nothing more; webhook mode needs its URL, its secret and Redis."""
    if settings.bot_mode != "webhook":
        return Check(
            True,
            tr.gettext("Mode: long polling, one process (Redis is not used)."),
        )
    assert settings.redis_url is not None  # Settings require it in webhook mode
    address = redis_address(settings.redis_url)
    try:
        async with asyncio.timeout(REDIS_TIMEOUT * 2):
            await ping(settings.redis_url)
    except Exception as error:  # whatever the client raises, Redis is not reachable
        return Check(
            False,
            tr.gettext("Webhook mode: Redis at {address} is not reachable: {error}").format(
                address=address, error=first_line(error)
            ),
            tr.gettext(
                "Check REDIS_URL in .env and that Redis runs; until it answers, every "
                "update is refused and Telegram keeps it for a later try."
            ),
        )
    return Check(
        True,
        tr.gettext(
            "Mode: webhook at {url} (secret set), Redis at {address} answers. "
            "python -m bot webhook info shows what Telegram has."
        ).format(url=settings.webhook_url, address=address),
    )


def check_last_poll(path: Path, now: datetime, tr: Texts) -> Check:
    moment = last_poll(path)
    fix = tr.gettext(
        "Start the bot (./scripts/run.sh); if it runs, its log says why it cannot reach Telegram."
    )
    if moment is None:
        return Check(
            False, tr.gettext("No successful poll recorded in {path}.").format(path=path), fix
        )
    seconds = max(0, int((now - moment).total_seconds()))
    text = tr.ngettext(
        "Last successful poll {n} second ago.", "Last successful poll {n} seconds ago.", seconds
    ).format(n=seconds)
    if now - moment > POLL_STALE_AFTER:
        return Check(False, text, fix)
    return Check(True, text)


async def _outbox_figures(engine: AsyncEngine, now: datetime) -> tuple[int, datetime | None, int]:
    async with create_session_maker(engine)() as session:
        due = select(func.count(), func.min(Notification.not_before)).where(
            Notification.state == "pending", col(Notification.not_before) <= now
        )
        count, oldest = (await session.exec(due)).one()
        failed = select(func.count()).where(
            Notification.state == "failed", col(Notification.created_at) >= now - FAILED_WINDOW
        )
        failed_count = (await session.exec(failed)).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite returns naive UTC
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), oldest, int(failed_count)


async def run_checks(
    settings: Settings,
    *,
    quick: bool,
    tr: Texts,
    locale: str,
    clock: Clock,
    holidays_for: HolidaysFor,
    get_me: GetMe,
    ping: PingRedis = ping_redis,
) -> list[Check]:
    now = clock.now()
    engine = create_engine(settings.database_url)
    try:
        database = await check_database(engine, tr)
        if quick:
            if settings.bot_mode == "webhook":  # no polling to record: Redis instead
                return [database, await check_mode(settings, tr, ping)]
            return [database, check_last_poll(settings.heartbeat_file, now, tr)]
        checks = [await check_token(settings, tr, get_me), database]
        checks.append(check_catalogs(tr, LOCALES_DIR))
        calendar = WorkCalendar(settings.tz)
        names: list[str] = []
        if database.ok:
            async with create_session_maker(engine)() as session:
                calendar = await load_calendar(session, settings.tz)
                people = await queries.active_people_with_role(session, Role.SECRETARIAT)
            names = sorted(f"{p.display_name} ({p.telegram_id})" for p in people)
        checks.append(check_today(settings, now, calendar, tr, locale))
        checks.append(check_holiday_data(now, settings, holidays_for, tr))
        if database.ok:
            due, oldest, failed = await _outbox_figures(engine, now)
            checks.append(check_secretariat(names, settings.admin_ids, tr))
            checks.append(check_backlog(due, oldest, now, tr))
            checks.append(check_failed(failed, tr))
        checks.append(check_dashboard(settings, tr))
        checks.append(await check_mode(settings, tr, ping))
        return checks
    finally:
        await engine.dispose()


def render(checks: Sequence[Check]) -> str:
    lines = []
    for check in checks:
        lines.append(f"{'✓' if check.ok else '✗'} {check.text}")
        if not check.ok and check.fix:
            lines.append(f"  → {check.fix}")
    return "\n".join(lines)


async def doctor_command(settings: Settings, *, quick: bool, locale: str) -> int:
    checks = await run_checks(
        settings,
        quick=quick,
        tr=load_translations(locale),
        locale=locale,
        clock=SystemClock(),
        holidays_for=kz_holidays,
        get_me=telegram_get_me,
    )
    print(scrub(render(checks), settings.bot_token.get_secret_value()))
    return EXIT_OK if all(check.ok for check in checks) else EXIT_PROBLEM

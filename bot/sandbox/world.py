"""The sandbox's settings and people: a fake token that Telegram could never accept, a
database of its own under data/sandbox/, the demo Road Map, and the four people to play.

Safe by construction: `sandbox_settings` reads nothing from `.env` (where the production
token and database live), and `ensure_safe` refuses to start with anything but the fake token
and an emulator on the loopback interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from urllib.parse import urlsplit

from bot.app.config import Settings
from bot.roadmap.demo import seed_demo
from bot.telegram.i18n import N_
from db import queries
from db.engine import SessionMaker
from db.models import Person, Role

# Shaped like a token (the settings check the shape) but refused by Telegram: its secret
# says what it is. The bot id before the colon is the emulator's bot.
SANDBOX_TOKEN = "7000000001:SANDBOX-this-token-is-fake-and-never-leaves-127-0-0-1"
SANDBOX_DIR = Path("data/sandbox")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class UnsafeSandboxError(RuntimeError):
    """The sandbox was about to run with a real-looking token or a non-local Telegram."""


@dataclass(frozen=True)
class Persona:
    """Somebody the page lets you be: a Telegram user of the emulator, and (except the
    secretariat, who joins by /start as the README's first step) a person of the bot."""

    key: str
    telegram_id: int
    first_name: str
    language_code: str
    label: str  # a message id: the page shows it in its own language
    role: Role | None = None
    department: str | None = None  # a department's code (or "chair": a newcomer's invitation)


SECRETARIAT = Persona("secretariat", 7100001, "Айгерім", "kk", N_("The secretariat"))
CHAIR = Persona("chair", 7100002, "Бахытжан", "ru", N_("The chair"), Role.CHAIR)
KK_HEAD = Persona(
    "head_kk", 7100003, "Ерлан", "kk", N_("Head, education (Kazakh)"), Role.MEMBER, "education"
)
RU_HEAD = Persona(
    "head_ru", 7100004, "Ольга", "ru", N_("Head, health (Russian)"), Role.MEMBER, "health"
)
PERSONAS = (SECRETARIAT, CHAIR, KK_HEAD, RU_HEAD)
NEWCOMER_IDS_FROM = 7100101  # people added on the page through an invitation


def sandbox_settings(api_url: str, data_dir: Path = SANDBOX_DIR) -> Settings:
    """The bot's settings for the sandbox: nothing from `.env`, the fake token, the emulator,
    and a SQLite database in `data_dir`."""
    settings = Settings(
        _env_file=None,
        bot_token=SANDBOX_TOKEN,
        telegram_api_url=api_url,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'bot.db'}",
        admin_ids=frozenset({SECRETARIAT.telegram_id}),
        heartbeat_file=data_dir / "last-poll",
        public_url=None,
    )
    ensure_safe(settings)
    return settings


def ensure_safe(settings: Settings) -> None:
    """Refuse anything that could reach Telegram or a production database."""
    if settings.bot_token.get_secret_value() != SANDBOX_TOKEN:
        raise UnsafeSandboxError("the sandbox runs with its own fake token only")
    host = urlsplit(settings.telegram_api_url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise UnsafeSandboxError("the sandbox talks to its emulator on 127.0.0.1 only")
    scheme, _, path = settings.database_url.partition(":///")
    if scheme != "sqlite+aiosqlite" or "sandbox" not in Path(path).parts:
        raise UnsafeSandboxError("the sandbox keeps its database under data/sandbox/")


def fresh_database(data_dir: Path) -> None:
    """Each start plays from the beginning: the demo goes into an empty database."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in ("bot.db", "bot.db-wal", "bot.db-shm", "last-poll"):
        (data_dir / name).unlink(missing_ok=True)


async def populate(session_maker: SessionMaker, now: datetime, tz: tzinfo) -> None:
    """The demo Road Map, the chair and two heads, as the secretariat would have invited
    them (the invitation itself is what "add a person" on the page plays)."""
    async with session_maker() as session:
        await seed_demo(session, now=now, tz=tz)
        for persona in PERSONAS:
            if persona.role is None:
                continue
            department = None
            if persona.department is not None:
                department = await queries.department_by_code(session, persona.department)
            session.add(
                Person(
                    telegram_id=persona.telegram_id,
                    display_name=persona.first_name,
                    role=persona.role,
                    locale=persona.language_code,
                    department_id=department.id if department else None,
                    created_at=now,
                    updated_at=now,
                )
            )
        await session.commit()

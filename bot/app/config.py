"""The bot's configuration: one settings class read from the environment or `.env`."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.catalogs import SUPPORTED_LOCALES as SUPPORTED_LOCALES
from bot.core.weekly import WeeklyTime, parse_daily, parse_weekly

if TYPE_CHECKING:
    from bot.risk.rules import RiskThresholds

TELEGRAM_DEFAULT_API_URL = "https://api.telegram.org"
TOKEN_PLACEHOLDERS = frozenset({"", "put-your-token-from-botfather-here"})
PLACEHOLDER_TOKEN_ERROR = "token_placeholder"
_TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,}$")
_WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class Settings(BaseSettings):
    """Everything the bot reads from its environment; `.env.example` documents each key."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr
    telegram_api_url: str = TELEGRAM_DEFAULT_API_URL
    database_url: str = "sqlite+aiosqlite:///data/bot.db"
    database_pool_size: int = Field(default=5, ge=1, le=100)
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(default_factory=frozenset)
    timezone: str = "Asia/Almaty"
    default_locale: str = "kk"
    invite_ttl_days: int = Field(default=7, ge=1, le=90)
    # /request_now leaves out items their department updated this many hours ago or less.
    request_skip_hours: float = Field(default=4.0, ge=0, le=168)
    send_rate_per_second: float = Field(default=29.0, gt=0)
    chat_rate_per_second: float = Field(default=1.0, gt=0)
    group_rate_per_minute: float = Field(default=20.0, gt=0)
    request_retries: int = Field(default=3, ge=0, le=10)
    request_max_wait_seconds: float = Field(default=30.0, gt=0, le=600)
    risk_stale_days: int = Field(default=14, ge=1)
    risk_missed_rounds: int = Field(default=2, ge=1)
    risk_behind_plan_points: int = Field(default=25, ge=1, le=100)
    risk_flat_rounds: int = Field(default=3, ge=2)
    risk_flat_remaining_fraction: float = Field(default=1 / 3, gt=0, lt=1)
    # Off by default: the backtest (bench/bench_forecast.py, README) warns earlier than "behind
    # plan" but with more false alarms on the histories it generates.
    risk_forecast_probability: float = Field(default=0.0, ge=0, le=1)
    risk_postponements: int = Field(default=2, ge=0)
    alert_check_minutes: int = Field(default=15, ge=1)
    alert_hourly_cap: int = Field(default=4, ge=1)
    # How long after a report its author may still correct it ("Edit my last update").
    correction_window_hours: int = Field(default=24, ge=0, le=24 * 30)
    round_schedule: Annotated[WeeklyTime, NoDecode] = WeeklyTime(("mon",), time(10))
    reminder_time: Annotated[time, NoDecode] = time(9, 30)
    digest_schedule: Annotated[WeeklyTime, NoDecode] = WeeklyTime(("fri",), time(17))
    heartbeat_file: Path = Path("data/last-poll")
    # The dashboard (a Telegram Mini App) is served only when PUBLIC_URL is set.
    public_url: str | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    miniapp_max_age: int = Field(default=24 * 3600, ge=60)  # seconds an initData stays valid
    # polling: one process, no Redis (the embedded default). webhook: Telegram POSTs updates
    # to PUBLIC_URL + WEBHOOK_PATH on the dashboard's server; replicas share REDIS_URL.
    bot_mode: Literal["polling", "webhook"] = "polling"
    webhook_secret: SecretStr | None = None
    webhook_path: str = "/telegram/webhook"
    redis_url: str | None = None
    redis_prefix: str = Field(default="roadmap", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")  # keys' names

    @field_validator("round_schedule", "digest_schedule", mode="before")
    @classmethod
    def _weekly(cls, value: object) -> object:
        if isinstance(value, str):
            parsed = parse_weekly(value)
            if parsed is None:
                raise ValueError("expected days and a time, e.g. 'mon,thu 10:00'")
            return parsed
        return value

    @field_validator("reminder_time", mode="before")
    @classmethod
    def _daily(cls, value: object) -> object:
        if isinstance(value, str):
            parsed = parse_daily(value)
            if parsed is None:
                raise ValueError("expected a time, e.g. '09:30'")
            return parsed
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value().strip().lower() in TOKEN_PLACEHOLDERS:
            raise PydanticCustomError(
                PLACEHOLDER_TOKEN_ERROR,
                "put the token from @BotFather into BOT_TOKEN in .env; "
                "no token yet: try ./scripts/run.sh sandbox",
            )
        if not _TOKEN_PATTERN.fullmatch(value.get_secret_value().strip()):
            raise ValueError("malformed: expected <digits>:<secret> as issued by @BotFather")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",")]
            return frozenset(int(part) for part in parts if part)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("default_locale")
    @classmethod
    def _supported_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("public_url")
    @classmethod
    def _https_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith("https://") or len(value) <= len("https://"):
            raise ValueError("Telegram opens Mini Apps over HTTPS only: https://your.host")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not _WEBHOOK_SECRET_PATTERN.fullmatch(value.get_secret_value().strip()):
            raise ValueError("1-256 characters A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("webhook_path")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        value = value.strip()
        taken = ("/app/", "/healthz", "/readyz", "/metrics")
        if not value.startswith("/") or value.startswith(taken) or " " in value:
            raise ValueError("an absolute path of its own, e.g. /telegram/webhook")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:6379/0")
        return value.strip()

    @model_validator(mode="after")
    def _webhook_needs(self) -> Settings:
        if self.bot_mode == "webhook":
            missing = [
                name
                for name, value in (
                    ("PUBLIC_URL", self.public_url),
                    ("WEBHOOK_SECRET", self.webhook_secret),
                    ("REDIS_URL", self.redis_url),
                )
                if value is None
            ]
            if missing:
                raise ValueError(f"BOT_MODE=webhook needs {', '.join(missing)}")
        return self

    @property
    def webhook_url(self) -> str | None:
        """Where Telegram POSTs updates in webhook mode."""
        return f"{self.public_url}{self.webhook_path}" if self.public_url else None

    @property
    def dashboard_url(self) -> str | None:
        """Where Telegram opens the dashboard, or None when it is off."""
        return f"{self.public_url}/app/" if self.public_url else None

    @field_validator("telegram_api_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/") or TELEGRAM_DEFAULT_API_URL

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def risk_thresholds(self) -> RiskThresholds:
        from bot.risk.rules import RiskThresholds  # the rules load only when asked for

        return RiskThresholds(
            stale_days=self.risk_stale_days,
            missed_rounds=self.risk_missed_rounds,
            behind_plan_points=self.risk_behind_plan_points,
            flat_rounds=self.risk_flat_rounds,
            flat_remaining_fraction=self.risk_flat_remaining_fraction,
            forecast_probability=self.risk_forecast_probability,
            postponements=self.risk_postponements,
        )


def describe_settings_error(error: Exception) -> str:
    """One line naming the offending variables, never their values (the token is a secret)."""
    from pydantic import ValidationError

    if not isinstance(error, ValidationError):
        return f"Configuration error: {error}"
    problems = []
    for item in error.errors():
        if not item["loc"]:  # a rule across settings (webhook mode's needs): its message names them
            problems.append(item.get("msg", "").removeprefix("Value error, "))
            continue
        variable = str(item["loc"][0]).upper()
        if item["type"] == PLACEHOLDER_TOKEN_ERROR:
            problems.append(item["msg"])
            continue
        reason = "is required" if item["type"] == "missing" else "is invalid"
        message = item.get("msg", "")
        if item["type"] != "missing" and message:
            reason = f"is invalid ({message.removeprefix('Value error, ')})"
        problems.append(f"{variable} {reason}")
    return "Configuration error: " + "; ".join(problems)

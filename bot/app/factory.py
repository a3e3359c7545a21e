"""Composition root: builds the Bot, the Dispatcher and everything they depend on.

Nothing here runs at import time; production (`python -m bot`) and the tests call the same
factories with their own settings and clock.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import LinkPreviewOptions, User
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.config import TELEGRAM_DEFAULT_API_URL, Settings
from bot.core.clock import Clock, SystemClock
from bot.core.ratelimit import RateLimiter, Sleep
from bot.core.supervise import keep_trying
from bot.delivery.worker import DeliveryWorker
from bot.scheduling.jobs import Jobs, LateScheduler
from bot.telegram.heartbeat import PollHeartbeat, PollingStarted
from bot.telegram.i18n import PersonI18nMiddleware, build_i18n
from bot.telegram.input import CleanInputMiddleware
from bot.telegram.menus import set_default_menus
from bot.telegram.middlewares import DbSessionMiddleware
from bot.telegram.session import guard_of, install_guard
from bot.usecases.caller import Policy
from bot.usecases.dashboard import dashboard_readers
from bot.usecases.ports import UseCaseContext
from db.engine import SessionMaker, create_engine, create_session_maker
from db.fsm_storage import DatabaseStorage, StepIsolation
from db.migrate import upgrade
from db.reach import wait_for_database
from handlers import get_routers

if TYPE_CHECKING:
    from bot.web.server import WebServer

logger = logging.getLogger(__name__)


# `link_preview` alone: `link_preview_is_disabled` would also send the deprecated
# `disable_web_page_preview` with every message.
DEFAULT_PROPERTIES = DefaultBotProperties(
    parse_mode=ParseMode.HTML, link_preview=LinkPreviewOptions(is_disabled=True)
)


def create_bot(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> Bot:
    # One session: each builds an SSL context from certifi's bundle (20-40 ms of CPU).
    if settings.telegram_api_url != TELEGRAM_DEFAULT_API_URL:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    else:
        session = AiohttpSession()
    bot = Bot(
        token=settings.bot_token.get_secret_value(), session=session, default=DEFAULT_PROPERTIES
    )
    protect(bot, settings, clock=clock, sleep=sleep)
    return bot


def protect(bot: Bot, settings: Settings, *, clock: Callable[[], float], sleep: Sleep) -> None:
    """Every request through the one guard (429s, blips, pacing); see bot/telegram/session.py."""
    install_guard(
        bot,
        max_retries=settings.request_retries,
        max_wait=settings.request_max_wait_seconds,
        chat_per_second=settings.chat_rate_per_second,
        group_per_minute=settings.group_rate_per_minute,
        clock=clock,
        sleep=sleep,
    )


def create_outbox(
    *, settings: Settings, session_maker: SessionMaker, bot: Bot, clock: Clock
) -> DeliveryWorker:
    limiter = RateLimiter(
        global_per_second=settings.send_rate_per_second,
        chat_per_second=settings.chat_rate_per_second,
        group_per_minute=settings.group_rate_per_minute,
    )
    guard = guard_of(bot)
    if guard is not None:  # one global budget: replies first, the outbox fills the rest
        guard.budget = limiter
    return DeliveryWorker(session_maker=session_maker, bot=bot, clock=clock, limiter=limiter)


class BotSignals:
    """What use cases signal, delivered to the running bot: the chair-alert scan (the
    scheduling jobs, which tests and benchmarks may attach after the dispatcher is built)
    and the outbox."""

    def __init__(self, dispatcher: Dispatcher, outbox: DeliveryWorker) -> None:
        self.dispatcher = dispatcher
        self.outbox = outbox

    def alert_soon(self) -> None:
        jobs: Jobs | None = self.dispatcher.get("jobs")
        if jobs is not None:
            jobs.alert_soon()

    def wake_outbox(self) -> None:
        self.outbox.wake()


def policy(settings: Settings) -> Policy:
    """The configured values the secretariat's use cases obey."""
    return Policy(
        admin_ids=frozenset(settings.admin_ids),
        invite_ttl=timedelta(days=settings.invite_ttl_days),
        round_schedule=settings.round_schedule,
    )


def create_dispatcher(
    *,
    settings: Settings,
    session_maker: SessionMaker,
    i18n: I18n,
    clock: Clock,
    outbox: DeliveryWorker,
    jobs: Jobs | None = None,
) -> Dispatcher:
    storage = DatabaseStorage(session_maker)
    dispatcher = Dispatcher(
        storage=storage,
        # One update at a time per person: a quick second tap must see the first one's state.
        # Each update is one storage step: the dialog row read once, written once.
        events_isolation=StepIsolation(storage),
        settings=settings,
        clock=clock,
        session_maker=session_maker,
        outbox=outbox,
        risk_thresholds=settings.risk_thresholds,
        policy=policy(settings),
    )
    if jobs is not None:
        dispatcher["jobs"] = jobs
    dispatcher["usecases"] = UseCaseContext(
        session_maker=session_maker,
        clock=clock,
        tz=settings.tz,
        i18n=i18n,
        signals=BotSignals(dispatcher, outbox),
        thresholds=settings.risk_thresholds,
    )
    dispatcher.update.outer_middleware(CleanInputMiddleware())
    dispatcher.update.outer_middleware(DbSessionMiddleware(session_maker))
    PersonI18nMiddleware(i18n).setup(dispatcher)
    dispatcher.include_routers(*get_routers())
    dispatcher.startup.register(_on_startup)
    dispatcher.shutdown.register(_on_shutdown)
    return dispatcher


async def _on_startup(
    bot: Bot,
    i18n: I18n,
    outbox: DeliveryWorker,
    jobs: Jobs,
    scheduler: LateScheduler,
    dispatcher: Dispatcher,
) -> None:
    # All before the first getUpdates (polling reuses the cached getMe), but independent of
    # each other: sent together, one round trip instead of five.
    _, _, me = await asyncio.gather(
        bot.delete_webhook(drop_pending_updates=False), set_default_menus(bot, i18n), bot.me()
    )
    polling = PollingStarted()
    bot.session.middleware(polling)
    dispatcher["background_tasks"] = [
        asyncio.create_task(keep_trying("Outbox worker", outbox.run), name="outbox"),
        asyncio.create_task(after_first_poll(polling, jobs, scheduler), name="catch-up"),
    ]
    logger.info("Bot @%s is up", me.username)


async def after_first_poll(polling: PollingStarted, jobs: Jobs, scheduler: LateScheduler) -> None:
    """Once the first getUpdates is out: the scheduler, then what was missed while the bot was
    down. The catch-up (a round, a digest, the day's first full alert scan with its calendar)
    would otherwise hold up the first poll by as much as it costs."""
    await scheduler.start_after(polling.event)
    await keep_trying("Start-up catch-up", jobs.catch_up)


async def _on_shutdown(dispatcher: Dispatcher, jobs: Jobs, scheduler: LateScheduler) -> None:
    scheduler.shutdown()
    tasks: list[asyncio.Task[None]] = dispatcher.workflow_data.pop("background_tasks", [])
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await jobs.settle()


@dataclass
class Application:
    settings: Settings
    engine: AsyncEngine
    bot: Bot
    dispatcher: Dispatcher
    i18n: I18n
    outbox: DeliveryWorker

    async def close(self) -> None:
        await self.bot.session.close()
        await self.engine.dispose()


async def create_application(settings: Settings, clock: Clock | None = None) -> Application:
    """Everything the bot needs, with the database migrated to the latest schema."""
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    await wait_for_database(engine)
    await upgrade(engine)
    i18n = build_i18n(settings.default_locale)
    clock = clock or SystemClock()
    session_maker = create_session_maker(engine)
    bot = create_bot(settings)
    outbox = create_outbox(settings=settings, session_maker=session_maker, bot=bot, clock=clock)
    jobs = Jobs(
        session_maker=session_maker, i18n=i18n, settings=settings, clock=clock, outbox=outbox
    )
    outbox.on_unreachable = jobs.notify_unreachable
    dispatcher = create_dispatcher(
        settings=settings,
        session_maker=session_maker,
        i18n=i18n,
        clock=clock,
        outbox=outbox,
        jobs=jobs,
    )
    dispatcher["i18n"] = i18n
    dispatcher["scheduler"] = LateScheduler(jobs)
    return Application(settings, engine, bot, dispatcher, i18n, outbox)


def create_web_server(application: Application) -> WebServer | None:
    """The dashboard beside polling when PUBLIC_URL is set; None keeps the bot as it was.
    Its modules (aiohttp's server among them: 4 MiB) are imported only then."""
    settings = application.settings
    if settings.public_url is None:
        return None
    from bot.web.app import create_web_app
    from bot.web.server import WebServer

    app = create_web_app(
        application.dispatcher["usecases"],
        token=settings.bot_token.get_secret_value(),
        max_age=timedelta(seconds=settings.miniapp_max_age),
    )
    return WebServer(app, settings.web_host, settings.web_port)


async def start_dashboard(application: Application) -> WebServer | None:
    """Serve the dashboard (when PUBLIC_URL is set) and put its button into the chair's and
    the secretariat's chats."""
    web = create_web_server(application)
    url = application.settings.dashboard_url
    if web is None or url is None:
        return None
    from bot.web.menu import offer_dashboard

    await web.start()
    readers = await dashboard_readers(application.dispatcher["usecases"])
    await offer_dashboard(application.bot, application.i18n, readers, url)
    return web


class TokenRejectedError(Exception):
    """Telegram answered 401 to the token: no retry can fix that, only a new token."""


REACH_FIRST_WAIT = 2.0
REACH_MAX_WAIT = 60.0


async def wait_for_telegram(
    bot: Bot,
    *,
    sleep: Sleep = asyncio.sleep,
    first_wait: float = REACH_FIRST_WAIT,
    max_wait: float = REACH_MAX_WAIT,
) -> User:
    """getMe until Telegram answers. A server that boots before its network, or behind a proxy
    or firewall being fixed, waits with one log line per attempt instead of exiting with a
    traceback; a rejected token stops at once. The answer is cached for the start that follows."""
    wait = first_wait
    while True:
        try:
            return await bot.me()
        except TelegramUnauthorizedError as error:
            raise TokenRejectedError from error
        except (TelegramNetworkError, TelegramServerError, ClientDecodeError) as error:
            logger.warning(
                "Telegram (%s) cannot be reached: %s; trying again in %.0f s",
                bot.session.api.base.split("/bot", 1)[0],
                error,
                wait,
            )
        await sleep(wait)
        wait = min(wait * 2, max_wait)


def freeze_startup_heap() -> None:
    """Keep everything built at start (modules, models, schemas, catalogs: some 240,000
    objects) out of the collector's full passes, and turn the collector back on if the start
    turned it off (bot/app/cli.py). Without it a full collection walks them all, a pause of
    0.2-0.6 s in the middle of an update every so often. Call it once the application is
    built; it costs microseconds, and what is frozen is never freed, which is what start-up
    objects are anyway."""
    gc.freeze()
    gc.enable()


async def run_polling(settings: Settings) -> None:
    clock = SystemClock()
    application = await create_application(settings, clock)
    freeze_startup_heap()
    application.bot.session.middleware(PollHeartbeat(settings.heartbeat_file, clock))
    web: WebServer | None = None
    try:
        await wait_for_telegram(application.bot)
        web = await start_dashboard(application)
        await application.dispatcher.start_polling(application.bot)
    finally:
        if web is not None:
            await web.stop()
        await application.close()

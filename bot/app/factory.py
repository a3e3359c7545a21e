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
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.types import LinkPreviewOptions, User
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.config import TELEGRAM_DEFAULT_API_URL, Settings
from bot.app.operations import leader_collector, outbox_collector, readiness_probes
from bot.core.clock import Clock, SystemClock
from bot.core.ratelimit import RateLimiter, Sleep
from bot.core.supervise import keep_trying
from bot.delivery.worker import DeliveryWorker
from bot.scheduling.duties import OUTBOX_NOTICE, LeaderDuties
from bot.scheduling.fence import Fence
from bot.scheduling.jobs import Jobs, LateScheduler
from bot.scheduling.leader import Leadership, SoleLeader, leadership_for
from bot.telegram.filters import check_filters_on_the_loop
from bot.telegram.heartbeat import PollHeartbeat, PollingStarted
from bot.telegram.i18n import PersonI18nMiddleware, build_i18n
from bot.telegram.input import CleanInputMiddleware
from bot.telegram.menus import set_default_menus
from bot.telegram.middlewares import DbSessionMiddleware
from bot.telegram.session import guard_of, install_guard
from bot.telegram.update_metrics import UpdateMetricsMiddleware
from bot.usecases.caller import Policy
from bot.usecases.dashboard import dashboard_readers
from bot.usecases.ports import UseCaseContext
from db.engine import SessionMaker, create_engine, create_session_maker
from db.fsm_storage import DatabaseStorage, StepIsolation
from db.migrate import upgrade
from db.reach import wait_for_database
from handlers import get_routers

if TYPE_CHECKING:
    from redis.asyncio import Redis

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
    *,
    settings: Settings,
    session_maker: SessionMaker,
    bot: Bot,
    clock: Clock,
    redis: Redis | None = None,
) -> DeliveryWorker:
    """The outbox, with the send budget it shares with every reply: this process's, or with
    `redis` (webhook replicas) the one every replica draws on."""
    shared = None
    if redis is not None:
        from bot.telegram.shared_budget import SharedBudget

        shared = SharedBudget(
            redis,
            per_second=settings.send_rate_per_second,
            key=f"{settings.redis_prefix}:send-budget",
        )
    limiter = RateLimiter(
        global_per_second=settings.send_rate_per_second,
        chat_per_second=settings.chat_rate_per_second,
        group_per_minute=settings.group_rate_per_minute,
        shared=shared,
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
        self._announcing: set[asyncio.Task[None]] = set()

    def alert_soon(self) -> None:
        jobs: Jobs | None = self.dispatcher.get("jobs")
        if jobs is not None:
            jobs.alert_soon()

    def wake_outbox(self) -> None:
        """The outbox runs on the leader: a follower tells it over the database (without
        the notice the leader's worker still finds the rows within its idle interval)."""
        self.outbox.wake()
        leadership: Leadership | None = self.dispatcher.get("leadership")
        if leadership is not None and not leadership.leading:
            task = asyncio.get_running_loop().create_task(self._tell_leader(leadership))
            self._announcing.add(task)
            task.add_done_callback(self._announcing.discard)

    @staticmethod
    async def _tell_leader(leadership: Leadership) -> None:
        try:
            await leadership.announce(OUTBOX_NOTICE)
        except Exception as error:  # the leader's idle pass picks the rows up anyway
            logger.warning("Could not wake the leader's outbox: %s", error)


def policy(settings: Settings) -> Policy:
    """The configured values the secretariat's use cases obey."""
    return Policy(
        admin_ids=frozenset(settings.admin_ids),
        invite_ttl=timedelta(days=settings.invite_ttl_days),
        round_schedule=settings.round_schedule,
        request_skip=timedelta(hours=settings.request_skip_hours),
    )


def create_dispatcher(
    *,
    settings: Settings,
    session_maker: SessionMaker,
    i18n: I18n,
    clock: Clock,
    outbox: DeliveryWorker,
    jobs: Jobs | None = None,
    chat_locks: BaseEventIsolation | None = None,
) -> Dispatcher:
    storage = DatabaseStorage(session_maker)
    dispatcher = Dispatcher(
        storage=storage,
        # One update at a time per person: a quick second tap must see the first one's state.
        # Each update is one storage step: the dialog row read once, written once. The lock
        # is in memory for one process, in Redis (`chat_locks`) across webhook replicas.
        events_isolation=StepIsolation(storage, chat_locks),
        settings=settings,
        clock=clock,
        tz=settings.tz,
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
        dashboard_url=settings.dashboard_url,
        correction_window=timedelta(hours=settings.correction_window_hours),
    )
    dispatcher.update.outer_middleware(UpdateMetricsMiddleware())
    dispatcher.update.outer_middleware(CleanInputMiddleware())
    dispatcher.update.outer_middleware(DbSessionMiddleware(session_maker))
    PersonI18nMiddleware(i18n).setup(dispatcher)
    dispatcher.include_routers(*get_routers())
    check_filters_on_the_loop(dispatcher)
    dispatcher.startup.register(_on_startup)
    dispatcher.shutdown.register(_on_shutdown)
    return dispatcher


async def _on_startup(
    bot: Bot,
    i18n: I18n,
    leadership: Leadership,
    duties: LeaderDuties,
    dispatcher: Dispatcher,
) -> None:
    settings: Settings = dispatcher["settings"]
    polling = PollingStarted()
    if settings.bot_mode == "webhook":
        # The webhook stays registered (`python -m bot webhook set`): deleting it would stop
        # Telegram delivering to the other replicas. No getUpdates to wait for.
        _, me = await asyncio.gather(set_default_menus(bot, i18n), bot.me())
        polling.event.set()
    else:
        # All before the first getUpdates (polling reuses the cached getMe), but independent
        # of each other: sent together, one round trip instead of five.
        _, _, me = await asyncio.gather(
            bot.delete_webhook(drop_pending_updates=False), set_default_menus(bot, i18n), bot.me()
        )
        bot.session.middleware(polling)
    dispatcher["background_tasks"] = [
        asyncio.create_task(lead(polling.event, leadership, duties), name="leadership"),
    ]
    logger.info("Bot @%s is up", me.username)


async def lead(ready: asyncio.Event, leadership: Leadership, duties: LeaderDuties) -> None:
    """Once the bot takes updates (polling: the first getUpdates is out), stand for leader
    (on SQLite: lead at once); the leader runs the outbox, the scheduler and the catch-up
    (bot/scheduling/duties.py)."""
    await ready.wait()
    try:
        await keep_trying("Leadership", lambda: leadership.run(duties))
    finally:
        duties.stop()


async def after_first_poll(polling: PollingStarted, jobs: Jobs, scheduler: LateScheduler) -> None:
    """Once the first getUpdates is out: the scheduler, then what was missed while the bot was
    down. The catch-up (a round, a digest, the day's first full alert scan with its calendar)
    would otherwise hold up the first poll by as much as it costs."""
    await scheduler.start_after(polling.event)
    await keep_trying("Start-up catch-up", jobs.catch_up)


async def _on_shutdown(
    dispatcher: Dispatcher, jobs: Jobs, scheduler: LateScheduler, duties: LeaderDuties
) -> None:
    duties.stop()
    scheduler.shutdown()
    tasks: list[asyncio.Task[None]] = dispatcher.workflow_data.pop("background_tasks", [])
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await duties.settle()
    await jobs.settle()


@dataclass
class Application:
    settings: Settings
    engine: AsyncEngine
    bot: Bot
    dispatcher: Dispatcher
    i18n: I18n
    outbox: DeliveryWorker
    redis: Redis | None = None  # webhook mode only: update claims and chat locks

    async def close(self) -> None:
        await self.bot.session.close()
        if self.redis is not None:
            await self.redis.aclose()
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
    redis = create_redis(settings)
    outbox = create_outbox(
        settings=settings, session_maker=session_maker, bot=bot, clock=clock, redis=redis
    )
    jobs = Jobs(
        session_maker=session_maker, i18n=i18n, settings=settings, clock=clock, outbox=outbox
    )
    outbox.on_unreachable = jobs.notify_unreachable
    leadership = leadership_for(settings.database_url)
    jobs.fence = Fence(
        session_maker=session_maker, leadership=leadership, clock=clock, runner=outbox.worker_id
    )
    chat_locks = None
    if redis is not None:
        from bot.telegram.replica_isolation import ReplicaIsolation

        chat_locks = ReplicaIsolation(redis, prefix=settings.redis_prefix)
    dispatcher = create_dispatcher(
        settings=settings,
        session_maker=session_maker,
        i18n=i18n,
        clock=clock,
        outbox=outbox,
        jobs=jobs,
        chat_locks=chat_locks,
    )
    dispatcher["i18n"] = i18n
    # One replica (SQLite: the only one) leads; /schedule on any replica reaches it.
    announce = None if isinstance(leadership, SoleLeader) else leadership.announce
    scheduler = LateScheduler(jobs, announce=announce)
    dispatcher["scheduler"] = scheduler
    dispatcher["leadership"] = leadership
    dispatcher["duties"] = LeaderDuties(jobs, scheduler, outbox)
    return Application(settings, engine, bot, dispatcher, i18n, outbox, redis)


REDIS_TIMEOUT = 5.0  # seconds: a Redis that does not answer is down, and the update is retried


def create_redis(settings: Settings) -> Redis | None:
    """The Redis client of webhook mode; None when polling (one process needs no Redis).
    Nothing connects until the first command."""
    if settings.bot_mode != "webhook" or settings.redis_url is None:
        return None
    from redis.asyncio import Redis

    return Redis.from_url(
        settings.redis_url,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        health_check_interval=30,
    )


def create_web_server(application: Application, bot_username: str = "") -> WebServer | None:
    """The dashboard, /healthz and /metrics beside polling when PUBLIC_URL is set, and
    Telegram's webhook in webhook mode; None (no PUBLIC_URL) keeps the bot as it was.
    `bot_username` makes the invitation links the secretariat creates there. Its modules
    (aiohttp's server among them: 4 MiB) are imported only then."""
    settings = application.settings
    if settings.public_url is None:
        return None
    from bot.web.app import create_web_app
    from bot.web.operations import add_operations
    from bot.web.server import WebServer

    app = create_web_app(
        application.dispatcher["usecases"],
        token=settings.bot_token.get_secret_value(),
        max_age=timedelta(seconds=settings.miniapp_max_age),
        policy=application.dispatcher["policy"],
        bot_username=bot_username,
    )
    probes = readiness_probes(application.engine, application.redis)
    dispatcher = application.dispatcher
    collectors = (
        outbox_collector(dispatcher["session_maker"]),
        leader_collector(dispatcher["leadership"]),
    )
    add_operations(app, probes, collectors)
    if settings.bot_mode == "webhook":
        from bot.telegram.update_claims import UpdateClaims
        from bot.web.webhook import add_webhook

        assert application.redis is not None and settings.webhook_secret is not None
        add_webhook(
            app,
            path=settings.webhook_path,
            dispatcher=application.dispatcher,
            bot=application.bot,
            secret_token=settings.webhook_secret.get_secret_value(),
            claims=UpdateClaims(application.redis, prefix=f"{settings.redis_prefix}:update:"),
        )
    return WebServer(app, settings.web_host, settings.web_port)


async def start_dashboard(application: Application) -> WebServer | None:
    """Serve the dashboard (when PUBLIC_URL is set) and put its button into the chair's and
    the secretariat's chats."""
    url = application.settings.dashboard_url
    if url is None:
        return None
    me = await application.bot.me()
    web = create_web_server(application, me.username or "")
    if web is None:
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

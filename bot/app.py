"""Builds the PTB ``Application`` from a typed config: services, handlers, commands.

Services (database, clock, search index) are created in ``post_init`` — never at import
time — and closed in ``post_shutdown``. Handler modules register in the order written
in ``handlers.registry``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationBuilder, Defaults
from telegram.request import HTTPXRequest

import handlers
from bot import housekeeping
from bot.checks import health_problems
from bot.config import Config
from bot.durable import DurableApplication, DurableQueue, InboxBot, replay_unhandled
from bot.logging_setup import label_handlers
from bot.metrics import STALE_AFTER_SECONDS, Metrics, MetricsServer
from bot.ordering import PerChatUpdateProcessor
from bot.ratelimit import RetryingRateLimiter
from bot.reminders import schedule
from handlers import registry
from handlers.callbacks import callback_key
from handlers.deps import SERVICES_KEY, Clock, Services
from knowledge.search_service import SearchService
from storage.blobs import BlobStore
from storage.catalog import load_documents
from storage.db import Database
from storage.housekeeping import data_version
from storage.objects import open_store
from storage.profiles import all_profiles
from storage.reminders import seed_rules

log = logging.getLogger(__name__)

ServiceHook = Callable[[Services], None]


def services_of(app: Application) -> Services | None:  # type: ignore[type-arg]
    """The services of a started application (None before ``post_init``)."""
    services = app.bot_data.get(SERVICES_KEY)
    return services if isinstance(services, Services) else None


def system_clock(config: Config) -> Clock:
    """The wall clock in the configured time zone."""
    return lambda: datetime.now(config.timezone)


def build_application(
    config: Config,
    *,
    clock: Clock | None = None,
    database: Database | None = None,
    on_services: ServiceHook | None = None,
    rate_limiter: RetryingRateLimiter | None = None,
    metrics: Metrics | None = None,
) -> Application:  # type: ignore[type-arg]
    """One fully wired ``Application``; services start in ``post_init``."""
    metrics = metrics or Metrics()
    watch = housekeeping.DataWatch()
    servers: list[MetricsServer] = []

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        db = database or Database(config.database_url)
        await asyncio.to_thread(db.upgrade)
        metrics.watch(db)
        if config.metrics_port is not None:

            async def probe() -> list[str]:
                services = services_of(app)
                store = services.blobs.objects if services is not None else None
                return await health_problems(db, store, metrics.seconds_since_contact(), STALE_AFTER_SECONDS)

            servers.append(MetricsServer(metrics, probe, config.metrics_port))
            servers[-1].start()
        search = SearchService(lambda: db.call(load_documents), lambda: db.call(all_profiles))
        objects = await asyncio.to_thread(open_store, config.files_url, config.files_dir)
        blobs = BlobStore(config.files_dir, config.allowed_file_types, objects=objects)
        await asyncio.to_thread(blobs.prepare)  # drops partial downloads left by a crash
        services = Services(
            config=config,
            db=db,
            clock=clock or system_clock(config),
            search=search,
            blobs=blobs,
            callback_key=callback_key(config.bot_token.value),
            result_actions=[("报进度", "rp"), ("上传材料", "ru")],
        )
        if on_services is not None:
            await asyncio.to_thread(on_services, services)
        watch.seen = await db.run(data_version)  # read before loading: a change after it is seen later
        index = await asyncio.to_thread(search.refresh)
        services.on_tables_changed.append(search.refresh)
        log.info("search index: %d indicators in %.2f s", index.size, index.build_seconds)
        app.bot_data[SERVICES_KEY] = services
        await asyncio.to_thread(db.call, seed_rules, datetime.now(config.timezone))
        services.on_tables_changed.append(lambda: db.call(seed_rules, datetime.now(config.timezone)))
        if config.reminders_enabled:
            schedule(app)
        housekeeping.schedule(app, config.retention_days, watch)
        queue.attach_inbox(db, app.bot.id)
        if isinstance(app, DurableApplication):
            app.inbox = db
            object.__setattr__(bot, "on_conflict", app.stop_after_conflict)  # PTB bots are frozen
        await replay_unhandled(app, db)  # processed once the application starts
        commands = [BotCommand(name, text) for name, text in registry.all_commands()]
        await app.bot.set_my_commands(commands)
        log.info("bot @%s ready with %d commands", app.bot.username, len(commands))

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        while servers:
            await servers.pop().stop()
        services = app.bot_data.pop(SERVICES_KEY, None)
        if isinstance(services, Services) and database is None:
            services.db.dispose()

    defaults = Defaults(tzinfo=config.timezone, parse_mode=None)
    rate_limiter = rate_limiter or RetryingRateLimiter(
        backoff_seconds=config.retry_backoff_seconds,
        overall_max_rate=config.max_sends_per_second,
        group_max_rate=20 if config.max_sends_per_second else 0,
    )
    rate_limiter.metrics = metrics
    bot = InboxBot(
        config.bot_token.value,
        base_url=config.api_base_url,
        base_file_url=config.file_base_url,
        request=HTTPXRequest(connection_pool_size=16, proxy=config.proxy),
        get_updates_request=HTTPXRequest(proxy=config.proxy),
        defaults=defaults,
        rate_limiter=rate_limiter,
    )
    object.__setattr__(bot, "metrics", metrics)  # PTB bots are frozen after init
    queue = DurableQueue()  # polling and webhook updates both pass through it (see bot.durable)
    builder: Any = (
        ApplicationBuilder()
        .bot(bot)
        .update_queue(queue)
        .application_class(DurableApplication)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .concurrent_updates(PerChatUpdateProcessor(8))
    )
    app: Application = builder.build()  # type: ignore[type-arg]
    handlers.register_all(app)
    label_handlers(app)
    if isinstance(app, DurableApplication):
        app.metrics = metrics
    return app


async def _probe_webhook(context: Any) -> None:
    """Webhook mode: Telegram reports no recent delivery error, so updates are being received."""
    app = context.application
    info = await app.bot.get_webhook_info()
    recent_error = (
        info.last_error_date is not None
        and (datetime.now(UTC) - info.last_error_date).total_seconds() < STALE_AFTER_SECONDS
    )
    if info.url and not recent_error and isinstance(app, DurableApplication) and app.metrics is not None:
        app.metrics.touch()


def watch_webhook(app: Application) -> None:  # type: ignore[type-arg]
    """In webhook mode quiet hours are normal: a probe of ``getWebhookInfo`` keeps ``/healthz`` honest."""
    if app.job_queue is not None:
        app.job_queue.run_repeating(_probe_webhook, interval=60, first=10, name="webhook-probe")


@asynccontextmanager
async def running(app: Application, *, poll_timeout: int = 1) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Run ``app`` with long polling inside a block, as ``run_polling`` would.

    ``post_init``/``post_shutdown`` are only called by ``run_polling``/``run_webhook``;
    this does the same for the demo and the tests, and never drops pending updates.
    """
    async with app:
        if app.post_init is not None:
            await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0,
            timeout=poll_timeout,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
        await app.start()
        try:
            yield app
        finally:
            if app.updater.running:  # a 409 Conflict may have stopped it already
                await app.updater.stop()
            await app.stop()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)

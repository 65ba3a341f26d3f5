"""Never losing an update: every received update (long polling or webhook) is written to the
inbox before Telegram is told it arrived, marked handled after processing, and replayed at
start if a crash intervened.

Both ways in go through ``Application.update_queue``: PTB's poller puts the fetched updates
there before its next ``getUpdates`` confirms their offset, and PTB's webhook server puts the
update there before answering 200. ``DurableQueue.put`` persists first, so a ``kill -9``
between receipt and processing loses nothing, and a redelivered update is dropped there.

A second instance polling the same token makes Telegram answer ``409 Conflict``; the poller
then stops for good (one log line) instead of fighting over the updates.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from telegram import Update
from telegram.error import Conflict
from telegram.ext import Application, ExtBot

from bot.logging_setup import HANDLER_NAME, UPDATE_FIELDS
from bot.metrics import Metrics
from storage.db import Database
from storage.inbox import mark_handled, save_new, unhandled

log = logging.getLogger(__name__)

CONFLICT_LINE = (
    "另一个实例正在用同一个机器人令牌接收消息（409 Conflict），本实例停止。"
    " / Another instance is polling with the same bot token (409 Conflict); this one stops."
    " Long polling is single-instance: stop the other poller, or run every instance with"
    " `taizhang run --webhook URL` behind one reverse proxy."
)


class DurableQueue(asyncio.Queue[object]):
    """The application's update queue; ``put`` stores an update in the inbox first."""

    inbox: Database | None = None
    bot_id: int = 0

    def attach_inbox(self, database: Database, bot_id: int) -> None:
        """Start persisting (called in post_init, before updates arrive)."""
        self.inbox, self.bot_id = database, bot_id

    async def put(self, item: object) -> None:
        if self.inbox is not None and isinstance(item, Update):
            new = await self.inbox.run(save_new, self.bot_id, [(item.update_id, item.to_dict())], datetime.now(UTC))
            if not new:
                return  # already in the inbox: being (or was) processed, do not process it twice
        await super().put(item)

    async def replay(self, item: Update) -> None:
        """Queue an update that is already in the inbox."""
        await super().put(item)


class InboxBot(ExtBot[Any]):
    """An ``ExtBot`` that stops polling for good on ``409 Conflict``."""

    metrics: Metrics | None = None
    conflict: Conflict | None = None
    on_conflict: Callable[[], None] | None = None

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        if self.conflict is not None:
            if kwargs.get("timeout"):
                await asyncio.Event().wait()  # polling: wait until the updater is stopped
            return ()  # PTB's final confirming call at stop: no request (it would evict the other instance)
        try:
            updates = await super().get_updates(*args, **kwargs)
        except Conflict as exc:
            object.__setattr__(self, "conflict", exc)  # PTB bots are frozen after init
            log.error("%s (%s)", CONFLICT_LINE, exc.message)
            if self.on_conflict is not None:
                self.on_conflict()
            return ()
        if self.metrics is not None:
            self.metrics.touch()  # an answer, even an empty one, proves updates are being fetched
        return updates


class DurableApplication(Application[Any, Any, Any, Any, Any, Any]):
    """Marks updates handled in the inbox once all handlers ran, in small batches.

    Losing a batch of marks in a crash only replays those updates; reports and files are
    de-duplicated by their claimed update id, so replaying never stores anything twice.
    """

    inbox: Database | None = None
    metrics: Metrics | None = None
    _handled: list[int] | None = None
    FLUSH_EVERY = 25
    ends_run_polling = False  # set by ``taizhang run``: a 409 Conflict ends run_polling (exit 1)
    _stopping: asyncio.Task[None] | None = None

    def stop_after_conflict(self) -> None:
        """Another instance polls this token: stop polling (and ``run_polling`` if it runs us)."""
        if self.ends_run_polling:
            self.stop_running()
        elif self.updater is not None and self._stopping is None:
            self._stopping = asyncio.get_running_loop().create_task(self._stop_updater())

    async def _stop_updater(self) -> None:
        if self.updater is not None and self.updater.running:
            await self.updater.stop()

    async def process_update(self, update: object) -> None:
        started = time.perf_counter()
        if isinstance(update, Update):
            UPDATE_FIELDS.set(
                {
                    "update_id": update.update_id,
                    "chat_id": update.effective_chat.id if update.effective_chat else None,
                    "user_id": update.effective_user.id if update.effective_user else None,
                }
            )
            HANDLER_NAME.set(None)
        try:
            await super().process_update(update)
        finally:
            if isinstance(update, Update):
                self._observe(update, started)
            if self.inbox is not None and isinstance(update, Update):
                if self._handled is None:
                    self._handled = []
                self._handled.append(update.update_id)
                if len(self._handled) >= self.FLUSH_EVERY or self.update_queue.empty():
                    await self.flush_handled()

    def _observe(self, update: Update, started: float) -> None:
        log.info("update handled in %.0f ms", (time.perf_counter() - started) * 1000)
        if self.metrics is None:
            return
        self.metrics.updates.inc()
        self.metrics.touch()  # received (webhook) or fetched (polling) and handled
        message = update.effective_message
        if message is not None and message.date is not None:
            self.metrics.update_lag.observe(max(0.0, time.time() - message.date.timestamp()))

    async def flush_handled(self) -> None:
        """Write the pending handled marks."""
        if self.inbox is not None and self._handled:
            batch, self._handled = self._handled, []
            await self.inbox.run(mark_handled, self.bot.id, batch)


async def replay_unhandled(app: Application[Any, Any, Any, Any, Any, Any], database: Database) -> int:
    """Queue updates received before a crash but never handled (old handled ones: ``bot.housekeeping``)."""
    payloads: Sequence[dict[str, Any]] = await database.run(unhandled, app.bot.id)
    queue = app.update_queue
    for payload in payloads:
        update = Update.de_json(payload, app.bot)
        if update is not None:
            await (queue.replay(update) if isinstance(queue, DurableQueue) else queue.put(update))
    if payloads:
        log.warning("replaying %d update(s) received before a crash", len(payloads))
    return len(payloads)

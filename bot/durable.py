"""Never losing an update: fetched updates are written to the inbox before their offset is
confirmed, marked handled after processing, and replayed at start if a crash intervened.

PTB's updater fetches ahead of processing and confirms offsets as it fetches, so without
this a ``kill -9`` would silently drop every update waiting in the in-memory queue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
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


class InboxBot(ExtBot[Any]):
    """An ``ExtBot`` whose ``get_updates`` persists what it fetched before returning it."""

    inbox: Database | None = None
    metrics: Metrics | None = None
    conflicts_seen: int = 0

    def _say_second_poller(self, exc: Conflict) -> None:
        """409 on getUpdates: another process polls with this token (or a webhook is set). Say so
        plainly once per episode; PTB's updater keeps retrying, so whichever survives takes over."""
        object.__setattr__(self, "conflicts_seen", self.conflicts_seen + 1)
        if self.conflicts_seen == 1:
            log.error(
                "getUpdates answered 409 (%s): another process is long-polling with this token. "
                "Long polling is single-instance: stop the other poller, or run every instance with "
                "`taizhang run --webhook URL` behind one reverse proxy.",
                exc.message,
            )

    def attach_inbox(self, database: Database) -> None:
        """Start persisting (called in post_init, before polling starts)."""
        object.__setattr__(self, "inbox", database)  # PTB bots are frozen after init

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        try:
            updates = await super().get_updates(*args, **kwargs)
        except Conflict as exc:
            self._say_second_poller(exc)
            raise
        if self.conflicts_seen:
            log.warning("getUpdates answers again: this process is now the one polling")
            object.__setattr__(self, "conflicts_seen", 0)
        if self.metrics is not None:
            self.metrics.touch()  # an answer, even an empty one, proves updates are being fetched
        if self.inbox is None or not updates:
            return updates
        payloads = [(u.update_id, u.to_dict()) for u in updates]
        new = await self.inbox.run(save_new, payloads, datetime.now(UTC))
        # An update already in the inbox is being (or was) replayed: do not process it twice.
        return tuple(u for u in updates if u.update_id in new)


class DurableApplication(Application[Any, Any, Any, Any, Any, Any]):
    """Marks updates handled in the inbox once all handlers ran, in small batches.

    Losing a batch of marks in a crash only replays those updates; reports and files are
    de-duplicated by their claimed update id, so replaying never stores anything twice.
    """

    inbox: Database | None = None
    metrics: Metrics | None = None
    _handled: list[int] | None = None
    FLUSH_EVERY = 25

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
            await self.inbox.run(mark_handled, batch)


async def replay_unhandled(app: Application[Any, Any, Any, Any, Any, Any], database: Database) -> int:
    """Queue updates fetched before a crash but never handled (old handled ones: ``bot.housekeeping``)."""
    payloads: Sequence[dict[str, Any]] = await database.run(unhandled)
    for payload in payloads:
        update = Update.de_json(payload, app.bot)
        if update is not None:
            await app.update_queue.put(update)
    if payloads:
        log.warning("replaying %d update(s) fetched before a crash", len(payloads))
    return len(payloads)

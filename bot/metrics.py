"""Prometheus metrics and the ``/healthz`` + ``/metrics`` endpoint (``TAIZHANG_METRICS_PORT``).

Counters of stored things (reports, files, reminder outcomes) are taken from the database's
commit stream, so they count only what was really committed and need no hooks in handlers.
The endpoint is a small tornado server on the bot's own event loop (tornado ships with PTB's
webhook extra); the text format comes from ``prometheus_client``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import Counter as Tally
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy.orm import Session, UOWTransaction
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler

from storage.db import Database
from storage.models import Attachment, ProgressReport, ReminderLog

log = logging.getLogger(__name__)

STALE_AFTER_SECONDS = 180.0  # no getUpdates answer / update / webhook probe for this long → unhealthy
_REMINDER_OUTCOMES = {
    "sent": "sent",
    "skipped": "skipped",
    "superseded": "skipped",
    "nothing_due": "skipped",
    "failed": "failed",
    "forbidden": "failed",
    "migrated": "failed",
}
_PENDING_KEY = "taizhang_metrics_pending"


def error_code(exc: BaseException) -> str:
    """The Bot API error class as a label: HTTP-like code, or ``timeout``/``network``."""
    for kind, code in (
        (RetryAfter, "429"),
        (InvalidToken, "401"),
        (Forbidden, "403"),
        (Conflict, "409"),
        (ChatMigrated, "400"),
        (BadRequest, "400"),
        (TimedOut, "timeout"),
    ):
        if isinstance(exc, kind):
            return code
    return "network" if isinstance(exc, TelegramError) else type(exc).__name__


class Metrics:
    """The metrics of one bot process, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter("taizhang_updates_handled", "Updates processed by the handlers", registry=r)
        self.reports = Counter("taizhang_reports_stored", "Progress report versions committed", registry=r)
        self.files = Counter("taizhang_files_stored", "Evidence attachments committed", registry=r)
        self.reminders = Counter("taizhang_reminders", "Reminder outcomes", ["outcome"], registry=r)
        for outcome in ("sent", "skipped", "failed"):
            self.reminders.labels(outcome)
        self.api_errors = Counter("taizhang_bot_api_errors", "Failed Bot API calls", ["method", "code"], registry=r)
        self.update_lag = Histogram(
            "taizhang_update_lag_seconds",
            "From the message's date to the end of its handling",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
            registry=r,
        )
        self.send_queue = Gauge("taizhang_send_queue_depth", "Bot API calls waiting in the rate limiter", registry=r)
        self.last_contact = Gauge(
            "taizhang_last_update_contact_timestamp_seconds",
            "When updates were last fetched (getUpdates answered) or received (webhook)",
            registry=r,
        )
        self._contact = time.monotonic()  # the start counts as contact: a grace period
        self.last_contact.set_to_current_time()
        self.bound_port: int | None = None

    def touch(self) -> None:
        """Updates were fetched or received just now."""
        self._contact = time.monotonic()
        self.last_contact.set_to_current_time()

    def seconds_since_contact(self) -> float:
        """Seconds since :meth:`touch` (or since start)."""
        return time.monotonic() - self._contact

    def watch(self, database: Database) -> None:
        """Count reports, files and reminder outcomes when their transaction commits."""
        database.listen("after_flush", self._after_flush)
        database.listen("after_commit", self._after_commit)
        database.listen("after_rollback", self._forget)

    @staticmethod
    def _after_flush(session: Session, _flush: UOWTransaction) -> None:
        pending: Tally[str] = session.info.setdefault(_PENDING_KEY, Tally())
        for row in session.new:
            if isinstance(row, ProgressReport):
                pending["report"] += 1
            elif isinstance(row, Attachment):
                pending["file"] += 1
        for row in [*session.new, *session.dirty]:
            if isinstance(row, ReminderLog) and row.status in _REMINDER_OUTCOMES:
                pending["reminder:" + _REMINDER_OUTCOMES[row.status]] += 1

    def _after_commit(self, session: Session) -> None:
        pending: Tally[str] = session.info.pop(_PENDING_KEY, Tally())
        self.reports.inc(pending["report"])
        self.files.inc(pending["file"])
        for key, count in pending.items():
            if key.startswith("reminder:"):
                self.reminders.labels(key.partition(":")[2]).inc(count)

    @staticmethod
    def _forget(session: Session) -> None:
        session.info.pop(_PENDING_KEY, None)

    def exposition(self) -> bytes:
        """The Prometheus text format."""
        return bytes(generate_latest(self.registry))


HealthProbe = Callable[[], Awaitable[list[str]]]


class _MetricsPage(RequestHandler):
    def initialize(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def get(self) -> None:
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(self.metrics.exposition())


class _HealthPage(RequestHandler):
    def initialize(self, probe: HealthProbe) -> None:
        self.probe = probe

    async def get(self) -> None:
        problems = await self.probe()
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_status(503 if problems else 200)
        self.write("\n".join(problems) + "\n" if problems else "ok\n")


class MetricsServer:
    """``/metrics`` and ``/healthz`` on ``port`` (0: any free port, see ``metrics.bound_port``)."""

    def __init__(self, metrics: Metrics, probe: HealthProbe, port: int, address: str = "") -> None:
        self.metrics, self.probe, self.port, self.address = metrics, probe, port, address
        self._server: HTTPServer | None = None

    def start(self) -> int:
        """Listen (on the running event loop); returns the bound port."""
        routes: list[Any] = [
            (r"/metrics", _MetricsPage, {"metrics": self.metrics}),
            (r"/healthz", _HealthPage, {"probe": self.probe}),
        ]
        sockets = bind_sockets(self.port, self.address or None, family=socket.AF_INET)
        self._server = HTTPServer(WebApplication(routes))
        self._server.add_sockets(sockets)
        self.metrics.bound_port = int(sockets[0].getsockname()[1])
        log.info("metrics and health on port %d", self.metrics.bound_port)
        return self.metrics.bound_port

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._server is not None:
            self._server.stop()
            await asyncio.wait_for(self._server.close_all_connections(), 5)
            self._server = None

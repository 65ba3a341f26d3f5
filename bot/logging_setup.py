"""Logging with secrets redacted (the bot token never reaches a log line), as text or JSON.

``TAIZHANG_LOG_FORMAT=json`` writes one JSON object per line; records logged while an update
is handled carry its ``update_id``, ``chat_id``, ``user_id`` and the ``handler`` callback
(context variables set by ``bot.durable`` and :func:`label_handlers`, so they follow the
update into worker threads).
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from telegram.ext import Application, BaseHandler, ConversationHandler

UPDATE_FIELDS: ContextVar[dict[str, int | None] | None] = ContextVar("taizhang_update_fields", default=None)
HANDLER_NAME: ContextVar[str | None] = ContextVar("taizhang_handler", default=None)


class RedactingFilter(logging.Filter):
    """Replaces every occurrence of the given secrets in a record's final message."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, "<token>")
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            for secret in self._secrets:
                text = text.replace(secret, "<token>")
            record.exc_text, record.exc_info = text, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record (stdlib ``json``: the fields are few and flat)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = UPDATE_FIELDS.get()
        if fields:
            entry.update(fields)
        handler = HANDLER_NAME.get()
        if handler:
            entry["handler"] = handler
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    level: int = logging.INFO,
    secrets: list[str] | None = None,
    *,
    json_format: bool = False,
    stream: TextIO | None = None,
) -> None:
    """Log to stderr (or ``stream``) as text or JSON; redact ``secrets``; keep HTTP chatter quiet."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "taizhang", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.taizhang = True  # type: ignore[attr-defined]
    if json_format:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets or []))
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # request URLs hold the token
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


Callback = Callable[..., Awaitable[Any]]


def _named(callback: Callback) -> Callback:
    name = f"{callback.__module__}.{getattr(callback, '__qualname__', type(callback).__name__)}"

    @functools.wraps(callback)
    async def run(*args: Any, **kwargs: Any) -> Any:
        HANDLER_NAME.set(name)
        return await callback(*args, **kwargs)

    return run


def _label(handler: BaseHandler[Any, Any, Any]) -> None:
    if isinstance(handler, ConversationHandler):
        for inner in [*handler.entry_points, *handler.fallbacks, *(h for hs in handler.states.values() for h in hs)]:
            _label(inner)
        return
    callback = getattr(handler, "callback", None)
    if callback is not None and not getattr(callback, "_taizhang_named", False):
        named = _named(callback)
        named._taizhang_named = True  # type: ignore[attr-defined]
        handler.callback = named  # type: ignore[assignment]


def label_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Make every handler callback record its name for the log lines of its update."""
    for group in app.handlers.values():
        for handler in group:
            _label(handler)

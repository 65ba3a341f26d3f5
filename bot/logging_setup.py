"""Logging with secrets redacted: the bot token never reaches a log line."""

from __future__ import annotations

import logging


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


def configure_logging(level: int = logging.INFO, secrets: list[str] | None = None) -> None:
    """Log to stderr; redact ``secrets``; keep HTTP client chatter (URLs hold the token) quiet."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    for existing in root.handlers:
        for old in [f for f in existing.filters if isinstance(f, RedactingFilter)]:
            existing.removeFilter(old)
        existing.addFilter(RedactingFilter(secrets or []))
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)

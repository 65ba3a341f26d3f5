"""Message anchors: which indicator (and period) a bot message stands for, for replies with files."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.models import MessageAnchor


def save_anchor(
    session: Session, chat_id: int, message_id: int, indicator_id: int, period: str | None, now: datetime
) -> None:
    """Remember that ``message_id`` in ``chat_id`` stands for this indicator (and period)."""
    session.merge(
        MessageAnchor(chat_id=chat_id, message_id=message_id, indicator_id=indicator_id, period=period, created_at=now)
    )


def anchor_of(session: Session, chat_id: int, message_id: int) -> tuple[int, str | None] | None:
    """(indicator id, period or None) of an anchored message, or None."""
    row = session.get(MessageAnchor, (chat_id, message_id))
    return None if row is None else (row.indicator_id, row.period)

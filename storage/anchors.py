"""State that must outlive one update and be shared by every instance: message anchors (which
indicator a receipt or 详情 card stands for) and drafts waiting for 确认."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from storage.models import MessageAnchor, PendingDraft


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


def save_draft(
    session: Session, token: str, user_id: int, chat_id: int, items: list[dict[str, Any]], now: datetime
) -> None:
    """Keep a previewed set of reports until 确认 or 取消."""
    session.add(PendingDraft(token=token, user_id=user_id, chat_id=chat_id, items=items, created_at=now))


def load_draft(session: Session, token: str) -> tuple[int, int, list[dict[str, Any]]] | None:
    """(user id, chat id, items) of a waiting draft, or None."""
    row = session.get(PendingDraft, token)
    return None if row is None else (row.user_id, row.chat_id, list(row.items))


def take_draft(session: Session, token: str) -> bool:
    """Remove a draft; True for the one caller that removed it (a double press confirms once)."""
    result = session.execute(delete(PendingDraft).where(PendingDraft.token == token))
    return bool(getattr(result, "rowcount", 0))

"""The write-ahead inbox of received updates (see ``InboxUpdate``), per bot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import InboxUpdate, ProcessedUpdate


def save_new(session: Session, bot_id: int, updates: list[tuple[int, dict[str, Any]]], now: datetime) -> set[int]:
    """Store updates not seen before; returns the ids that are new.

    The same id with a different body is a new update (the ids restarted: new token, or a
    restarted Bot API server): the old row and the old update's claims are replaced.
    """
    if not updates:
        return set()
    ids = [update_id for update_id, _ in updates]
    known = {
        row.update_id: row
        for row in session.scalars(
            select(InboxUpdate).where(InboxUpdate.bot_id == bot_id, InboxUpdate.update_id.in_(ids))
        )
    }
    new: set[int] = set()
    for update_id, payload in updates:
        if update_id in new:
            continue
        row = known.get(update_id)
        if row is not None and row.payload == payload:
            continue  # a redelivery of an update we have
        if row is not None:
            session.execute(
                delete(ProcessedUpdate).where(ProcessedUpdate.bot_id == bot_id, ProcessedUpdate.update_id == update_id)
            )
            row.payload, row.received_at, row.handled = payload, now, False
        else:
            session.add(
                InboxUpdate(bot_id=bot_id, update_id=update_id, payload=payload, received_at=now, handled=False)
            )
        new.add(update_id)
    return new


def unhandled(session: Session, bot_id: int) -> list[dict[str, Any]]:
    """Payloads received but not handled (a crash happened), oldest first."""
    return [
        row.payload
        for row in session.scalars(
            select(InboxUpdate)
            .where(InboxUpdate.bot_id == bot_id, InboxUpdate.handled.is_(False))
            .order_by(InboxUpdate.received_at, InboxUpdate.update_id)
        )
    ]


def mark_handled(session: Session, bot_id: int, update_ids: list[int]) -> None:
    """Processing of these updates finished (successfully or with an answered error)."""
    if update_ids:
        session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.bot_id == bot_id, InboxUpdate.update_id.in_(update_ids))
            .values(handled=True)
        )


def prune(session: Session, before: datetime) -> int:
    """Forget handled updates received before ``before``."""
    result = session.execute(delete(InboxUpdate).where(InboxUpdate.handled.is_(True), InboxUpdate.received_at < before))
    return int(getattr(result, "rowcount", 0) or 0)

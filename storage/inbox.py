"""The write-ahead inbox of fetched updates (see ``InboxUpdate``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import InboxUpdate


def save_new(session: Session, updates: list[tuple[int, dict[str, Any]]], now: datetime) -> set[int]:
    """Store updates not seen before; returns the ids that are new."""
    if not updates:
        return set()
    ids = [update_id for update_id, _ in updates]
    known = set(session.scalars(select(InboxUpdate.update_id).where(InboxUpdate.update_id.in_(ids))))
    new = set()
    for update_id, payload in updates:
        if update_id not in known and update_id not in new:
            session.add(InboxUpdate(update_id=update_id, payload=payload, received_at=now, handled=False))
            new.add(update_id)
    return new


def unhandled(session: Session) -> list[dict[str, Any]]:
    """Payloads fetched but not handled (a crash happened), oldest first."""
    return [
        row.payload
        for row in session.scalars(
            select(InboxUpdate).where(InboxUpdate.handled.is_(False)).order_by(InboxUpdate.update_id)
        )
    ]


def mark_handled(session: Session, update_ids: list[int]) -> None:
    """Processing of these updates finished (successfully or with an answered error)."""
    if update_ids:
        session.execute(update(InboxUpdate).where(InboxUpdate.update_id.in_(update_ids)).values(handled=True))


def prune(session: Session, before: datetime) -> int:
    """Forget handled updates received before ``before``."""
    result = session.execute(delete(InboxUpdate).where(InboxUpdate.handled.is_(True), InboxUpdate.received_at < before))
    return int(getattr(result, "rowcount", 0) or 0)

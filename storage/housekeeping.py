"""Retention of operational rows, and the data version other processes watch.

Only bookkeeping is pruned: processed-update claims, handled inbox rows, reminder log entries,
anchors of old receipts (a reply to a months-old receipt then needs a #编号 caption).
Reports, files, scores and every other history table are never touched here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import DataVersion, InboxUpdate, MessageAnchor, PendingDraft, ProcessedUpdate, ReminderLog


def prune_bookkeeping(session: Session, before: datetime, reminder_log_before: datetime) -> dict[str, int]:
    """Delete claims and handled inbox rows older than ``before``, reminder log rows older than
    ``reminder_log_before``; returns the number of rows removed per table."""
    removed = {
        "processed_updates": session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before)),
        "inbox_updates": session.execute(
            delete(InboxUpdate).where(InboxUpdate.handled.is_(True), InboxUpdate.received_at < before)
        ),
        "reminder_log": session.execute(delete(ReminderLog).where(ReminderLog.created_at < reminder_log_before)),
        "message_anchors": session.execute(delete(MessageAnchor).where(MessageAnchor.created_at < before)),
        "pending_drafts": session.execute(delete(PendingDraft).where(PendingDraft.created_at < before)),
    }
    return {table: int(getattr(result, "rowcount", 0) or 0) for table, result in removed.items()}


def data_version(session: Session) -> int:
    """The current data version (0 before any change)."""
    return int(session.scalar(select(DataVersion.version).where(DataVersion.id == 1)) or 0)


def bump_data_version(session: Session, now: datetime) -> None:
    """Count one change of the tables (in the caller's transaction, so it commits with the change)."""
    changed = session.execute(
        update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version + 1, changed_at=now)
    )
    if not getattr(changed, "rowcount", 0):
        session.add(DataVersion(id=1, version=1, changed_at=now))
        session.flush()

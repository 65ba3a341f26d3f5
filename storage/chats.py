"""Queries about chat bindings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ChatBinding, ChatKind, Unit


def bound_unit(session: Session, chat_id: int) -> tuple[int, str] | None:
    """(unit id, name) of the unit a group is bound to, if it is a unit group."""
    row = session.execute(
        select(Unit.id, Unit.name)
        .join(ChatBinding, ChatBinding.unit_id == Unit.id)
        .where(ChatBinding.chat_id == chat_id, ChatBinding.active.is_(True), ChatBinding.kind == ChatKind.UNIT)
    ).first()
    return (int(row[0]), str(row[1])) if row else None


def unit_chats(session: Session, unit_id: int) -> list[int]:
    """Chat ids of the active groups bound to a unit."""
    return list(
        session.scalars(
            select(ChatBinding.chat_id).where(
                ChatBinding.unit_id == unit_id, ChatBinding.active.is_(True), ChatBinding.kind == ChatKind.UNIT
            )
        )
    )


def bound_document(session: Session, chat_id: int) -> str | None:
    """The document (programme) a chat is bound to, if any."""
    return session.scalar(
        select(ChatBinding.document_id).where(ChatBinding.chat_id == chat_id, ChatBinding.active.is_(True))
    )

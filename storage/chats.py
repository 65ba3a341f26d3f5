"""Queries about chat bindings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ChatBinding


def bound_document(session: Session, chat_id: int) -> str | None:
    """The document (programme) a chat is bound to, if any."""
    return session.scalar(
        select(ChatBinding.document_id).where(ChatBinding.chat_id == chat_id, ChatBinding.active.is_(True))
    )

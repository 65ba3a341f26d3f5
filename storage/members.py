"""Queries about Telegram members and their roles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Member, MemberRole, MemberStatus


def is_coordinator(session: Session, telegram_user_id: int) -> bool:
    """Whether the user is an active coordinator or admin member."""
    role = session.scalar(
        select(Member.role).where(Member.telegram_user_id == telegram_user_id, Member.status == MemberStatus.ACTIVE)
    )
    return role in {MemberRole.COORDINATOR, MemberRole.ADMIN}

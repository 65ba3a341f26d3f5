"""Members (Telegram user ↔ unit/person, role) and chat bindings (group ↔ unit or coordinators)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rapidfuzz import process
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import (
    Assignment,
    ChatBinding,
    ChatKind,
    CoordinatorScope,
    Document,
    Indicator,
    Member,
    MemberRole,
    MemberStatus,
    Person,
    Unit,
)
from storage.progress import ReportError, find_unit

COORDINATOR_WORDS = ("协调", "协调组", "协调人", "法规科协调", "coordinator")


def _unit_or_error(session: Session, name: str) -> Unit:
    unit = find_unit(session, name)
    if unit is not None:
        return unit
    names = list(session.scalars(select(Unit.name)))
    close = [n for n, score, _ in process.extract(name, names, limit=3) if score >= 50]
    hint = f"，是不是：{'、'.join(close)}" if close else ""
    raise ReportError(f"找不到单位“{name}”{hint}")


def _person(session: Session, unit: Unit, name: str | None) -> Person | None:
    if not name:
        return None
    person = session.scalar(select(Person).where(Person.name == name, Person.unit_id == unit.id))
    if person is None:
        person = Person(name=name, unit_id=unit.id)
        session.add(person)
        session.flush()
    return person


@dataclass(frozen=True)
class MemberView:
    """A member as shown in messages."""

    member_id: int
    telegram_user_id: int
    display_name: str
    unit: str
    person: str
    role: MemberRole
    status: MemberStatus
    unit_id: int | None = None
    programmes: tuple[str, ...] = ()  # coordinated programmes (coordinators only; empty = all)


def _view(session: Session, member: Member) -> MemberView:
    unit = session.get(Unit, member.unit_id) if member.unit_id else None
    person = session.get(Person, member.person_id) if member.person_id else None
    return MemberView(
        member.id,
        member.telegram_user_id,
        member.display_name,
        unit.name if unit else "",
        person.name if person else "",
        member.role,
        member.status,
        member.unit_id,
        tuple(
            session.scalars(
                select(CoordinatorScope.document_id)
                .where(CoordinatorScope.member_id == member.id)
                .order_by(CoordinatorScope.document_id)
            )
        ),
    )


def unit_programmes(session: Session, unit_id: int) -> list[str]:
    """The programmes (document ids) in which a unit owns indicators."""
    return sorted(
        set(
            session.scalars(
                select(Indicator.document_id)
                .join(Assignment, Assignment.indicator_id == Indicator.id)
                .where(Assignment.unit_id == unit_id)
            )
        )
    )


def coordinators_of(session: Session, programmes: list[str]) -> list[MemberView]:
    """Active coordinators of any of ``programmes`` (unscoped coordinators coordinate all)."""
    members = session.scalars(
        select(Member)
        .where(Member.role == MemberRole.COORDINATOR, Member.status == MemberStatus.ACTIVE)
        .order_by(Member.id)
    )
    views = [_view(session, m) for m in members]
    return [v for v in views if not v.programmes or set(v.programmes) & set(programmes)]


def member_view(session: Session, member_id: int) -> MemberView | None:
    """A member by id (a join request being decided)."""
    member = session.get(Member, member_id)
    return _view(session, member) if member else None


def find_document(session: Session, hint: str) -> Document:
    """The one document whose id starts with ``hint`` or whose name contains it."""
    documents = list(session.scalars(select(Document).order_by(Document.id)))
    matches = [d for d in documents if d.id.startswith(hint) or hint in (d.short_name + d.issuer)]
    if len(matches) != 1:
        names = "、".join(f"{d.id[:3]}（{d.short_name}）" for d in documents)
        raise ReportError(f"无法确定文档“{hint}”，可用：{names}")
    return matches[0]


def request_join(
    session: Session,
    *,
    telegram_user_id: int,
    display_name: str,
    username: str,
    unit_name: str,
    person_name: str | None,
    now: datetime,
    auto_approve: bool = False,
) -> MemberView:
    """A user asks to be linked to a unit (and person); pending until a coordinator confirms."""
    unit = _unit_or_error(session, unit_name)
    person = _person(session, unit, person_name)
    member = session.scalar(select(Member).where(Member.telegram_user_id == telegram_user_id))
    if member is None:
        member = Member(telegram_user_id=telegram_user_id, created_at=now)
        session.add(member)
    member.display_name = display_name
    member.username = username
    member.unit_id = unit.id
    member.person_id = person.id if person else None
    member.status = MemberStatus.ACTIVE if auto_approve else MemberStatus.PENDING
    if member.role is None:
        member.role = MemberRole.MEMBER
    session.flush()
    return _view(session, member)


def decide_join(session: Session, member_id: int, approve: bool, decided_by: int) -> MemberView:
    """Confirm or reject a pending join request."""
    member = session.get(Member, member_id)
    if member is None:
        raise ReportError("找不到这条申请")
    member.status = MemberStatus.ACTIVE if approve else MemberStatus.REJECTED
    member.confirmed_by = decided_by
    session.flush()
    return _view(session, member)


def add_member(
    session: Session,
    *,
    telegram_user_id: int,
    unit_name: str,
    person_name: str | None,
    role: MemberRole,
    added_by: int,
    now: datetime,
    programmes: list[str] | None = None,
) -> MemberView:
    """A coordinator links a user directly (active at once); a coordinator's programmes replace theirs."""
    view = request_join(
        session,
        telegram_user_id=telegram_user_id,
        display_name=person_name or "",
        username="",
        unit_name=unit_name,
        person_name=person_name,
        now=now,
        auto_approve=True,
    )
    member = session.get(Member, view.member_id)
    assert member is not None
    member.role = role
    member.confirmed_by = added_by
    session.execute(delete(CoordinatorScope).where(CoordinatorScope.member_id == member.id))
    if role == MemberRole.COORDINATOR:
        for document_id in sorted(set(programmes or [])):
            session.add(CoordinatorScope(member_id=member.id, document_id=document_id))
    session.flush()
    return _view(session, member)


@dataclass(frozen=True)
class BindingView:
    """A chat binding as shown in messages."""

    chat_id: int
    kind: ChatKind
    unit: str
    document: str
    unit_id: int | None = None
    document_id: str | None = None


def bind_chat(
    session: Session,
    *,
    chat_id: int,
    title: str,
    target: str,
    document_hint: str | None,
    bound_by: int,
    now: datetime,
) -> BindingView:
    """Bind a group to a unit (or as the coordinator group) and to a programme (document)."""
    coordinator = target in COORDINATOR_WORDS
    unit = None if coordinator else _unit_or_error(session, target)
    document: Document | None = None
    if document_hint:
        document = find_document(session, document_hint)
    elif unit is not None:
        owned = sorted(
            set(
                session.scalars(
                    select(Indicator.document_id)
                    .join(Assignment, Assignment.indicator_id == Indicator.id)
                    .where(Assignment.unit_id == unit.id)
                )
            )
        )
        if len(owned) == 1:
            document = session.get(Document, owned[0])
    binding = session.scalar(select(ChatBinding).where(ChatBinding.chat_id == chat_id))
    if binding is None:
        binding = ChatBinding(chat_id=chat_id, created_at=now, kind=ChatKind.UNIT)
        session.add(binding)
    binding.title = title
    binding.kind = ChatKind.COORDINATOR if coordinator else ChatKind.UNIT
    binding.unit_id = unit.id if unit else None
    binding.document_id = document.id if document else None
    binding.active = True
    binding.bound_by = bound_by
    session.flush()
    return BindingView(
        chat_id,
        binding.kind,
        unit.name if unit else "",
        (document.short_name or document.id) if document else "",
        unit.id if unit else None,
        document.id if document else None,
    )


def set_webhook(session: Session, chat_id: int, kind: str, url: str, secret: str) -> None:
    """Name (or clear) the group-robot webhook a bound chat's reminders are copied to."""
    binding = session.scalar(select(ChatBinding).where(ChatBinding.chat_id == chat_id))
    if binding is None:
        raise ReportError("本群还没有绑定，请先 /bind")
    binding.webhook_kind, binding.webhook_url, binding.webhook_secret = kind, url, secret


def unit_choices(session: Session, chat_id: int, limit: int = 12) -> list[tuple[int, str]]:
    """Units to offer on /join: the group's own unit, else those owning the most indicators."""
    binding = session.scalar(select(ChatBinding).where(ChatBinding.chat_id == chat_id, ChatBinding.active.is_(True)))
    if binding is not None and binding.unit_id is not None:
        unit = session.get(Unit, binding.unit_id)
        return [(unit.id, unit.name)] if unit else []
    from sqlalchemy import func

    query = (
        select(Unit.id, Unit.name, func.count(Assignment.id).label("owned"))
        .join(Assignment, Assignment.unit_id == Unit.id)
        .join(Indicator, Indicator.id == Assignment.indicator_id)
        .group_by(Unit.id, Unit.name)
        .order_by(func.count(Assignment.id).desc(), Unit.name)
        .limit(limit)
    )
    if binding is not None and binding.document_id:
        query = query.where(Indicator.document_id == binding.document_id)
    return [(unit_id, name) for unit_id, name, _ in session.execute(query).all()]


def unit_name_of(session: Session, unit_id: int) -> str | None:
    """The name of a unit id (from a button)."""
    unit = session.get(Unit, unit_id)
    return unit.name if unit else None

"""SQLAlchemy 2 typed models for the whole domain.

Documents (imported tables) hold indicators; indicators are owned by units
(lead / cooperating) and persons; Telegram members and chats bind to units;
progress reports and attachments are append-only; reminder rules and their
send log drive the monthly rhythm; processed update ids make redelivery harmless.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# The enums live in knowledge.domain; re-exported here for callers that import them with the models.
from knowledge.domain import ChatKind as ChatKind
from knowledge.domain import MemberRole as MemberRole
from knowledge.domain import MemberStatus as MemberStatus
from knowledge.domain import ReportStatus as ReportStatus
from knowledge.domain import Role as Role
from knowledge.domain import RuleKind as RuleKind

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (needed for migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Document(Base):
    """One imported source document (a programme's indicator tables)."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    issuer: Mapped[str] = mapped_column(String(200), default="")
    short_name: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(40), default="")
    source_name: Mapped[str] = mapped_column(String(300), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    reporting_rules: Mapped[list[Any]] = mapped_column(default=list)
    # The programme profile (knowledge.profile.Profile.as_json): cadence, phases, milestones, who reports…
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    indicators: Mapped[list[Indicator]] = relationship(back_populates="document", order_by="Indicator.position")


class Indicator(Base):
    """A 三级指标 (or task) of one table of a document."""

    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("document_id", "table_name", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    table_name: Mapped[str] = mapped_column(String(100), default="")
    number: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    level1: Mapped[str] = mapped_column(Text, default="")
    level2: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    methods: Mapped[list[Any]] = mapped_column(default=list)
    materials: Mapped[str] = mapped_column(Text, default="")
    criteria: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[float | None] = mapped_column(Float, nullable=True)
    unassigned: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_note: Mapped[str] = mapped_column(Text, default="")
    source_line_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source_line_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    document: Mapped[Document] = relationship(back_populates="indicators")
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="indicator", cascade="all, delete-orphan", order_by="Assignment.id"
    )


class Unit(Base):
    """An organisational unit (科室, 支队, 县区…), global across documents."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)

    aliases: Mapped[list[UnitAlias]] = relationship(back_populates="unit", cascade="all, delete-orphan")
    persons: Mapped[list[Person]] = relationship(back_populates="unit")


class UnitAlias(Base):
    """Another name of a unit, optionally only within one document (``支队``)."""

    __tablename__ = "unit_aliases"
    __table_args__ = (UniqueConstraint("alias", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(200), index=True)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), nullable=True)

    unit: Mapped[Unit] = relationship(back_populates="aliases")


class Person(Base):
    """A named responsible person, tied to a unit."""

    __tablename__ = "persons"
    __table_args__ = (UniqueConstraint("name", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), nullable=True)
    title: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")

    unit: Mapped[Unit | None] = relationship(back_populates="persons")


class Assignment(Base):
    """Indicator ↔ unit with a role, and the person answerable there."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_unit_role", "unit_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"), nullable=True)

    indicator: Mapped[Indicator] = relationship(back_populates="assignments")
    unit: Mapped[Unit] = relationship()
    person: Mapped[Person | None] = relationship()


class Member(Base):
    """A Telegram user linked to a person/unit, with a role."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    username: Mapped[str] = mapped_column(String(100), default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), nullable=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"), nullable=True)
    role: Mapped[MemberRole] = mapped_column(_enum(MemberRole), default=MemberRole.MEMBER)
    status: Mapped[MemberStatus] = mapped_column(_enum(MemberStatus), default=MemberStatus.PENDING)
    confirmed_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    unit: Mapped[Unit | None] = relationship()
    person: Mapped[Person | None] = relationship()


class CoordinatorScope(Base):
    """A programme (document) a coordinator coordinates; a coordinator without any coordinates all."""

    __tablename__ = "coordinator_scopes"
    __table_args__ = (UniqueConstraint("member_id", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))


class ChatBinding(Base):
    """A Telegram group bound to a programme and a unit, or as the coordinator group."""

    __tablename__ = "chat_bindings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[ChatKind] = mapped_column(_enum(ChatKind))
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"), nullable=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), nullable=True)
    webhook_kind: Mapped[str] = mapped_column(String(20), default="")
    webhook_url: Mapped[str] = mapped_column(String(500), default="")
    webhook_secret: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str] = mapped_column(String(300), default="")
    bound_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    unit: Mapped[Unit | None] = relationship()
    document: Mapped[Document | None] = relationship()


class ProgressReport(Base):
    """One version of a unit's report on an indicator for a period (append-only)."""

    __tablename__ = "progress_reports"
    __table_args__ = (
        UniqueConstraint("indicator_id", "unit_id", "period", "version"),
        Index("ix_progress_reports_period_unit", "period", "unit_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    short_id: Mapped[str] = mapped_column(String(16), unique=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="RESTRICT"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    period: Mapped[str] = mapped_column(String(7))
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus))
    text: Mapped[str] = mapped_column(Text, default="")
    # The whole message as sent (``text`` is its details part), verbatim.
    message_text: Mapped[str] = mapped_column(Text, default="")
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    reporter_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), nullable=True)
    reporter_telegram_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reporter_name: Mapped[str] = mapped_column(String(200), default="")
    source_update_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    source_chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    indicator: Mapped[Indicator] = relationship()
    unit: Mapped[Unit] = relationship()


class Attachment(Base):
    """An evidence file for an indicator and period, stored content-addressed by sha256."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_indicator_period", "indicator_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="RESTRICT"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), nullable=True)
    period: Mapped[str] = mapped_column(String(7))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("progress_reports.id", ondelete="SET NULL"), nullable=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(300))
    stored_path: Mapped[str] = mapped_column(String(500))
    caption: Mapped[str] = mapped_column(Text, default="")
    telegram_file_id: Mapped[str] = mapped_column(String(300), default="")
    telegram_file_unique_id: Mapped[str] = mapped_column(String(100), default="")
    uploader_telegram_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    uploader_name: Mapped[str] = mapped_column(String(200), default="")
    source_update_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReminderRule(Base):
    """A deadline of a programme and when to remind about it."""

    __tablename__ = "reminder_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), nullable=True)
    kind: Mapped[RuleKind] = mapped_column(_enum(RuleKind))
    title: Mapped[str] = mapped_column(String(300), default="")
    day_of_month: Mapped[int | None] = mapped_column(Integer, nullable=True)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    remind_working_days_before: Mapped[list[Any]] = mapped_column(default=list)
    remind_time: Mapped[str] = mapped_column(String(5), default="09:00")
    overdue_notice: Mapped[bool] = mapped_column(Boolean, default=True)
    target_unit_ids: Mapped[list[Any]] = mapped_column(default=list)
    attach_ledger: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReminderLog(Base):
    """One reminder send, unique per (rule, occurrence, chat) so none goes out twice."""

    __tablename__ = "reminder_log"
    __table_args__ = (UniqueConstraint("rule_id", "occurrence_key", "chat_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("reminder_rules.id", ondelete="CASCADE"))
    occurrence_key: Mapped[str] = mapped_column(String(100))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="claimed")
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CalendarDay(Base):
    """An admin-entered holiday or make-up workday that overrides the calendar library."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")


class ProcessedUpdate(Base):
    """A Telegram update already handled (redelivery creates nothing twice).

    Keyed by bot id + update id: update ids restart at 1 for a new token or a restarted Bot
    API server (the inbox then drops the stale claim, see ``storage.inbox.save_new``).
    """

    __tablename__ = "processed_updates"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40), default="")
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InboxUpdate(Base):
    """An update fetched from Telegram, written before its offset is confirmed (write-ahead).

    Telegram forgets an update once the next ``getUpdates`` confirms its offset, but PTB
    fetches ahead of processing; rows not yet ``handled`` are replayed after a crash.
    """

    __tablename__ = "inbox_updates"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    handled: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class DataVersion(Base):
    """One row whose counter goes up whenever the tables change (an import from the CLI or chat).

    Every bot process compares it with the version it loaded, so a change made by another
    process (``taizhang import`` while the bot runs, another instance) is picked up without a restart.
    """

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MessageAnchor(Base):
    """A bot message (receipt or 详情 card) a file may be sent in reply to → its indicator and period.

    In the database rather than one process's memory, so a reply handled by another instance,
    or after a restart, still attaches where the user meant.
    """

    __tablename__ = "message_anchors"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    period: Mapped[str | None] = mapped_column(String(7), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SelfScore(Base):
    """One version of a self-score on a scored task (004 打分表), append-only like reports."""

    __tablename__ = "self_scores"
    __table_args__ = (Index("ix_self_scores_indicator", "indicator_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="RESTRICT"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), nullable=True)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    scorer_telegram_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    scorer_name: Mapped[str] = mapped_column(String(200), default="")
    source_update_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PendingDraft(Base):
    """Reports a user previewed, waiting for 确认 (any instance may handle the button press)."""

    __tablename__ = "pending_drafts"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

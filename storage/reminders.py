"""Reminder rules, the send log (one row per rule/occurrence/chat), and what reminders report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import (
    Assignment,
    CalendarDay,
    ChatBinding,
    ChatKind,
    Document,
    Indicator,
    Member,
    MemberStatus,
    ProgressReport,
    ReminderLog,
    ReminderRule,
    RuleKind,
    Unit,
)
from storage.progress import ReportError

DEFAULT_COORDINATOR_DAY = 5


def seed_rules(session: Session, now: datetime) -> int:
    """Create monthly rules from each document's own reporting rule (once per document)."""
    created = 0
    for document in session.scalars(select(Document)):
        if session.scalar(select(ReminderRule.id).where(ReminderRule.document_id == document.id).limit(1)):
            continue
        monthly = [r for r in document.reporting_rules or [] if isinstance(r, dict) and "day" in r]
        unit_days = [int(r["day"]) for r in monthly if r.get("kind") == "monthly_unit"]
        coordinator_days = [int(r["day"]) for r in monthly if r.get("kind") == "monthly_coordinator"]
        if not unit_days:
            continue
        session.add(ReminderRule(document_id=document.id, kind=RuleKind.MONTHLY_UNIT, day_of_month=unit_days[0],
                                 title="月度进展报送", remind_working_days_before=[2, 0], source="文档",
                                 created_at=now))  # fmt: skip
        session.add(ReminderRule(document_id=document.id, kind=RuleKind.MONTHLY_COORDINATOR,
                                 day_of_month=coordinator_days[0] if coordinator_days else DEFAULT_COORDINATOR_DAY,
                                 title="汇总上报", remind_working_days_before=[2, 0], overdue_notice=False,
                                 attach_ledger=True, source="文档", created_at=now))  # fmt: skip
        created += 2
    session.flush()
    return created


def calendar_overrides(session: Session) -> dict[date, bool]:
    """Admin-entered holidays (False) and make-up workdays (True)."""
    return {d.day: d.is_workday for d in session.scalars(select(CalendarDay))}


def set_calendar_day(session: Session, day: date, is_workday: bool, note: str) -> None:
    """Enter or change one day of the working calendar."""
    row = session.get(CalendarDay, day)
    if row is None:
        session.add(CalendarDay(day=day, is_workday=is_workday, note=note))
    else:
        row.is_workday, row.note = is_workday, note


def claim(session: Session, rule_id: int, key: str, chat_id: int, now: datetime, status: str = "claimed") -> bool:
    """Insert the log row for an occurrence; False if it exists (sent or claimed elsewhere)."""
    try:
        with session.begin_nested():
            session.add(ReminderLog(rule_id=rule_id, occurrence_key=key, chat_id=chat_id, status=status,
                                    created_at=now))  # fmt: skip
        return True
    except IntegrityError:
        return False


def finish(session: Session, rule_id: int, key: str, chat_id: int, status: str, detail: str, now: datetime) -> None:
    """Record the outcome of a send."""
    row = session.scalar(
        select(ReminderLog).where(
            ReminderLog.rule_id == rule_id, ReminderLog.occurrence_key == key, ReminderLog.chat_id == chat_id
        )
    )
    if row is not None:
        row.status, row.detail = status, detail[:500]
        if status == "sent":
            row.sent_at = now


def deactivate_chat(session: Session, chat_id: int, reason: str) -> None:
    """A chat the bot can no longer post to (removed, migrated)."""
    binding = session.scalar(select(ChatBinding).where(ChatBinding.chat_id == chat_id))
    if binding is not None:
        binding.active, binding.inactive_reason = False, reason[:300]


@dataclass
class UnitProgress:
    """A unit's reported / missing indicators for a period."""

    unit_id: int
    unit: str
    owned: int
    reported: int
    missing_numbers: list[str] = field(default_factory=list)
    member_links: list[tuple[int, str]] = field(default_factory=list)


def unit_progress(session: Session, unit_id: int, period: str, document_id: str | None) -> UnitProgress:
    """Which of the unit's lead/cooperating indicators still lack a report for ``period``."""
    unit = session.get(Unit, unit_id)
    query = (
        select(Indicator.id, Indicator.number)
        .join(Assignment, Assignment.indicator_id == Indicator.id)
        .where(Assignment.unit_id == unit_id)
        .distinct()
        .order_by(Indicator.number)
    )
    if document_id:
        query = query.where(Indicator.document_id == document_id)
    owned = list(session.execute(query).all())
    reported = set(
        session.scalars(
            select(ProgressReport.indicator_id).where(
                ProgressReport.unit_id == unit_id, ProgressReport.period == period
            )
        )
    )
    members = session.execute(
        select(Member.telegram_user_id, Member.display_name).where(
            Member.unit_id == unit_id, Member.status == MemberStatus.ACTIVE
        )
    ).all()
    missing = [number for indicator_id, number in owned if indicator_id not in reported]
    return UnitProgress(
        unit_id,
        unit.name if unit else "",
        len(owned),
        len(owned) - len(missing),
        sorted(missing, key=lambda n: (len(n), n)),
        [(int(uid), name) for uid, name in members],
    )


def units_of_document(session: Session, document_id: str | None) -> list[int]:
    """Units that own indicators (in one document, or anywhere)."""
    query = select(Assignment.unit_id).distinct()
    if document_id:
        query = query.join(Indicator, Indicator.id == Assignment.indicator_id).where(
            Indicator.document_id == document_id
        )
    return sorted(set(session.scalars(query)))


def add_one_off(
    session: Session, *, due: date, title: str, unit_names: list[str], document_id: str | None, now: datetime
) -> ReminderRule:
    """``/deadline add``: a one-off deadline, optionally for some units only."""
    from storage.progress import find_unit

    if due < now.date():
        raise ReportError(f"{due:%Y-%m-%d} 已经过去，不能设为截止日期")
    unit_ids = []
    for name in unit_names:
        unit = find_unit(session, name)
        if unit is None:
            raise ReportError(f"找不到单位“{name}”")
        unit_ids.append(unit.id)
    same = session.scalar(
        select(ReminderRule).where(
            ReminderRule.active.is_(True),
            ReminderRule.kind == RuleKind.ONE_OFF,
            ReminderRule.due_date == due,
            ReminderRule.title == title[:200],
            ReminderRule.document_id.is_(None) if document_id is None else ReminderRule.document_id == document_id,
        )
    )
    if same is not None and list(same.target_unit_ids or []) == unit_ids:
        return same  # a retry (or a replayed update) of the same command: nothing new
    rule = ReminderRule(kind=RuleKind.ONE_OFF, due_date=due, title=title[:200], document_id=document_id,
                        remind_working_days_before=[2, 0], target_unit_ids=unit_ids, source="协调人",
                        created_at=now)  # fmt: skip
    session.add(rule)
    session.flush()
    return rule


def list_rules(session: Session) -> list[ReminderRule]:
    """All active rules."""
    return list(session.scalars(select(ReminderRule).where(ReminderRule.active.is_(True)).order_by(ReminderRule.id)))


def remove_rule(session: Session, rule_id: int) -> ReminderRule:
    """Deactivate a rule (its send log stays)."""
    rule = session.get(ReminderRule, rule_id)
    if rule is None or not rule.active:
        raise ReportError(f"没有编号为 {rule_id} 的提醒规则（/deadline list 查看）")
    rule.active = False
    return rule


def coordinator_chat_ids(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(ChatBinding.chat_id).where(ChatBinding.kind == ChatKind.COORDINATOR, ChatBinding.active.is_(True))
        )
    )


def set_monthly_day(
    session: Session, document_id: str | None, coordinator: bool, day: int, now: datetime
) -> ReminderRule:
    """Change (or create) the monthly unit or coordinator deadline day of a programme."""
    if not 1 <= day <= 31:
        raise ReportError(f"{day} 不是有效的日期（1–31；小月会自动提前到月底）")
    kind = RuleKind.MONTHLY_COORDINATOR if coordinator else RuleKind.MONTHLY_UNIT
    query = select(ReminderRule).where(ReminderRule.kind == kind, ReminderRule.active.is_(True))
    query = (
        query.where(ReminderRule.document_id == document_id)
        if document_id
        else query.where(ReminderRule.document_id.is_(None))
    )
    rule = session.scalars(query).first()
    if rule is None:
        rule = ReminderRule(kind=kind, document_id=document_id, title="汇总上报" if coordinator else "月度进展报送",
                            remind_working_days_before=[2, 0], overdue_notice=not coordinator, source="协调人",
                            created_at=now)  # fmt: skip
        session.add(rule)
    rule.day_of_month = day
    session.flush()
    return rule

"""Reminder rules, the send log (one row per rule/occurrence/chat), and what reminders report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge.profile import Profile
from knowledge.profile_edit import apply_edit
from knowledge.schedule import all_deadlines
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
    Role,
    RuleKind,
    Unit,
)
from storage.profiles import load_profile, profile_of, save_profile
from storage.progress import ReportError

RULE_TITLES = {
    RuleKind.MONTHLY_UNIT: "月度进展报送",
    RuleKind.MONTHLY_COORDINATOR: "汇总上报",
    RuleKind.DATED: "截止日期",
}


def _wanted_kinds(profile: Profile) -> set[RuleKind]:
    """Which reminder rules a profile calls for (nothing the document does not state)."""
    wanted = set()
    if profile.monthly and profile.monthly.report_day:
        wanted.add(RuleKind.MONTHLY_UNIT)
    if profile.monthly and profile.monthly.coordinator_day:
        wanted.add(RuleKind.MONTHLY_COORDINATOR)
    if all_deadlines(profile):
        wanted.add(RuleKind.DATED)
    return wanted


def seed_rules(session: Session, now: datetime) -> int:
    """Keep each document's reminder rules in step with its profile; returns how many were created.

    A rule holds only how to remind (days before, time, ledger); the dates come from the
    profile through ``knowledge.schedule``. A rule the profile no longer calls for is deactivated.
    """
    created = 0
    for document in session.scalars(select(Document).order_by(Document.id)):
        profile = profile_of(document)
        wanted = _wanted_kinds(profile)
        rules = session.scalars(
            select(ReminderRule).where(
                ReminderRule.document_id == document.id,
                ReminderRule.active.is_(True),
                ReminderRule.kind.in_([RuleKind.MONTHLY_UNIT, RuleKind.MONTHLY_COORDINATOR, RuleKind.DATED]),
            )
        ).all()
        present = {rule.kind: rule for rule in rules}
        for rule in rules:
            if rule.kind not in wanted:
                rule.active = False
        for kind in [k for k in RULE_TITLES if k in wanted and k not in present]:
            coordinator = kind == RuleKind.MONTHLY_COORDINATOR
            rule = ReminderRule(document_id=document.id, kind=kind, title=RULE_TITLES[kind],
                                remind_working_days_before=[2, 0], overdue_notice=kind == RuleKind.MONTHLY_UNIT,
                                attach_ledger=coordinator, source="文档", created_at=now)  # fmt: skip
            session.add(rule)
            present[kind] = rule
            created += 1
        monthly = profile.monthly
        for kind, day in (
            (RuleKind.MONTHLY_UNIT, monthly.report_day if monthly else None),
            (RuleKind.MONTHLY_COORDINATOR, monthly.coordinator_day if monthly else None),
        ):
            if kind in present and present[kind].day_of_month != day:
                present[kind].day_of_month = day  # shown by /deadline list; the date itself comes from the profile
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


def unit_progress(
    session: Session, unit_id: int, period: str, document_id: str | None, lead_only: bool = False
) -> UnitProgress:
    """Which of the unit's indicators (led only, when only leads report) still lack a report for ``period``."""
    unit = session.get(Unit, unit_id)
    query = (
        select(Indicator.id, Indicator.number)
        .join(Assignment, Assignment.indicator_id == Indicator.id)
        .where(Assignment.unit_id == unit_id)
        .distinct()
        .order_by(Indicator.number)
    )
    if lead_only:
        query = query.where(Assignment.role == Role.LEAD)
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


def units_of_document(session: Session, document_id: str | None, lead_only: bool = False) -> list[int]:
    """Units that own (or, ``lead_only``, lead) indicators in one document or anywhere."""
    query = select(Assignment.unit_id).distinct()
    if lead_only:
        query = query.where(Assignment.role == Role.LEAD)
    if document_id:
        query = query.join(Indicator, Indicator.id == Assignment.indicator_id).where(
            Indicator.document_id == document_id
        )
    return sorted(set(session.scalars(query)))


def edit_profile(session: Session, document_id: str, key: str, value: str, now: datetime) -> str:
    """Change one profile value (``/rules set``, ``taizhang profile set``) and re-seed the reminder rules."""
    profile = load_profile(session, document_id)
    if profile is None:
        raise ReportError(f"没有编号为 {document_id} 的文档")
    done = apply_edit(profile, key, value, now.date())
    save_profile(session, profile)
    seed_rules(session, now)
    return done


def _document_rule(session: Session, document_id: str, kind: RuleKind) -> ReminderRule | None:
    return session.scalars(
        select(ReminderRule).where(
            ReminderRule.document_id == document_id, ReminderRule.kind == kind, ReminderRule.active.is_(True)
        )
    ).first()


def add_one_off(
    session: Session, *, due: date, title: str, unit_names: list[str], document_id: str | None, now: datetime
) -> ReminderRule:
    """``/deadline add``: a one-off deadline, optionally for some units only.

    In a programme's chat it goes into the programme's profile (so lateness, ``taizhang deadlines``
    and reminders all see it); elsewhere it is a stand-alone reminder for every unit group.
    """
    from storage.progress import find_unit

    if due < now.date():
        raise ReportError(f"{due:%Y-%m-%d} 已经过去，不能设为截止日期")
    units = []
    for name in unit_names:
        unit = find_unit(session, name)
        if unit is None:
            raise ReportError(f"找不到单位“{name}”")
        units.append(unit)
    if document_id:
        profile = load_profile(session, document_id)
        if profile is not None:
            names = [u.name for u in units]
            if not any(d.due == due and d.title == title[:200] and d.units == names for d in profile.one_offs):
                # (a retry, or a replayed update, of the same command adds nothing new)
                apply_edit(profile, "one_off.add", f"{due.isoformat()} {title[:200]}", now.date())
                profile.one_offs[-1].units = names
                save_profile(session, profile)
            seed_rules(session, now)
            rule = _document_rule(session, document_id, RuleKind.DATED)
            assert rule is not None
            return rule
    unit_ids = [u.id for u in units]
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


def remove_rule(session: Session, rule_id: int, now: datetime) -> ReminderRule:
    """Deactivate a rule (its send log stays); a programme's monthly rule is removed from its profile."""
    rule = session.get(ReminderRule, rule_id)
    if rule is None or not rule.active:
        raise ReportError(f"没有编号为 {rule_id} 的提醒规则（/deadline list 查看）")
    if rule.document_id and rule.kind == RuleKind.DATED:
        raise ReportError("这条规则提醒的是文档里的各个截止日期；删除某一个请发送 /deadline remove 日期")
    if rule.document_id and rule.kind in (RuleKind.MONTHLY_UNIT, RuleKind.MONTHLY_COORDINATOR):
        key = "monthly.report_day" if rule.kind == RuleKind.MONTHLY_UNIT else "monthly.coordinator_day"
        edit_profile(session, rule.document_id, key, "none", now)
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
    """Change the monthly unit or coordinator day of a programme: in its profile, so lateness follows too."""
    if not 1 <= day <= 31:
        raise ReportError(f"{day} 不是有效的日期（1–31；小月会自动提前到月底）")
    kind = RuleKind.MONTHLY_COORDINATOR if coordinator else RuleKind.MONTHLY_UNIT
    if document_id:
        edit_profile(session, document_id, "monthly.coordinator_day" if coordinator else "monthly.report_day",
                     str(day), now)  # fmt: skip
        rule = _document_rule(session, document_id, kind)
        assert rule is not None
        return rule
    # A chat bound to no programme: a stand-alone monthly reminder (no programme's lateness to follow).
    rule = session.scalars(
        select(ReminderRule).where(
            ReminderRule.kind == kind, ReminderRule.active.is_(True), ReminderRule.document_id.is_(None)
        )
    ).first()
    if rule is None:
        rule = ReminderRule(kind=kind, document_id=None, title=RULE_TITLES[kind],
                            remind_working_days_before=[2, 0], overdue_notice=not coordinator, source="协调人",
                            created_at=now)  # fmt: skip
        session.add(rule)
    rule.day_of_month = day
    session.flush()
    return rule

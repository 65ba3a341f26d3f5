"""Planning reminders: a pure function of rules + chat bindings + calendar + time window.

The scheduler and ``taizhang reminders plan`` call the same :func:`plan`. An occurrence is
identified by (rule, key, chat); the send log has that as a unique key, so re-planning after
a restart, or a second process, can never send one twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from knowledge.schedule import (
    MILESTONE,
    ONE_OFF,
    PHASE,
    REPORT,
    SUMMARY,
    Deadline,
    month_of,
    monthly_deadlines,
)
from knowledge.workdays import WorkCalendar

UNIT = "unit"
COORDINATOR = "coordinator"
OVERDUE = "overdue"


@dataclass(frozen=True)
class RuleSpec:
    """A reminder rule as plain values."""

    rule_id: int
    kind: str  # monthly_unit | monthly_coordinator | one_off
    document_id: str | None
    day_of_month: int | None = None
    due_date: date | None = None
    title: str = ""
    working_days_before: tuple[int, ...] = (2, 0)
    remind_time: str = "09:00"
    overdue_notice: bool = True
    target_unit_ids: tuple[int, ...] = ()
    attach_ledger: bool = False


@dataclass(frozen=True)
class ChatSpec:
    """A bound chat as plain values."""

    chat_id: int
    kind: str  # unit | coordinator
    document_id: str | None
    unit_id: int | None
    title: str = ""
    webhook_kind: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""


@dataclass(frozen=True)
class Occurrence:
    """One message to send: when, to which chat, for which rule, deadline and period."""

    when: datetime
    rule_id: int
    key: str
    chat_id: int
    audience: str  # unit | coordinator | overdue
    deadline: date
    period: str
    title: str
    unit_id: int | None
    document_id: str | None
    rule_kind: str = "monthly_unit"
    webhook_kind: str = ""
    attach_ledger: bool = False

    def as_json(self) -> dict[str, object]:
        """The shape of ``taizhang reminders plan --json``."""
        return {
            "when": self.when.isoformat(),
            "chat_id": self.chat_id,
            "rule_id": self.rule_id,
            "audience": self.audience,
            "deadline": self.deadline.isoformat(),
            "period": self.period,
            "title": self.title,
            "key": self.key,
            "channel": self.webhook_kind or "telegram",
        }


RULE_DEADLINE_KINDS = {
    "monthly_unit": (REPORT,),
    "monthly_coordinator": (SUMMARY,),
    "dated": (ONE_OFF, PHASE, MILESTONE),
}


def _deadlines(rule: RuleSpec, deadlines: Sequence[Deadline], start: date, end: date) -> list[Deadline]:
    """The deadlines a rule reminds of: its programme's (from the profile), or its own date/day."""
    # Reminders run up to two weeks before and a few days after a deadline: widen the window.
    first, last = start - timedelta(days=20), end + timedelta(days=45)
    if rule.kind == "one_off":
        due = rule.due_date
        return [Deadline(rule.document_id or "", due, ONE_OFF, rule.title, month_of(due))] if due else []
    if rule.document_id:
        kinds = RULE_DEADLINE_KINDS.get(rule.kind, ())
        return [d for d in deadlines if d.document == rule.document_id and d.kind in kinds and first <= d.date <= last]
    if rule.day_of_month and rule.kind in ("monthly_unit", "monthly_coordinator"):  # a rule bound to no programme
        kind = REPORT if rule.kind == "monthly_unit" else SUMMARY
        return [Deadline("", d, kind, rule.title, p) for d, p in monthly_deadlines(rule.day_of_month, first, last)]
    return []


def _key(audience: str, deadline: Deadline, day: date | None) -> str:
    """The send-log key of an occurrence; dated deadlines add a digest of the title (several may share a day)."""
    base = f"{audience}:{deadline.date.isoformat()}" + (f":{day.isoformat()}" if day else "")
    if deadline.kind in (REPORT, SUMMARY):
        return base
    return f"{base}:{hashlib.sha1(deadline.title.encode()).hexdigest()[:10]}"


def _chats_for(rule: RuleSpec, chats: list[ChatSpec], audience: str, targets: set[int] | None) -> list[ChatSpec]:
    wanted = UNIT if audience == UNIT else COORDINATOR
    result = []
    for chat in chats:
        if chat.kind != wanted:
            continue
        if rule.document_id and chat.document_id and chat.document_id != rule.document_id:
            continue
        if audience == UNIT and rule.target_unit_ids and chat.unit_id not in rule.target_unit_ids:
            continue
        if audience == UNIT and targets is not None and chat.unit_id not in targets:
            continue
        result.append(chat)
    return result


def plan(
    rules: list[RuleSpec],
    chats: list[ChatSpec],
    calendar: WorkCalendar,
    start: datetime,
    end: datetime,
    timezone: ZoneInfo,
    deadlines: Sequence[Deadline] = (),
    unit_ids: Mapping[str, int] | None = None,
) -> list[Occurrence]:
    """Every reminder due in ``[start, end]`` (both aware datetimes), sorted by time.

    ``deadlines`` are the programmes' deadlines from ``knowledge.schedule.deadlines`` (the only
    source of a programme's dates); ``unit_ids`` maps their unit names to ids, so a unit group
    is reminded only of deadlines its unit must meet.
    """
    occurrences: list[Occurrence] = []
    for rule in rules:
        hour, minute = (int(p) for p in rule.remind_time.split(":"))
        at = time(hour, minute)
        for deadline in _deadlines(rule, deadlines, start.date(), end.date()):
            audience = COORDINATOR if rule.kind == "monthly_coordinator" else UNIT
            days = {calendar.working_days_before(deadline.date, n): n for n in sorted(set(rule.working_days_before))}
            slots = [(day, _key(audience, deadline, day), audience) for day in days]
            morning = calendar.working_days_before(deadline.date, 0)
            if rule.overdue_notice and rule.kind in ("monthly_unit", "one_off"):
                slots.append((calendar.next_workday_after(deadline.date), _key(OVERDUE, deadline, None), OVERDUE))
            targets = None
            if rule.document_id and unit_ids is not None and deadline.units:
                targets = {unit_ids[name] for name in deadline.units if name in unit_ids}
            title = deadline.title if rule.kind == "dated" else rule.title
            for day, key, kind in slots:
                when = datetime.combine(day, at, tzinfo=timezone)
                if not start <= when <= end:
                    continue
                for chat in _chats_for(rule, chats, kind, targets):
                    occurrences.append(
                        Occurrence(
                            when,
                            rule.rule_id,
                            key,
                            chat.chat_id,
                            kind,
                            deadline.date,
                            deadline.period,
                            title,
                            chat.unit_id,
                            rule.document_id,
                            rule.kind,
                            chat.webhook_kind,
                            rule.attach_ledger and kind == COORDINATOR and day == morning,
                        )
                    )
    return sorted(occurrences, key=lambda o: (o.when, o.rule_id, o.chat_id, o.key))

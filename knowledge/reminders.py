"""Planning reminders: a pure function of rules + chat bindings + calendar + time window.

The scheduler and ``taizhang reminders plan`` call the same :func:`plan`. An occurrence is
identified by (rule, key, chat); the send log has that as a unique key, so re-planning after
a restart, or a second process, can never send one twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from knowledge.schedule import day_in_month, previous_month
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


def _deadlines(rule: RuleSpec, start: date, end: date) -> list[date]:
    if rule.kind == "one_off":
        return [rule.due_date] if rule.due_date else []
    if not rule.day_of_month:
        return []
    found = []
    # Reminders run up to two weeks before and a few days after a deadline: widen the window.
    first, last = start - timedelta(days=20), end + timedelta(days=45)
    year, month = first.year, first.month
    while date(year, month, 1) <= last:
        deadline = day_in_month(year, month, rule.day_of_month)
        if first <= deadline <= last:
            found.append(deadline)
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return found


def _chats_for(rule: RuleSpec, chats: list[ChatSpec], audience: str) -> list[ChatSpec]:
    wanted = UNIT if audience == UNIT else COORDINATOR
    result = []
    for chat in chats:
        if chat.kind != wanted:
            continue
        if rule.document_id and chat.document_id and chat.document_id != rule.document_id:
            continue
        if audience == UNIT and rule.target_unit_ids and chat.unit_id not in rule.target_unit_ids:
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
) -> list[Occurrence]:
    """Every reminder due in ``[start, end]`` (both aware datetimes), sorted by time."""
    occurrences: list[Occurrence] = []
    for rule in rules:
        hour, minute = (int(p) for p in rule.remind_time.split(":"))
        at = time(hour, minute)
        for deadline in _deadlines(rule, start.date(), end.date()):
            period = previous_month(deadline) if rule.kind != "one_off" else deadline.strftime("%Y-%m")
            audience = COORDINATOR if rule.kind == "monthly_coordinator" else UNIT
            days = {calendar.working_days_before(deadline, n): n for n in sorted(set(rule.working_days_before))}
            slots = [(day, f"{audience}:{deadline.isoformat()}:{day.isoformat()}", audience) for day in days]
            morning = calendar.working_days_before(deadline, 0)
            if rule.overdue_notice and rule.kind != "monthly_coordinator":
                slots.append((calendar.next_workday_after(deadline), f"overdue:{deadline.isoformat()}", OVERDUE))
            for day, key, kind in slots:
                when = datetime.combine(day, at, tzinfo=timezone)
                if not start <= when <= end:
                    continue
                for chat in _chats_for(rule, chats, kind):
                    occurrences.append(
                        Occurrence(
                            when,
                            rule.rule_id,
                            key,
                            chat.chat_id,
                            kind,
                            deadline,
                            period,
                            rule.title,
                            chat.unit_id,
                            rule.document_id,
                            rule.kind,
                            chat.webhook_kind,
                            rule.attach_ledger and kind == COORDINATOR and day == morning,
                        )
                    )
    return sorted(occurrences, key=lambda o: (o.when, o.rule_id, o.chat_id, o.key))

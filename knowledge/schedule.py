"""Periods, deadlines and lateness: the one owner of these rules for every caller.

Reports, reminders, status and the ledger all ask this module which month is reported,
when it is due and whether a report is late, from a programme's :class:`~knowledge.profile.Profile`.
Reminders are planned from :func:`deadlines` only, so what reminds and what counts as late
cannot disagree. Plain functions, no database.
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo

from knowledge.profile import REPORTED_MONTH_CURRENT, Monthly, Profile

# Deadline kinds (the public ``taizhang deadlines --json`` values).
REPORT = "report"
SUMMARY = "summary"
ONE_OFF = "one-off"
PHASE = "phase"
MILESTONE = "milestone"
KINDS = (REPORT, SUMMARY, ONE_OFF, PHASE, MILESTONE)

KIND_LABELS = {REPORT: "单位报送", SUMMARY: "汇总上报", ONE_OFF: "一次性截止", PHASE: "阶段", MILESTONE: "指标节点"}


def previous_month(day: date) -> str:
    """``YYYY-MM`` of the month before ``day``."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def month_of(day: date) -> str:
    """``YYYY-MM`` of ``day``."""
    return f"{day.year:04d}-{day.month:02d}"


def period_label(period: str) -> str:
    """``2026-10`` → ``2026年10月``."""
    year, month = period.split("-")
    return f"{year}年{int(month)}月"


def day_in_month(year: int, month: int, day: int) -> date:
    """``day`` of a month, clamped to the month's last day (day 31 in April is 30 April)."""
    return date(year, month, min(day, month_calendar.monthrange(year, month)[1]))


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year, month + 1) if month < 12 else (year + 1, 1)


def deadline_of(period: str, deadline_day: int, reported_month: str = "previous") -> date:
    """The deadline of a monthly period: ``deadline_day`` of the following month (same month if ``current``)."""
    year, month = (int(p) for p in period.split("-"))
    if reported_month != REPORTED_MONTH_CURRENT:
        year, month = _next_month(year, month)
    return day_in_month(year, month, deadline_day)


def _period_of_deadline(deadline: date, reported_month: str) -> str:
    return month_of(deadline) if reported_month == REPORTED_MONTH_CURRENT else previous_month(deadline)


def is_late(deadline: date | None, reported_on: date) -> bool:
    """A report is late when made after the deadline day (the day itself counts as on time)."""
    return deadline is not None and reported_on > deadline


@dataclass(frozen=True)
class Period:
    """The month a report is about, its deadline (None: the document states none) and lateness."""

    period: str
    late: bool
    deadline: date | None

    @property
    def label(self) -> str:
        return period_label(self.period)


@dataclass(frozen=True)
class Deadline:
    """One deadline a profile produces (the rows of ``taizhang deadlines``)."""

    document: str
    date: date
    kind: str
    title: str
    period: str
    units: tuple[str, ...] = ()
    to: str = ""
    written: str = ""
    detail: str = field(default="", compare=False)

    def as_json(self) -> dict[str, object]:
        """The public JSON shape: ``document, date, kind, title, period, units``."""
        return {
            "document": self.document,
            "date": self.date.isoformat(),
            "kind": self.kind,
            "title": self.title,
            "period": self.period,
            "units": list(self.units),
        }


def monthly_day(profile: Profile | None) -> int | None:
    """The monthly unit report day the profile states, if any."""
    return profile.monthly.report_day if profile and profile.monthly else None


def _dated_report_deadlines(profile: Profile) -> list[date]:
    """Dates on which units must hand something in, other than a monthly cadence."""
    dates = [d.due for d in profile.one_offs]
    dates += [d.due for p in profile.phases for d in p.deliverables]
    return sorted(set(dates))


def report_period(profile: Profile | None, now: datetime, explicit: str | None = None) -> Period:
    """Which period a report made ``now`` is about, its deadline, and whether it is late.

    Monthly programmes: the month just ended (or the current month when the document says
    so), due on the report day. Programmes without a monthly cadence: the current month,
    due on the next one-off deadline or phase deliverable (the last one once all passed);
    none at all: no deadline, never late. No programme at all: the month just ended.
    """
    today = now.date()
    monthly = profile.monthly if profile else None
    if monthly is not None and monthly.report_day:
        if explicit:
            period = explicit
        elif monthly.reported_month == REPORTED_MONTH_CURRENT:
            period = month_of(today)
        else:
            period = previous_month(today)
        deadline = deadline_of(period, monthly.report_day, monthly.reported_month)
        return Period(period, is_late(deadline, today), deadline)
    if profile is None:  # no programme known (e.g. a chat bound to no document): the month just ended
        return Period(explicit or previous_month(today), False, None)
    period = explicit or month_of(today)
    dated = _dated_report_deadlines(profile)
    upcoming = [d for d in dated if d >= today]
    due = upcoming[0] if upcoming else (dated[-1] if dated else None)
    return Period(period, is_late(due, today), due)


def resolve_period(now: datetime, deadline_day: int | None, explicit: str | None = None) -> Period:
    """A monthly period for a bare deadline day (kept for callers holding only a day; prefer :func:`report_period`)."""
    profile = Profile("", monthly=Monthly(report_day=deadline_day)) if deadline_day else None
    return report_period(profile, now, explicit)


def _months(start: date, end: date) -> list[tuple[int, int]]:
    months = []
    year, month = start.year, start.month
    while date(year, month, 1) <= end:
        months.append((year, month))
        year, month = _next_month(year, month)
    return months


def monthly_deadlines(day: int, start: date, end: date, reported_month: str = "previous") -> list[tuple[date, str]]:
    """(deadline, period) of a monthly day falling within ``[start, end]``."""
    found = []
    for year, month in _months(start, end):
        deadline = day_in_month(year, month, day)
        if start <= deadline <= end:
            found.append((deadline, _period_of_deadline(deadline, reported_month)))
    return found


def deadlines(profile: Profile, start: date, end: date, reporting_units: Sequence[str] = ()) -> list[Deadline]:
    """Every deadline the profile produces within ``[start, end]``, sorted by date.

    ``reporting_units`` are the units that must report (the caller knows the indicators);
    a milestone names its indicator's owners instead.
    """
    doc = profile.document_id
    units = tuple(reporting_units)
    found: list[Deadline] = []
    monthly = profile.monthly
    if monthly is not None and monthly.report_day:
        for deadline, period in monthly_deadlines(monthly.report_day, start, end, monthly.reported_month):
            title = f"报送{period_label(period)}工作进展"
            found.append(Deadline(doc, deadline, REPORT, title, period, units, monthly.report_to))
    if monthly is not None and monthly.coordinator_day:
        for deadline, period in monthly_deadlines(monthly.coordinator_day, start, end, monthly.reported_month):
            to = (monthly.report_to,) if monthly.report_to else ()
            title = f"汇总上报{period_label(period)}工作台账"
            found.append(Deadline(doc, deadline, SUMMARY, title, period, to, monthly.summary_to))
    for one_off in profile.one_offs:
        if start <= one_off.due <= end:
            found.append(
                Deadline(doc, one_off.due, ONE_OFF, one_off.title, month_of(one_off.due),
                         tuple(one_off.units) or units, one_off.to, one_off.written)
            )  # fmt: skip
    for phase in profile.phases:
        delivered = False
        for item in phase.deliverables:
            delivered = delivered or item.due == phase.end
            if start <= item.due <= end:
                title = f"{phase.title}：{item.title}"
                found.append(
                    Deadline(doc, item.due, PHASE, title, month_of(item.due), tuple(item.units) or units, item.to,
                             item.written)
                )  # fmt: skip
        if phase.end is not None and not delivered and start <= phase.end <= end:
            found.append(Deadline(doc, phase.end, PHASE, phase.title, month_of(phase.end), units, "", phase.written))
    for year_phase in profile.yearly_phases:
        end_of_year = date(year_phase.year, 12, 31)
        if start <= end_of_year <= end:
            title = f"{year_phase.year}年{year_phase.title}"
            found.append(
                Deadline(doc, end_of_year, PHASE, title, f"{year_phase.year}-12", units, "", year_phase.written)
            )
    for milestone in profile.milestones:
        if start <= milestone.due <= end:
            title = f"{milestone.indicator}：{milestone.text}"
            found.append(
                Deadline(doc, milestone.due, MILESTONE, title, month_of(milestone.due), tuple(milestone.units), "",
                         milestone.written)
            )  # fmt: skip
    return sorted(found, key=lambda d: (d.date, KINDS.index(d.kind), d.title))


def all_deadlines(profile: Profile, reporting_units: Sequence[str] = ()) -> list[Deadline]:
    """Every dated deadline of the profile (monthly ones omitted: they never end)."""
    dated = replace(profile, monthly=None)
    return deadlines(dated, date.min, date.max, reporting_units)


def local_time(moment: datetime, zone: tzinfo | None) -> datetime:
    """``moment`` on the programme's wall clock for display.

    PostgreSQL returns aware UTC datetimes; SQLite returns the stored wall-clock time without
    its zone (the bot's clock is already local), so a naive value is taken as local as it is.
    """
    if moment.tzinfo is None or zone is None:
        return moment
    return moment.astimezone(zone)

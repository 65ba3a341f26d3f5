"""Periods, deadlines and lateness: the one owner of these rules for every caller.

Reports, reminders, status and the ledger all ask this module which month is reported,
when it is due and whether a report is late. Plain functions, no database.
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import date, datetime

DEFAULT_DEADLINE_DAY = 3


def previous_month(day: date) -> str:
    """``YYYY-MM`` of the month before ``day``."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def day_in_month(year: int, month: int, day: int) -> date:
    """``day`` of a month, clamped to the month's last day (day 31 in April is 30 April)."""
    return date(year, month, min(day, month_calendar.monthrange(year, month)[1]))


def deadline_of(period: str, deadline_day: int) -> date:
    """The reporting deadline of a monthly period: ``deadline_day`` of the following month."""
    year, month = (int(p) for p in period.split("-"))
    year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return day_in_month(year, month, deadline_day)


@dataclass(frozen=True)
class Period:
    """The month a report is about, and whether it arrived after the deadline."""

    period: str
    late: bool
    deadline: date

    @property
    def label(self) -> str:
        year, month = self.period.split("-")
        return f"{year}年{int(month)}月"


def resolve_period(now: datetime, deadline_day: int, explicit: str | None = None) -> Period:
    """Default: the month just ended. Late when today is after the deadline (the day itself counts)."""
    period = explicit or previous_month(now.date())
    deadline = deadline_of(period, deadline_day)
    return Period(period, now.date() > deadline, deadline)

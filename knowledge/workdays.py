"""The Chinese working calendar: public holidays and 调休 make-up workdays.

``chinese-calendar`` carries the State Council's announced calendar year by year; for a
year it does not know yet, weekends alone are used (and callers are told, so the
coordinator can be warned) until an admin enters that year's days, which always win.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar

WEEKDAYS = "一二三四五六日"


def weekday_name(day: date) -> str:
    """``星期六``."""
    return "星期" + WEEKDAYS[day.weekday()]


@dataclass
class WorkCalendar:
    """Working days, with admin overrides (date → is a workday) taking precedence."""

    overrides: Mapping[date, bool] = field(default_factory=dict)
    missing_years: set[int] = field(default_factory=set)

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day in mainland China."""
        if day in self.overrides:
            return bool(self.overrides[day])
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            self.missing_years.add(day.year)
            return day.weekday() < 5

    def on_or_before(self, day: date) -> date:
        """``day`` if it is a working day, else the previous working day."""
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day

    def working_days_before(self, day: date, count: int) -> date:
        """The ``count``-th working day before ``day`` (``count`` = 0: on or before ``day``)."""
        if count <= 0:
            return self.on_or_before(day)
        current = day
        for _ in range(count):
            current = self.on_or_before(current - timedelta(days=1))
        return current

    def next_workday_after(self, day: date) -> date:
        """The first working day after ``day``."""
        day += timedelta(days=1)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

"""Dates as people type and documents write them: ``10月28日``, ``2026年10月28日``, ``10.28``, ``下周五``.

Hand-written because the forms are few and fixed, and the general parsers (dateparser)
read ``10.28`` as a decimal and do not know ``下周五``. A date without a year means its next
occurrence on or after ``today``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from knowledge.errors import Refusal
from knowledge.normalize import half_width

WEEKDAY_NUMBERS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2}

_FULL = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_MONTH_DAY = re.compile(r"(\d{1,2})\s*(?:月\s*(\d{1,2})\s*[日号]?|[./-]\s*(\d{1,2}))")
_WEEKDAY = re.compile(r"(下下|下|本|这|这个|下个)?(?:周|星期|礼拜)([一二三四五六日天七])")

FORMS_HINT = "10月28日、2026年10月28日、10.28、2026-10-28 或 下周五"


def next_occurrence(month: int, day: int, today: date) -> date:
    """``month``/``day`` on or after ``today`` (29 February: the next leap year)."""
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise ValueError(f"{month}月{day}日 不存在")


def parse_date(text: str, today: date) -> date:
    """A typed date; raises :class:`Refusal` with the accepted forms when it is none."""
    raw = half_width(text).strip()
    if raw in RELATIVE_DAYS:
        return today + timedelta(days=RELATIVE_DAYS[raw])
    try:
        match = _FULL.fullmatch(raw)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = _MONTH_DAY.fullmatch(raw)
        if match:
            return next_occurrence(int(match[1]), int(match[2] or match[3]), today)
    except ValueError as exc:
        raise Refusal(f"{text} 不存在（请检查月份和日期）") from exc
    match = _WEEKDAY.fullmatch(raw)
    if match:
        weekday = WEEKDAY_NUMBERS[match[2]]
        monday = today - timedelta(days=today.weekday())
        weeks = {"下": 1, "下个": 1, "下下": 2}.get(match[1] or "", 0)
        if match[1] is None:  # 周五: the next one on or after today
            return today + timedelta(days=(weekday - today.weekday()) % 7)
        return monday + timedelta(weeks=weeks, days=weekday)
    raise Refusal(f"“{text}”不是日期，请写成 {FORMS_HINT}")


def looks_like_date(text: str) -> bool:
    """Whether ``text`` is one of the accepted date forms (for telling a date from a title)."""
    raw = half_width(text).strip()
    return bool(raw in RELATIVE_DAYS or _FULL.fullmatch(raw) or _MONTH_DAY.fullmatch(raw) or _WEEKDAY.fullmatch(raw))


def chinese_date(day: date, today: date | None = None) -> str:
    """``2026年10月28日`` (with ``（已过）`` when before ``today``)."""
    text = f"{day.year}年{day.month}月{day.day}日"
    return text + ("（已过）" if today is not None and day < today else "")

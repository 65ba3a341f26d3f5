"""Reading what staff write when they report: ``31 已完成 具体情况``, ``10月``, status words.

Plain parsing (no database): turns a line into a :class:`ReportDraft` or raises
``ReportError`` with a Chinese message saying what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz

from knowledge.normalize import half_width, number_key
from storage.models import ReportStatus
from storage.progress import STATUS_LABELS, ReportError

MAX_DETAILS = 2000

STATUS_WORDS = {
    "已完成": ReportStatus.DONE,
    "完成": ReportStatus.DONE,
    "已办结": ReportStatus.DONE,
    "办结": ReportStatus.DONE,
    "已落实": ReportStatus.DONE,
    "未完成": ReportStatus.IN_PROGRESS,
    "推进中": ReportStatus.IN_PROGRESS,
    "正在推进": ReportStatus.IN_PROGRESS,
    "进行中": ReportStatus.IN_PROGRESS,
    "未办结": ReportStatus.IN_PROGRESS,
    "持续推进": ReportStatus.IN_PROGRESS,
}
_PERIOD_RE = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月(?:份)?")


def parse_period(text: str, today: date) -> tuple[str | None, str]:
    """An explicit ``2026年10月`` / ``10月`` in ``text`` → (period, text without it)."""
    match = _PERIOD_RE.search(text)
    if not match:
        return None, text
    month = int(match.group(2))
    if not 1 <= month <= 12:
        raise ReportError(f"“{match.group(0)}”不是有效的月份")
    if match.group(1):
        year = int(match.group(1))
    else:
        year = today.year if month < today.month or (month == today.month) else today.year - 1
    period = f"{year:04d}-{month:02d}"
    if period > f"{today.year:04d}-{today.month:02d}":
        raise ReportError(f"不能报送未来月份（{year}年{month}月）的进度")
    return period, (text[: match.start()] + text[match.end() :]).strip()


# ------------------------------------------------------------------ report lines


@dataclass
class ReportDraft:
    """A parsed report line before it is checked and stored."""

    number: str
    status: ReportStatus
    details: str
    period: str | None = None
    line: int = 1


_LINE_RE = re.compile(
    r"^\s*#?\s*(?P<number>★\s*\d{1,3}|[(（]\s*\d{1,3}\s*[)）]|(?:加分|减分)\s*\d|\d{1,3})\s*(?P<rest>.*)$"
)


def parse_status(text: str) -> tuple[ReportStatus, str]:
    """Leading status word (exact or a close variant such as 以完成) → (status, remaining text)."""
    stripped = text.strip().lstrip("：:，,、- ")
    for word in sorted(STATUS_WORDS, key=len, reverse=True):
        if stripped.startswith(word):
            return STATUS_WORDS[word], stripped[len(word) :].lstrip("：:，,。、- ")
    head = stripped[:3]
    best = max(STATUS_WORDS, key=lambda w: fuzz.ratio(head[: len(w)], w))
    if len(head) >= 2 and fuzz.ratio(head[: len(best)], best) >= 66 and best not in ("完成", "办结"):
        return STATUS_WORDS[best], stripped[len(best) :].lstrip("：:，,。、- ")
    raise ReportError("请写明完成情况：“已完成”或“未完成”（也可写“推进中”），例如：/report 31 已完成 具体情况…")


def parse_report_line(text: str, today: date, line: int = 1) -> ReportDraft:
    """``31 已完成 具体情况`` (optionally with ``10月``) → a draft; raises ReportError."""
    text = half_width(text).strip()
    match = _LINE_RE.match(text)
    if not match:
        raise ReportError("请以指标编号开头，例如：31 已完成 已将审批时限压缩至法定时限的40%")
    number = number_key(match.group("number"))
    rest = match.group("rest")
    period, rest = parse_period(rest, today)
    status, details = parse_status(rest)
    details = details.strip()
    if not details:
        label = "具体完成情况" if status == ReportStatus.DONE else "正在推进情况"
        raise ReportError(f"请在“{STATUS_LABELS[status]}”后写上{label}")
    if len(details) > MAX_DETAILS:
        raise ReportError(f"情况说明太长（{len(details)} 字），请控制在 {MAX_DETAILS} 字以内，或作为附件上传")
    return ReportDraft(number, status, details, period, line)

"""Reporting rules: reading what staff write (31 已完成 具体情况, 10月, status words) and recording
it: one line at once, a pasted list after a preview, the items of the guided flow.

Parsing raises ReportError with a Chinese message saying what to fix; the recording functions
run inside the caller's unit of work and claim the update they answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from rapidfuzz import fuzz
from sqlalchemy.orm import Session

from knowledge.normalize import half_width, number_key
from storage.chats import bound_document
from storage.models import Indicator, ReportStatus, Role
from storage.progress import (
    STATUS_LABELS,
    Receipt,
    Reporter,
    ReportError,
    check_permission,
    claim_update,
    document_period,
    receipt_for_update,
    reporter_for,
    resolve_indicator,
    store_report,
    unit_status,
)

MAX_DETAILS = 2000
MAX_LINES = 50

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


# ------------------------------------------------------------------ recording


@dataclass
class PendingReport:
    """A checked report waiting for 确认 (bulk preview or guided flow)."""

    indicator_id: int
    status: ReportStatus
    details: str
    period: str | None
    label: str


def record_line(
    session: Session,
    *,
    user: tuple[int, str, bool],
    draft: ReportDraft,
    now: datetime,
    update_id: int | None,
    chat_id: int,
) -> list[tuple[Receipt, int]]:
    """One-line report: claim the update and store the report in one transaction."""
    if not claim_update(session, update_id, "report", now):
        return [(r, 0) for r in receipt_for_update(session, update_id)] if update_id else []
    reporter = reporter_for(session, *user)
    indicator = resolve_indicator(session, reporter, draft.number, bound_document(session, chat_id))
    receipt = store_report(
        session,
        reporter=reporter,
        indicator=indicator,
        status=draft.status,
        details=draft.details,
        now=now,
        explicit_period=draft.period,
        update_id=update_id,
        chat_id=chat_id,
    )
    return [(receipt, indicator.id)]


def check_lines(
    session: Session, reporter: Reporter, document_id: str | None, lines: list[str], now: datetime
) -> tuple[list[PendingReport], list[str]]:
    """Bulk paste: each line parsed and checked (indicator, permission) into (ready, Chinese errors)."""
    ok: list[PendingReport] = []
    errors: list[str] = []
    for number, line in enumerate(lines[:MAX_LINES], 1):
        try:
            draft = parse_report_line(line, now.date(), number)
            indicator = resolve_indicator(session, reporter, draft.number, document_id)
            unit = check_permission(session, reporter, indicator)
            ok.append(
                PendingReport(
                    indicator.id,
                    draft.status,
                    draft.details,
                    draft.period,
                    f"第{indicator.number}项（{unit.name}）",
                )
            )
        except ReportError as exc:
            errors.append(f"第{number}行：{exc}")
    if len(lines) > MAX_LINES:
        errors.append(f"一次最多 {MAX_LINES} 行，其余 {len(lines) - MAX_LINES} 行未处理")
    return ok, errors


def record_checked(
    session: Session,
    *,
    reporter: Reporter,
    items: list[PendingReport],
    now: datetime,
    update_id: int | None,
    chat_id: int,
) -> list[tuple[Receipt, int]]:
    """Store previewed reports on confirmation, once per button press (its update is claimed)."""
    if not claim_update(session, update_id, "report-confirm", now):
        return []
    receipts = []
    for item in items:
        indicator = session.get(Indicator, item.indicator_id)
        if indicator is None:
            raise ReportError("指标已被删除，请重新报送")
        receipt = store_report(
            session,
            reporter=reporter,
            indicator=indicator,
            status=item.status,
            details=item.details,
            now=now,
            explicit_period=item.period,
            update_id=update_id,
            chat_id=chat_id,
        )
        receipts.append((receipt, indicator.id))
    return receipts


def guided_items(
    session: Session, reporter: Reporter, document_id: str | None, now: datetime
) -> list[tuple[int, str, bool]]:
    """The unit indicators for the guided flow: (id, number, reported), unreported and lead first."""
    if reporter.unit_id is None:
        raise ReportError("您还没有登记所属单位，请先发送 /join 单位 姓名；协调人可直接用 /report 编号 已完成 …")
    period = document_period(session, document_id, now).period
    status = unit_status(session, reporter.unit_id, period, document_id)
    ordered = sorted(status.lines, key=lambda line: (line.status is not None, line.role != Role.LEAD))
    return [(line.indicator_id, line.number, line.status is not None) for line in ordered]

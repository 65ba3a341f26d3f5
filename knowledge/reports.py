"""Reporting rules: reading what staff write (31 已完成 具体情况, 10月, status words) and recording
it: one line at once, a pasted list after a preview, the items of the guided flow.

Parsing raises ReportError with a Chinese message saying what to fix; the recording functions
run inside the caller's unit of work and claim the update they answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from knowledge.report_line import IndicatorRef, NormalisedText, read_status
from knowledge.report_line import parse_report_line as parse_line
from knowledge.statuses import BASIC_STATUSES, OPTIONAL_STATUSES
from storage.chats import bound_document
from storage.models import Indicator, ReportStatus, Role
from storage.progress import (
    Receipt,
    Reporter,
    ReportError,
    check_permission,
    check_status_allowed,
    claim_update,
    document_period,
    receipt_for_update,
    reporter_for,
    resolve_indicator,
    store_report,
    unit_status,
)

MAX_LINES = 50
ALL_STATUSES = frozenset(BASIC_STATUSES | OPTIONAL_STATUSES)


def parse_status(text: str) -> tuple[ReportStatus, str]:
    """A status written before the details (guided flow) → (status, the rest verbatim)."""
    view = NormalisedText(text.strip())
    reading = read_status(view.text)
    if reading is None or reading.status is None:
        raise ReportError("请写明完成情况：“已完成”或“未完成”（也可写“推进中”），例如：/report 31 已完成 具体情况…")
    return reading.status, view.original_slice(reading.details_start).strip()


@dataclass
class ReportDraft:
    """A parsed report line before it is checked and stored."""

    number: IndicatorRef
    status: ReportStatus | None
    details: str
    period: str | None = None
    line: int = 1
    message_text: str = ""
    status_choices: tuple[ReportStatus, ...] = ()
    period_choices: tuple[str, ...] = ()

    @property
    def needs_question(self) -> bool:
        """Status or period could not be decided: ask with buttons."""
        return self.status is None or bool(self.period_choices)


def parse_report_line(text: str, today: date, line: int = 1, message_text: str = "") -> ReportDraft:
    """``31 已完成 具体情况`` (optionally opened by ``10月：``) → a draft; raises ReportError."""
    parsed = parse_line(text, today, allowed=ALL_STATUSES, line=line)
    return ReportDraft(
        parsed.ref,
        parsed.status,
        parsed.details,
        parsed.period,
        line,
        message_text or parsed.source,
        parsed.status_choices,
        parsed.period_choices,
    )


# ------------------------------------------------------------------ recording


@dataclass
class PendingReport:
    """A checked report waiting for 确认 (bulk preview or guided flow)."""

    indicator_id: int
    status: ReportStatus
    details: str
    period: str | None
    label: str
    message_text: str = ""


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
    if draft.status is None:
        raise ReportError("请先选择完成情况")
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
        message_text=draft.message_text,
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
            if draft.status is None:
                raise ReportError("看不出是“已完成”还是“未完成”，请写明")
            if draft.period_choices:
                years = "或".join(f"{p[:4]}年{int(p[5:])}月" for p in draft.period_choices)
                raise ReportError(f"请写明是{years}")
            indicator = resolve_indicator(session, reporter, draft.number, document_id)
            unit = check_permission(session, reporter, indicator)
            check_status_allowed(indicator, draft.status)
            ok.append(
                PendingReport(
                    indicator.id,
                    draft.status,
                    draft.details,
                    draft.period,
                    f"第{indicator.number}项（{unit.name}）",
                    draft.message_text,
                )
            )
        except ReportError as exc:
            errors.append(f"第{number}行：{exc}")
    if len(lines) > MAX_LINES:
        errors.append(f"一次最多 {MAX_LINES} 行，其余 {len(lines) - MAX_LINES} 行未处理")
    return ok, errors


def question_choices(
    session: Session, reporter: Reporter, document_id: str | None, draft: ReportDraft
) -> list[PendingReport]:
    """An undecided line (基本完成, ``12月`` in December): one checked report per possible answer."""
    indicator = resolve_indicator(session, reporter, draft.number, document_id)
    unit = check_permission(session, reporter, indicator)
    statuses = draft.status_choices or ((draft.status,) if draft.status else ())
    periods: tuple[str | None, ...] = draft.period_choices or (draft.period,)
    choices = []
    for status in statuses:
        check_status_allowed(indicator, status)
        for period in periods:
            choices.append(
                PendingReport(
                    indicator.id,
                    status,
                    draft.details,
                    period,
                    f"第{indicator.number}项（{unit.name}）",
                    draft.message_text,
                )
            )
    return choices


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
            message_text=item.message_text,
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

"""Every current report (newest version per indicator, unit and period) with its evidence, as records.

Used by ``taizhang reports --json``; persistence only, the words are the stored ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.domain import ReportStatus
from knowledge.evidence_items import PAPER_MIME
from storage.models import Attachment, Document, Indicator, ProgressReport, Unit


@dataclass(frozen=True)
class EvidenceItem:
    """A file (or a paper entry) attached to an indicator for a unit and period."""

    kind: str  # "file" | "paper"
    name: str
    size: int
    caption: str
    user: str
    at: datetime


@dataclass(frozen=True)
class CurrentReport:
    """The newest version of a unit's report on an indicator for a period."""

    document: str
    table: str
    number: str
    unit: str
    period: str
    status: ReportStatus
    text: str
    version: int
    late: bool
    user: str
    at: datetime
    evidence: list[EvidenceItem] = field(default_factory=list)


def current_reports(
    session: Session, *, month: str | None = None, document: str | None = None, unit: str | None = None
) -> list[CurrentReport]:
    """Current reports, optionally of one month, document or unit (by name), in document order."""
    query = (
        select(ProgressReport, Indicator, Unit.name)
        .join(Indicator, Indicator.id == ProgressReport.indicator_id)
        .join(Unit, Unit.id == ProgressReport.unit_id)
        .join(Document, Document.id == Indicator.document_id)
    )
    if month:
        query = query.where(ProgressReport.period == month)
    if document:
        query = query.where(Indicator.document_id == document)
    if unit:
        query = query.where(Unit.name == unit)
    latest: dict[tuple[int, int, str], tuple[ProgressReport, Indicator, str]] = {}
    for report, indicator, unit_name in session.execute(query.order_by(ProgressReport.version)):
        latest[(indicator.id, report.unit_id, report.period)] = (report, indicator, unit_name)
    files: dict[tuple[int, int | None, str], list[EvidenceItem]] = {}
    evidence_query = select(Attachment).order_by(Attachment.id)
    if month:
        evidence_query = evidence_query.where(Attachment.period == month)
    for row in session.scalars(evidence_query):
        files.setdefault((row.indicator_id, row.unit_id, row.period), []).append(
            EvidenceItem(
                "paper" if row.mime == PAPER_MIME else "file",
                row.original_name,
                row.size,
                row.caption,
                row.uploader_name,
                row.created_at,
            )
        )
    found: list[tuple[tuple[str, str, int, str], CurrentReport]] = []
    for report, indicator, unit_name in latest.values():
        current = CurrentReport(
            indicator.document_id,
            indicator.table_name or "",
            indicator.number,
            unit_name,
            report.period,
            report.status,
            report.text,
            report.version,
            report.late,
            report.reporter_name,
            report.created_at,
            files.get((indicator.id, report.unit_id, report.period), []),
        )
        found.append(((report.period, indicator.document_id, indicator.position, unit_name), current))
    return [current for _, current in sorted(found, key=lambda pair: pair[0])]

"""What goes into the ledger and the evidence bundle: per unit and period, each indicator with
its latest report and attachments (plain rows; ``knowledge.ledger`` writes the files)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.evidence_items import PAPER_MIME
from knowledge.ledger import folder_name
from knowledge.records import EvidenceFile, LedgerRow, UnitLedger
from storage.models import (
    Assignment,
    Attachment,
    Document,
    Indicator,
    Person,
    ProgressReport,
    Role,
    Unit,
)
from storage.progress import ReportError, attachment_counts, find_unit, latest_reports


def ledger(
    session: Session,
    period: str,
    unit_name: str | None = None,
    document_id: str | None = None,
    documents: Collection[str] | None = None,
) -> list[UnitLedger]:
    """Per-unit ledgers for a period (all units owning indicators, or one; of ``documents`` when given)."""
    unit_ids: list[int]
    if unit_name:
        unit = find_unit(session, unit_name)
        if unit is None:
            raise ReportError(f"找不到单位“{unit_name}”")
        unit_ids = [unit.id]
    else:
        query = select(Assignment.unit_id).distinct()
        if document_id:
            query = query.join(Indicator, Indicator.id == Assignment.indicator_id).where(
                Indicator.document_id == document_id
            )
        unit_ids = sorted(set(session.scalars(query)))
    owners: dict[int, list[tuple[Role, str, str]]] = {}
    for indicator_id, role, unit_label, person in session.execute(
        select(Assignment.indicator_id, Assignment.role, Unit.name, Person.name)
        .join(Unit, Unit.id == Assignment.unit_id)
        .outerjoin(Person, Person.id == Assignment.person_id)
        .order_by(Assignment.id)
    ):
        owners.setdefault(indicator_id, []).append((role, unit_label, person or ""))
    result = []
    for unit_id in unit_ids:
        unit = session.get(Unit, unit_id)
        assert unit is not None
        rows_query = (
            select(Indicator, Assignment.role, Document.short_name)
            .join(Assignment, Assignment.indicator_id == Indicator.id)
            .join(Document, Document.id == Indicator.document_id)
            .where(Assignment.unit_id == unit_id)
            .order_by(Indicator.document_id, Indicator.position)
        )
        if document_id:
            rows_query = rows_query.where(Indicator.document_id == document_id)
        if documents is not None:
            rows_query = rows_query.where(Indicator.document_id.in_(list(documents)))
        latest = latest_reports(session, unit_id, period)
        files = attachment_counts(session, unit_id, period)
        sheet = UnitLedger(unit.name)
        seen: set[int] = set()
        for indicator, role, short_name in session.execute(rows_query).all():
            if indicator.id in seen:
                continue
            seen.add(indicator.id)
            report = latest.get(indicator.id)
            who = owners.get(indicator.id, [])
            leads = [u for r, u, _ in who if r == Role.LEAD]
            sheet.rows.append(
                LedgerRow(
                    indicator.id,
                    short_name or indicator.document_id,
                    indicator.number,
                    indicator.level1,
                    indicator.text,
                    indicator.materials,
                    list(indicator.methods),
                    role,
                    "、".join(dict.fromkeys(leads)),
                    "、".join(dict.fromkeys(p for r, _, p in who if r == Role.LEAD and p)),
                    "、".join(dict.fromkeys(u for r, u, _ in who if r == Role.COOPERATING)),
                    report.status if report else None,
                    report.text if report else "",
                    report.late if report else False,
                    report.created_at if report else None,
                    report.reporter_name if report else "",
                    int(files.get(indicator.id, 0)),
                )
            )
        if sheet.rows:
            result.append(sheet)
    if not result:
        raise ReportError("没有可导出的指标（请先导入指标表，或检查单位名称）")
    return result


def evidence(
    session: Session, period: str, number: str | None = None, documents: Collection[str] | None = None
) -> list[EvidenceFile]:
    """Attachments of a period (of one indicator number, of ``documents``, when given)."""
    query = (
        select(Attachment, Indicator, Unit.name, Document.short_name)
        .join(Indicator, Indicator.id == Attachment.indicator_id)
        .join(Document, Document.id == Indicator.document_id)
        .outerjoin(Unit, Unit.id == Attachment.unit_id)
        .where(Attachment.period == period)
        .order_by(Indicator.document_id, Indicator.position, Attachment.id)
    )
    if number:
        query = query.where(Indicator.key == number)
    if documents is not None:
        query = query.where(Indicator.document_id.in_(list(documents)))
    return [
        EvidenceFile(
            folder_name(short or indicator.document_id, indicator.number, indicator.text),
            indicator.level1,
            unit or "",
            period,
            attachment.original_name,
            attachment.size,
            attachment.sha256,
            attachment.stored_path,
            attachment.uploader_name,
            attachment.created_at,
            attachment.caption,
            "纸质" if attachment.mime == PAPER_MIME else "电子",
        )
        for attachment, indicator, unit, short in session.execute(query).all()
    ]


def reporting_trend(session: Session, periods: list[str], unit_name: str | None = None) -> list[tuple[str, float]]:
    """(period, share of (indicator, unit) pairs with a report) for each period."""
    owned_query = select(Assignment.indicator_id, Assignment.unit_id).distinct()
    if unit_name:
        unit = find_unit(session, unit_name)
        if unit is None:
            return []
        owned_query = owned_query.where(Assignment.unit_id == unit.id)
    owned = set(session.execute(owned_query).all())
    result = []
    for period in periods:
        reported = set(
            session.execute(
                select(ProgressReport.indicator_id, ProgressReport.unit_id).where(ProgressReport.period == period)
            ).all()
        )
        result.append((period, len(owned & reported) / len(owned) if owned else 0.0))
    return result

"""The plain rows a ledger template is filled from (``knowledge.ledger_spec.LedgerData``).

Five column-only queries (indicators, owners, the period's reports, its files, self-scores)
instead of ORM objects per unit: the export of 20 000 indicators reads in well under a second.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.errors import Refusal
from knowledge.ledger_spec import IndicatorRow, LedgerData, UnitEntry
from knowledge.profile import Profile
from knowledge.units import is_collective
from storage.models import Assignment, Attachment, Document, Indicator, Person, ProgressReport, Role, Unit
from storage.profiles import all_profiles
from storage.progress import find_unit
from storage.scores import latest_scores


def ledger_data(
    session: Session,
    period: str,
    document_id: str | None = None,
    unit_name: str | None = None,
    documents: Collection[str] | None = None,
) -> LedgerData:
    """Indicators (in document order), each unit's latest report for ``period``, files, scores."""
    unit_id: int | None = None
    if unit_name:
        unit = find_unit(session, unit_name, document_id)
        if unit is None:
            raise Refusal(f"找不到单位“{unit_name}”")
        unit_id = unit.id
    query = (
        select(Indicator.id, Indicator.document_id, Document.short_name, Indicator.table_name, Indicator.number,
               Indicator.key, Indicator.position, Indicator.level1, Indicator.level2, Indicator.text,
               Indicator.methods, Indicator.materials, Indicator.criteria, Indicator.points)
        .join(Document, Document.id == Indicator.document_id)
        .order_by(Indicator.document_id, Indicator.position, Indicator.id)
    )  # fmt: skip
    if document_id:
        query = query.where(Indicator.document_id == document_id)
    if documents is not None:
        query = query.where(Indicator.document_id.in_(list(documents)))
    indicators = []
    for i, doc, short, table, number, key, position, l1, l2, text, methods, *rest in session.execute(query):
        indicators.append(IndicatorRow(i, doc, short or doc, table, number, key, position, l1, l2, text,
                                       list(methods or []), *rest))  # fmt: skip
    if not indicators:
        raise Refusal("没有可导出的指标（请先导入指标表，或检查文档编号）")
    by_id = {row.indicator_id: row for row in indicators}

    owners = (
        select(Assignment.indicator_id, Assignment.role, Assignment.unit_id, Unit.name, Person.name)
        .join(Unit, Unit.id == Assignment.unit_id)
        .outerjoin(Person, Person.id == Assignment.person_id)
        .order_by(Assignment.id)
    )
    if document_id:
        owners = owners.join(Indicator, Indicator.id == Assignment.indicator_id).where(
            Indicator.document_id == document_id
        )
    entries: dict[tuple[int, int], UnitEntry] = {}
    for indicator_id, role, owner_id, unit_label, person in session.execute(owners):
        row = by_id.get(indicator_id)
        if row is None:
            continue
        lead = role == Role.LEAD
        (row.leads if lead else row.coops).append((unit_label, person or ""))
        if unit_id is not None and owner_id != unit_id:
            continue
        entry = entries.get((indicator_id, owner_id))
        if entry is None:
            entries[(indicator_id, owner_id)] = UnitEntry(indicator_id, unit_label, lead)
        elif lead:
            entry.lead = True

    if unit_id is not None and not entries:
        raise Refusal(f"“{unit_name}”在可导出的项目里没有负责的指标")

    reports = select(
        ProgressReport.indicator_id, ProgressReport.unit_id, ProgressReport.status, ProgressReport.text,
        ProgressReport.late, ProgressReport.created_at, ProgressReport.reporter_name,
    ).where(ProgressReport.period == period).order_by(ProgressReport.version, ProgressReport.id)  # fmt: skip
    if unit_id is not None:
        reports = reports.where(ProgressReport.unit_id == unit_id)
    for indicator_id, owner_id, status, text, late, created_at, reporter in session.execute(reports):
        entry = entries.get((indicator_id, owner_id))
        if entry is not None:  # the newest version wins (ordered by version)
            entry.status, entry.text, entry.late = str(status), text, bool(late)
            entry.reported_at, entry.reporter = created_at, reporter

    files = select(Attachment.indicator_id, Attachment.unit_id, Attachment.original_name, Attachment.caption).where(
        Attachment.period == period
    )
    if unit_id is not None:
        files = files.where(Attachment.unit_id == unit_id)
    for indicator_id, file_unit, name, caption in session.execute(files.order_by(Attachment.id)):
        entry = entries.get((indicator_id, file_unit)) if file_unit is not None else None
        if entry is not None:
            entry.attachments += 1
            line = f"{name}（{caption}）" if caption else name
            entry.evidence = f"{entry.evidence}\n{line}" if entry.evidence else line

    for indicator_id, (score, reason) in latest_scores(session, list(by_id)).items():
        by_id[indicator_id].score, by_id[indicator_id].score_reason = score, reason

    phones = {
        name: phone
        for name, phone in session.execute(select(Person.name, Person.phone).where(Person.phone != ""))
        if name and phone
    }
    collective = {name: is_collective(name) for name in {e.unit for e in entries.values()}}
    ordered = sorted(
        (e for e in entries.values() if not collective[e.unit]),  # 各有关单位 … is nobody in particular
        key=lambda e: (by_id[e.indicator_id].document, by_id[e.indicator_id].position),
    )
    data = LedgerData(period, indicators, ordered, phones=phones, unit_filter=unit_name or "")
    _apply_profiles(
        data, [p for p in all_profiles(session, document_id) if p.document_id in {r.document for r in indicators}]
    )
    return data


def _apply_profiles(data: LedgerData, profiles: list[Profile]) -> None:
    """Who reports, contacts' phones, yearly phases and milestones as the programme profiles state them."""
    reporters = {p.reporters for p in profiles}
    data.reporters = reporters.pop() if len(reporters) == 1 else ""
    for profile in profiles:
        for contact in profile.contacts:
            if contact.phones:
                data.phones[contact.name] = "，".join(contact.phones)
        for phase in profile.yearly_phases:
            data.year_phases.setdefault(phase.year, phase.title)
        for milestone in profile.milestones:
            data.milestones.setdefault((profile.document_id, milestone.indicator), []).append(
                f"{milestone.written}{milestone.text}" if milestone.written else milestone.text
            )


def document_with_prefix(session: Session, prefixes: Collection[str]) -> str | None:
    """The first stored document whose id starts with one of ``prefixes`` (a template's documents)."""
    for prefix in prefixes:
        found = session.scalar(select(Document.id).where(Document.id.startswith(prefix)).order_by(Document.id))
        if found:
            return str(found)
    return None

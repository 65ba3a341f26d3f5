"""Progress reports: periods, parsing report lines, permissions, append-only versions, status.

Plain functions over a session; the caller's unit of work commits. No Telegram here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from knowledge.errors import Refusal
from knowledge.report_line import IndicatorRef, document_named
from knowledge.schedule import Period, report_period
from knowledge.statuses import STATUS_LABELS as STATUS_LABELS
from knowledge.statuses import allowed_statuses
from storage.models import (
    Assignment,
    Attachment,
    Document,
    Indicator,
    Member,
    MemberRole,
    MemberStatus,
    ProcessedUpdate,
    ProgressReport,
    ReportStatus,
    Role,
    Unit,
)
from storage.profiles import profile_of

_SHORT_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# Kept as a name for existing callers; the one refusal type lives in knowledge.errors.
ReportError = Refusal


# ------------------------------------------------------------------ members and permissions


@dataclass(frozen=True)
class Reporter:
    """Who is reporting: Telegram identity, linked unit, role."""

    telegram_user_id: int
    name: str
    member_id: int | None
    unit_id: int | None
    unit_name: str
    is_coordinator: bool


def reporter_for(session: Session, telegram_user_id: int, name: str, is_admin: bool) -> Reporter:
    """The reporter record of a Telegram user (admins count as coordinators)."""
    member = session.scalar(
        select(Member).where(Member.telegram_user_id == telegram_user_id, Member.status == MemberStatus.ACTIVE)
    )
    unit = session.get(Unit, member.unit_id) if member and member.unit_id else None
    coordinator = is_admin or bool(member and member.role in (MemberRole.COORDINATOR, MemberRole.ADMIN))
    return Reporter(
        telegram_user_id,
        name,
        member.id if member else None,
        unit.id if unit else None,
        unit.name if unit else "",
        coordinator,
    )


def owners_of(session: Session, indicator_id: int) -> list[tuple[Role, Unit]]:
    """(role, unit) of an indicator, leads first (remembered for the rest of the transaction)."""
    cache: dict[int, list[tuple[Role, Unit]]] = session.info.setdefault("owners_of", {})
    if indicator_id in cache:
        return cache[indicator_id]
    rows = session.execute(
        select(Assignment.role, Unit)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.indicator_id == indicator_id)
        .order_by(Assignment.role.desc(), Assignment.id)
    ).all()
    seen: set[tuple[Role, int]] = set()
    result = []
    for role, unit in rows:
        if (role, unit.id) not in seen:
            seen.add((role, unit.id))
            result.append((role, unit))
    cache[indicator_id] = result
    return result


def find_indicators(session: Session, key: str, document_id: str | None = None, table: str = "") -> list[Indicator]:
    """Indicators with a number key (in one document, one table when given)."""
    query = select(Indicator).where(Indicator.key == key)
    if document_id:
        query = query.where(Indicator.document_id == document_id)
    if table:
        query = query.where(Indicator.table_name == table)
    return list(session.scalars(query.order_by(Indicator.document_id, Indicator.table_name)))


def _label(indicator: Indicator) -> str:
    table = indicator.table_name if indicator.table_name in ("党委", "政府") else ""
    return f"{indicator.document.short_name or indicator.document_id}{table}第{indicator.number}项"


def resolve_indicator(
    session: Session, reporter: Reporter, key: str | IndicatorRef, document_id: str | None
) -> Indicator:
    """The indicator a reporter means: their unit's, in the named/bound document first; asks if several."""
    ref = key if isinstance(key, IndicatorRef) else IndicatorRef(key)
    candidates = find_indicators(session, ref.key, None, ref.table)
    if ref.document_words:
        candidates = [i for i in candidates if document_named(ref, i.document.issuer, i.document.kind)]
    elif document_id:  # the chat's document decides; another document's number is not guessed
        candidates = [i for i in candidates if i.document_id == document_id]
    if not candidates:
        raise ReportError(f"没有编号为 {ref.table}{ref.key} 的指标，请核对编号（可发送 /ask {ref.key} 查询）")
    if reporter.unit_id is not None:
        own = [i for i in candidates if any(u.id == reporter.unit_id for _, u in owners_of(session, i.id))]
        if len(own) == 1:
            return own[0]
        if own:
            candidates = own
    if len(candidates) == 1:
        return candidates[0]
    names = "、".join(_label(i) for i in candidates[:6])
    raise ReportError(f"编号 {ref.key} 有多项：{names}，请写明是哪一项（例如“党委{ref.key}”“政府{ref.key}”或文档简称）")


def check_permission(session: Session, reporter: Reporter, indicator: Indicator) -> Unit:
    """The unit the report is for; raises ReportError naming the owner if not allowed."""
    owners = owners_of(session, indicator.id)
    if reporter.unit_id is not None:
        for _, unit in owners:
            if unit.id == reporter.unit_id:
                return unit
    if reporter.is_coordinator:
        if owners:
            return owners[0][1]
        raise ReportError(f"指标 {indicator.number} 没有分配责任单位，无法登记进度")
    lead = "、".join(u.name for role, u in owners if role == Role.LEAD) or "未分配"
    if reporter.unit_id is None:
        raise ReportError("您还没有登记所属单位，请先发送 /join 单位 姓名，例如：/join 法规科 刘海利")
    raise ReportError(f"指标 {indicator.number} 由{lead}牵头，{reporter.unit_name}不能报送；请联系牵头单位或法规科")


def document_period(session: Session, document_id: str | None, now: datetime) -> Period:
    """The current reporting period of a document's programme (None: no document known)."""
    document = session.get(Document, document_id) if document_id else None
    return period_for(document, now)


def period_for(document: Document | None, now: datetime, explicit: str | None = None) -> Period:
    """The period, deadline and lateness of a report on this document made ``now`` (decided by knowledge.schedule)."""
    return report_period(profile_of(document) if document is not None else None, now, explicit)


def check_status_allowed(indicator: Indicator, status: ReportStatus) -> None:
    """Refuse a status the indicator's document does not offer (无材料/不涉及 only where allowed)."""
    allowed = allowed_statuses(profile_of(indicator.document).statuses)
    if status not in allowed:
        words = "、".join(STATUS_LABELS[s] for s in sorted(allowed, key=list(STATUS_LABELS).index))
        name = indicator.document.short_name or indicator.document_id
        raise ReportError(f"《{name}》没有“{STATUS_LABELS[status]}”这一项，请写：{words}")


# ------------------------------------------------------------------ storing


def new_short_id() -> str:
    """A short receipt id such as ``R7K2QXM4`` (32⁷ values; the unique constraint guards the rest)."""
    return "R" + "".join(secrets.choice(_SHORT_ID_ALPHABET) for _ in range(7))


@dataclass
class Receipt:
    """What the bot confirms after a report is committed."""

    short_id: str
    indicator_number: str
    indicator_text: str
    document_name: str
    unit: str
    period: Period
    status: ReportStatus
    version: int
    details: str
    duplicate: bool = False


def claim_update(session: Session, update_id: int | None, kind: str, now: datetime) -> bool:
    """Record an update as processed; False if it already was (a redelivery)."""
    if update_id is None:
        return True
    if session.get(ProcessedUpdate, update_id) is not None:
        return False
    session.add(ProcessedUpdate(update_id=update_id, kind=kind, processed_at=now))
    session.flush()
    return True


def store_report(
    session: Session,
    *,
    reporter: Reporter,
    indicator: Indicator,
    status: ReportStatus,
    details: str,
    now: datetime,
    explicit_period: str | None = None,
    update_id: int | None = None,
    chat_id: int | None = None,
    message_text: str = "",
) -> Receipt:
    """Append a new version of a unit's report on an indicator for a period."""
    unit = check_permission(session, reporter, indicator)
    check_status_allowed(indicator, status)
    period = period_for(indicator.document, now, explicit_period)
    version = (
        session.scalar(
            select(func.max(ProgressReport.version)).where(
                ProgressReport.indicator_id == indicator.id,
                ProgressReport.unit_id == unit.id,
                ProgressReport.period == period.period,
            )
        )
        or 0
    ) + 1
    report = ProgressReport(
        short_id=new_short_id(),
        indicator_id=indicator.id,
        unit_id=unit.id,
        period=period.period,
        version=version,
        status=status,
        text=details,
        message_text=message_text or details,
        late=period.late,
        reporter_member_id=reporter.member_id,
        reporter_telegram_id=reporter.telegram_user_id,
        reporter_name=reporter.name,
        source_update_id=update_id,
        source_chat_id=chat_id,
        created_at=now,
    )
    session.add(report)
    session.flush()
    return Receipt(
        report.short_id,
        indicator.number,
        indicator.text,
        indicator.document.short_name or indicator.document_id,
        unit.name,
        period,
        status,
        version,
        details,
    )


def receipt_for_update(session: Session, update_id: int) -> list[Receipt]:
    """Receipts of reports an update already created (to answer a redelivery the same way)."""
    reports = session.scalars(
        select(ProgressReport)
        .where(ProgressReport.source_update_id == update_id)
        .options(selectinload(ProgressReport.indicator).selectinload(Indicator.document))
        .order_by(ProgressReport.id)
    ).all()
    receipts = []
    for report in reports:
        indicator = report.indicator
        period = period_for(indicator.document, report.created_at, report.period)
        receipts.append(
            Receipt(
                report.short_id,
                indicator.number,
                indicator.text,
                indicator.document.short_name or indicator.document_id,
                session.get(Unit, report.unit_id).name,  # type: ignore[union-attr]
                Period(report.period, report.late, period.deadline),
                report.status,
                report.version,
                report.text,
                duplicate=True,
            )
        )
    return receipts


@dataclass
class HistoryLine:
    """One version of a report."""

    version: int
    period: str
    unit: str
    status: ReportStatus
    details: str
    reporter: str
    created_at: datetime
    late: bool
    short_id: str


def history(session: Session, indicator: Indicator, unit_ids: list[int] | None = None) -> list[HistoryLine]:
    """Every version of every report on an indicator (newest first)."""
    query = select(ProgressReport, Unit.name).join(Unit, Unit.id == ProgressReport.unit_id)
    query = query.where(ProgressReport.indicator_id == indicator.id)
    if unit_ids:
        query = query.where(ProgressReport.unit_id.in_(unit_ids))
    rows = session.execute(query.order_by(ProgressReport.period.desc(), ProgressReport.version.desc())).all()
    return [
        HistoryLine(r.version, r.period, unit, r.status, r.text, r.reporter_name, r.created_at, r.late, r.short_id)
        for r, unit in rows
    ]


@dataclass
class StatusLine:
    """An indicator of a unit and its current report for a period."""

    indicator_id: int
    number: str
    text: str
    role: Role
    status: ReportStatus | None
    late: bool = False
    attachments: int = 0


@dataclass
class UnitStatus:
    """A unit's indicators for a period, reported or not."""

    unit: str
    period: str
    lines: list[StatusLine] = field(default_factory=list)

    @property
    def reported(self) -> int:
        return sum(1 for line in self.lines if line.status is not None)


def latest_reports(session: Session, unit_id: int, period: str) -> dict[int, ProgressReport]:
    """Indicator id → the unit's newest report version for the period."""
    return {
        r.indicator_id: r
        for r in session.scalars(
            select(ProgressReport)
            .where(ProgressReport.unit_id == unit_id, ProgressReport.period == period)
            .order_by(ProgressReport.version)
        )
    }


def attachment_counts(session: Session, unit_id: int, period: str) -> dict[int, int]:
    """Indicator id → how many evidence files the unit attached for the period."""
    rows = session.execute(
        select(Attachment.indicator_id, func.count())
        .where(Attachment.unit_id == unit_id, Attachment.period == period)
        .group_by(Attachment.indicator_id)
    ).all()
    return {int(indicator_id): int(count) for indicator_id, count in rows}


def unit_status(session: Session, unit_id: int, period: str, document_id: str | None = None) -> UnitStatus:
    """Which of a unit's indicators have a report for ``period`` (latest version counts)."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise ReportError("找不到这个单位")
    query = (
        select(Indicator, Assignment.role)
        .join(Assignment, Assignment.indicator_id == Indicator.id)
        .where(Assignment.unit_id == unit_id)
        .order_by(Indicator.document_id, Indicator.position)
    )
    if document_id:
        query = query.where(Indicator.document_id == document_id)
    latest = latest_reports(session, unit_id, period)
    files = attachment_counts(session, unit_id, period)
    status = UnitStatus(unit.name, period)
    seen: set[int] = set()
    for indicator, role in session.execute(query).all():
        if indicator.id in seen:
            continue
        seen.add(indicator.id)
        report = latest.get(indicator.id)
        status.lines.append(
            StatusLine(
                indicator.id,
                indicator.number,
                indicator.text,
                role,
                report.status if report else None,
                report.late if report else False,
                int(files.get(indicator.id, 0)),
            )
        )
    return status


def find_unit(session: Session, name: str, document_id: str | None = None) -> Unit | None:
    """A unit by name or alias."""
    from storage.models import UnitAlias

    unit = session.scalar(select(Unit).where(Unit.name == name))
    if unit is not None:
        return unit
    query = select(Unit).join(UnitAlias, UnitAlias.unit_id == Unit.id).where(UnitAlias.alias == name)
    if document_id:
        query = query.where((UnitAlias.document_id == document_id) | UnitAlias.document_id.is_(None))
    return session.scalars(query).first()

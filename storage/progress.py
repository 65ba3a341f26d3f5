"""Progress reports in the database: ``SqlReports`` implements ``knowledge.reports.ReportRepository``
over one session (the caller's unit of work commits), plus the queries status and ledger share.

No rules here: who may report or see what is ``knowledge.access``; periods are ``knowledge.schedule``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge.access import Reporter as Reporter
from knowledge.errors import Refusal
from knowledge.evidence_items import PAPER_MIME, EvidenceNote
from knowledge.profile import Profile
from knowledge.reports import (
    IndicatorRecord,
    NewReport,
    OwnerRef,
    StatusLine,
    StoredReport,
    UnitStatus,
)
from knowledge.schedule import Period, report_period
from knowledge.statuses import STATUS_LABELS as STATUS_LABELS
from storage.chats import bound_document, bound_unit
from storage.models import (
    Assignment,
    Attachment,
    CoordinatorScope,
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
from storage.profiles import document_unit_roles, profile_of, unassigned_indicators

P = ParamSpec("P")
T = TypeVar("T")
_SHORT_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# Kept as a name for existing callers; the one refusal type lives in knowledge.errors.
ReportError = Refusal


# ------------------------------------------------------------------ members


def reporter_for(session: Session, telegram_user_id: int, name: str, is_admin: bool) -> Reporter:
    """The reporter record of a Telegram user: active unit, role and coordinated programmes."""
    member = session.scalar(
        select(Member).where(Member.telegram_user_id == telegram_user_id, Member.status == MemberStatus.ACTIVE)
    )
    unit = session.get(Unit, member.unit_id) if member and member.unit_id else None
    coordinator = is_admin or bool(member and member.role in (MemberRole.COORDINATOR, MemberRole.ADMIN))
    programmes: frozenset[str] = frozenset()
    if member is not None and member.role == MemberRole.COORDINATOR:
        programmes = frozenset(
            session.scalars(select(CoordinatorScope.document_id).where(CoordinatorScope.member_id == member.id))
        )
    return Reporter(
        telegram_user_id,
        name,
        member.id if member else None,
        unit.id if unit else None,
        unit.name if unit else "",
        coordinator,
        is_admin or bool(member and member.role == MemberRole.ADMIN),
        programmes,
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


def indicator_ref(session: Session, indicator: Indicator) -> IndicatorRecord:
    """An indicator row as the plain value the rules take."""
    document = indicator.document
    profile = profile_of(document)
    return IndicatorRecord(
        indicator.id,
        indicator.number,
        indicator.text,
        indicator.document_id,
        document.short_name or document.id,
        tuple(OwnerRef(role, unit.id, unit.name) for role, unit in owners_of(session, indicator.id)),
        profile,  # who reports (000: 由牵头单位汇总报送) is read from it by IndicatorRecord.target()
        table_name=indicator.table_name,
        document_issuer=document.issuer,
        document_kind=document.kind,
        materials=indicator.materials or "",
    )


def document_period(session: Session, document_id: str | None, now: datetime) -> Period:
    """The current reporting period of a document's programme (None: no document known)."""
    document = session.get(Document, document_id) if document_id else None
    return period_for(document, now)


def period_for(document: Document | None, now: datetime, explicit: str | None = None) -> Period:
    """The period, deadline and lateness of a report on this document made ``now`` (decided by knowledge.schedule)."""
    return report_period(profile_of(document) if document is not None else None, now, explicit)


def new_short_id() -> str:
    """A short receipt id such as ``R7K2QXM4`` (32⁷ values; the unique constraint guards the rest)."""
    return "R" + "".join(secrets.choice(_SHORT_ID_ALPHABET) for _ in range(7))


def claim_update(session: Session, update_id: int | None, kind: str, now: datetime, *, bot_id: int = 0) -> bool:
    """Record an update of bot ``bot_id`` as processed; False if it already was (a redelivery)."""
    if update_id is None:
        return True
    if session.get(ProcessedUpdate, (bot_id, update_id)) is not None:
        return False
    session.add(ProcessedUpdate(bot_id=bot_id, update_id=update_id, kind=kind, processed_at=now))
    session.flush()
    return True


def _stored(report: ProgressReport, unit_name: str) -> StoredReport:
    return StoredReport(
        report.short_id,
        report.indicator_id,
        report.unit_id,
        unit_name,
        report.period,
        report.version,
        report.status,
        report.text,
        report.late,
        report.reporter_name,
        report.created_at,
    )


def with_reports(
    use_case: Callable[Concatenate[SqlReports, P], T], *, bot_id: int = 0
) -> Callable[Concatenate[Session, P], T]:
    """``use_case(repo, …)`` as ``fn(session, …)`` for ``Database.run`` (one unit of work).

    ``bot_id``: the bot whose updates are claimed (update ids are only unique per bot).
    """

    def run(session: Session, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return use_case(SqlReports(session, bot_id), *args, **kwargs)

    return run


class SqlReports:
    """``knowledge.reports.ReportRepository`` over one SQLAlchemy session."""

    def __init__(self, session: Session, bot_id: int = 0) -> None:
        self.session = session
        self.bot_id = bot_id

    def reporter(self, telegram_user_id: int, name: str, is_admin: bool) -> Reporter:
        return reporter_for(self.session, telegram_user_id, name, is_admin)

    def bound_document(self, chat_id: int) -> str | None:
        return bound_document(self.session, chat_id)

    def claim_update(self, update_id: int | None, kind: str, now: datetime) -> bool:
        return claim_update(self.session, update_id, kind, now, bot_id=self.bot_id)

    def indicators_by_key(self, key: str, document_id: str | None, table: str = "") -> list[IndicatorRecord]:
        return [indicator_ref(self.session, i) for i in find_indicators(self.session, key, document_id, table)]

    def indicator(self, indicator_id: int) -> IndicatorRecord | None:
        row = self.session.get(Indicator, indicator_id)
        return indicator_ref(self.session, row) if row is not None else None

    def append_report(self, report: NewReport) -> StoredReport:
        version = (
            self.session.scalar(
                select(func.max(ProgressReport.version)).where(
                    ProgressReport.indicator_id == report.indicator_id,
                    ProgressReport.unit_id == report.unit_id,
                    ProgressReport.period == report.period,
                )
            )
            or 0
        ) + 1
        row = ProgressReport(
            short_id=new_short_id(),
            indicator_id=report.indicator_id,
            unit_id=report.unit_id,
            period=report.period,
            version=version,
            status=report.status,
            text=report.text,
            message_text=report.message_text,
            late=report.late,
            reporter_member_id=report.reporter.member_id,
            reporter_telegram_id=report.reporter.telegram_user_id,
            reporter_name=report.reporter.name,
            source_update_id=report.update_id,
            source_chat_id=report.chat_id,
            created_at=report.created_at,
        )
        self.session.add(row)
        self.session.flush()
        unit = self.session.get(Unit, report.unit_id)
        return _stored(row, unit.name if unit else "")

    def reports_of_update(self, update_id: int) -> list[StoredReport]:
        """Reports made since this bot's claim of the update (an older update with the same id,
        before the ids restarted, made the others)."""
        claim = self.session.get(ProcessedUpdate, (self.bot_id, update_id))
        if claim is None:
            return []
        rows = self.session.execute(
            select(ProgressReport, Unit.name)
            .join(Unit, Unit.id == ProgressReport.unit_id)
            .where(ProgressReport.source_update_id == update_id, ProgressReport.created_at >= claim.processed_at)
            .order_by(ProgressReport.id)
        ).all()
        return [_stored(r, name) for r, name in rows]

    def reports_on(self, indicator_id: int) -> list[StoredReport]:
        rows = self.session.execute(
            select(ProgressReport, Unit.name)
            .join(Unit, Unit.id == ProgressReport.unit_id)
            .where(ProgressReport.indicator_id == indicator_id)
            .order_by(ProgressReport.period.desc(), ProgressReport.version.desc())
        ).all()
        return [_stored(r, name) for r, name in rows]

    def profile(self, document_id: str) -> Profile | None:
        document = self.session.get(Document, document_id)
        return profile_of(document) if document is not None else None

    def unit_status(self, unit_id: int, period: str, document_id: str | None) -> UnitStatus:
        return unit_status(self.session, unit_id, period, document_id)

    def unassigned(self, document_id: str | None) -> list[tuple[str, str, str, str]]:
        return unassigned_indicators(self.session, document_id)

    def find_unit(self, name: str) -> tuple[int, str] | None:
        unit = find_unit(self.session, name)
        return (unit.id, unit.name) if unit else None

    def bound_unit(self, chat_id: int) -> tuple[int, str] | None:
        return bound_unit(self.session, chat_id)

    def document_units(self, document_id: str) -> list[tuple[int, str]]:
        profile = self.profile(document_id)
        return [
            (unit_id, name)
            for unit_id, name, lead in document_unit_roles(self.session, document_id)
            if profile is None or profile.reports_for(lead)  # who reports: the profile decides
        ]

    def evidence_notes(self, indicator_id: int, unit_id: int, period: str) -> list[EvidenceNote]:
        rows = self.session.scalars(
            select(Attachment).where(
                Attachment.indicator_id == indicator_id, Attachment.unit_id == unit_id, Attachment.period == period
            )
        )
        return [EvidenceNote(r.caption, r.original_name, r.mime == PAPER_MIME) for r in rows]

    def document_ids(self) -> list[str]:
        return list(self.session.scalars(select(Document.id).order_by(Document.id)))

    def latest_report(self, indicator_id: int, unit_id: int, period: str) -> StoredReport | None:
        row = self.session.execute(
            select(ProgressReport, Unit.name)
            .join(Unit, Unit.id == ProgressReport.unit_id)
            .where(
                ProgressReport.indicator_id == indicator_id,
                ProgressReport.unit_id == unit_id,
                ProgressReport.period == period,
            )
            .order_by(ProgressReport.version.desc())
            .limit(1)
        ).first()
        return _stored(row[0], row[1]) if row else None


# ------------------------------------------------------------------ status


def latest_reports(session: Session, unit_id: int, period: str) -> dict[int, ProgressReport]:
    """Indicator id → the unit's newest report version for the period (a withdrawn report: absent)."""
    latest = {
        r.indicator_id: r
        for r in session.scalars(
            select(ProgressReport)
            .where(ProgressReport.unit_id == unit_id, ProgressReport.period == period)
            .order_by(ProgressReport.version)
        )
    }
    return {key: r for key, r in latest.items() if r.status != ReportStatus.WITHDRAWN}


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
        raise LookupError(unit_id)
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
                indicator.document_id,
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

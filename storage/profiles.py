"""Programme profiles kept beside their documents (``documents.profile``), and the units that report.

Persistence only: what a profile says and how a value is set are decided in
``knowledge.profile`` / ``knowledge.profile_edit``; lateness and deadlines in ``knowledge.schedule``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.profile import Profile
from knowledge.profile_reader import profile_from_rules
from knowledge.schedule import Deadline, deadlines
from storage.models import Assignment, Document, Indicator, Role, Unit


def load_profile(session: Session, document_id: str) -> Profile | None:
    """The stored profile of a document (documents imported before profiles: from their monthly rules)."""
    document = session.get(Document, document_id)
    if document is None:
        return None
    return profile_of(document)


def profile_of(document: Document) -> Profile:
    """The profile of a loaded document row."""
    if document.profile:
        return Profile.from_json(document.profile)
    return profile_from_rules(document.id, list(document.reporting_rules or []))


def save_profile(session: Session, profile: Profile) -> None:
    """Store a profile beside its document."""
    document = session.get(Document, profile.document_id)
    if document is None:
        raise LookupError(profile.document_id)
    document.profile = profile.as_json()
    session.flush()


def all_profiles(session: Session, document_id: str | None = None) -> list[Profile]:
    """Profiles of every document (or one), in document order."""
    query = select(Document).order_by(Document.id)
    if document_id:
        query = query.where(Document.id == document_id)
    return [profile_of(document) for document in session.scalars(query)]


def document_unit_roles(session: Session, document_id: str) -> list[tuple[int, str, bool]]:
    """(unit id, unit name, is lead) of every assignment in a document, leads first, without repeats."""
    rows = session.execute(
        select(Unit.id, Unit.name, Assignment.role)
        .join(Assignment, Assignment.unit_id == Unit.id)
        .join(Indicator, Indicator.id == Assignment.indicator_id)
        .where(Indicator.document_id == document_id)
        .distinct()
        .order_by(Unit.name)
    ).all()
    seen: dict[int, tuple[int, str, bool]] = {}
    for unit_id, name, role in rows:
        lead = role == Role.LEAD
        if unit_id not in seen or (lead and not seen[unit_id][2]):
            seen[unit_id] = (int(unit_id), str(name), lead)
    return sorted(seen.values(), key=lambda row: (not row[2], row[1]))


def reporting_unit_names(session: Session, profile: Profile) -> list[str]:
    """Names of the units that must report under the profile's who-reports rule."""
    return [name for _, name, lead in document_unit_roles(session, profile.document_id) if profile.reports_for(lead)]


def programme_deadlines(
    session: Session, start: date, end: date, document_id: str | None = None
) -> tuple[list[Deadline], dict[str, int]]:
    """Every deadline the stored profiles produce in ``[start, end]`` (``knowledge.schedule.deadlines``),
    with a unit name → id map of the units they name."""
    found: list[Deadline] = []
    unit_ids: dict[str, int] = {}
    for profile in all_profiles(session, document_id):
        roles = document_unit_roles(session, profile.document_id)
        unit_ids.update({name: unit_id for unit_id, name, _ in roles})
        reporting = [name for _, name, lead in roles if profile.reports_for(lead)]
        found += deadlines(profile, start, end, reporting)
    return sorted(found, key=lambda d: (d.date, d.document, d.kind, d.title)), unit_ids


def find_document_id(session: Session, text: str) -> str | None:
    """A document id from its full id or a unique prefix (``001`` → ``001_4c05958a6f6fc4a3``)."""
    if session.get(Document, text) is not None:
        return text
    matches = list(session.scalars(select(Document.id).where(Document.id.startswith(text, autoescape=True))))
    return matches[0] if len(matches) == 1 else None


def unassigned_indicators(session: Session, document_id: str | None = None) -> list[tuple[str, str, str, str]]:
    """(document id, table, number, owner note) of every indicator without a unit (未分配)."""
    query = select(Indicator.document_id, Indicator.table_name, Indicator.number, Indicator.owner_note).where(
        Indicator.unassigned.is_(True)
    )
    if document_id:
        query = query.where(Indicator.document_id == document_id)
    rows = session.execute(query.order_by(Indicator.document_id, Indicator.position)).all()
    return [(str(d), str(t), str(n), str(note)) for d, t, n, note in rows]

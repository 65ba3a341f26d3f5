"""Keeping parsed documents in the database (the catalogue of programmes), and reading them back.

Import is idempotent (same file → nothing changes), updates indicators in place
matched by (document, table, key) so earlier progress reports stay attached, and
runs inside the caller's unit of work (a failure rolls everything back).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session, selectinload

from knowledge.aliases import AliasTable, load_aliases
from knowledge.bundled import sample_files
from knowledge.files import read_document_bytes
from knowledge.imports import ImportReport, RemovalsNeedConfirmation
from knowledge.model import Owner, ParsedDocument, ParsedIndicator
from knowledge.profile import Profile
from knowledge.profile_edit import describe, reapply_edits
from knowledge.profile_reader import read_profile
from knowledge.units import clean_indicator_owners
from storage.housekeeping import bump_data_version
from storage.models import (
    Assignment,
    Attachment,
    Document,
    Indicator,
    Person,
    ProgressReport,
    Role,
    Unit,
    UnitAlias,
)


def _display_key(table: str, key: str) -> str:
    return f"{table}{key}" if table and not key.startswith(("加分", "减分")) else key


def _owner_signature(indicator: ParsedIndicator) -> list[tuple[str, str, tuple[str, ...]]]:
    return [("lead", o.unit, tuple(o.persons)) for o in indicator.leads] + [
        ("coop", o.unit, tuple(o.persons)) for o in indicator.coops
    ]


def _stored_signature(indicator: Indicator) -> list[tuple[str, str, tuple[str, ...]]]:
    grouped: dict[tuple[str, str], list[str]] = {}
    order: list[tuple[str, str]] = []
    for assignment in indicator.assignments:
        slot = ("lead" if assignment.role == Role.LEAD else "coop", assignment.unit.name)
        if slot not in grouped:
            grouped[slot] = []
            order.append(slot)
        if assignment.person is not None:
            grouped[slot].append(assignment.person.name)
    return [(role, unit, tuple(grouped[(role, unit)])) for role, unit in order]


class _Directory:
    """Get-or-create units and persons within one session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.units: dict[str, Unit] = {}
        self.persons: dict[tuple[str, int], Person] = {}

    def unit(self, name: str) -> Unit:
        if name not in self.units:
            unit = self.session.scalar(select(Unit).where(Unit.name == name))
            if unit is None:
                unit = Unit(name=name)
                self.session.add(unit)
                self.session.flush()
            self.units[name] = unit
        return self.units[name]

    def person(self, name: str, unit: Unit) -> Person:
        key = (name, unit.id)
        if key not in self.persons:
            person = self.session.scalar(select(Person).where(Person.name == name, Person.unit_id == unit.id))
            if person is None:
                person = Person(name=name, unit_id=unit.id)
                self.session.add(person)
                self.session.flush()
            self.persons[key] = person
        return self.persons[key]


def _canonical_owners(owners: list[Owner], doc_id: str, aliases: AliasTable) -> list[Owner]:
    result: list[Owner] = []
    for owner in owners:
        name = aliases.canonical(doc_id, owner.unit)
        existing = next((o for o in result if o.unit == name), None)
        if existing:
            existing.persons += [p for p in owner.persons if p not in existing.persons]
        else:
            result.append(Owner(name, list(owner.persons)))
    return result


def import_document(
    session: Session,
    parsed: ParsedDocument,
    *,
    now: datetime,
    aliases: AliasTable | None = None,
    replace: bool = False,
) -> ImportReport:
    """Insert or update a parsed document and its indicators in ``session``.

    Removing indicators that vanished from the file needs ``replace=True``; without it an import
    that would remove any raises :class:`RemovalsNeedConfirmation` (the caller's unit of work
    rolls back, so nothing changes).
    """
    aliases = aliases or load_aliases()
    doc_id = parsed.doc_id
    report = ImportReport(document_id=doc_id, title=parsed.title, warnings=list(parsed.warnings))
    document = session.get(Document, doc_id)
    if document is None:
        document = Document(id=doc_id, imported_at=now, updated_at=now)
        session.add(document)
    document.title = parsed.title
    document.issuer = parsed.issuer
    document.short_name = parsed.short_name
    document.kind = parsed.kind
    if document.reporting_rules != parsed.reporting_rules:
        document.reporting_rules = parsed.reporting_rules
    session.flush()

    directory = _Directory(session)
    for alias, canonical in aliases.for_document(doc_id).items():
        unit = directory.unit(canonical)
        found = session.scalar(select(UnitAlias).where(UnitAlias.alias == alias, UnitAlias.document_id == doc_id))
        if found is None:
            session.add(UnitAlias(unit_id=unit.id, alias=alias, document_id=doc_id))
        elif found.unit_id != unit.id:
            found.unit_id = unit.id

    existing = {
        (i.table_name, i.key): i
        for i in session.scalars(
            select(Indicator)
            .where(Indicator.document_id == doc_id)
            .options(selectinload(Indicator.assignments).selectinload(Assignment.unit))
            .options(selectinload(Indicator.assignments).selectinload(Assignment.person))
        )
    }
    seen: set[tuple[str, str]] = set()
    for position, item in enumerate(parsed.indicators):
        clean_indicator_owners(item)
        item.leads = _canonical_owners(item.leads, doc_id, aliases)
        item.coops = _canonical_owners(item.coops, doc_id, aliases)
        slot = (item.table, item.key)
        if slot in seen:
            report.warnings.append(f"编号 {_display_key(*slot)} 重复（第{item.line_start}行），已跳过")
            continue
        seen.add(slot)
        label = _display_key(item.table, item.key)
        if item.unassigned:
            report.unassigned.append(label)
        row = existing.get(slot)
        values = {
            "number": item.number,
            "position": position,
            "level1": item.level1,
            "level2": item.level2,
            "text": item.text,
            "methods": item.methods,
            "materials": item.materials,
            "criteria": item.criteria,
            "points": item.points,
            "unassigned": item.unassigned,
            "owner_note": item.owner_note,
            "source_line_start": item.line_start,
            "source_line_end": item.line_end,
        }
        if row is None:
            row = Indicator(document_id=doc_id, table_name=item.table, key=item.key, updated_at=now, **values)
            session.add(row)
            session.flush()
            _assign(row, item, directory)
            report.imported.append((label, item.line_start))
            continue
        # Line numbers and order follow the file, but moving rows does not change the indicator.
        changed = any(
            getattr(row, name) != value
            for name, value in values.items()
            if name != "position" and not name.startswith("source_")
        )
        owners_changed = _stored_signature(row) != _owner_signature(item)
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
        if owners_changed:
            session.execute(delete(Assignment).where(Assignment.indicator_id == row.id))
            session.expire(row, ["assignments"])
            _assign(row, item, directory)
        if changed or owners_changed:
            row.updated_at = now
            report.updated.append((label, item.line_start))
        else:
            report.unchanged += 1

    for slot, row in existing.items():
        if slot in seen:
            continue
        label = _display_key(*slot)
        has_history = session.scalar(
            select(
                exists().where(ProgressReport.indicator_id == row.id)
                | exists().where(Attachment.indicator_id == row.id)
            )
        )
        if has_history:
            report.kept.append(label)
        else:
            session.delete(row)
            report.removed.append(label)

    if report.removed and not replace:
        raise RemovalsNeedConfirmation(doc_id, report.removed)

    for contact in parsed.contacts:
        person = session.scalar(
            select(Person)
            .join(Assignment, Assignment.person_id == Person.id)
            .join(Indicator, Indicator.id == Assignment.indicator_id)
            .where(Person.name == contact.name, Indicator.document_id == doc_id)
            .limit(1)
        )
        if person is None:
            person = directory.person(contact.name, directory.unit(contact.unit))
        if person.phone != contact.phone:
            person.phone = contact.phone
        if contact.title and person.title != contact.title:
            person.title = contact.title
    if report.imported or report.updated or report.removed:
        document.updated_at = now
    _store_profile(document, parsed, now, report)
    session.flush()
    bump_data_version(session, now)  # running bots reload the index, profiles and reminder rules
    return report


def _store_profile(document: Document, parsed: ParsedDocument, now: datetime, report: ImportReport) -> None:
    """Read the programme profile from the text; a re-import keeps the first import day and coordinators' edits."""
    stored = Profile.from_json(document.profile) if document.profile else None
    today = stored.imported_on if stored and stored.imported_on else now.date()
    if not parsed.source_text and stored is not None:
        profile = stored  # a table without text (xlsx template): keep what was read before
    else:
        profile = read_profile(document.id, parsed.source_text, parsed.indicators, today)
        if stored is not None:
            failed = reapply_edits(profile, stored.edits, today)
            report.warnings += [f"协调人修改的报送规则已不适用：{f}" for f in failed]
    if document.profile != profile.as_json():
        document.profile = profile.as_json()
    report.profile_lines = describe(profile, now.date())


def _assign(row: Indicator, item: ParsedIndicator, directory: _Directory) -> None:
    for role, owners in ((Role.LEAD, item.leads), (Role.COOPERATING, item.coops)):
        for owner in owners:
            unit = directory.unit(owner.unit)
            if not owner.persons:
                directory.session.add(Assignment(indicator_id=row.id, unit_id=unit.id, role=role))
            for name in owner.persons:
                person = directory.person(name, unit)
                directory.session.add(Assignment(indicator_id=row.id, unit_id=unit.id, role=role, person_id=person.id))
    directory.session.flush()


def to_parsed(row: Indicator) -> ParsedIndicator:
    """A stored indicator back as a plain record."""
    leads: list[Owner] = []
    coops: list[Owner] = []
    for assignment in row.assignments:
        target = leads if assignment.role == Role.LEAD else coops
        owner = next((o for o in target if o.unit == assignment.unit.name), None)
        if owner is None:
            owner = Owner(assignment.unit.name)
            target.append(owner)
        if assignment.person is not None:
            owner.persons.append(assignment.person.name)
    return ParsedIndicator(
        number=row.number,
        key=row.key,
        text=row.text,
        table=row.table_name,
        level1=row.level1,
        level2=row.level2,
        methods=list(row.methods),
        materials=row.materials,
        criteria=row.criteria,
        points=row.points,
        leads=leads,
        coops=coops,
        unassigned=row.unassigned,
        owner_note=row.owner_note,
        line_start=row.source_line_start,
        line_end=row.source_line_end,
        db_id=row.id,
    )


def load_documents(session: Session, document_id: str | None = None) -> list[ParsedDocument]:
    """Stored documents (all, or one) with their indicators in table order."""
    query = select(Document).order_by(Document.id)
    if document_id:
        query = query.where(Document.id == document_id)
    query = query.options(
        selectinload(Document.indicators).selectinload(Indicator.assignments).selectinload(Assignment.unit),
        selectinload(Document.indicators).selectinload(Indicator.assignments).selectinload(Assignment.person),
    )
    return [
        ParsedDocument(
            doc_id=doc.id,
            title=doc.title,
            issuer=doc.issuer,
            short_name=doc.short_name,
            kind=doc.kind,
            indicators=[to_parsed(i) for i in doc.indicators],
            reporting_rules=list(doc.reporting_rules),
        )
        for doc in session.scalars(query)
    ]


def import_samples_if_empty(session: Session, now: datetime) -> list[ImportReport]:
    """Import the bundled samples into an empty database (the demo's first run); else do nothing."""
    if session.scalar(select(func.count()).select_from(Document)):
        return []
    reports = []
    for name, data in sample_files():
        for parsed in read_document_bytes(data, name):
            reports.append(import_document(session, parsed, now=now))
    return reports

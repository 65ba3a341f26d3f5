"""Plain records produced by the readers (no database, no Telegram)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Owner:
    """A unit taking part in an indicator, with the persons named for it there."""

    unit: str
    persons: list[str] = field(default_factory=list)


@dataclass
class ParsedIndicator:
    """One indicator (三级指标 or task) as read from a document."""

    number: str
    key: str
    text: str
    table: str = ""
    level1: str = ""
    level2: str = ""
    methods: list[str] = field(default_factory=list)
    materials: str = ""
    criteria: str = ""
    points: float | None = None
    leads: list[Owner] = field(default_factory=list)
    coops: list[Owner] = field(default_factory=list)
    unassigned: bool = False
    owner_note: str = ""
    line_start: int | None = None
    line_end: int | None = None
    db_id: int | None = None

    def as_json(self, document: str) -> dict[str, Any]:
        """The public JSON shape used by ``taizhang indicators --json``."""
        persons = [{"name": p, "unit": o.unit} for o in self.leads + self.coops for p in o.persons]
        return {
            "document": document,
            "table": self.table,
            "number": self.number,
            "key": self.key,
            "level1": self.level1,
            "level2": self.level2,
            "text": self.text,
            "methods": self.methods,
            "materials": self.materials,
            "criteria": self.criteria,
            "points": self.points,
            "lead_units": [o.unit for o in self.leads],
            "coop_units": [o.unit for o in self.coops],
            "persons": persons,
            "unassigned": self.unassigned,
            "lines": [self.line_start, self.line_end],
        }


@dataclass
class ContactPerson:
    """A person listed with a phone (e.g. 002's 工作专班)."""

    name: str
    unit: str
    phone: str
    title: str = ""


@dataclass
class ParsedDocument:
    """A whole document: metadata, reporting rules, indicators, contacts."""

    doc_id: str
    title: str
    issuer: str
    short_name: str
    kind: str
    indicators: list[ParsedIndicator]
    reporting_rules: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[ContactPerson] = field(default_factory=list)
    unit_aliases: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    source_text: str = ""  # the document's own text, read into its programme profile at import

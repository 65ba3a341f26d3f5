"""Plain records the ledger and the evidence bundle are written from (filled by ``storage.ledger``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from knowledge.domain import ReportStatus, Role


@dataclass
class LedgerRow:
    """One indicator of a unit for a period."""

    indicator_id: int
    document: str
    number: str
    level1: str
    text: str
    materials: str
    methods: list[str]
    role: Role
    lead_units: str
    lead_persons: str
    coop_units: str
    status: ReportStatus | None
    details: str
    late: bool
    reported_at: datetime | None
    reporter: str
    attachments: int


@dataclass
class UnitLedger:
    """A unit's sheet."""

    unit: str
    rows: list[LedgerRow] = field(default_factory=list)

    @property
    def reported(self) -> int:
        return sum(1 for r in self.rows if r.status is not None)

    @property
    def completed(self) -> int:
        return sum(1 for r in self.rows if r.status == ReportStatus.DONE)

    @property
    def missing(self) -> list[str]:
        return [r.number for r in self.rows if r.status is None]


@dataclass
class EvidenceFile:
    """One attachment for the bundle manifest."""

    indicator_label: str
    level1: str
    unit: str
    period: str
    original_name: str
    size: int
    sha256: str
    stored_path: str
    uploader: str
    uploaded_at: datetime
    caption: str = ""
    kind: str = "电子"  # 电子 (a stored file) or 纸质 (a paper-evidence entry, kept for 实地核验)

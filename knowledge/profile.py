"""A programme's own rules, as plain data: the profile kept beside each imported document.

What a document states about when to report, who reports, which statuses and evidence it
accepts and whom to contact. Nothing is invented: a document that states no monthly cadence
has none. Dates written without a year are resolved once, at import (see
:func:`knowledge.profile_reader.read_profile`), and keep the text as written next to them.
The JSON shape (``Profile.as_json``) is what ``documents.profile`` stores and what
``taizhang profile show --json`` prints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

# Who must report on an indicator.
REPORTERS_LEAD = "lead"  # 000 附件2 说明1: 工作台账完成情况均由牵头单位汇总报送
REPORTERS_LEAD_AND_COOP = "lead_and_coop"
REPORTERS_EACH_LISTED = "each_listed"  # 003: every unit named 牵头 or 参加
REPORTERS = (REPORTERS_LEAD, REPORTERS_LEAD_AND_COOP, REPORTERS_EACH_LISTED)

BASE_STATUSES = ("已完成", "未完成")
NOT_CONCERNED_STATUSES = ("无材料", "不涉及")  # 001 说明5

REPORTED_MONTH_PREVIOUS = "previous"  # 上月完成情况
REPORTED_MONTH_CURRENT = "current"


@dataclass
class Monthly:
    """A monthly cadence: units report before ``report_day``; the coordinator sums up before ``coordinator_day``."""

    report_day: int | None = None
    coordinator_day: int | None = None
    reported_month: str = REPORTED_MONTH_PREVIOUS
    report_to: str = ""
    summary_to: str = ""
    source: str = ""


@dataclass
class DatedDeadline:
    """A one-off deadline (``10月28日前`` → the resolved date, with the text as written)."""

    title: str
    due: date
    written: str = ""
    to: str = ""
    units: list[str] = field(default_factory=list)
    added_by: str = "文档"  # 文档 | 协调人
    source: str = ""


@dataclass
class Phase:
    """A dated phase (004: 自查阶段 8月1日至8月10日) and what must be delivered in it."""

    title: str
    start: date | None = None
    end: date | None = None
    written: str = ""
    deliverables: list[DatedDeadline] = field(default_factory=list)


@dataclass
class YearPhase:
    """A yearly theme (003: 2022 贯彻落实年)."""

    title: str
    year: int
    written: str = ""


@dataclass
class Milestone:
    """A date written inside an indicator's own text (``2022年6月30日前…力争达到80%``)."""

    indicator: str  # the indicator's display key (table + key)
    due: date
    text: str
    written: str = ""
    units: list[str] = field(default_factory=list)


@dataclass
class EvidenceRules:
    """What evidence must look like (002 附件1, 001 说明2/4)."""

    note_chars: int | None = None  # 情况说明 一般不超过
    note_chars_max: int | None = None  # 最多不超过
    formats: list[str] = field(default_factory=list)
    note_title_pattern: str = ""
    classified_on_paper: bool = False
    paper_copies: bool = False
    source: str = ""


@dataclass
class Contact:
    """A person to contact: a 工作专班 leader with phones, a 领导小组 member, the 联系人."""

    name: str
    role: str = ""
    group: str = ""
    phones: list[str] = field(default_factory=list)


@dataclass
class Profile:
    """Everything a document states about how its programme is run."""

    document_id: str
    imported_on: date | None = None
    monthly: Monthly | None = None
    one_offs: list[DatedDeadline] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    yearly_phases: list[YearPhase] = field(default_factory=list)
    yearly_reporting: str = ""
    milestones: list[Milestone] = field(default_factory=list)
    reporters: str = REPORTERS_LEAD_AND_COOP
    reporters_source: str = ""
    statuses: list[str] = field(default_factory=lambda: list(BASE_STATUSES))
    evidence: EvidenceRules = field(default_factory=EvidenceRules)
    contacts: list[Contact] = field(default_factory=list)
    resolved_dates: list[str] = field(default_factory=list)  # 10月28日 → 2027-10-28, for the import report
    edits: dict[str, str] = field(default_factory=dict)  # KEY → VALUE set by coordinators, kept on re-import

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings)."""
        return _jsonable(asdict(self))  # type: ignore[no-any-return]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Profile:
        """The inverse of :meth:`as_json`."""
        monthly = data.get("monthly")
        return cls(
            document_id=str(data.get("document_id", "")),
            imported_on=_date(data.get("imported_on")),
            monthly=Monthly(**monthly) if isinstance(monthly, dict) else None,
            one_offs=[_deadline(d) for d in data.get("one_offs", [])],
            phases=[
                Phase(
                    title=p["title"],
                    start=_date(p.get("start")),
                    end=_date(p.get("end")),
                    written=p.get("written", ""),
                    deliverables=[_deadline(d) for d in p.get("deliverables", [])],
                )
                for p in data.get("phases", [])
            ],
            yearly_phases=[YearPhase(**y) for y in data.get("yearly_phases", [])],
            yearly_reporting=str(data.get("yearly_reporting", "")),
            milestones=[
                Milestone(
                    m["indicator"], _req_date(m["due"]), m["text"], m.get("written", ""), list(m.get("units", []))
                )
                for m in data.get("milestones", [])
            ],
            reporters=str(data.get("reporters", REPORTERS_LEAD_AND_COOP)),
            reporters_source=str(data.get("reporters_source", "")),
            statuses=list(data.get("statuses", BASE_STATUSES)),
            evidence=EvidenceRules(**data.get("evidence", {})),
            contacts=[Contact(**c) for c in data.get("contacts", [])],
            resolved_dates=list(data.get("resolved_dates", [])),
            edits=dict(data.get("edits", {})),
        )

    def reports_for(self, role_is_lead: bool) -> bool:
        """Whether a unit in this role must report (cooperating units do not under ``lead``)."""
        return role_is_lead or self.reporters != REPORTERS_LEAD


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _req_date(value: Any) -> date:
    parsed = _date(value)
    if parsed is None:
        raise ValueError(f"not a date: {value!r}")
    return parsed


def _deadline(data: dict[str, Any]) -> DatedDeadline:
    return DatedDeadline(
        title=data["title"],
        due=_req_date(data["due"]),
        written=data.get("written", ""),
        to=data.get("to", ""),
        units=list(data.get("units", [])),
        added_by=data.get("added_by", "文档"),
        source=data.get("source", ""),
    )

"""Ledger templates as data: each document's 工作台账 layout, read from ``knowledge/data/templates/*.toml``.

A template names its title, the lines above the table (with ``{unit}``, ``{filled_year}`` …
placeholders), the columns and the field each is filled from, an optional grouping, the
说明 lines under the table and the print setup. A new programme's ledger is a new TOML file,
no code. The rows it is filled from are plain records (:class:`IndicatorRow`, :class:`UnitEntry`)
that ``storage`` produces; :mod:`knowledge.ledger_xlsx` writes the workbook.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from knowledge.errors import Refusal

GENERIC = "generic"

# Who must report (mirrors the programme profile's ``reporters``; the profile wins when it states one).
REPORTERS_LEAD = "lead"
REPORTERS_ALL = "lead_and_coop"
REPORTERS_EACH_LISTED = "each_listed"

# Status values as stored (ReportStatus values) → the words the ledger shows.
STATUS_WORDS = {
    "done": "已完成",
    "in_progress": "未完成",
    "no_material": "无材料",
    "not_applicable": "不涉及",
    "withdrawn": "已撤回",
    "returned": "退回",
}
NOT_REPORTED = "未报送"
# Versions that do not count as a report for the period.
NOT_COUNTED = frozenset({"withdrawn", "returned"})


@dataclass
class IndicatorRow:
    """One indicator with its owners (and, for scored tables, its current self-score)."""

    indicator_id: int
    document: str
    document_name: str
    table: str
    number: str
    key: str
    position: int
    level1: str
    level2: str
    text: str
    methods: list[str]
    materials: str
    criteria: str
    points: float | None
    leads: list[tuple[str, str]] = field(default_factory=list)  # (unit, person)
    coops: list[tuple[str, str]] = field(default_factory=list)
    score: float | None = None
    score_reason: str = ""

    @property
    def label(self) -> str:
        """``党委2`` for tables that share numbers, else the number."""
        return f"{self.table}{self.number}" if self.table and self.table != "附加项" else self.number


@dataclass
class UnitEntry:
    """A unit's line for an indicator and period: its role and its latest report (if any)."""

    indicator_id: int
    unit: str
    lead: bool
    status: str = ""  # ReportStatus value; "" = nothing reported
    text: str = ""
    late: bool = False
    reported_at: datetime | None = None
    reporter: str = ""
    attachments: int = 0
    evidence: str = ""  # captions and paper entries, one per line

    @property
    def counted(self) -> bool:
        """Whether the latest version counts as reported (a withdrawn or returned one does not)."""
        return bool(self.status) and self.status not in NOT_COUNTED


@dataclass
class LedgerData:
    """What a ledger is filled from: indicators in document order, unit entries, contacts, phases."""

    period: str
    indicators: list[IndicatorRow]
    entries: list[UnitEntry]
    phones: dict[str, str] = field(default_factory=dict)  # person → phones as the document gives them
    year_phases: dict[int, str] = field(default_factory=dict)  # 2022 → 贯彻落实年
    reporters: str = ""  # from the programme profile, when it states one
    milestones: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (document, table+key) → lines
    unit_filter: str = ""  # the export is of one unit


@dataclass(frozen=True)
class Column:
    """A column: its header as the document writes it, the field it shows, its width."""

    title: str
    field: str
    width: float = 14


@dataclass(frozen=True)
class TemplateSpec:
    """One ledger layout."""

    id: str
    name: str
    documents: tuple[str, ...]
    title: str
    sheets: str  # "unit": a sheet per unit; "table": a sheet per indicator table (004's 打分表)
    reporters: str
    columns: tuple[Column, ...]
    header: tuple[str, ...] = ()
    footer: tuple[str, ...] = ()
    group_by: str = ""
    totals: bool = False
    font: str = "仿宋_GB2312"
    title_font: str = "宋体"
    font_size: int = 11
    title_size: int = 16
    sheet_titles: dict[str, str] = field(default_factory=dict)
    year_phases: dict[int, str] = field(default_factory=dict)

    def header_lines(self, **values: str) -> list[str]:
        """The header lines with their placeholders filled."""
        return [line.format_map(_Defaulting(values)) for line in self.header]


class _Defaulting(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _spec(template_id: str, data: dict[str, Any]) -> TemplateSpec:
    columns = tuple(Column(str(c["title"]), str(c["field"]), float(c.get("width", 14))) for c in data["columns"])
    unknown = [c.field for c in columns if c.field not in FIELDS]
    if unknown:
        raise ValueError(f"template {template_id}: unknown fields {unknown}")
    return TemplateSpec(
        id=template_id,
        name=str(data.get("name", template_id)),
        documents=tuple(str(d) for d in data.get("documents", [])),
        title=str(data.get("title", "")),
        sheets=str(data.get("sheets", "unit")),
        reporters=str(data.get("reporters", REPORTERS_ALL)),
        columns=columns,
        header=tuple(str(h) for h in data.get("header", [])),
        footer=tuple(str(f) for f in data.get("footer", [])),
        group_by=str(data.get("group_by", "")),
        totals=bool(data.get("totals", False)),
        font=str(data.get("font", "仿宋_GB2312")),
        title_font=str(data.get("title_font", "宋体")),
        font_size=int(data.get("font_size", 11)),
        title_size=int(data.get("title_size", 16)),
        sheet_titles={str(k): str(v) for k, v in data.get("sheet_titles", {}).items()},
        year_phases={int(k): str(v) for k, v in data.get("year_phases", {}).items()},
    )


@lru_cache(maxsize=1)
def templates() -> dict[str, TemplateSpec]:
    """Every template shipped in ``knowledge/data/templates`` (file name without ``.toml`` = id)."""
    folder = resources.files("knowledge") / "data" / "templates"
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            template_id = entry.name.removesuffix(".toml")
            found[template_id] = _spec(template_id, tomllib.loads(entry.read_text(encoding="utf-8")))
    return found


def template_for(document_ids: list[str], requested: str | None = None) -> TemplateSpec:
    """The template asked for, else the one every document's id prefix selects, else the generic layout."""
    known = templates()
    if requested:
        if requested not in known:
            raise Refusal(f"没有名为“{requested}”的台账模板（可选：{'、'.join(known)}）")
        return known[requested]
    chosen = {_match(doc, known) for doc in document_ids} or {GENERIC}
    return known[chosen.pop()] if len(chosen) == 1 else known[GENERIC]


def _match(document_id: str, known: dict[str, TemplateSpec]) -> str:
    for spec in known.values():
        if any(document_id.startswith(prefix) for prefix in spec.documents):
            return spec.id
    return GENERIC


# ------------------------------------------------------------------ fields


def progress(entry: UnitEntry | None) -> str:
    """完成进度: the status word and the unit's own text, exactly as written (never a lateness note)."""
    if entry is None or not entry.status:
        return NOT_REPORTED
    word = STATUS_WORDS.get(entry.status, entry.status)
    text = entry.text
    if not text or text.startswith(word):
        return text or word
    return f"{word}：{text}"


def marker(entry: UnitEntry | None) -> str:
    """The note column of its own: 逾期报送 / 退回 / 已撤回 / 未报送."""
    if entry is None or not entry.status:
        return NOT_REPORTED
    notes = []
    if entry.status in NOT_COUNTED:
        notes.append(STATUS_WORDS[entry.status])
    if entry.late:
        notes.append("逾期报送")
    return "；".join(notes)


def _persons(owners: list[tuple[str, str]]) -> str:
    return "、".join(dict.fromkeys(p for _, p in owners if p))


def _units(owners: list[tuple[str, str]]) -> str:
    return "、".join(dict.fromkeys(u for u, _ in owners))


def _units_with_persons(owners: list[tuple[str, str]]) -> str:
    grouped: dict[str, list[str]] = {}
    for unit, person in owners:
        grouped.setdefault(unit, [])
        if person and person not in grouped[unit]:
            grouped[unit].append(person)
    return "\n".join(f"{u}（{'、'.join(p)}）" if p else u for u, p in grouped.items())


def _contacts(row: IndicatorRow, entry: UnitEntry | None, data: LedgerData) -> str:
    lines = []
    for unit, person in row.leads + row.coops:
        if not person:
            continue
        phone = data.phones.get(person, "")
        line = f"{person}（{unit}）" + (f" {phone}" if phone else "")
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


_MILESTONE = re.compile(r"(\d{4})年(?:(\d{1,2})月(?:(\d{1,2})日)?|年底|年末)前?[^，。；]*")


def milestones(row: IndicatorRow, data: LedgerData) -> str:
    """The task's dated milestones, one per line: the profile's, else the dated phrases of its own text."""
    found = data.milestones.get((row.document, f"{row.table}{row.key}"))
    if found:
        return "\n".join(found)
    return "\n".join(m.group(0) for m in _MILESTONE.finditer(row.text))


def phase_state(data: LedgerData, entry: UnitEntry | None) -> str:
    """The current yearly phase (003: 2022 贯彻落实年 …) and the unit's state in it."""
    year = int(data.period[:4])
    phase = data.year_phases.get(year)
    label = f"{year}年{phase}" if phase else f"{year}年（方案未列阶段）"
    state = "未报送" if entry is None or not entry.counted else STATUS_WORDS.get(entry.status, entry.status)
    return f"{label}：{state}"


def _score(row: IndicatorRow) -> float | str:
    return row.score if row.score is not None else ""


def _points(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"


FieldFn = Callable[[IndicatorRow, UnitEntry | None, LedgerData], Any]

FIELDS: dict[str, FieldFn] = {
    "number": lambda r, e, d: r.label,
    "indicator": lambda r, e, d: f"{r.number} {r.text}" if r.number else r.text,
    "text": lambda r, e, d: r.text,
    "level1": lambda r, e, d: r.level1,
    "level2": lambda r, e, d: r.level2,
    "document": lambda r, e, d: r.document_name,
    "methods": lambda r, e, d: "\n".join(r.methods),
    "materials": lambda r, e, d: r.materials,
    "criteria": lambda r, e, d: r.criteria,
    "points": lambda r, e, d: _points(r.points),
    "lead_units": lambda r, e, d: _units(r.leads),
    "lead_persons": lambda r, e, d: _persons(r.leads),
    "coop_units": lambda r, e, d: _units(r.coops),
    "all_units": lambda r, e, d: _units(r.leads + r.coops),
    "owners_with_persons": lambda r, e, d: _units_with_persons(r.leads + r.coops),
    "contacts": _contacts,
    "role": lambda r, e, d: "" if e is None else ("牵头" if e.lead else "参加"),
    "progress": lambda r, e, d: progress(e),
    "note": lambda r, e, d: marker(e),
    "year": lambda r, e, d: d.period[:4],
    "reported_at": lambda r, e, d: f"{e.reported_at:%Y-%m-%d %H:%M}" if e and e.reported_at else "",
    "reporter": lambda r, e, d: e.reporter if e else "",
    "attachments": lambda r, e, d: e.attachments if e else 0,
    "evidence": lambda r, e, d: e.evidence if e else "",
    "milestones": lambda r, e, d: milestones(r, d),
    "phase_state": lambda r, e, d: phase_state(d, e),
    "score": lambda r, e, d: _score(r),
    "score_note": lambda r, e, d: r.score_reason,
}


def filled_values(today: date) -> dict[str, str]:
    """Placeholders of the 填表时间 line."""
    return {"filled_year": str(today.year), "filled_month": str(today.month), "filled_day": str(today.day)}

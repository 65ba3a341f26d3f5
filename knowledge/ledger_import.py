"""Reading a filled-in ledger template back (a unit returns the xlsx with caption ``/report``).

Each sheet's header row is found by the template's column titles; the unit comes from the
header line (``责任单位：…`` / ``责任科室：…``), the indicator number from the 序号 or 三级指标
cell, and the report from the 完成进度 cell, kept exactly as written. Rows left at 未报送 or
empty are not reports; rows whose number or status cannot be read are listed with the reason.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from openpyxl import load_workbook

from knowledge.access import Reporter
from knowledge.errors import Refusal
from knowledge.ledger_spec import GENERIC, NOT_REPORTED, TemplateSpec, templates
from knowledge.report_line import parse_indicator_ref, read_status
from knowledge.reports import (
    PendingReport,
    ReportRepository,
    check_status_allowed,
    reporting_unit,
    resolve_indicator,
)

MAX_SHEETS = 200
MAX_ROWS = 5000
MAX_CELL_CHARS = 5000
_NUMBER_RE = re.compile(r"^\s*((?:加分|减分)?[(（]?★?\d{1,3}[)）]?)(?:\s|$)")
SKIPPED_SHEETS = {"汇总", "未分配"}


@dataclass(frozen=True)
class FilledRow:
    """A filled 完成进度 cell: where it is, whose it is, for which number."""

    sheet: str
    row: int
    unit: str
    number: str
    progress: str  # the cell exactly as written


@dataclass
class FilledLedger:
    """What a returned template holds."""

    template: str
    period: str  # 报送月份 written into the export ("" when the file does not say)
    rows: list[FilledRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # rows that could not be read, with the reason


def _squash(value: object) -> str:
    return re.sub(r"\s+", "", str(value)) if value is not None else ""


def _unit_pattern(spec: TemplateSpec) -> re.Pattern[str] | None:
    for line in spec.header:
        if "{unit}" in line:
            before, _, after = line.partition("{unit}")
            end = re.escape(after.strip()[:1]) if after.strip() else "$"
            return re.compile(re.escape(before.strip()) + r"\s*(?P<unit>.+?)\s*" + end)
    return None


def _find_template(titles: list[str], hint: str) -> TemplateSpec | None:
    known = templates()
    if hint in known and [_squash(c.title) for c in known[hint].columns] == titles:
        return known[hint]
    for spec in known.values():
        if spec.sheets == "unit" and [_squash(c.title) for c in spec.columns] == titles:
            return spec
    return None


def read_filled_ledger(data: bytes) -> FilledLedger:
    """The filled rows of a returned ledger xlsx (bounded: sheets, rows, cell length)."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken or foreign file
        raise Refusal("无法读取这个 xlsx 文件，请发送机器人导出的台账（填好后原样发回）") from exc
    custom = getattr(book, "custom_doc_props", None)  # the export's 台账模板 and 报送月份
    properties = {p.name: str(getattr(p, "value", "")) for p in (custom.props if custom is not None else [])}
    result = FilledLedger(properties.get("台账模板", ""), properties.get("报送月份", ""))
    if len(book.sheetnames) > MAX_SHEETS:
        raise Refusal(f"工作表太多（{len(book.sheetnames)} 个），一次最多 {MAX_SHEETS} 个")
    for name in book.sheetnames:
        if name in SKIPPED_SHEETS:
            continue
        _read_sheet(book[name], name, result)
    book.close()
    if not result.template:
        result.template = GENERIC
    return result


def _read_sheet(sheet: object, name: str, result: FilledLedger) -> None:
    unit, spec, columns = "", None, {}
    header_lines: list[str] = []
    for index, cells in enumerate(sheet.iter_rows(values_only=True), 1):  # type: ignore[attr-defined]
        if index > MAX_ROWS:
            result.problems.append(f"{name}：超过 {MAX_ROWS} 行，其余未读")
            return
        values = list(cells)
        if spec is None:
            titles = [_squash(v) for v in values]
            while titles and not titles[-1]:
                titles.pop()
            spec = _find_template(titles, result.template)
            if spec is None:
                header_lines += [str(v) for v in values if v]
                continue
            result.template = result.template or spec.id
            columns = {c.field: i for i, c in enumerate(spec.columns)}
            pattern = _unit_pattern(spec)
            for line in header_lines:
                match = pattern.search(line) if pattern else None
                if match:
                    unit = match.group("unit").strip()
            if "progress" not in columns:
                return
            continue
        _read_row(values, index, name, unit, columns, result)
    if spec is None:
        result.problems.append(f"{name}：找不到台账表头，整张表未读")


def _read_row(values: list[object], index: int, sheet: str, unit: str, columns: dict[str, int],
              result: FilledLedger) -> None:  # fmt: skip
    def cell(field_name: str) -> str:
        position = columns.get(field_name)
        value = values[position] if position is not None and position < len(values) else None
        return "" if value is None else str(value)

    progress = cell("progress")
    if not progress.strip() or progress.strip() == NOT_REPORTED:
        return
    source = cell("number") or cell("indicator") or cell("text")
    match = _NUMBER_RE.match(source)
    if match is None:
        if any(cell(f) for f in ("number", "indicator")):
            result.problems.append(f"{sheet} 第{index}行：读不出指标编号")
        return  # a 说明 line under the table
    if len(progress) > MAX_CELL_CHARS:
        result.problems.append(f"{sheet} 第{index}行：完成进度超过 {MAX_CELL_CHARS} 字")
        return
    result.rows.append(FilledRow(sheet, index, unit, match.group(1), progress))


def check_filled(
    repo: ReportRepository, reporter: Reporter, filled: FilledLedger, document_id: str | None
) -> tuple[list[PendingReport], list[str]]:
    """Each filled row checked like a report line: (ready to record, rows that cannot be matched, with why)."""
    ready: list[PendingReport] = []
    problems = list(filled.problems)
    for row in filled.rows:
        where = f"{row.sheet} 第{row.row}行（{row.number}）"
        reading = read_status(row.progress)
        if reading is None or reading.status is None:
            problems.append(f"{where}：看不出是“已完成”还是“未完成”，请在完成进度开头写明")
            continue
        try:
            indicator = resolve_indicator(repo, reporter, parse_indicator_ref(row.number), document_id)
            unit = reporting_unit(reporter, indicator)
            check_status_allowed(indicator, reading.status)
        except Refusal as exc:
            problems.append(f"{where}：{exc}")
            continue
        details = row.progress[reading.details_start :]
        label = f"第{indicator.number}项（{unit.unit_name}）"
        ready.append(PendingReport(indicator.id, reading.status, details, filled.period or None, label, row.progress))
    return ready, problems

"""Tables as grids of cells (.docx tables, .xlsx sheets, our own template).

The header row is found by its column names (一级指标/二级指标/三级指标/序号/测评方法/
上报资料/填报材料/牵头单位/配合单位/责任单位/责任人 and close variants); empty 一级/二级
cells inherit from the row above (merged cells); a repeated header row is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.model import Owner, ParsedIndicator
from knowledge.normalize import clean, number_key, one_line
from knowledge.owners import parse_unit_person_cell, parse_units_and_persons

Row = tuple[int, list[str]]

COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "table": ("表",),
    "level1": ("一级指标", "主要职责"),
    "level2": ("二级指标",),
    "number": ("序号", "编号", "指标序号", "指标编号"),
    "text": ("三级指标", "工作任务", "指标内容", "任务内容"),
    "methods": ("测评方法", "考核方法"),
    "materials": ("上报资料", "填报材料", "上报材料", "佐证材料", "申报材料"),
    "criteria": ("检查标准", "评分标准", "考核标准"),
    "points": ("分值", "分数"),
    "leads": ("牵头单位", "责任单位", "责任科室", "落实单位", "责任单位及责任人", "牵头科室"),
    "coops": ("配合单位", "配合科室", "协办单位"),
    "persons": ("责任人", "牵头单位责任人"),
    "note": ("备注",),
}
# Up to five digits: a generated table of 20 000 rows numbers them all (not only 1–999).
_NUMBER_RE = re.compile(r"^(\d{1,5}|[(（]\s*\d{1,5}\s*[)）]|★\s*\d{1,5})$")
_LEADING_NUMBER_RE = re.compile(r"^(\d{1,5})\s*[.．、\s]\s*(\S.*)$", re.DOTALL)
_POINTS_RE = re.compile(r"\d{1,4}(\.\d{1,2})?")


@dataclass(frozen=True)
class GridSource:
    """Where a grid comes from, to name rows and cells in warnings (``工作表“表1”第3行C列``)."""

    name: str = ""
    letters: bool = True  # columns as A, B, … (xlsx) or 第3列 (docx)

    def at(self, row: int, column: int | None = None) -> str:
        """``工作表“表1”第3行C列`` / ``表格2第3行第4列``."""
        if column is None:
            return f"{self.name}第{row}行"
        if self.letters:
            letters = ""
            number = column
            while number > 0:
                number, remainder = divmod(number - 1, 26)
                letters = chr(65 + remainder) + letters
            return f"{self.name}第{row}行{letters}列"
        return f"{self.name}第{row}行第{column}列"


def _normalise_header(cell: str) -> str:
    return re.sub(r"\s+", "", cell)


def header_roles(cells: list[str]) -> dict[str, int] | None:
    """Column index of each role if ``cells`` is a header row (≥3 known names incl. a text column)."""
    roles: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = _normalise_header(cell)
        for role, names in COLUMN_NAMES.items():
            if name in names and role not in roles:
                roles[role] = index
                break
    if len(roles) >= 3 and ("text" in roles or "number" in roles):
        return roles
    return None


def read_grid(
    rows: Iterable[Row],
    default_table: str = "",
    *,
    source: GridSource | None = None,
    warnings: list[str] | None = None,
) -> list[ParsedIndicator]:
    """Indicators of one grid; rows before the header row are ignored.

    A row after the header that has content but yields no indicator (an unreadable number
    such as ``-3``, ``2.5`` or ``1e+30``, a number without text, text without a number
    outside a heading) is skipped and named in ``warnings``; so is a 分值 that is no number.
    """
    source = source or GridSource()
    warnings = warnings if warnings is not None else []
    roles: dict[str, int] | None = None
    header: list[str] = []
    indicators: list[ParsedIndicator] = []
    level1 = level2 = ""
    for row_number, raw_cells in rows:
        cells = [c if isinstance(c, str) else "" for c in raw_cells]
        if roles is None:
            roles = header_roles(cells)
            header = [_normalise_header(c) for c in cells]
            continue
        if [_normalise_header(c) for c in cells] == header or not any(c.strip() for c in cells):
            continue

        def get(role: str, cells: list[str] = cells, roles: dict[str, int] = roles) -> str:
            index = roles.get(role)
            return cells[index] if index is not None and index < len(cells) and cells[index] else ""

        new_level1, new_level2 = one_line(get("level1")), one_line(get("level2"))
        if new_level1 and new_level1 != level1:
            level1, level2 = new_level1, ""  # a new 一级 starts without the old 二级
        level2 = new_level2 or level2
        number = one_line(get("number"))
        text = clean(get("text"))
        if not number:
            match = _LEADING_NUMBER_RE.match(text)
            if match:
                number, text = match.group(1), clean(match.group(2))
        if not number or not _NUMBER_RE.match(number) or not text:
            _report_skipped(cells, roles, row_number, number, text, source, warnings)
            continue
        table = one_line(get("table")) or default_table
        prefix = ""
        for word in ("加分", "减分"):
            if word in level2:
                prefix, table = word, table or "附加项"
        leads, coops, note = _owners(get("leads"), get("persons"), get("coops"))
        points_text = one_line(get("points"))
        points = float(points_text) if _POINTS_RE.fullmatch(points_text) else None
        if points_text and points is None:
            where = source.at(row_number, roles["points"] + 1)
            warnings.append(f"{where}：分值“{points_text[:20]}”不是 0–9999 的数字，已留空")
        indicators.append(
            ParsedIndicator(
                number=number,
                key=prefix + number_key(number),
                text=one_line(text),
                table=table,
                level1=level1,
                level2=level2,
                methods=[m for m in clean(get("methods")).splitlines() if m],
                materials=clean(get("materials")),
                criteria=clean(get("criteria")),
                points=points,
                leads=leads,
                coops=coops,
                unassigned=not leads and not coops,
                owner_note=one_line(get("note")) or note,
                line_start=row_number,
                line_end=row_number,
            )
        )
    return indicators


def _report_skipped(
    cells: list[str],
    roles: dict[str, int],
    row_number: int,
    number: str,
    text: str,
    source: GridSource,
    warnings: list[str],
) -> None:
    """Name a skipped row unless it only carries 一级/二级 headings (those are read, not lost)."""
    heading_columns = {roles.get("level1"), roles.get("level2"), roles.get("table")}
    if not any(c.strip() for i, c in enumerate(cells) if i not in heading_columns):
        return
    if number and not _NUMBER_RE.match(number):
        column = roles.get("number", roles.get("text", 0)) + 1
        warnings.append(f"{source.at(row_number, column)}：编号“{number[:20]}”不是有效的指标编号，此行未导入")
    elif number:
        column = roles.get("text", 0) + 1
        warnings.append(f"{source.at(row_number, column)}：编号 {number} 没有指标内容，此行未导入")
    else:
        column = roles.get("number", roles.get("text", 0)) + 1
        warnings.append(f"{source.at(row_number, column)}：没有指标编号，此行未导入")


def _owners(leads_cell: str, persons_cell: str, coops_cell: str) -> tuple[list[Owner], list[Owner], str]:
    note = ""
    if persons_cell.strip():
        leads, coops, note = parse_units_and_persons(leads_cell, persons_cell)
    else:
        leads, coops = parse_unit_person_cell(leads_cell), []
    coops += parse_unit_person_cell(coops_cell)
    return leads, coops, note

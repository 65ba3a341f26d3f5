"""Tables exported one cell per line: a line starting with a tab opens a cell, other lines
continue it (001 指标体系, 002 责任分工表).

After each indicator number come a fixed number of body cells (text, 测评方法, 材料, owners…);
cells between bodies are headings (``一、…`` = 一级, anything else = 二级).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from knowledge.model import Owner, ParsedIndicator
from knowledge.normalize import clean, collapse_repeats, number_key, one_line

NUMBER_RE = re.compile(r"^(\d{1,3}|[(（]\s*\d{1,3}\s*[)）]|★\s*\d{1,3})$")
LEVEL1_RE = re.compile(r"^[一二三四五六七八九十]+[、.]")
HEADER_WORDS = {
    "一级指标", "二级指标", "三级指标", "序号", "测评方法", "填报材料", "上报资料",
    "责任单位及责任人", "责任科室", "责任人", "牵头单位", "配合单位", "责任单位",
}  # fmt: skip


@dataclass
class Cell:
    """One table cell with the 1-based line numbers it spans."""

    text: str
    first_line: int
    last_line: int

    @property
    def flat(self) -> str:
        return one_line(self.text)


def tokenize(lines: list[str], first_line: int = 1) -> list[Cell]:
    """Group lines into cells (a leading tab opens a new cell)."""
    cells: list[Cell] = []
    current: Cell | None = None
    for offset, line in enumerate(lines):
        number = first_line + offset
        if line.startswith("\t"):
            current = Cell(line[1:], number, number)
            cells.append(current)
        elif current is not None:
            current.text += "\n" + line
            if line.strip():
                current.last_line = number
    return cells


# owner cells → (lead units, cooperating units, note about text that is no unit)
OwnerParser = Callable[[list[Cell]], tuple[list[Owner], list[Owner], str]]


@dataclass
class CellLayout:
    """What the body cells after a number mean (by index) and how to read owners."""

    body_size: int
    text: int
    methods: int
    materials: int
    owner_cells: tuple[int, ...]
    parse_owners: OwnerParser
    bonus_tables: dict[str, str]  # 二级 heading containing this word → table/key prefix


def _is_header(cell: Cell) -> bool:
    return cell.flat in HEADER_WORDS


def read_cell_table(cells: list[Cell], layout: CellLayout) -> list[ParsedIndicator]:
    """Indicators of a one-cell-per-line table."""
    indicators: list[ParsedIndicator] = []
    level1 = level2 = ""
    table, prefix = "", ""
    index = 0
    while index < len(cells):
        cell = cells[index]
        flat = cell.flat
        if NUMBER_RE.match(flat) and index + 1 < len(cells):
            body = cells[index + 1 : index + 1 + layout.body_size]
            leads, coops, note = layout.parse_owners([body[i] for i in layout.owner_cells if i < len(body)])
            key = prefix + number_key(flat)
            indicators.append(
                ParsedIndicator(
                    number=flat,
                    key=key,
                    text=body[layout.text].flat if len(body) > layout.text else "",
                    table=table,
                    level1=level1,
                    level2=level2,
                    methods=_methods(body[layout.methods].text) if len(body) > layout.methods else [],
                    materials=clean(body[layout.materials].text) if len(body) > layout.materials else "",
                    leads=leads,
                    coops=coops,
                    owner_note=note,
                    line_start=cell.first_line,
                    line_end=max(c.last_line for c in body) if body else cell.last_line,
                )
            )
            index += 1 + layout.body_size
            continue
        if flat and not _is_header(cell):
            flat = collapse_repeats(flat)
            if LEVEL1_RE.match(flat):
                if flat != level1:  # the heading repeats on every page: keep the 二级 then
                    level1, level2 = flat, ""
            else:
                level2 = flat
                for word, name in layout.bonus_tables.items():
                    if word in flat:
                        table, prefix = "附加项", name
                        break
        index += 1
    inherit_merged_owners(indicators)
    return indicators


def inherit_merged_owners(indicators: list[ParsedIndicator]) -> None:
    """Empty owner cells inside one 二级 group belong to the merged cell above; else unassigned."""
    previous: ParsedIndicator | None = None
    for indicator in indicators:
        if not indicator.leads and not indicator.coops:
            same_group = (
                previous is not None
                and (previous.leads or previous.coops)
                and previous.table == indicator.table
                and (previous.level1, previous.level2) == (indicator.level1, indicator.level2)
            )
            if same_group and previous is not None:
                indicator.leads = [Owner(o.unit, list(o.persons)) for o in previous.leads]
                indicator.coops = [Owner(o.unit, list(o.persons)) for o in previous.coops]
                indicator.owner_note = f"责任单位栏为空，沿用同组上一项（{previous.number}）的合并单元格"
            else:
                indicator.unassigned = True
                indicator.owner_note = indicator.owner_note or "责任单位栏为空，未分配"
        previous = indicator


def _methods(text: str) -> list[str]:
    return [m for m in clean(text).splitlines() if m]

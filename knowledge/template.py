"""Writing stored tables back as an editable xlsx that re-imports losslessly.

One sheet per document. Row 1 carries the document id, title and issuer; row 2 is the
header the importer recognises; each owner sits on its own line as ``单位（姓名、姓名）``.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font

from knowledge.files import TEMPLATE_META_LABEL
from knowledge.model import Owner, ParsedDocument

HEADER = [
    "表", "一级指标", "二级指标", "序号", "三级指标", "测评方法",
    "上报资料", "检查标准", "分值", "牵头单位", "配合单位", "备注",
]  # fmt: skip
WIDTHS = [8, 18, 18, 6, 60, 12, 40, 40, 6, 24, 24, 24]


def owners_cell(owners: list[Owner]) -> str:
    """Owners one per line: ``法规科（刘海利）``."""
    return "\n".join(f"{o.unit}（{'、'.join(o.persons)}）" if o.persons else o.unit for o in owners)


def set_text(cell: Cell, value: object) -> None:
    """Write a value; text that looks like a formula stays text (no formula injection)."""
    cell.value = value  # type: ignore[assignment]
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
        cell.data_type = "s"


def write_template(documents: list[ParsedDocument], path: Path) -> int:
    """Write ``documents`` to ``path``; returns the number of indicator rows."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    rows_written = 0
    for document in documents:
        sheet = workbook.create_sheet(title=document.doc_id[:31])
        meta = [TEMPLATE_META_LABEL, document.doc_id, "标题", document.title, "发文单位", document.issuer,
                "简称", document.short_name]  # fmt: skip
        for column, meta_value in enumerate(meta, 1):
            set_text(sheet.cell(row=1, column=column), meta_value)
        for column, name in enumerate(HEADER, 1):
            cell = sheet.cell(row=2, column=column, value=name)
            cell.font = Font(bold=True)
        for row, item in enumerate(document.indicators, 3):
            values: list[str | float | None] = [
                item.table, item.level1, item.level2, item.number, item.text, "\n".join(item.methods),
                item.materials, item.criteria, item.points, owners_cell(item.leads),
                owners_cell(item.coops), item.owner_note,
            ]  # fmt: skip
            for column, value in enumerate(values, 1):
                cell = sheet.cell(row=row, column=column)
                set_text(cell, value if value != "" else None)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            rows_written += 1
        for index, width in enumerate(WIDTHS):
            sheet.column_dimensions[chr(ord("A") + index)].width = width
        sheet.freeze_panes = "A3"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return rows_written

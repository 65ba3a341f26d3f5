"""The 工作台账 xlsx the office submits, and the evidence bundle (zip + 清单.xlsx).

Follows the documents' templates (000 附件2: 三级指标 · 上报材料 · 完成进度 · 牵头单位 ·
牵头单位责任人, with 责任单位 and 填表时间 above): one sheet per unit plus a 汇总 sheet.
Written in openpyxl's write-only mode (bounded memory for large exports); text that
looks like a formula (``=``, ``+``, ``-``, ``@``) is always written as text.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side
from openpyxl.worksheet.worksheet import Worksheet

from knowledge.domain import ReportStatus
from knowledge.records import EvidenceFile, UnitLedger
from knowledge.statuses import STATUS_LABELS

HEADER = ["序号", "文档", "三级指标", "上报材料", "完成进度", "牵头单位", "牵头单位责任人", "配合单位",
          "报送时间", "报送人", "附件数"]  # fmt: skip
WIDTHS = [6, 14, 48, 30, 40, 16, 12, 16, 16, 10, 7]
SUMMARY_HEADER = ["单位", "指标数", "已报送", "已完成", "未报送", "未报送项"]
_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_FORMULA_START = ("=", "+", "-", "@")


def progress_text(status: ReportStatus | None, details: str, late: bool) -> str:
    """完成进度 as the documents require."""
    if status is None:
        return "未报送"
    if status == ReportStatus.WITHDRAWN:
        return "未报送（已撤回）"
    if status == ReportStatus.RETURNED:
        return "退回修改"
    label = STATUS_LABELS[status]
    return (f"{label}：{details}" if details else label) + ("（逾期报送）" if late else "")


STYLES = {
    (False, True): "台账正文",
    (True, True): "台账表头",
    (True, False): "台账标题",
    (False, False): "台账说明",
}


def _register_styles(workbook: Workbook) -> None:
    """Named styles, registered once: setting a name per cell is cheap, hashing styles is not."""
    for (bold, border), name in STYLES.items():
        style = NamedStyle(name=name, alignment=_WRAP, font=Font(bold=bold))
        if border:
            style.border = _BORDER
        workbook.add_named_style(style)


def _cell(sheet: Worksheet, value: Any, *, bold: bool = False, border: bool = True) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        cell.data_type = "s"  # text, never a formula
    cell.style = STYLES[(bold, border)]
    return cell


def _prepare(sheet: Worksheet, widths: list[int]) -> None:
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "9"  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    if sheet.sheet_properties.pageSetUpPr is not None:
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "3:3"
    sheet.freeze_panes = "A4"


def safe_sheet_title(name: str, used: set[str]) -> str:
    """Excel sheet names: ≤ 31 characters, no ``[]:*?/\\``, unique."""
    base = "".join("_" if c in "[]:*?/\\" else c for c in name)[:28] or "单位"
    title, n = base, 2
    while title in used:
        title, n = f"{base[:26]}({n})", n + 1
    used.add(title)
    return title


def write_ledger(units: Iterable[UnitLedger], period: str, path: Path, now: datetime, title: str = "") -> None:
    """Write the ledger workbook."""
    units = list(units)
    year, month = period.split("-")
    heading = f"{title or '法治政府建设'}工作台账（{year}年{int(month)}月）"
    workbook = Workbook(write_only=True)
    _register_styles(workbook)
    summary = workbook.create_sheet("汇总")
    _prepare(summary, [24, 8, 8, 8, 8, 60])
    summary.append([_cell(summary, heading, bold=True, border=False)])
    summary.append([_cell(summary, f"填表时间：{now:%Y年%m月%d日}", border=False)])
    summary.append([_cell(summary, h, bold=True) for h in SUMMARY_HEADER])
    for unit in units:
        missing = "、".join(unit.missing)
        totals = (unit.unit, len(unit.rows), unit.reported, unit.completed, len(unit.missing), missing)
        summary.append([_cell(summary, v) for v in totals])
    used: set[str] = {"汇总"}
    for unit in units:
        sheet = workbook.create_sheet(safe_sheet_title(unit.unit, used))
        _prepare(sheet, WIDTHS)
        sheet.append([_cell(sheet, heading, bold=True, border=False)])
        filled = _cell(sheet, f"填表时间：{now:%Y年%m月%d日}", border=False)
        sheet.append([_cell(sheet, f"责任单位：{unit.unit}", border=False), None, None, None, filled])
        sheet.append([_cell(sheet, h, bold=True) for h in HEADER])
        for position, row in enumerate(unit.rows, 1):
            values = [
                position, row.document, f"{row.number}. {row.text}", row.materials,
                progress_text(row.status, row.details, row.late), row.lead_units, row.lead_persons,
                row.coop_units, f"{row.reported_at:%Y-%m-%d %H:%M}" if row.reported_at else "", row.reporter,
                row.attachments,
            ]  # fmt: skip
            sheet.append([_cell(sheet, v) for v in values])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


MANIFEST_HEADER = [
    "指标",
    "单位",
    "期间",
    "类型",
    "文件名",
    "说明",
    "大小（字节）",
    "sha256",
    "上传人",
    "上传时间",
    "状态",
]
PAPER = "纸质"
_CLAUSE_END = "，。；：、,;:"
_BREAK_BEFORE = "的和及与并对在将把按"
CHUNK = 1024 * 1024


def short_title(text: str, limit: int = 20) -> str:
    """A folder-friendly title: the first clause, cut before a joining word when still too long (never mid-phrase)."""
    clause = text.strip()
    for index, char in enumerate(clause):
        if char in _CLAUSE_END:
            clause = clause[:index]
            break
    if len(clause) <= limit:
        return clause
    depth, cuts = 0, []
    for index, char in enumerate(clause[: limit + 1]):
        depth += (char in "（(《“") - (char in "）)》”")
        if depth == 0 and char in _BREAK_BEFORE and index >= 4:
            cuts.append(index)
    if not cuts:
        return clause[:limit]
    return clause[: cuts[-1]].rstrip(_BREAK_BEFORE)


def folder_name(document: str, number: str, text: str) -> str:
    """``文档/第12项 严控规范性文件发文数量`` with characters zip tools dislike replaced."""
    title = "".join("_" if c in '\\/:*?"<>|' else c for c in short_title(text))
    return f"{document}/第{number}项 {title}".rstrip()


def write_bundle(files: list[EvidenceFile], path: Path, *, files_root: Path) -> tuple[int, list[str]]:
    """Zip the evidence, a folder per indicator, with 清单.xlsx; returns (files added, missing names).

    Each file is copied into the archive from its handle in 1 MB chunks (never whole in memory);
    paper entries (涉密, kept for 实地核验) are listed in the 清单 only.
    Stored paths are relative to ``files_root`` (``TAIZHANG_FILES_DIR``), whatever the working directory.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    missing: list[str] = []
    added = 0
    manifest = Workbook(write_only=True)
    _register_styles(manifest)
    sheet = manifest.create_sheet("清单")
    sheet.append([_cell(sheet, h, bold=True) for h in MANIFEST_HEADER])
    names: set[str] = set()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for item in files:
            folder = item.indicator_label.replace("\\", "_").strip()
            target = "" if item.kind == PAPER else _unique(f"{folder}/{item.original_name}", names)
            stored = files_root / item.stored_path if item.stored_path else None  # absolute (older) paths stay
            if item.kind == PAPER:
                status = "纸质材料，实地核验时提供"
            elif stored is not None and stored.is_file():
                with stored.open("rb") as source, archive.open(target, "w", force_zip64=True) as sink:
                    shutil.copyfileobj(source, sink, CHUNK)
                added += 1
                status = "已打包"
            else:
                status = "文件缺失"
                missing.append(item.original_name)
            values = (item.indicator_label, item.unit, item.period, item.kind, target or item.original_name,
                      item.caption, item.size, item.sha256, item.uploader, f"{item.uploaded_at:%Y-%m-%d %H:%M}",
                      status)  # fmt: skip
            sheet.append([_cell(sheet, v) for v in values])
        manifest_path = path.with_suffix(".manifest.xlsx")
        manifest.save(manifest_path)
        archive.write(manifest_path, "清单.xlsx")
        manifest_path.unlink()
    return added, missing


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    stem, dot, suffix = name.rpartition(".")
    while candidate in used:
        candidate = f"{stem} ({n}).{suffix}" if dot else f"{name} ({n})"
        n += 1
    used.add(candidate)
    return candidate


def recent_periods(period: str, count: int = 6) -> list[str]:
    """``count`` months ending with ``period``, oldest first."""
    year, month = int(period[:4]), int(period[5:])
    periods = []
    for _ in range(count):
        periods.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return periods[::-1]

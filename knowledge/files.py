"""Turning an uploaded or local file (.txt, .docx, .xlsx) into parsed documents, safely.

Office files are zip archives of XML: the archive is checked for size and compression
ratio (zip bombs) and every XML part is parsed once with ``defusedxml`` with DTDs
forbidden (entity expansion, external entities) before python-docx/openpyxl see it.
Text files may be UTF-8 or GB18030/GBK.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from charset_normalizer import from_bytes
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from knowledge.documents import NotATableError, assemble_document, read_text_document
from knowledge.model import ParsedDocument, ParsedIndicator
from knowledge.readers.grid import Row, read_grid

MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 150
TEMPLATE_META_LABEL = "文档编号"


class ImportInputError(ValueError):
    """A file that cannot be imported; the message is Chinese and names the file."""


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK), else a detected encoding."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    if best is None:
        raise ImportInputError(f"无法识别文件“{name}”的编码（应为 UTF-8 或 GB18030/GBK 文本）")
    return str(best)


def check_office_archive(data: bytes, name: str) -> None:
    """Reject corrupt archives, zip bombs, and XML with DTDs or entities."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ImportInputError(f"文件“{name}”已损坏，或不是有效的 Office 文件（.docx/.xlsx）") from exc
    with archive:
        total = 0
        for info in archive.infolist():
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if total > MAX_UNCOMPRESSED_BYTES or (info.file_size > 1_000_000 and ratio > MAX_COMPRESSION_RATIO):
                raise ImportInputError(f"文件“{name}”解压后过大，疑似压缩炸弹，已拒绝")
        for info in archive.infolist():
            if not info.filename.endswith((".xml", ".rels")):
                continue
            try:
                safe_fromstring(archive.read(info), forbid_dtd=True)
            except DefusedXmlException as exc:
                raise ImportInputError(f"文件“{name}”含有不安全的 XML（DTD/实体），已拒绝") from exc
            except Exception as exc:
                raise ImportInputError(f"文件“{name}”的内容已损坏（{info.filename} 无法解析）") from exc


def read_document_bytes(
    data: bytes, name: str, *, document_id: str | None = None, max_bytes: int = 10 * 1024 * 1024
) -> list[ParsedDocument]:
    """Parse one file's bytes; raises :class:`ImportInputError` with a Chinese message."""
    if len(data) > max_bytes:
        raise ImportInputError(
            f"文件“{name}”太大（{len(data) / 1024 / 1024:.1f} MB），上限 {max_bytes / 1024 / 1024:.0f} MB"
        )
    if not data:
        raise ImportInputError(f"文件“{name}”是空的")
    stem = Path(name).stem
    suffix = Path(name).suffix.lower()
    try:
        if suffix in {".txt", ".text", ".csv", ""}:
            return [read_text_document(decode_text(data, name), document_id or stem)]
        if suffix == ".docx":
            check_office_archive(data, name)
            return [_read_docx(data, document_id or stem)]
        if suffix in {".xlsx", ".xlsm"}:
            check_office_archive(data, name)
            return _read_xlsx(data, stem, document_id)
    except NotATableError as exc:
        raise ImportInputError(f"文件“{name}”：{exc}") from exc
    raise ImportInputError(f"不支持的文件类型“{suffix or name}”（支持 .txt、.docx、.xlsx）")


def read_document_file(
    path: Path, *, document_id: str | None = None, max_bytes: int = 10 * 1024 * 1024
) -> list[ParsedDocument]:
    """Parse a local file (see :func:`read_document_bytes`)."""
    if not path.is_file():
        raise ImportInputError(f"找不到文件“{path}”")
    size = path.stat().st_size
    if size > max_bytes:
        raise ImportInputError(
            f"文件“{path.name}”太大（{size / 1024 / 1024:.1f} MB），上限 {max_bytes / 1024 / 1024:.0f} MB"
        )
    return read_document_bytes(path.read_bytes(), path.name, document_id=document_id, max_bytes=max_bytes)


def _read_docx(data: bytes, doc_id: str) -> ParsedDocument:
    from docx import Document as open_docx

    document = open_docx(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    indicators: list[ParsedIndicator] = []
    for table_index, table in enumerate(document.tables, 1):
        rows: list[Row] = []
        for row_index, row in enumerate(table.rows, 1):
            cells: list[str] = []
            previous = None
            for cell in row.cells:
                # python-docx repeats a horizontally merged cell: keep it once.
                cells.append("" if cell._tc is previous else cell.text)
                previous = cell._tc
            rows.append((table_index * 1000 + row_index, cells))
        indicators += read_grid(rows)
    return assemble_document(doc_id, lines, indicators)


def _read_xlsx(data: bytes, stem: str, document_id: str | None) -> list[ParsedDocument]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    documents: list[ParsedDocument] = []
    try:
        sheets = list(workbook.worksheets)
        for sheet in sheets:
            rows: list[Row] = []
            meta: dict[str, str] = {}
            for row_number, values in enumerate(sheet.iter_rows(values_only=True), 1):
                cells = ["" if v is None else str(v) for v in values]
                if row_number == 1 and cells and cells[0] == TEMPLATE_META_LABEL:
                    meta = {cells[i]: cells[i + 1] for i in range(0, len(cells) - 1, 2) if cells[i]}
                    continue
                rows.append((row_number, cells))
            indicators = read_grid(rows)
            if not indicators:
                continue
            doc_id = (
                document_id
                or meta.get(TEMPLATE_META_LABEL)
                or (stem if len(sheets) == 1 else f"{stem}_{re.sub(r'[^0-9A-Za-z一-龥_-]', '', sheet.title)}")
            )
            text_lines = [meta.get("发文单位", ""), meta.get("标题", ""), sheet.title]
            parsed = assemble_document(doc_id, text_lines, indicators)
            if meta:
                parsed.title = meta.get("标题", parsed.title)
                parsed.issuer = meta.get("发文单位", parsed.issuer)
                parsed.short_name = meta.get("简称", parsed.short_name)
            documents.append(parsed)
    finally:
        workbook.close()
    if not documents:
        raise NotATableError(
            "没有找到指标表（表头应包含 一级指标/二级指标/三级指标/序号/测评方法/上报资料/牵头单位 等列名）"
        )
    if document_id and len(documents) > 1:
        raise ImportInputError("这个工作簿有多张指标表，不能共用一个 --document-id；请去掉该参数")
    return documents

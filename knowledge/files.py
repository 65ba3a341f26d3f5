"""Turning an uploaded or local file (.txt, .docx, .xlsx) into parsed documents, with bounded work.

Nothing a file declares about itself is trusted (an xlsx ``<dimension>`` of 1,048,576 rows,
a zip entry's size): the archive is checked for size, compression ratio (zip bombs), the size
of each XML part and DTDs/entities before any parser sees it; xlsx rows are streamed one
element at a time; every row, column, cell and the total text count against
:class:`ImportLimits` and a file over a cap is refused naming where. Cells the importer cannot
read faithfully (formulas without a cached value) refuse the file with the cells named; rows it
skips or cells it alters are reported as warnings with their sheet/table, row and column.

:func:`read_in_worker` parses in a separate process with CPU-time and memory limits, so a
hostile file cannot stall or exhaust the bot that received it.
"""

from __future__ import annotations

import asyncio
import io
import math
import multiprocessing
import re
import zipfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO

from charset_normalizer import from_bytes

from knowledge.documents import NotATableError, assemble_document, read_text_document
from knowledge.errors import Refusal
from knowledge.model import ParsedDocument, ParsedIndicator
from knowledge.readers.grid import GridSource, Row, read_grid

MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 150
TEMPLATE_META_LABEL = "文档编号"
_LISTED_CELLS = 10  # cells named in one refusal before "等 N 个"


class ImportInputError(Refusal):
    """A file that cannot be imported; the message is Chinese and names the file."""


@dataclass(frozen=True)
class ImportLimits:
    """Caps of one import (``TAIZHANG_IMPORT_*``); the worker's CPU seconds and memory too."""

    max_rows: int = 25_000
    max_columns: int = 64
    max_cell_chars: int = 10_000
    max_text_chars: int = 20_000_000
    max_part_mb: int = 32
    cpu_seconds: int = 60
    memory_mb: int = 1024


class _Budget:
    """Counts rows and text of one file against the limits; raises naming the place."""

    def __init__(self, limits: ImportLimits, name: str) -> None:
        self.limits = limits
        self.name = name
        self.rows = 0
        self.text = 0

    def row(self, where: str) -> None:
        self.rows += 1
        if self.rows > self.limits.max_rows:
            raise ImportInputError(f"文件“{self.name}”超过行数上限 {self.limits.max_rows} 行（{where}），未导入")

    def column(self, where: str, column: int) -> None:
        if column > self.limits.max_columns:
            raise ImportInputError(f"文件“{self.name}”{where}超过列数上限 {self.limits.max_columns} 列，未导入")

    def cell(self, where: str, text: str) -> str:
        if len(text) > self.limits.max_cell_chars:
            raise ImportInputError(
                f"文件“{self.name}”{where}的内容超过单元格长度上限 {self.limits.max_cell_chars} 字，未导入"
            )
        self.text += len(text)
        if self.text > self.limits.max_text_chars:
            raise ImportInputError(f"文件“{self.name}”的文字总量超过上限 {self.limits.max_text_chars} 字，未导入")
        return text


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


_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")


def _has_dtd(handle: IO[bytes]) -> bool:
    """Whether an XML part declares a DTD or entities (streamed, so a huge part costs no memory)."""
    tail = b""
    first = True
    while chunk := handle.read(1 << 20):
        if first and chunk[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return True  # UTF-16 parts could hide the markers from a byte scan; Office writes UTF-8
        first = False
        window = tail + chunk
        if any(marker in window for marker in _DTD_MARKERS):
            return True
        tail = window[-16:]
    return False


def check_office_archive(data: bytes, name: str, limits: ImportLimits | None = None) -> zipfile.ZipFile:
    """The open archive after refusing corrupt archives, zip bombs, oversized parts and DTD/entity XML."""
    limits = limits or ImportLimits()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ImportInputError(f"文件“{name}”已损坏，或不是有效的 Office 文件（.docx/.xlsx）") from exc
    try:
        total = 0
        for info in archive.infolist():
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if total > MAX_UNCOMPRESSED_BYTES or (info.file_size > 1_000_000 and ratio > MAX_COMPRESSION_RATIO):
                raise ImportInputError(f"文件“{name}”解压后过大，疑似压缩炸弹，已拒绝")
        for info in archive.infolist():
            if not info.filename.endswith((".xml", ".rels")):
                continue
            if info.file_size > limits.max_part_mb * 1024 * 1024:
                raise ImportInputError(
                    f"文件“{name}”中的 {info.filename} 过大（{info.file_size / 1024 / 1024:.0f} MB，"
                    f"上限 {limits.max_part_mb} MB），未导入"
                )
            try:
                with archive.open(info) as handle:
                    unsafe = _has_dtd(handle)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
                raise ImportInputError(f"文件“{name}”的内容已损坏（{info.filename} 无法解压）") from exc
            if unsafe:
                raise ImportInputError(f"文件“{name}”含有不安全的 XML（DTD/实体），已拒绝")
    except BaseException:
        archive.close()
        raise
    return archive


def read_document_bytes(
    data: bytes,
    name: str,
    *,
    document_id: str | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    limits: ImportLimits | None = None,
) -> list[ParsedDocument]:
    """Parse one file's bytes; raises :class:`ImportInputError` with a Chinese message."""
    limits = limits or ImportLimits()
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
            return [_read_text(data, name, document_id or stem, limits)]
        if suffix == ".docx":
            with check_office_archive(data, name, limits) as archive:
                _require_part(archive, name, "word/document.xml", "Word")
            return [_read_docx(data, name, document_id or stem, limits)]
        if suffix in {".xlsx", ".xlsm"}:
            with check_office_archive(data, name, limits) as archive:
                _require_part(archive, name, "xl/workbook.xml", "Excel")
            return _read_xlsx(data, name, stem, document_id, limits)
    except NotATableError as exc:
        raise ImportInputError(f"文件“{name}”：{exc}") from exc
    raise ImportInputError(f"不支持的文件类型“{suffix or name}”（支持 .txt、.docx、.xlsx）")


def read_document_file(
    path: Path,
    *,
    document_id: str | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    limits: ImportLimits | None = None,
) -> list[ParsedDocument]:
    """Parse a local file (see :func:`read_document_bytes`)."""
    if not path.is_file():
        raise ImportInputError(f"找不到文件“{path}”")
    size = path.stat().st_size
    if size > max_bytes:
        raise ImportInputError(
            f"文件“{path.name}”太大（{size / 1024 / 1024:.1f} MB），上限 {max_bytes / 1024 / 1024:.0f} MB"
        )
    return read_document_bytes(
        path.read_bytes(), path.name, document_id=document_id, max_bytes=max_bytes, limits=limits
    )


# ------------------------------------------------------------------ the worker process


def _limit_worker(cpu_seconds: int, memory_mb: int) -> None:
    """Initializer of the parsing process: cap its CPU time and its address space (Linux/macOS)."""
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the caps on rows and text still bound the work
        return
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    current = 0
    try:  # the interpreter and its libraries are already mapped: the budget comes on top
        with open("/proc/self/statm", encoding="ascii") as statm:
            import os

            current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        pass
    limit = current + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _parse_job(
    data: bytes, name: str, document_id: str | None, max_bytes: int, limits: ImportLimits
) -> list[ParsedDocument]:
    try:
        return read_document_bytes(data, name, document_id=document_id, max_bytes=max_bytes, limits=limits)
    except MemoryError:
        raise ImportInputError(f"文件“{name}”解析时超出内存上限 {limits.memory_mb} MB，未导入") from None


async def read_in_worker(
    data: bytes, name: str, *, document_id: str | None = None, max_bytes: int, limits: ImportLimits
) -> list[ParsedDocument]:
    """:func:`read_document_bytes` in a fresh process with CPU-time and memory limits.

    ``ProcessPoolExecutor`` with an initializer is the standard library's way to run one job
    in a child with ``resource.setrlimit`` applied; "spawn" gives a clean interpreter (no
    copy of the bot's threads or open connections). A child killed by its CPU limit breaks
    the pool, which becomes a refusal.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=_limit_worker, initargs=(limits.cpu_seconds, limits.memory_mb)
    ) as pool:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, _parse_job, data, name, document_id, max_bytes, limits)
        except BrokenProcessPool:
            raise ImportInputError(
                f"文件“{name}”解析超出处理时间或内存上限（{limits.cpu_seconds} 秒 / {limits.memory_mb} MB），未导入"
            ) from None
        except MemoryError:
            raise ImportInputError(f"文件“{name}”解析时超出内存上限 {limits.memory_mb} MB，未导入") from None


# ------------------------------------------------------------------ text


def _read_text(data: bytes, name: str, doc_id: str, limits: ImportLimits) -> ParsedDocument:
    text = decode_text(data, name)
    budget = _Budget(limits, name)
    for number, line in enumerate(text.splitlines(), 1):
        budget.row(f"第{number}行")
        budget.cell(f"第{number}行", line)
    return read_text_document(text, doc_id)


# ------------------------------------------------------------------ docx


def _require_part(archive: zipfile.ZipFile, name: str, part: str, kind: str) -> None:
    try:
        info = archive.getinfo(part)
    except KeyError:
        info = None
    if info is None or info.file_size == 0:
        raise ImportInputError(f"文件“{name}”没有正文（缺少 {part}），不是有效的 {kind} 文件")


def _read_docx(data: bytes, name: str, doc_id: str, limits: ImportLimits) -> ParsedDocument:
    from docx import Document as open_docx

    try:
        document = open_docx(io.BytesIO(data))
    except Exception as exc:  # python-docx raises KeyError/ValueError/lxml errors for broken packages
        raise ImportInputError(f"文件“{name}”已损坏，或不是有效的 Word 文件（.docx）") from exc
    if document.element.body is None:
        raise ImportInputError(f"文件“{name}”没有正文（document.xml 中缺少 body），不是有效的 Word 文件")
    budget = _Budget(limits, name)
    lines = [budget.cell(f"第{i}段", p.text) for i, p in enumerate(document.paragraphs, 1)]
    indicators: list[ParsedIndicator] = []
    warnings: list[str] = []
    for table_index, table in enumerate(document.tables, 1):
        source = GridSource(f"表格{table_index}", letters=False)
        rows: list[Row] = []
        for row_index, row in enumerate(table.rows, 1):
            where = source.at(row_index)
            budget.row(where)
            tcs = row._tr.tc_lst
            budget.column(where, len(tcs))
            cells: list[str] = []
            previous = None
            for column, cell in enumerate(row.cells, 1):
                budget.column(where, column)
                # python-docx repeats a horizontally merged cell: keep it once.
                text = "" if cell._tc is previous else cell.text
                cells.append(budget.cell(source.at(row_index, column), text))
                previous = cell._tc
            rows.append((row_index, cells))
        indicators += read_grid(rows, source=source, warnings=warnings)
    return assemble_document(doc_id, lines, indicators, warnings)


# ------------------------------------------------------------------ xlsx


def cell_text(value: object) -> str:
    """A cell value as the text a person sees: ``3.0`` → ``3``, ``2.5`` and ``1e+30`` kept as written."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


_COORDINATE_RE = re.compile(r"([A-Z]{1,3})(\d+)$")


@dataclass
class _Workbook:
    """What streaming a workbook needs: its sheets (title, part), shared strings, date styles."""

    archive: zipfile.ZipFile
    sheets: list[tuple[str, str]]
    shared_strings: list[str]
    date_styles: set[int]
    epoch: datetime


def _open_workbook(data: bytes) -> _Workbook:
    """Sheets, shared strings and date formats read by openpyxl's own reader steps.

    ``load_workbook`` would also open every sheet to read its declared size (parsing a sheet
    that declares none end to end); the steps used here read only the workbook-level parts.
    """
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    sheets = [
        (sheet.name, rel.target) for sheet, rel in reader.parser.find_sheets() if rel.target in reader.valid_files
    ]
    strings = [str(s) for s in reader.shared_strings]
    date_styles: set[int] = set(getattr(reader.wb, "_date_formats", set()))
    return _Workbook(reader.archive, sheets, strings, date_styles, reader.wb.epoch)


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _cell_value(kind: str, raw: str | None, style: str | None, book: _Workbook) -> object:
    """A cell's cached value as openpyxl would give it: text, shared string, bool, number or date."""
    if raw is None or raw == "":
        return None
    if kind in ("inlineStr", "str", "e"):
        return raw
    if kind == "s":
        index = int(raw)
        if not 0 <= index < len(book.shared_strings):
            raise ValueError(f"shared string {index} out of range")
        return book.shared_strings[index]
    if kind == "b":
        return raw == "1"
    number: float = float(raw) if any(c in raw for c in ".eE") else int(raw)
    if style and style.isdigit() and int(style) in book.date_styles and math.isfinite(number):
        from openpyxl.utils.datetime import from_excel

        try:
            return from_excel(number, book.epoch)
        except (OverflowError, ValueError):
            return number
    return number


class _SheetHandler:
    """expat callbacks collecting finished rows of a worksheet (no tree is ever built)."""

    def __init__(self, book: _Workbook, source: GridSource, budget: _Budget, formulas: list[str]) -> None:
        self.book, self.source, self.budget, self.formulas = book, source, budget, formulas
        self.done: list[Row] = []
        self.row_number = 0
        self.cells: list[str] = []
        self.column = 0
        self.attrs: dict[str, str] = {}
        self.has_formula = False
        self.value: list[str] | None = None  # text of <v> (or of <is><t>) while inside it
        self.collecting = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition("}")[2]
        if tag == "c":
            self.attrs, self.has_formula, self.value, self.collecting = attrs, False, None, False
        elif tag == "v" or (tag == "t" and self.attrs.get("t") == "inlineStr"):
            self.value = self.value if self.value is not None else []
            self.collecting = True
        elif tag == "f":
            self.has_formula = True
        elif tag == "row":
            declared = attrs.get("r", "")
            self.row_number = int(declared) if declared.isdigit() else self.row_number + 1
            self.column = 0
            self.cells = []
            self.budget.row(self.source.at(self.row_number))

    def data(self, text: str) -> None:
        if self.collecting and self.value is not None:
            self.value.append(text)

    def end(self, name: str) -> None:
        tag = name.rpartition("}")[2]
        if tag in ("v", "t"):
            self.collecting = False
        elif tag == "c":
            self._cell()
        elif tag == "row":
            self.done.append((self.row_number, self.cells))

    def _cell(self) -> None:
        match = _COORDINATE_RE.match(self.attrs.get("r", ""))
        self.column = _column_number(match.group(1)) if match else self.column + 1
        raw = "".join(self.value) if self.value is not None else None
        value = _cell_value(self.attrs.get("t", "n"), raw, self.attrs.get("s"), self.book)
        if self.has_formula and value is None:
            self.formulas.append(f"{match.group(1) if match else self.column}{self.row_number}")
        text = cell_text(value)
        if not text:
            return
        where = self.source.at(self.row_number, self.column)
        self.budget.column(where, self.column)
        self.budget.cell(where, text)
        index = self.column - 1
        if index < len(self.cells):
            self.cells[index] = text
        else:
            self.cells.extend([""] * (index - len(self.cells)))
            self.cells.append(text)


def _refuse_dtd(*_args: object) -> None:
    raise ValueError("DTD or entity declaration")


def _sheet_rows(book: _Workbook, part: str, source: GridSource, budget: _Budget, formulas: list[str]) -> Iterator[Row]:
    """Stream a sheet's rows; its ``<dimension>`` is never read.

    Only rows and cells present in the XML are visited (no padding to a declared width, no
    filling of declared but absent rows), and no element tree is built: the standard
    library's expat parser calls back per tag, so memory stays flat whatever a row holds and
    20 000 rows take seconds (ElementTree/lxml trees were 3–4 times slower here). DTDs and
    entity declarations were refused before (``check_office_archive``) and raise here too.
    A cell with a formula but no cached value is collected in ``formulas``.
    """
    from xml.parsers import expat

    handler = _SheetHandler(book, source, budget, formulas)
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.data
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.buffer_text = True
    with book.archive.open(part) as handle:
        while chunk := handle.read(1 << 16):
            parser.Parse(chunk, False)
            yield from handler.done
            handler.done.clear()
        parser.Parse(b"", True)
        yield from handler.done


def _read_xlsx(
    data: bytes, name: str, stem: str, document_id: str | None, limits: ImportLimits
) -> list[ParsedDocument]:
    documents: list[ParsedDocument] = []
    budget = _Budget(limits, name)
    formulas: list[str] = []
    try:
        book = _open_workbook(data)
        with book.archive:
            for title, part in book.sheets:
                source = GridSource(f"工作表“{title}”", letters=True)
                rows: list[Row] = []
                meta: dict[str, str] = {}
                sheet_formulas: list[str] = []
                for row_number, cells in _sheet_rows(book, part, source, budget, sheet_formulas):
                    if row_number == 1 and cells and cells[0] == TEMPLATE_META_LABEL:
                        meta = {cells[i]: cells[i + 1] for i in range(0, len(cells) - 1, 2) if cells[i]}
                        continue
                    rows.append((row_number, cells))
                formulas += [f"{source.name}{cell}" for cell in sheet_formulas]
                if formulas:
                    continue
                warnings: list[str] = []
                indicators = read_grid(rows, source=source, warnings=warnings)
                if not indicators:
                    continue
                doc_id = (
                    document_id
                    or meta.get(TEMPLATE_META_LABEL)
                    or (stem if len(book.sheets) == 1 else f"{stem}_{re.sub(r'[^0-9A-Za-z一-龥_-]', '', title)}")
                )
                text_lines = [meta.get("发文单位", ""), meta.get("标题", ""), title]
                parsed = assemble_document(doc_id, text_lines, indicators, warnings)
                if meta:
                    parsed.title = meta.get("标题", parsed.title)
                    parsed.issuer = meta.get("发文单位", parsed.issuer)
                    parsed.short_name = meta.get("简称", parsed.short_name)
                documents.append(parsed)
    except Refusal:
        raise
    except Exception as exc:  # openpyxl and lxml raise many types for broken workbooks
        raise ImportInputError(f"文件“{name}”已损坏，或不是有效的 Excel 文件（.xlsx）") from exc
    if formulas:
        more = f" 等 {len(formulas)} 个" if len(formulas) > _LISTED_CELLS else ""
        listed = "、".join(formulas[:_LISTED_CELLS]) + more
        raise ImportInputError(
            f"文件“{name}”有公式单元格没有计算结果（{listed}），无法如实读取；请在 Excel/WPS 中打开并保存后再导入"
        )
    if not documents:
        raise NotATableError(
            "没有找到指标表（表头应包含 一级指标/二级指标/三级指标/序号/测评方法/上报资料/牵头单位 等列名）"
        )
    if document_id and len(documents) > 1:
        raise ImportInputError("这个工作簿有多张指标表，不能共用一个 --document-id；请去掉该参数")
    return documents

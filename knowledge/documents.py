"""Reading a whole text document: which layout its tables use, its metadata, its rules.

Templates (sections containing 完成进度/填表时间) are never read as indicators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.model import ContactPerson, ParsedDocument, ParsedIndicator
from knowledge.normalize import half_width
from knowledge.owners import parse_unit_person_cell, parse_units_and_persons
from knowledge.readers.cells import HEADER_WORDS, Cell, CellLayout, read_cell_table, tokenize
from knowledge.readers.grid import COLUMN_NAMES
from knowledge.readers.rows import read_row_table
from knowledge.readers.scoring import read_scoring_table
from knowledge.readers.tasks import read_task_list


class NotATableError(ValueError):
    """The file holds no recognisable indicator table."""


SECTION_RE = re.compile(r"^附件\s*\d+\s*$")
TEMPLATE_MARKERS = ("完成进度", "填表时间")

BONUS_TABLES = {"加分": "加分", "减分": "减分"}


@dataclass(frozen=True)
class KnownIssuer:
    """Display names for issuers we know (used to label documents in answers)."""

    pattern: str
    issuer: str
    short_name: str
    kind: str


KNOWN_ISSUERS: tuple[KnownIssuer, ...] = (
    KnownIssuer("濮阳市生态环境局", "濮阳市生态环境局", "濮阳生态环境局工作台账", "ledger"),
    KnownIssuer("焦作市生态环境局", "焦作市生态环境局", "焦作生态环境局指标体系", "indicator_system"),
    KnownIssuer("濮阳市司法局", "濮阳市司法局", "濮阳司法局责任分工表", "duty_table"),
    KnownIssuer("中共濮阳县委", "中共濮阳县委", "濮阳县法治政府建设任务", "task_list"),
    KnownIssuer("中共濮阳市委全面依法治市委员会办公室", "中共濮阳市委依法治市办", "濮阳督察打分表", "scoring"),
)


def split_sections(lines: list[str]) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of the body and of each 附件 section."""
    sections: list[tuple[int, list[str]]] = []
    start = 0
    for index, line in enumerate(lines):
        if SECTION_RE.match(line.strip()) and index > start:
            sections.append((start + 1, lines[start:index]))
            start = index
    sections.append((start + 1, lines[start:]))
    return sections


def _is_template(section: list[str]) -> bool:
    text = "\n".join(section)
    return any(marker in text for marker in TEMPLATE_MARKERS)


KNOWN_HEADER_NAMES = HEADER_WORDS | {name for names in COLUMN_NAMES.values() for name in names}


def _cell_layout(cells: list[Cell]) -> CellLayout | None:
    """Body layout from the header cells of a one-cell-per-line table."""
    header: list[str] = []
    for cell in cells:
        flat = cell.flat
        if flat == "一级指标":
            header = [flat]
        elif header:
            if flat not in KNOWN_HEADER_NAMES:
                break
            header.append(flat)
    if len(header) < 4:
        return None
    if "序号" in header:
        body = header[header.index("序号") + 1 :]
    elif "三级指标" in header:
        body = header[header.index("三级指标") :]
    else:
        return None

    def find(*names: str) -> int:
        for index, name in enumerate(body):
            if any(n in name for n in names):
                return index
        return -1

    text = find("三级指标")
    methods = find("测评方法")
    materials = find("上报资料", "填报材料", "上报材料")
    persons = find("责任人") if "责任单位及责任人" not in body else -1
    units = find("责任单位", "责任科室", "牵头单位")
    if text < 0 or units < 0:
        return None
    if persons >= 0 and persons != units:

        def parse_owners(owner_cells: list[Cell]) -> tuple[list, list, str]:  # type: ignore[type-arg]
            unit_text = owner_cells[0].text if owner_cells else ""
            person_text = owner_cells[1].text if len(owner_cells) > 1 else ""
            return parse_units_and_persons(unit_text, person_text)

        owner_cells: tuple[int, ...] = (units, persons)
    else:

        def parse_owners(owner_cells: list[Cell]) -> tuple[list, list, str]:  # type: ignore[type-arg]
            owners = [o for c in owner_cells for o in parse_unit_person_cell(c.text)]
            return owners, [], ""

        owner_cells = (units,)
    return CellLayout(
        body_size=len(body),
        text=text,
        methods=methods if methods >= 0 else len(body),
        materials=materials if materials >= 0 else len(body),
        owner_cells=owner_cells,
        parse_owners=parse_owners,
        bonus_tables=BONUS_TABLES,
    )


def read_indicators(lines: list[str]) -> tuple[list[ParsedIndicator], list[str]]:
    """All indicators of a text document and warnings; raises :class:`NotATableError`."""
    indicators: list[ParsedIndicator] = []
    warnings: list[str] = []
    for first_line, section in split_sections(lines):
        if _is_template(section):
            warnings.append(f"第{first_line}行起的附件是报送模板，未作为指标导入")
            continue
        indicators += _read_section(section, first_line)
    if not indicators:
        raise NotATableError("没有找到指标表（应有“一级指标/二级指标/三级指标…”表头、打分表或“责任单位：”任务）")
    return indicators, warnings


def _read_section(section: list[str], first_line: int) -> list[ParsedIndicator]:
    text = "\n".join(section)
    if re.search(r"^主要职责\t工作任务", text, re.MULTILINE):
        starts = [i for i, line in enumerate(section) if line.startswith("主要职责")]
        found: list[ParsedIndicator] = []
        for number, start in enumerate(starts):
            end = starts[number + 1] if number + 1 < len(starts) else len(section)
            table = _scoring_table_name(section[:start], number)
            found += read_scoring_table(section[start:end], table, first_line + start)
        return found
    if re.search(r"^一级指标\t二级指标", text, re.MULTILINE):
        return read_row_table(section, first_line)
    if re.search(r"^\t一级指标", text, re.MULTILINE):
        cells = tokenize(section, first_line)
        layout = _cell_layout(cells)
        return read_cell_table(cells, layout) if layout else []
    if len(re.findall(r"^责任单位[:：]", text, re.MULTILINE)) >= 3:
        return read_task_list(section, first_line)
    return []


def _scoring_table_name(before: list[str], index: int) -> str:
    """党委 / 政府 from the nearest ``责任人：县（区）党委主要负责人`` line above the table."""
    for line in reversed(before):
        match = re.search(r"责任人[:：]\s*\S*?(党委|政府)主要负责人", line)
        if match:
            return match.group(1)
    return f"表{index + 1}"


# ------------------------------------------------------------------ metadata and rules


def _first_nonempty(lines: list[str]) -> str:
    return next((line.strip() for line in lines if line.strip()), "")


def _title(lines: list[str]) -> str:
    """The document's own title: the first 方案/指标体系/… line that is not the cover letter's."""
    candidates = [
        re.sub(r"\s+", "", line)
        for line in lines[:60]
        if re.search(r"(方案|指标体系|责任分工|打分表)", line) and len(line.strip()) < 80
    ]
    plain = [c for c in candidates if not re.search(r"(印发|通知|》)", c)]
    return (plain or candidates or [_first_nonempty(lines)])[0]


def _known_issuer(lines: list[str]) -> KnownIssuer | None:
    head = re.sub(r"\s+", "", "".join(lines[:25]))
    hits = [(head.find(k.pattern), k) for k in KNOWN_ISSUERS if k.pattern in head]
    return min(hits, key=lambda hit: hit[0])[1] if hits else None


PHASE_RE = re.compile(
    r"[(（]([一二三四五六七八九十]+)[)）](\S{2,8}?阶段)"
    r"[(（](\d{1,2})月(\d{1,2})日(?:至|-|—)(\d{1,2})月(\d{1,2})日[)）]"
)


def reporting_rules(text: str) -> list[dict[str, object]]:
    """Deadlines the document states: monthly report days, one-off dates, dated phases."""
    text = half_width(text)
    rules: list[dict[str, object]] = []
    monthly = list(re.finditer(r"每月\s*(\d{1,2})\s*日前", text))
    seen_days: set[int] = set()
    for match in monthly:
        day = int(match.group(1))
        if day in seen_days:
            continue
        seen_days.add(day)
        context = text[max(0, match.start() - 60) : match.end() + 40]
        coordinator = (
            "汇总" in text[max(0, match.start() - 15) : match.start()] or "上报" in text[match.end() : match.end() + 8]
        )
        rule: dict[str, object] = {
            "kind": "monthly_coordinator" if coordinator else "monthly_unit",
            "day": day,
            "source": re.sub(r"\s+", "", context),
        }
        office = re.search(r"(?:由|报送)局?(\S{2,5}科)", context)
        if office:
            rule["coordinator_unit"] = office.group(1)
        rules.append(rule)
    for match in re.finditer(
        r"[(（]([一二三四五六七八九十]+)[)）](\S{2,8}?阶段)[(（](\d{1,2})月(\d{1,2})日(?:至|-|—)(\d{1,2})月(\d{1,2})日[)）]",
        text,
    ):
        rules.append(
            {
                "kind": "one_off",
                "title": match.group(2),
                "start": f"{int(match.group(3)):02d}-{int(match.group(4)):02d}",
                "due": f"{int(match.group(5)):02d}-{int(match.group(6)):02d}",
            }
        )
    for match in re.finditer(r"请于\s*(\d{1,2})月(\d{1,2})日前[，,]?\s*将([^。]{0,40})", text):
        rules.append(
            {
                "kind": "one_off",
                "title": re.sub(r"\s+", "", match.group(3))[:30] or "报送材料",
                "due": f"{int(match.group(1)):02d}-{int(match.group(2)):02d}",
            }
        )
    for match in re.finditer(r"在\s*(\d{1,2})月(\d{1,2})日前向(\S{2,12}?)报送(\S{2,10}?报告)", text):
        rules.append(
            {
                "kind": "one_off",
                "title": match.group(4),
                "due": f"{int(match.group(1)):02d}-{int(match.group(2)):02d}",
                "to": match.group(3),
            }
        )
    return rules


_CONTACT_RE = re.compile(r"组长[:：]\s*(\S{2,4})[(（]联系电话[:：]\s*([\d,，\s]+)[)）]")


def contacts(lines: list[str]) -> list[ContactPerson]:
    """Leaders with phones listed in a 工作专班 section (``组长：张秀雨（联系电话：…）``)."""
    found: list[ContactPerson] = []
    group = ""
    for line in lines:
        stripped = line.strip()
        heading = re.match(r"^[(（][一二三四五六七八九十]+[)）](\S+组)$", stripped)
        if heading:
            group = heading.group(1)
        match = _CONTACT_RE.search(stripped)
        if match:
            phones = [p for p in re.split(r"[,，\s]+", match.group(2)) if p]
            mobile = next((p for p in phones if len(p) == 11), phones[-1] if phones else "")
            found.append(ContactPerson(match.group(1), group, mobile, "组长"))
    return found


def assemble_document(
    doc_id: str, lines: list[str], indicators: list[ParsedIndicator], warnings: list[str] | None = None
) -> ParsedDocument:
    """A document from its text lines (for metadata, rules, contacts) and its indicators."""
    if not indicators:
        raise NotATableError(
            "没有找到指标表（表头应包含 一级指标/二级指标/三级指标/序号/测评方法/上报资料/牵头单位 等列名）"
        )
    known = _known_issuer(lines)
    issuer = known.issuer if known else _first_nonempty(lines)[:40]
    return ParsedDocument(
        doc_id=doc_id,
        title=_title(lines),
        issuer=issuer,
        short_name=known.short_name if known else issuer,
        kind=known.kind if known else "table",
        indicators=indicators,
        reporting_rules=reporting_rules("\n".join(lines)),
        contacts=contacts(lines),
        warnings=warnings or [],
        source_text="\n".join(lines),
    )


def read_text_document(text: str, doc_id: str) -> ParsedDocument:
    """Parse a whole text export into a :class:`ParsedDocument`."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    indicators, warnings = read_indicators(lines)
    return assemble_document(doc_id, lines, indicators, warnings)

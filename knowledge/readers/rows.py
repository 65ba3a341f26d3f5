"""Tables exported one row per line with tab-separated cells (000 工作台账).

Columns drift where cells were merged, so each cell is classified by its content:
一级 heading (``一、…``), 二级 heading (``4. …``, or a numbered cell before the row's
indicator number), indicator number (bare, or leading the text), unit lists, and text.
Rows without a number continue the count; a row holding only a number confirms the
number of the unnumbered indicator above it and adds its materials and units to it.
"""

from __future__ import annotations

import re

from knowledge.model import Owner, ParsedIndicator
from knowledge.normalize import number_key, one_line
from knowledge.owners import split_units
from knowledge.readers.cells import HEADER_WORDS

LEVEL1_RE = re.compile(r"^[一二三四五六七八九十]+、")
LEVEL2_DOT_RE = re.compile(r"^\d{1,2}\s*[.．、]\s*\S")
BARE_NUMBER_RE = re.compile(r"^(\d{1,3})$")
NUMBERED_TEXT_RE = re.compile(r"^(\d{1,3})\s+(\S.*)$")
UNIT_END_RE = re.compile(r"(科|支队|办公室|单位|科室|室|办|局|组|队|部|委|中心)$")


def is_unit_list(cell: str) -> bool:
    """A cell naming units (``人事科、法规科``, ``市生态环境综合行政执法支队``)."""
    units = split_units(cell)
    if not units or cell.rstrip().endswith(("。", "；")):
        return False
    return all(len(u) <= 30 and UNIT_END_RE.search(u) for u in units)


def read_row_table(lines: list[str], first_line: int = 1) -> list[ParsedIndicator]:
    """Indicators of a tab-separated row table."""
    indicators: list[ParsedIndicator] = []
    level1 = level2 = ""
    last_number = 0
    implied: set[int] = set()  # indicators whose number was inferred from position
    started = False
    for offset, line in enumerate(lines):
        line_no = first_line + offset
        if not started:  # skip the title lines above the first header row
            started = "一级指标" in line
            continue
        cells = [one_line(c) for c in line.split("\t")]
        if not any(cells) or all(c in HEADER_WORDS or not c for c in cells):
            continue
        number: int | None = None
        texts: list[str] = []
        units: list[list[str]] = []
        nonempty = [c for c in cells if c]
        level2_in_row = False
        for position, cell in enumerate(nonempty):
            later_has_number = any(
                BARE_NUMBER_RE.match(c) or NUMBERED_TEXT_RE.match(c) for c in nonempty[position + 1 :]
            )
            if LEVEL1_RE.match(cell):
                if cell.replace(" ", "") != level1.replace(" ", ""):
                    level1, level2, level2_in_row = cell, "", True
            elif LEVEL2_DOT_RE.match(cell) or (NUMBERED_TEXT_RE.match(cell) and later_has_number and number is None):
                level2, level2_in_row = cell, True
            elif number is None and (match := BARE_NUMBER_RE.match(cell)):
                number = int(match.group(1))
            elif number is None and not texts and (match := NUMBERED_TEXT_RE.match(cell)):
                number = int(match.group(1))
                texts.append(match.group(2))
            elif is_unit_list(cell):
                units.append(split_units(cell))
            else:
                texts.append(cell)
        previous = indicators[-1] if indicators else None
        # A number alone (or with materials/units) confirming the unnumbered indicator above.
        if (
            number is not None
            and previous is not None
            and id(previous) in implied
            and int(previous.number) == number
            and len(texts) <= 1
        ):
            implied.discard(id(previous))
            _merge_extra(previous, texts, units, line_no)
            continue
        if number is None and not texts:
            if units and previous is not None:
                _merge_extra(previous, [], units, line_no)
            continue
        if number is None and previous is not None and not any(cells[:3]):
            _merge_extra(previous, texts, units, line_no)  # materials that spilled into their own row
            continue
        if number is None:
            number = last_number + 1
            is_implied = True
        else:
            is_implied = False
        last_number = number
        indicator = ParsedIndicator(
            number=str(number),
            key=number_key(str(number)),
            text=texts[0] if texts else "",
            level1=level1,
            level2=level2,
            materials="\n".join(texts[1:]),
            leads=[Owner(u) for u in units[0]] if units else [],
            coops=[Owner(u) for u in units[1]] if len(units) > 1 else [],
            line_start=line_no,
            line_end=line_no,
        )
        continues_block = previous is not None and previous.level2 == level2 and not level2_in_row
        if not units and continues_block and previous is not None and (previous.leads or previous.coops):
            # A merged owner cell: the row continues the 二级指标 block above and shares its owners.
            indicator.leads = [Owner(o.unit, list(o.persons)) for o in previous.leads]
            indicator.coops = [Owner(o.unit, list(o.persons)) for o in previous.coops]
            indicator.owner_note = f"责任单位栏为空，按合并单元格沿用第{previous.number}项"
        elif not units:
            indicator.unassigned = True
            indicator.owner_note = "牵头单位栏为空，未分配"
        indicators.append(indicator)
        if is_implied:
            implied.add(id(indicator))
    return indicators


def _merge_extra(indicator: ParsedIndicator, texts: list[str], units: list[list[str]], line_no: int) -> None:
    if texts:
        indicator.materials = "\n".join(t for t in [indicator.materials, *texts] if t)
    if units:
        if indicator.unassigned and not indicator.leads:
            indicator.unassigned = False
            indicator.owner_note = ""
        known = {o.unit for o in indicator.leads}
        indicator.leads += [Owner(u) for u in units[0] if u not in known]
        if len(units) > 1:
            known_coops = {o.unit for o in indicator.coops}
            indicator.coops += [Owner(u) for u in units[1] if u not in known_coops]
    indicator.line_end = line_no

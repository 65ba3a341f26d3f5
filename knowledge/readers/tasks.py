"""Numbered tasks each followed by ``责任单位：X牵头，Y参加`` (003 一体建设实施方案)."""

from __future__ import annotations

import re

from knowledge.model import ParsedIndicator
from knowledge.normalize import number_key, one_line
from knowledge.owners import parse_lead_coop

TASK_RE = re.compile(r"^(\d{1,3})\s*[.．、]\s*(.+)$")
SECTION_RE = re.compile(r"^[（(][一二三四五六七八九十]+[)）]")


def read_task_list(lines: list[str], first_line: int = 1) -> list[ParsedIndicator]:
    """One indicator per ``责任单位：`` line, taken with the numbered task above it."""
    indicators: list[ParsedIndicator] = []
    section = ""
    for offset, line in enumerate(lines):
        stripped = line.strip()
        if SECTION_RE.match(stripped):
            section = one_line(stripped)
            continue
        if not stripped.startswith("责任单位"):
            continue
        previous = offset - 1
        while previous >= 0 and not lines[previous].strip():
            previous -= 1
        match = TASK_RE.match(lines[previous].strip()) if previous >= 0 else None
        if match is None:
            continue
        number, body = match.group(1), one_line(match.group(2))
        title = body.split("。", 1)[0]
        leads, coops = parse_lead_coop(stripped)
        indicators.append(
            ParsedIndicator(
                number=number,
                key=number_key(number),
                text=body,
                level1=section,
                level2=title,
                leads=leads,
                coops=coops,
                unassigned=not leads,
                owner_note="" if leads else "未写明责任单位",
                line_start=first_line + previous,
                line_end=first_line + offset,
            )
        )
    return indicators

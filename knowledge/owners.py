"""Parsing owner cells into units and persons.

Handles ``科室（姓名）``, ``支队(刘建设申军强）`` (two names run together), parallel unit and
person columns (``政治部\\n\\n行政财务装备科`` ↔ ``李建伟\\n\\n杨英丽``), ``X牵头，Y配合`` and
``X、Y牵头，Z参加``.
"""

from __future__ import annotations

import re

from knowledge.model import Owner
from knowledge.normalize import half_width

_UNIT_WITH_PERSONS = re.compile(r"^(?P<unit>[^()]+?)\s*\((?P<persons>[^()]*)\)?$")
_LIST_SPLIT = re.compile(r"[、,，;；/]+")


def split_names(raw: str) -> list[str]:
    """Person names from a cell: separators, or two 3-character names run together."""
    names: list[str] = []
    for part in re.split(r"[、,，;；\s/]+", raw.strip()):
        if not part:
            continue
        if len(part) == 6:  # 刘建设申军强 → 刘建设, 申军强 (two 3-character names)
            names += [part[:3], part[3:]]
        else:
            names.append(part)
    return names


def split_units(cell: str) -> list[str]:
    """Unit names from a list cell (``人事科、法规科``), in order, without duplicates."""
    text = half_width(cell).replace("\n", "、")
    units: list[str] = []
    depth = 0
    current = ""
    for char in text:  # split on separators outside parentheses: 县委营商环境办（县委县政府督查局）
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if depth == 0 and _LIST_SPLIT.fullmatch(char):
            if current.strip():
                units.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        units.append(current.strip())
    seen: list[str] = []
    for unit in units:
        unit = re.sub(r"\s+", "", unit).rstrip("。.")
        if unit and unit not in seen:
            seen.append(unit)
    return seen


_PERSON_RE = re.compile(r"^[\u3400-\u9fff·]{2,4}$")
_UNIT_SUFFIX_RE = re.compile(r"(科|局|办|室|委|队|部|中心|组|院|会)$")


def _is_person_list(names: list[str]) -> bool:
    return bool(names) and all(_PERSON_RE.match(n) and not _UNIT_SUFFIX_RE.search(n) for n in names)


def parse_unit_person_cell(cell: str) -> list[Owner]:
    """``法规科（刘海利）\n服务科（史凤云）`` → two owners, each with its person.

    A parenthesis that holds no person names stays part of the unit name
    (``县委营商环境办（县委县政府督查局）``).
    """
    owners: list[Owner] = []
    for line in half_width(cell).splitlines():
        for part in split_units(line):
            match = _UNIT_WITH_PERSONS.match(part)
            names = split_names(match["persons"]) if match else []
            if match and _is_person_list(names):
                owners.append(Owner(match["unit"].strip(), names))
            else:
                owners.append(Owner(part))
    return owners


def parse_parallel_columns(units_cell: str, persons_cell: str) -> list[Owner]:
    """Units and persons in two columns, paired line by line where the counts agree."""
    units = [u.strip() for u in half_width(units_cell).splitlines() if u.strip()]
    persons = [p.strip() for p in half_width(persons_cell).splitlines() if p.strip()]
    if len(units) == len(persons):
        return [Owner(u, split_names(p)) for u, p in zip(units, persons, strict=True)]
    if len(units) == 1:
        return [Owner(units[0], [n for p in persons for n in split_names(p)])]
    # Counts differ: keep the units, attach the persons to the first unit.
    owners = [Owner(u) for u in units]
    if owners:
        owners[0].persons = [n for p in persons for n in split_names(p)]
    return owners


_LEAD_COOP = re.compile(r"^(?P<lead>.+?)(?:牵头)[,，;；]?\s*(?P<coop>.*?)(?:配合|参加|协助)?[。.]?$")


def parse_lead_coop(text: str) -> tuple[list[Owner], list[Owner]]:
    """``法制仲裁科牵头，办公室配合`` → ([法制仲裁科], [办公室]); plain lists are all leads."""
    text = half_width(text).strip().rstrip("。")
    text = re.sub(r"^责任单位[:：]\s*", "", text)
    text = re.sub(r"按职责(?:分工)?落实$", "", text)
    match = _LEAD_COOP.match(text)
    if match and "牵头" in text:
        leads = [Owner(u) for u in split_units(match["lead"])]
        coops = [Owner(u) for u in split_units(match["coop"])]
        return leads, coops
    return [Owner(u) for u in split_units(text)], []


_NOT_A_UNIT = re.compile(r"[，。,;；:：]|如有|情形|追究")


def looks_like_unit(name: str) -> bool:
    """A plausible unit name (not a sentence that landed in the owner column)."""
    return 1 < len(name) <= 40 and not _NOT_A_UNIT.search(name)


def parse_units_and_persons(units_cell: str, persons_cell: str) -> tuple[list[Owner], list[Owner], str]:
    """Owner columns of a 责任科室/责任人 table → (leads, coops, note for text that is no unit)."""
    units_text = half_width(units_cell).strip()
    persons = [n for line in half_width(persons_cell).splitlines() for n in split_names(line)]
    if "牵头" in units_text:
        leads, coops = parse_lead_coop(units_text.replace("\n", ""))
        for owner, person in zip(leads + coops, persons, strict=False):
            owner.persons = [person]
        return leads, coops, ""
    owners = parse_parallel_columns(units_cell, persons_cell)
    kept = [o for o in owners if looks_like_unit(o.unit)]
    note = "；".join(o.unit for o in owners if not looks_like_unit(o.unit))
    return kept, [], note

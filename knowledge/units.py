"""Units as the documents mean them: collective words are not units.

各有关单位, 局属各单位, 机关各科室, 县直有关单位, 各乡（镇、办） … mean "the units concerned";
the coordinator decides who that is. They never become a unit (no list, picker or 逾期 table
shows them, nobody is marked missing for them).
"""

from __future__ import annotations

import re

from knowledge.model import Owner, ParsedIndicator
from knowledge.normalize import half_width

COLLECTIVE_WORDS = (
    "各有关单位",
    "有关单位",
    "局属各单位",
    "机关各科室",
    "局机关各科室",
    "各执法单位",
    "各承办单位",
    "县直有关单位",
    "县直各单位",
    "县直行政执法单位",
    "各乡(镇、办)",
    "各乡(镇)",
    "各成员单位",
    "各单位",
    "各部门",
    "相关单位",
    "有关部门",
)

# Any such phrase, not only the listed ones: 各…单位 / 有关…部门 / 县直…单位 / 县(区)直… / 各乡(镇、办).
_COLLECTIVE = re.compile(
    r"(?:各|有关|相关)\S{0,6}(?:单位|科室|部门|处室)$"
    r"|^(?:县|市|区|县\(区\))?直\S{0,6}(?:单位|部门)$"
    r"|^各乡"
)
_DUTY_SUFFIX = re.compile(r"(?:按职责分工|按职责)(?:落实|牵头)?$")
_ETC = re.compile(r"^(?P<unit>.+?)等(?P<rest>\S+)$")
_GROUP_SUFFIX = re.compile(r"^(?P<stem>\S+?)(?P<suffix>协调小组|工作小组|小组)$")
_HAS_UNIT_SUFFIX = re.compile(r"(科|局|办|室|委|队|部|中心|组|院|会|所|站|处)$")
_PREFIX = re.compile(r"^(?P<prefix>.*?[委办局])(?P<stem>[^委办局]+)$")


def _flat(name: str) -> str:
    return re.sub(r"\s+", "", half_width(name)).replace("（", "(").replace("）", ")")


def is_collective(name: str) -> bool:
    """Whether ``name`` is a collective word rather than a unit."""
    flat = _flat(name)
    return flat in {_flat(w) for w in COLLECTIVE_WORDS} or bool(_COLLECTIVE.search(flat))


def repair_names(names: list[str]) -> list[str]:
    """Names split or glued by the export, repaired.

    ``县司法局按职责分工`` → 县司法局; ``县司法局等县直有关单位`` → 县司法局; ``县(区)委立法、执法、
    司法、守法普法协调小组`` (one list sharing prefix and suffix) → 县(区)委立法协调小组, 县(区)委执法协调小组 …
    """
    cleaned: list[str] = []
    for name in names:
        name = _DUTY_SUFFIX.sub("", name.strip())
        etc = _ETC.match(name)
        if etc and is_collective(etc.group("rest")):
            name = etc.group("unit")
        if name:
            cleaned.append(name)
    last = _GROUP_SUFFIX.match(cleaned[-1]) if cleaned else None
    run = 0
    while last and run + 1 < len(cleaned) and not _HAS_UNIT_SUFFIX.search(cleaned[-2 - run]):
        run += 1
    if last and run >= 1:
        first = len(cleaned) - 1 - run
        head = _PREFIX.match(cleaned[first])
        prefix = head.group("prefix") if head else ""
        stems = [head.group("stem") if head else cleaned[first], *cleaned[first + 1 : -1], last.group("stem")]
        cleaned = cleaned[:first] + [f"{prefix}{stem}{last.group('suffix')}" for stem in stems]
    return cleaned


def clean_owners(owners: list[Owner]) -> tuple[list[Owner], list[str]]:
    """Owners with repaired names and without collective words; the collective words found."""
    repaired = repair_names([o.unit for o in owners])
    persons = {o.unit: o.persons for o in owners}
    kept: list[Owner] = []
    collective: list[str] = []
    for name in repaired:
        if is_collective(name):
            collective.append(name)
        elif name not in [o.unit for o in kept]:
            kept.append(Owner(name, list(persons.get(name, []))))
    for owner in owners:  # persons of a name that was repaired go with the repaired name
        if owner.unit not in repaired and owner.persons:
            match = next((k for k in kept if k.unit.startswith(owner.unit) or owner.unit.startswith(k.unit)), None)
            if match is not None:
                match.persons += [p for p in owner.persons if p not in match.persons]
    return kept, collective


def clean_indicator_owners(item: ParsedIndicator) -> None:
    """Repair an indicator's owner names and set collective words aside in its owner note.

    Collective words mean "the units concerned" (the coordinator decides who); an indicator
    left with no unit at all is unassigned and listed as such.
    """
    item.leads, lead_words = clean_owners(item.leads)
    item.coops, coop_words = clean_owners(item.coops)
    words = lead_words + [w for w in coop_words if w not in lead_words]
    if words:
        note = f"泛指（不是具体单位，由协调人确定）：{'、'.join(words)}"
        item.owner_note = "；".join(n for n in (item.owner_note, note) if n)
    if not item.leads and not item.coops:
        item.unassigned = True

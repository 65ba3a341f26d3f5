"""An indicator's 上报资料/填报材料 split into its items, and which items the evidence covers.

``(1) 本级政府…文件；(2) 本级政府…情况说明`` → two items. A file or paper entry covers an item
when its caption or file name names the item (``(2)``, ``（2）``, ``材料2``, ``第2项材料``) or
reads like it (rapidfuzz partial ratio ≥ 70 on the item's words); when the indicator asks for
one thing, any evidence covers it; an entry naming no item covers all of them only if the
indicator asks for one thing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

PAPER_MIME = "application/x-paper-evidence"  # the stored type of an entry for evidence kept on paper
PAPER_NAME = "纸质材料（实地核验时提供）"

_MARKER_RE = re.compile(r"(?:^|(?<=[；;。.\s]))\s*(?:[(（]\s*(\d{1,2})\s*[)）]|(\d{1,2})\s*[.、．](?!\d))")
_NOTHING_NEEDED_RE = re.compile(r"^\s*不需(?:要)?提供")
MATCH_SCORE = 70


@dataclass(frozen=True)
class EvidenceNote:
    """What is known of one piece of evidence: its caption, file name, and whether it is on paper."""

    caption: str
    name: str
    paper: bool = False


def material_items(materials: str) -> list[str]:
    """The items of a 上报资料 text, each with its own marker; [] when nothing is asked for."""
    text = (materials or "").strip()
    if not text or _NOTHING_NEEDED_RE.match(text):
        return []
    markers = list(_MARKER_RE.finditer(text))
    if len(markers) < 2:
        return [text]
    items = []
    for index, marker in enumerate(markers):
        end = markers[index + 1].start() if index + 1 < len(markers) else len(text)
        items.append(text[marker.start() : end].strip().rstrip("；;").strip())
    return items


def _item_number(item: str) -> int | None:
    match = _MARKER_RE.match(unicodedata.normalize("NFKC", item))
    if not match:
        return None
    return int(match.group(1) or match.group(2))


def _names_item(note: str, number: int) -> bool:
    text = unicodedata.normalize("NFKC", note)
    return bool(
        re.search(rf"\(\s*{number}\s*\)|材料\s*{number}(?!\d)|第\s*{number}\s*项材料|^\s*{number}\s*[.、]", text)
    )


def covered_items(items: list[str], evidence: list[EvidenceNote]) -> list[bool]:
    """For each item, whether some evidence covers it."""
    if not items:
        return []
    if len(items) == 1:
        return [bool(evidence)]
    covered = []
    for item in items:
        number = _item_number(item)
        words = _MARKER_RE.sub("", item, count=1).strip()[:40]
        hit = False
        for note in evidence:
            named = number is not None and (_names_item(note.caption, number) or _names_item(note.name, number))
            alike = bool(words and note.caption) and fuzz.partial_ratio(words, note.caption) >= MATCH_SCORE
            if named or alike:
                hit = True
                break
        covered.append(hit)
    return covered


def missing_items(materials: str, evidence: list[EvidenceNote]) -> tuple[int, list[str]]:
    """(number of items asked for, the items no evidence covers yet)."""
    items = material_items(materials)
    return len(items), [item for item, done in zip(items, covered_items(items, evidence), strict=True) if not done]

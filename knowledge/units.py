"""Units as the documents mean them: collective words are not units.

各有关单位, 局属各单位, 机关各科室, 县直有关单位, 各乡（镇、办） … mean "the units concerned";
the coordinator decides who that is. They never become a unit (no list, picker or 逾期 table
shows them, nobody is marked missing for them).
"""

from __future__ import annotations

import re

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

# 各…单位 / 县直…单位 / 有关… / 各…科室: any such phrase, not only the listed ones.
_COLLECTIVE = re.compile(
    r"^(?:各|县直|市直|局属|机关各|局机关各|相关|有关|其他)\S{0,8}?(?:单位|科室|部门|处室|乡\(镇[、,]?办?\)|乡镇)$"
    r"|^(?:各|有关)\S{0,4}$"
)


def is_collective(name: str) -> bool:
    """Whether ``name`` is a collective word rather than a unit."""
    flat = re.sub(r"\s+", "", half_width(name)).replace("（", "(").replace("）", ")")
    return flat in {half_width(w) for w in COLLECTIVE_WORDS} or bool(_COLLECTIVE.match(flat))

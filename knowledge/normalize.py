"""Text normalisation shared by readers and search: width, whitespace, indicator numbers."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACE_RE = re.compile(r"[ \t\u3000\xa0]+")
_TAG_RE = re.compile(r"</?p>|<br\s*/?>", re.IGNORECASE)


@lru_cache(maxsize=1)
def _t2s() -> object:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional characters to simplified (OpenCC ``t2s``; built once per process)."""
    return str(_t2s().convert(text))  # type: ignore[attr-defined]


def half_width(text: str) -> str:
    """Full-width digits, letters and punctuation to half-width (``（１）`` → ``(1)``)."""
    return unicodedata.normalize("NFKC", text)


def clean(text: str) -> str:
    """Strip HTML-ish fragments, collapse spaces, keep line breaks meaningful."""
    text = _TAG_RE.sub("", text)
    lines = [_SPACE_RE.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


_CJK_GAP_RE = re.compile(r"(?<=[\u3400-\u9fff\uff08\uff09\u3001\u3002]) (?=[\u3400-\u9fff\uff08\uff09])")


def one_line(text: str) -> str:
    """Cell text as one line; no space where a cell wrapped or between Chinese characters."""
    return _CJK_GAP_RE.sub("", "".join(clean(text).splitlines()))


def number_key(number: str) -> str:
    """Normalised key of an indicator number: half-width, no spaces (``（1）`` → ``(1)``)."""
    return re.sub(r"\s+", "", half_width(number))


_POINTS_RE = re.compile(r"[(（]\s*(\d+(?:\.\d+)?)\s*分\s*[)）]")


def task_points(text: str) -> float | None:
    """Points stated in a task, e.g. ``…（6分）`` → 6.0."""
    match = _POINTS_RE.search(half_width(text))
    return float(match.group(1)) if match else None


_EARN_RE = re.compile(r"(?<!不)得\s*(\d+(?:\.\d+)?)\s*分")


def criteria_points(criteria: str) -> float:
    """Total points a 检查标准 can award (sum of ``得N分``)."""
    return sum(float(m) for m in _EARN_RE.findall(half_width(criteria)))


def collapse_repeats(text: str) -> str:
    """A heading a merged cell repeated once per page (``四、…四、…``) back to one copy."""
    size = len(text)
    for parts in range(size // 2, 1, -1):
        if size % parts == 0:
            unit = text[: size // parts]
            if unit * parts == text:
                return unit
    return text

"""Self-scoring of scored tasks (004 打分表): reading ``/score 党委2 1.5 理由`` and bounding the score."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.errors import Refusal
from knowledge.normalize import half_width, number_key

_SCORE_RE = re.compile(r"^\s*(党委|政府)?\s*第?\s*(\S+?)\s*项?\s+(-?\d+(?:\.\d+)?)\s*分?\s*(.*)$", re.DOTALL)
USAGE = "用法：/score 党委2 1.5 理由（表名 + 任务编号 + 得分 + 理由），查看记录：/score 党委2"


@dataclass(frozen=True)
class ScoreRequest:
    """A parsed ``/score``: table (党委/政府 or ""), number key, score (None = show history), reason as written."""

    table: str
    key: str
    score: float | None
    reason: str


def parse_score(text: str) -> ScoreRequest:
    """``党委2 1.5 理由`` → ScoreRequest; ``党委2`` alone asks for the history. The reason is kept verbatim."""
    stripped = text.strip()
    if not stripped:
        raise Refusal(USAGE)
    match = _SCORE_RE.match(stripped)
    if match is None:
        only = re.fullmatch(r"(党委|政府)?\s*第?\s*(\S+?)\s*项?", stripped)
        if only is None:
            raise Refusal(USAGE)
        return ScoreRequest(only.group(1) or "", number_key(only.group(2)), None, "")
    table, number, score, reason = match.groups()
    return ScoreRequest(table or "", number_key(number), float(half_width(score)), reason.strip())


def check_score(score: float, points: float | None, label: str) -> None:
    """A score lies between 0 and the task's points (in steps of 0.5 at most two decimals)."""
    if points is None:
        raise Refusal(f"{label} 没有分值，不能打分")
    if score < 0 or score > points:
        raise Refusal(f"{label} 满分 {points:g} 分，得分应在 0 到 {points:g} 之间")
    if round(score, 2) != score:
        raise Refusal("得分最多保留两位小数")

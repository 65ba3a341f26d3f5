"""Self-scores of scored tasks: append-only versions, the latest counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Indicator, SelfScore, Unit


@dataclass(frozen=True)
class ScoreLine:
    """One version of a task's self-score."""

    score: float
    reason: str
    unit: str
    scorer: str
    at: datetime


def record_score(
    session: Session,
    *,
    indicator: Indicator,
    unit_id: int | None,
    score: float,
    reason: str,
    scorer_id: int,
    scorer_name: str,
    update_id: int | None,
    now: datetime,
) -> SelfScore:
    """Append a self-score version (the caller has checked bounds and permission)."""
    row = SelfScore(
        indicator_id=indicator.id,
        unit_id=unit_id,
        score=score,
        reason=reason,
        scorer_telegram_id=scorer_id,
        scorer_name=scorer_name,
        source_update_id=update_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def latest_scores(session: Session, indicator_ids: list[int] | None = None) -> dict[int, tuple[float, str]]:
    """Indicator id → (latest score, its reason)."""
    query = select(SelfScore.indicator_id, SelfScore.score, SelfScore.reason).order_by(SelfScore.id)
    if indicator_ids is not None and len(indicator_ids) < 500:
        query = query.where(SelfScore.indicator_id.in_(indicator_ids))
    wanted = set(indicator_ids) if indicator_ids is not None else None
    return {
        indicator_id: (score, reason)
        for indicator_id, score, reason in session.execute(query)
        if wanted is None or indicator_id in wanted
    }


def score_history(session: Session, indicator_id: int) -> list[ScoreLine]:
    """Every version of a task's self-score, newest first."""
    rows = session.execute(
        select(SelfScore, Unit.name)
        .outerjoin(Unit, Unit.id == SelfScore.unit_id)
        .where(SelfScore.indicator_id == indicator_id)
        .order_by(SelfScore.id.desc())
    ).all()
    return [ScoreLine(s.score, s.reason, unit or "", s.scorer_name, s.created_at) for s, unit in rows]

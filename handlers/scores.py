"""/score: self-scoring of the 打分表 tasks (004), with the history of every version."""

from __future__ import annotations

from datetime import datetime
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from handlers.deps import get_services, reporter_of
from handlers.replies import Markup, reply
from knowledge.access import Action, Target, may, require
from knowledge.domain import Role
from knowledge.errors import Refusal
from knowledge.scoring import ScoreRequest, check_score, parse_score
from storage.chats import bound_document
from storage.models import Indicator, Unit
from storage.progress import Reporter, claim_update, owners_of
from storage.scores import latest_scores, record_score, score_history

COMMANDS = [("score", "打分表自评：/score 党委2 1.5 理由；/score 党委2 查看记录")]


def _scored_task(session: Session, request: ScoreRequest, document_id: str | None) -> Indicator:
    query = select(Indicator).where(Indicator.key == request.key, Indicator.points.is_not(None))
    if request.table:
        query = query.where(Indicator.table_name == request.table)
    if document_id:
        query = query.where(Indicator.document_id == document_id)
    found = list(session.scalars(query.order_by(Indicator.document_id, Indicator.table_name)))
    if not found:
        raise Refusal(f"没有可打分的任务“{request.table}{request.key}”（打分表的任务写作 党委2 或 政府21）")
    if len(found) > 1:
        tables = "、".join(f"{i.table_name}{i.number}" for i in found)
        example = f"{found[0].table_name}{found[0].number}"
        raise Refusal(f"有多项任务编号为 {request.key}（{tables}），请写明是哪一张表，例如 /score {example} 1.5")
    return found[0]


def _may_score(session: Session, reporter: Reporter, indicator: Indicator) -> Unit:
    """Owners of the task (as for a report on it) or the programme's coordinators (``Action.SCORE``)."""
    owners = owners_of(session, indicator.id)
    actor = reporter.actor
    target = Target.of(
        indicator.document_id,
        leads=[u.id for role, u in owners if role == Role.LEAD],
        cooperating=[u.id for role, u in owners if role != Role.LEAD],
    )
    if not may(actor, Action.SCORE, target):
        require(actor, Action.REPORT, target)  # not a coordinator: an owner of the task may score it
    own = [u for _, u in owners if u.id == reporter.unit_id]
    if own:
        return own[0]
    if not owners:
        raise Refusal(f"{_label(indicator)} 没有落实单位，无法打分")
    return owners[0][1]


def _label(indicator: Indicator) -> str:
    return f"{indicator.table_name}{indicator.number}"


def _table_total(session: Session, indicator: Indicator) -> tuple[float, float]:
    rows = session.execute(
        select(Indicator.id, Indicator.points).where(
            Indicator.document_id == indicator.document_id,
            Indicator.table_name == indicator.table_name,
            Indicator.points.is_not(None),
        )
    ).all()
    scores = latest_scores(session, [row.id for row in rows])
    return sum(scores[row.id][0] for row in rows if row.id in scores), sum(row.points or 0.0 for row in rows)


def score_text(
    session: Session, reporter: Reporter, text: str, document_id: str | None, update_id: int | None, now: datetime
) -> str:
    """Record a self-score (owners of the task or coordinators) or show its history; the reply text."""
    request = parse_score(text)
    indicator = _scored_task(session, request, document_id)
    label = _label(indicator)
    if request.score is None:
        lines = score_history(session, indicator.id)
        if not lines:
            return f"{escape(label)} 还没有自评得分（满分 {indicator.points:g} 分）。"
        out = [f"<b>{escape(label)}</b> 自评记录（满分 {indicator.points:g} 分，共 {len(lines)} 版，新的在前）："]
        for line in lines[:30]:
            out.append(
                f"• {line.score:g} 分 — {escape(line.scorer)}{('（' + escape(line.unit) + '）') if line.unit else ''}"
                f" {line.at:%m-%d %H:%M}\n  {escape(line.reason) or '（未写理由）'}"
            )
        return "\n".join(out)[:4000]
    unit = _may_score(session, reporter, indicator)
    check_score(request.score, indicator.points, label)
    if not claim_update(session, update_id, "score", now):
        return f"{escape(label)} 的这次自评已经记录过了。"
    record_score(
        session,
        indicator=indicator,
        unit_id=unit.id,
        score=request.score,
        reason=request.reason,
        scorer_id=reporter.telegram_user_id,
        scorer_name=reporter.name,
        update_id=update_id,
        now=now,
    )
    versions = len(score_history(session, indicator.id))
    scored, maximum = _table_total(session, indicator)
    return (
        f"已记录 <b>{escape(label)}</b> 自评得分 {request.score:g} / {indicator.points:g} 分（第 {versions} 版）。\n"
        f"理由：{escape(request.reason) or '（未写理由）'}\n"
        f"{escape(indicator.table_name)}表自评合计 {scored:g} / {maximum:g} 分"
    )


async def score(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/score 党委2 1.5 理由 — or /score 党委2 for the history."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return
    services = get_services(context)
    reporter = await reporter_of(services, user)
    text = message.text.partition(" ")[2] if " " in message.text else ""
    document_id = await services.db.run(bound_document, message.chat_id)
    try:
        text_html = await services.db.run(score_text, reporter, text, document_id, update.update_id, services.clock())
    except Refusal as exc:
        await reply(message, str(exc))
        return
    await reply(message, Markup(text_html))  # built with html.escape around every user and document text


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /score."""
    app.add_handler(CommandHandler("score", score))

"""/rules [文档] — a programme's rules in plain Chinese; /rules set KEY VALUE — coordinators edit them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from handlers.deps import get_services, reporter_of
from handlers.replies import Markup, bold, html, join_lines, reply
from knowledge.access import Action, Reporter, Target, require
from knowledge.errors import Refusal
from knowledge.profile_edit import KEYS_HELP, describe
from storage.chats import bound_document
from storage.models import Document
from storage.profiles import find_document_id, load_profile
from storage.reminders import edit_profile

COMMANDS = [("rules", "报送规则：/rules [文档]（每月几号前报、报给谁、阶段、状态、材料要求、联系人）")]
SET_USAGE = "用法：/rules set 项目 值，例如 /rules set monthly.report_day 3\n"


def _document_id(session: Session, text: str) -> str | None:
    """A document by id, id prefix or a piece of its short name / title."""
    found = find_document_id(session, text)
    if found:
        return found
    matches = [
        d.id for d in session.scalars(select(Document).order_by(Document.id)) if text in d.short_name or text in d.title
    ]
    return matches[0] if len(matches) == 1 else None


def _rules_text(session: Session, chat_id: int, wanted: str | None, now: datetime) -> Markup:
    document_id = _document_id(session, wanted) if wanted else bound_document(session, chat_id)
    if document_id is None:
        documents = session.scalars(select(Document).order_by(Document.id)).all()
        if wanted:
            raise Refusal(f"找不到文档“{wanted}”")
        choices = [f"/rules {d.id.split('_')[0]} — {d.short_name or d.title}" for d in documents]
        return join_lines(["本群没有绑定文档，请指定要查看的文档：", *(choices or ["（还没有导入文档）"])])
    document = session.get(Document, document_id)
    profile = load_profile(session, document_id)
    assert document is not None and profile is not None
    lines = describe(profile, now.date())
    return join_lines([html(bold(document.short_name or document.title), " 的报送规则："), *(f"• {x}" for x in lines)])


def _set(session: Session, reporter: Reporter, chat_id: int, args: list[str], now: datetime) -> Markup:
    document_id = None
    if len(args) >= 3:
        document_id = _document_id(session, args[0])
        if document_id is not None:
            args = args[1:]
    document_id = document_id or bound_document(session, chat_id)
    if document_id is None:
        raise Refusal("本群没有绑定文档，请写明文档：/rules set 文档编号 项目 值")
    require(reporter.actor, Action.RULES_EDIT, Target.of(document_id))  # that programme's coordinators
    if len(args) < 2:
        raise Refusal(SET_USAGE + KEYS_HELP)
    done = edit_profile(session, document_id, args[0], " ".join(args[1:]), now)
    return html(f"已修改 {document_id} 的报送规则：", done)


async def rules(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show (or, for coordinators, change) a programme's rules."""
    message = update.effective_message
    if message is None:
        return
    services = get_services(context)
    args = context.args or []
    try:
        if args and args[0] == "set":
            reporter = await reporter_of(services, update.effective_user)  # type: ignore[arg-type]
            text = await services.db.run(_set, reporter, message.chat_id, args[1:], services.clock())
        else:
            text = await services.db.run(_rules_text, message.chat_id, " ".join(args) or None, services.clock())
    except Refusal as exc:
        await reply(message, str(exc))
        return
    await reply(message, text)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /rules."""
    app.add_handler(CommandHandler("rules", rules))

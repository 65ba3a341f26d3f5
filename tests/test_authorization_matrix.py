"""Who may do what, through the real bot: seven roles × every command and button kind × group/private.

Each row of ``MATRIX`` is one command or button kind with the roles allowed in a group (bound to
the indicator's lead unit and programme 000) and in a private chat. For every role the test
sends the command (or presses the button) as a real Telegram update through the sandbox and
classifies the bot's replies with the row's ``shows`` predicate (the secret report text, the
file, a receipt…). A denied action must leave the database exactly as it was (rows compared
before and after) and must not show the secret.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from sqlalchemy import select, text

from bot.sandbox import BotApiSandbox, SentMessage
from storage.db import Database
from storage.models import (
    Assignment,
    Attachment,
    ChatBinding,
    ChatKind,
    CoordinatorScope,
    Document,
    Indicator,
    Member,
    MemberRole,
    MemberStatus,
    ProgressReport,
    ReportStatus,
    Role,
    Unit,
)
from tests.conftest import SHANGHAI

ROLES = ("stranger", "owner", "other_unit", "cooperating", "coordinator", "other_coordinator", "admin")
USERS = {role: BotApiSandbox.user(6000 + n, f"用户{n}") for n, role in enumerate(ROLES)}
USERS["admin"] = BotApiSandbox.user(1001, "张三")  # TAIZHANG_ADMINS in tests/conftest.py
GROUP = BotApiSandbox.group_chat(-100_777, "环评科工作群")
NUMBER = "台账1"  # 000 (the 工作台账) #1: lead 环评科, cooperating 生态科 … (000: only the lead reports)
SECRET_REPORT = "机密进展MATRIX"
SECRET_FILE = "机密材料.pdf"
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)
SENTINEL = "/help"

ALL = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()
OWNERS_VIEW = frozenset({"owner", "coordinator", "admin"})
COORDINATION = frozenset({"coordinator", "admin"})
ADMIN = frozenset({"admin"})


@dataclass
class World:
    """Ids the cases need, read from the seeded database."""

    url: str
    indicator_id: int
    lead_unit: str
    attachment_id: int
    document_id: str


def build_world(url: str, sandbox: BotApiSandbox) -> World:
    """Members for each role, the group bound to the lead unit, one report and one file of the lead."""
    db = Database(url)
    try:
        with db.session_scope() as session:
            document = session.scalar(select(Document).where(Document.id.like("000%")))
            other_document = session.scalar(select(Document.id).where(Document.id.like("002%")))
            assert document is not None and other_document is not None
            indicator = session.scalar(
                select(Indicator).where(Indicator.document_id == document.id, Indicator.key == "1")
            )
            assert indicator is not None
            leads = [a.unit for a in indicator.assignments if a.role == Role.LEAD]
            coops = [a.unit for a in indicator.assignments if a.role == Role.COOPERATING]
            owners = {u.id for u in leads + coops}
            other = session.scalar(
                select(Unit).join(Assignment, Assignment.unit_id == Unit.id).where(Unit.id.not_in(owners)).limit(1)
            )
            assert leads and coops and other is not None
            units = {"owner": leads[0], "other_unit": other, "cooperating": coops[0],
                     "coordinator": other, "other_coordinator": other}  # fmt: skip
            for role, unit in units.items():
                coordinator = role.endswith("coordinator")
                member = Member(telegram_user_id=USERS[role]["id"], display_name=USERS[role]["first_name"],
                                unit_id=unit.id, status=MemberStatus.ACTIVE, created_at=NOW,
                                role=MemberRole.COORDINATOR if coordinator else MemberRole.MEMBER)  # fmt: skip
                session.add(member)
                session.flush()
                if coordinator:
                    scope = document.id if role == "coordinator" else other_document
                    session.add(CoordinatorScope(member_id=member.id, document_id=scope))
            session.add(ChatBinding(chat_id=GROUP["id"], title=GROUP["title"], kind=ChatKind.UNIT,
                                    document_id=document.id, unit_id=leads[0].id, created_at=NOW))  # fmt: skip
            secret = sandbox._store_file(b"%PDF-1.4 secret", SECRET_FILE, "application/pdf")
            report = ProgressReport(short_id="RMATRIX1", indicator_id=indicator.id, unit_id=leads[0].id,
                                    period="2026-10", status=ReportStatus.DONE, text=SECRET_REPORT,
                                    reporter_name="环评科", created_at=NOW)  # fmt: skip
            session.add(report)
            attachment = Attachment(indicator_id=indicator.id, unit_id=leads[0].id, period="2026-10", sha256="0" * 64,
                                    size=10, mime="application/pdf", original_name=SECRET_FILE,
                                    stored_path="00/00/missing", telegram_file_id=secret.file_id,
                                    uploader_name="环评科", created_at=NOW)  # fmt: skip
            session.add(attachment)
            session.flush()
            return World(url, indicator.id, leads[0].name, attachment.id, document.id)
    finally:
        db.dispose()


# Small tables compared row by row; the big imported ones (never changed by chat) by count and id sum.
FINGERPRINTED = ("progress_reports", "attachments", "members", "coordinator_scopes", "chat_bindings",
                 "reminder_rules", "documents")  # fmt: skip
SUMMED = ("indicators", "assignments", "units", "persons")
_ENGINES: dict[str, Database] = {}


def fingerprint(url: str) -> str:
    """Every row of the tables an action could change (not the inbox or update claims)."""
    db = _ENGINES.setdefault(url, Database(url))
    with db.session_scope() as session:
        tables: dict[str, object] = {
            name: [list(map(str, row)) for row in session.execute(text(f"SELECT * FROM {name} ORDER BY 1"))]
            for name in FINGERPRINTED
        }
        for name in SUMMED:
            tables[name] = list(map(str, session.execute(text(f"SELECT count(*), sum(id) FROM {name}")).one()))
        return json.dumps(tables, ensure_ascii=False, sort_keys=True)


@dataclass
class Outcome:
    """What the bot did for one action: messages to the chat (after the action) and button alerts."""

    messages: list[SentMessage]
    alerts: list[str]

    @property
    def texts(self) -> str:
        return "\n".join(m.text or "" for m in self.messages) + "\n" + "\n".join(self.alerts)


class Driver:
    """Sends one role's action and waits until the bot is done with it (a sentinel /help after it)."""

    def __init__(self, sandbox: BotApiSandbox, world: World) -> None:
        self.sandbox = sandbox
        self.world = world
        self.before = ""

    def checkpoint(self) -> None:
        """Remember the rows just before the action under test (after any setup it needed)."""
        self.before = fingerprint(self.world.url)

    async def _settle(self, chat: dict, user: dict, before: int) -> None:
        self.sandbox.send_text(chat, user, SENTINEL)
        await asyncio.to_thread(
            self.sandbox.wait_for,
            lambda: any(
                (m.text or "").startswith("<b>可用命令</b>") for m in self.sandbox.messages_to(chat["id"])[before:]
            ),
            20.0,
        )

    def _collect(self, chat: dict, before: int, answers: int, edits: dict[int, int]) -> Outcome:
        sent = self.sandbox.messages_to(chat["id"])
        edited = [m for m in sent[:before] if m.edits > edits.get(m.message_id, 0)]
        new = [m for m in sent[before:] if not (m.text or "").startswith("<b>可用命令</b>")]
        alerts = [a.get("text", "") for a in self.sandbox.callback_answers[answers:] if a.get("show_alert")]
        return Outcome(edited + new, alerts)

    def _state(self, chat: dict) -> tuple[int, int, dict[int, int]]:
        sent = self.sandbox.messages_to(chat["id"])
        return len(sent), len(self.sandbox.callback_answers), {m.message_id: m.edits for m in sent}

    async def say(self, chat: dict, user: dict, words: str, *, checkpoint: bool = False) -> Outcome:
        if checkpoint:
            self.checkpoint()
        before, answers, edits = self._state(chat)
        self.sandbox.send_text(chat, user, words)
        await self._settle(chat, user, before)
        return self._collect(chat, before, answers, edits)

    async def press(self, chat: dict, user: dict, message: SentMessage, data: str) -> Outcome:
        self.checkpoint()
        before, answers, edits = self._state(chat)
        self.sandbox.press_button(chat, user, message.message_id, data)
        await self._settle(chat, user, before)
        return self._collect(chat, before, answers, edits)

    async def button(self, chat: dict, user: dict, words: str, label: str) -> tuple[SentMessage, str]:
        """Have ``user`` send ``words`` and return the bot's message with the button labelled ``label``."""
        outcome = await self.say(chat, user, words)
        for message in outcome.messages:
            for button in message.buttons:
                if label in button["text"]:
                    return message, button["callback_data"]
        raise AssertionError(f"no button {label!r} after {words!r}: {outcome.texts}")


async def command(words: str, driver: Driver, world: World, chat: dict, role: str) -> Outcome:
    serial = ROLES.index(role) + (50 if chat["type"] == "private" else 0)  # a fresh value per role and place
    return await driver.say(
        chat, USERS[role], words.format(unit=world.lead_unit, id=6100 + serial, n=serial % 20 + 2), checkpoint=True
    )


async def admin_button(words: str, label: str, driver: Driver, world: World, chat: dict, role: str) -> Outcome:
    """The admin sends ``words`` in this chat; ``role`` presses the button labelled ``label``."""
    message, data = await driver.button(chat, USERS["admin"], words, label)
    return await driver.press(chat, USERS[role], message, data)


async def own_button(words: str, label: str, driver: Driver, world: World, chat: dict, role: str) -> Outcome:
    """``role`` sends ``words`` and presses the button of the answer (a button only they may press)."""
    message, data = await driver.button(chat, USERS[role], words, label)
    return await driver.press(chat, USERS[role], message, data)


async def someone_elses_button(words: str, label: str, driver: Driver, world: World, chat: dict, role: str) -> Outcome:
    """The owner sends ``words``; ``role`` presses the owner's button (a preview only its author confirms)."""
    message, data = await driver.button(chat, USERS["owner"], words, label)
    return await driver.press(chat, USERS[role], message, data)


async def forged(payload: str, driver: Driver, world: World, chat: dict, role: str) -> Outcome:
    """An unsigned ``payload`` (what a modified client sends) on a message of the bot."""
    message, _ = await driver.button(chat, USERS["admin"], f"/ask {NUMBER}", "详情")
    return await driver.press(
        chat, USERS[role], message, payload.format(file=world.attachment_id, indicator=world.indicator_id)
    )


async def join_decision(driver: Driver, world: World, chat: dict, role: str) -> Outcome:
    """A new user asks to join the lead unit; ``role`` presses 同意."""
    applicant = BotApiSandbox.user(6200 + ROLES.index(role), "申请人")
    where = chat if chat["type"] != "private" else BotApiSandbox.private_chat(applicant)
    message, data = await driver.button(where, applicant, f"/join {world.lead_unit} 新同事", "同意")
    return await driver.press(where, USERS[role], message, data)


def has(*words: str) -> Callable[[Outcome], bool]:
    return lambda outcome: all(word in outcome.texts for word in words)


def sent_file(outcome: Outcome) -> bool:
    return any(m.kind == "document" for m in outcome.messages)


def sent_ledger_of_the_unit(outcome: Outcome) -> bool:
    """A ledger with the unit's sheet (an empty ledger of 0 units shows nothing)."""
    return sent_file(outcome) and "工作台账：0 个单位" not in outcome.texts


@dataclass(frozen=True)
class Case:
    """One command or button kind: the roles allowed in the group and in private, and what "allowed" looks like."""

    name: str
    act: Callable[[Driver, World, dict, str], object]
    group: frozenset[str]
    private: frozenset[str]
    shows: Callable[[Outcome], bool]
    changes: bool = False  # an allowed action stores something
    leaks: Callable[[Outcome], bool] = field(default=lambda outcome: SECRET_REPORT in outcome.texts)


def cmd(words: str) -> Callable[[Driver, World, dict, str], object]:
    return lambda d, w, c, r: command(words, d, w, c, r)


MATRIX = [
    Case("/ask", cmd(f"/ask {NUMBER}"), ALL, ALL, has("环评科")),
    Case("/rules", cmd("/rules 000"), ALL, ALL, has("报送规则")),
    Case("/deadline list", cmd("/deadline list"), ALL, ALL, has("提醒规则")),
    Case("/report", cmd(f"/report {NUMBER} 已完成 矩阵测试"), OWNERS_VIEW, OWNERS_VIEW, has("已登记"), changes=True),
    Case("/history", cmd(f"/history {NUMBER}"), OWNERS_VIEW, OWNERS_VIEW, has(SECRET_REPORT)),
    Case("/files", cmd(f"/files {NUMBER}"), OWNERS_VIEW, OWNERS_VIEW, has(SECRET_FILE), leaks=has(SECRET_FILE)),
    Case("/status 单位", cmd("/status {unit}"), OWNERS_VIEW, OWNERS_VIEW, has("已报 1 /")),
    Case(
        "/export 单位",
        cmd("/export 2026-10 {unit}"),
        OWNERS_VIEW,
        OWNERS_VIEW,
        sent_ledger_of_the_unit,
        leaks=sent_ledger_of_the_unit,
    ),
    Case("/bundle", cmd("/bundle 2026-10"), COORDINATION, COORDINATION, sent_file, leaks=sent_file),
    Case("/join", cmd("/join {unit}"), ALL, ALL, has("登记")),
    Case("/addmember", cmd("/addmember {id} {unit} 新人"), COORDINATION, COORDINATION, has("已添加"), changes=True),
    Case(
        "/addmember 协调人",
        cmd("/addmember {id} {unit} 新人 协调人 000"),
        COORDINATION,
        COORDINATION,
        has("已添加协调人"),
        changes=True,
    ),
    Case("/bind", cmd("/bind {unit} 000"), COORDINATION, NOBODY, has("已将本群绑定"), changes=True),
    Case(
        "/deadline add",
        cmd("/deadline add 2026-12-10 矩阵自查{n}"),
        COORDINATION,
        ADMIN,
        has("已添加截止日期"),
        changes=True,
    ),
    Case("/deadline day", cmd("/deadline day {n}"), COORDINATION, ADMIN, has("已设置"), changes=True),
    Case(
        "/rules set",
        cmd("/rules set 000 monthly.report_day {n}"),
        COORDINATION,
        COORDINATION,
        has("已修改"),
        changes=True,
    ),
    Case("/webhook off", cmd("/webhook off"), COORDINATION, NOBODY, has("已停止")),
    Case(
        "button 详情 (d)",
        lambda d, w, c, r: admin_button(f"/ask {NUMBER}", "详情", d, w, c, r),
        ALL,
        ALL,
        has("回复本消息发送文件"),
    ),
    Case(
        "button 报进度 (rp)",
        lambda d, w, c, r: admin_button(f"/ask {NUMBER}", "报进度", d, w, c, r),
        OWNERS_VIEW,
        OWNERS_VIEW,
        has("上月完成情况"),
    ),
    Case(
        "button 上传材料 (ru)",
        lambda d, w, c, r: admin_button(f"/ask {NUMBER}", "上传材料", d, w, c, r),
        OWNERS_VIEW,
        OWNERS_VIEW,
        has("请发送文件"),
    ),
    Case(
        "button 重发 (fs)",
        lambda d, w, c, r: admin_button(f"/files {NUMBER}", "重发", d, w, c, r),
        OWNERS_VIEW,
        OWNERS_VIEW,
        sent_file,
        leaks=sent_file,
    ),
    Case("button 同意 (jy)", join_decision, COORDINATION, COORDINATION, has("已同意"), changes=True),
    Case("button 单位 of /join (jp)", lambda d, w, c, r: own_button("/join", "", d, w, c, r), ALL, ALL, has("登记")),
    Case(
        "button 确认登记 of another's preview (rc)",
        lambda d, w, c, r: someone_elses_button(
            f"/report\n{NUMBER} 已完成 甲\n{NUMBER} 未完成 乙", "确认登记", d, w, c, r
        ),
        frozenset({"owner"}),
        frozenset({"owner"}),
        has("回执"),
        changes=True,
    ),
    Case(
        "forged fs|id (no signature)",
        lambda d, w, c, r: forged("fs|{file}", d, w, c, r),
        NOBODY,
        NOBODY,
        sent_file,
        leaks=sent_file,
    ),
    Case(
        "forged d|id (no signature)",
        lambda d, w, c, r: forged("d|{indicator}", d, w, c, r),
        NOBODY,
        NOBODY,
        has("回复本消息发送文件"),
    ),
]


@pytest.mark.parametrize("case", MATRIX, ids=[case.name for case in MATRIX])
async def test_authorization_matrix(
    case: Case, sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str
) -> None:
    world = build_world(seeded_copy_url, sandbox)
    driver = Driver(sandbox, world)
    failures = []
    for place, chat, allowed in (("group", GROUP, case.group), ("private", None, case.private)):
        for role in ROLES:
            where = chat or BotApiSandbox.private_chat(USERS[role])
            outcome = await case.act(driver, world, where, role)  # type: ignore[misc]
            before, after = driver.before, fingerprint(world.url)
            expected = role in allowed
            if case.shows(outcome) != expected:
                failures.append(f"{place}/{role}: expected {'allow' if expected else 'deny'}, got {outcome.texts!r}")
            if not expected and (before != after or case.leaks(outcome)):
                failures.append(f"{place}/{role}: denied but changed rows or leaked: {outcome.texts!r}")
            if expected and case.changes and before == after:
                failures.append(f"{place}/{role}: allowed but stored nothing")
    _ENGINES.pop(world.url).dispose()
    assert failures == []

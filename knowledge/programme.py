"""Answers about the programme itself, from the documents' profiles (``knowledge.profile``).

``每月几号前交``, ``台账交给谁``, ``涉密材料要不要上传``, ``情况说明最多写多少字``,
``督导检查组组长电话多少``, ``自查阶段是什么时候``: each answer line names its document and
quotes the document's own wording (its 说明 line) as the source. ``我们科还有哪些没报``
needs the asker's unit and period, so it is only recognised here (``pending``) and answered
by the chat handler.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from knowledge.model import ParsedDocument
from knowledge.profile import Contact, Profile

PENDING = "pending"

# Topic → a pattern over the question (scan form: no spaces or punctuation). Order matters:
# the first topic whose pattern matches answers.
TOPIC_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        PENDING,
        re.compile(
            r"(还有|还差|哪些|哪几项|几项|多少项)\w{0,6}(没报|未报|没交|未交|没填|漏报|没有报)|(没报|未报|漏报)的?(有|是)?哪些"
        ),
    ),
    ("classified", re.compile(r"涉密|保密|密级|秘密|机密|绝密")),
    ("note_length", re.compile(r"多少字|字数|几个字|几百字|多少个字|字以内|写多长|多长|字数限制")),
    (
        "contacts",
        re.compile(
            r"(专班|领导小组|协调组|检查组|报道组|保障组|督导组|宣传组|后勤组|办公室主任)\w{0,6}"
            r"(组长|副组长|成员|是谁|有谁|有哪些人|电话|手机|号码|联系方式|怎么联系|找谁)"
            r"|组长\w{0,2}(是谁|电话|手机|号码|联系方式)|联系人|(电话|手机号|号码|联系方式)(多少|是多少|是啥)?$"
        ),
    ),
    ("phases", re.compile(r"自查|实地督察|督察(阶段|时间|安排)|整改报告|反馈整改|迎接督察|哪几个阶段|工作步骤|阶段")),
    (
        "statuses",
        re.compile(
            r"完成进度|进度怎么填|怎么填写?|填什么|(不涉及|无材料)\w{0,8}(怎么办|咋办|怎么填|选什么)?|状态有哪些"
        ),
    ),
    (
        "reporters",
        re.compile(
            r"谁来?(汇总|报送|上报|填报)|(配合单位|牵头单位)\w{0,4}(要不要|需不需要|用不用|要|需要)\w{0,2}(报|填)|由谁汇总"
        ),
    ),
    ("formats", re.compile(r"什么格式|格式要求|pdf|标题怎么写|文件格式|几份|一式|纸质")),
    (
        "schedule",
        re.compile(
            r"(几号|哪天|哪一天|什么时候|啥时候|何时|截止|最晚|几日|日期|期限|多久)\w{0,6}(交|报|提交|上报|报送|汇总|截止)?"
            r"|(交|报|提交|上报|报送|汇总)\w{0,4}(几号|哪天|什么时候|啥时候|截止)"
            r"|(几号|哪天|什么时候|啥时候)\w{0,4}(之前|以前|前)"
            r"|(交给|报给|发给|送给|交到|报到|发到|送到|报送给|上报给|报至)(谁|哪|哪里|哪儿|哪个)|邮箱|(交|报)哪里|(交|报)哪个"
        ),
    ),
)
# A schedule question must be about reporting, not about a date inside an indicator.
_SCHEDULE_CONTEXT_RE = re.compile(r"台账|材料|交|报送|上报|提交|汇总|每月|每个月|截止|邮箱|报给|报到|报至|发到")
_GROUP_RE = re.compile(
    r"综合协调组|督导检查组|宣传报道组|后勤保障组|领导小组|协调组|检查组|报道组|保障组|督导组|宣传组|后勤组"
)
_PHONE_RE = re.compile(r"电话|手机|号码|联系方式|怎么联系")

TOPIC_TITLES = {
    "schedule": "报送时间和报送对象",
    "classified": "涉密材料",
    "note_length": "情况说明字数",
    "contacts": "联系人",
    "phases": "工作阶段",
    "statuses": "完成情况怎么填",
    "reporters": "谁来报送",
    "formats": "材料格式",
}


@dataclass
class ProgrammeLine:
    """One document's answer and the document's own words it comes from."""

    document: str  # display name
    text: str
    source: str = ""


@dataclass
class ProgrammeAnswer:
    """What the documents say about one programme question."""

    topic: str
    title: str
    lines: list[ProgrammeLine] = field(default_factory=list)


def classify(question: str) -> str | None:
    """The programme topic a question (scan form) asks about, if any."""
    for topic, pattern in TOPIC_PATTERNS:
        if pattern.search(question):
            if topic == "schedule" and not _SCHEDULE_CONTEXT_RE.search(question):
                continue
            return topic
    return None


def _day(value: date | None) -> str:
    return f"{value.month}月{value.day}日" if value else ""


def _clause(text: str, word: str) -> str:
    """The clause of ``text`` that contains ``word`` (clauses end at ；。)."""
    for piece in re.split(r"[；;。]", text):
        if word in piece:
            return piece.strip()
    return ""


def _schedule(profile: Profile) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    monthly = profile.monthly
    if monthly and monthly.report_day:
        month = "上月" if monthly.reported_month == "previous" else "当月"
        text = f"每月{monthly.report_day}日前报送{month}完成情况（工作台账随同报送材料一并提交）"
        if monthly.report_to:
            text += f"，交{monthly.report_to}"
        if monthly.coordinator_day:
            who = monthly.report_to or "牵头科室"
            text += f"；{who}每月{monthly.coordinator_day}日前汇总上报{monthly.summary_to or '上级'}"
        found.append((text + "。", monthly.source))
    for deadline in profile.one_offs:
        to = f"，报至{deadline.to}" if deadline.to else ""
        found.append((f"{deadline.written or _day(deadline.due)}前{deadline.title}{to}。", deadline.source))
    for phase in profile.phases:
        for item in phase.deliverables:
            to = f"，报{item.to}" if item.to else ""
            found.append((f"{phase.title}：{item.written or _day(item.due)}{item.title}{to}。", item.source))
    if profile.yearly_reporting:
        found.append((profile.yearly_reporting, profile.yearly_reporting))
    return found


def _phases(profile: Profile) -> list[tuple[str, str]]:
    found = []
    for phase in profile.phases:
        when = phase.written or "–".join(_day(d) for d in (phase.start, phase.end) if d)
        text = f"{phase.title}：{when}"
        for item in phase.deliverables:
            text += f"；{item.written or _day(item.due)}{item.title}" + (f"报{item.to}" if item.to else "")
        found.append((text + "。", phase.written))
    for year in profile.yearly_phases:
        found.append((f"{year.year}年：{year.title}。", year.written))
    return found


def _classified(profile: Profile) -> list[tuple[str, str]]:
    clause = _clause(profile.evidence.source, "涉密")
    if not clause:
        return []
    if profile.evidence.classified_on_paper and "实地核验" in clause:
        text = "涉密材料不上传，在实地核验时提供。"
    elif profile.evidence.classified_on_paper:
        text = "涉密材料不在系统上提供，确需提供的可以提供纸质材料。"
    else:
        text = "涉密材料按文件要求处理。"
    return [(text, clause)]


def _note_length(profile: Profile) -> list[tuple[str, str]]:
    rules = profile.evidence
    if not rules.note_chars:
        return []
    text = f"情况说明一般不超过{rules.note_chars}字"
    if rules.note_chars_max:
        text += f"，最多不超过{rules.note_chars_max}字"
    text += "；指标另有字数要求的按指标要求。"
    return [(text, _clause(rules.source, "字"))]


def _statuses(profile: Profile) -> list[tuple[str, str]]:
    text = "完成情况填：" + "、".join(profile.statuses)
    if "无材料" in profile.statuses:
        text += "（不涉及本部门的指标选“无材料”或上传相关说明，此项不作评价）"
    else:
        text += "（写“已完成＋具体完成情况”或“未完成＋正在推进情况”）"
    return [(text + "。", "")]


def _reporters(profile: Profile) -> list[tuple[str, str]]:
    text = {
        "lead": "工作台账完成情况由牵头单位汇总报送，配合单位把材料交牵头单位。",
        "each_listed": "牵头单位和参加单位都要报送各自承担的任务。",
    }.get(profile.reporters, "牵头单位和配合单位都要报送。")
    return [(text, profile.reporters_source)]


def _formats(profile: Profile) -> list[tuple[str, str]]:
    rules = profile.evidence
    parts = []
    if rules.formats:
        parts.append("材料格式：" + "、".join(rules.formats))
    if rules.note_title_pattern:
        parts.append(f"情况说明标题为{rules.note_title_pattern}")
    if rules.paper_copies:
        parts.append("创建材料需提供纸质份（一式三份）")
    return [("；".join(parts) + "。", rules.source)] if parts else []


def _contacts(profile: Profile, question: str) -> list[tuple[str, str]]:
    group_match = _GROUP_RE.search(question)
    wanted_group = group_match.group(0) if group_match else ""
    named = [c for c in profile.contacts if c.name and c.name in question]
    chosen: list[Contact]
    if named:
        chosen = named
    elif wanted_group:
        chosen = [
            c for c in profile.contacts if c.group and (wanted_group in c.group or c.group.startswith(wanted_group[:2]))
        ]
        if "组长" in question and "副组长" not in question:
            chosen = [c for c in chosen if c.role == "组长"] or chosen
    elif "联系人" in question:
        chosen = [c for c in profile.contacts if c.role == "联系人"]
    else:
        chosen = [c for c in profile.contacts if c.phones]
    lines = []
    for contact in chosen[:12]:
        where = f"{contact.group}{contact.role}" if contact.group else contact.role
        phones = f"，电话 {'、'.join(contact.phones)}" if contact.phones else ""
        lines.append(f"{where}：{contact.name}{phones}")
    if not lines:
        return []
    return [("；".join(lines) + "。", "组织领导：领导小组及工作专班名单")]


def answer(
    topic: str,
    question: str,
    profiles: Sequence[Profile],
    documents: dict[str, ParsedDocument],
    scope: Sequence[str] = (),
) -> ProgrammeAnswer:
    """What the documents (those in ``scope`` if given) say about ``topic``."""
    result = ProgrammeAnswer(topic, TOPIC_TITLES.get(topic, topic))
    for profile in profiles:
        if scope and profile.document_id not in scope:
            continue
        document = documents.get(profile.document_id)
        if document is None:
            continue
        name = document.short_name or document.title or profile.document_id
        if topic == "contacts":
            found = _contacts(profile, question)
        else:
            found = {
                "schedule": _schedule,
                "phases": _phases,
                "classified": _classified,
                "note_length": _note_length,
                "statuses": _statuses,
                "reporters": _reporters,
                "formats": _formats,
            }[topic](profile)
        result.lines += [ProgrammeLine(name, text, source) for text, source in found]
    return result

"""Routing a question: entities first, then what the rest of the question asks.

Every unit, person, title (``王科长``) and document (``焦作``, ``司法局那张表``, ``打分表``)
is found anywhere in the question by longest match (:mod:`knowledge.entities`). What is
left decides the intent: a number (``打分表政府那张第5项``, ``司法局带星的第2条``), an
owner's list (``刘建设手里有几项``, ``办公室都管哪些事``: nothing but owner words left), a
topic that asks for its owner (``谁负责``, ``归哪个科``, ``找谁``) or a plain topic. A
greeting or ``你能干什么`` is ``help``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from knowledge.dictionary import DomainDictionary
from knowledge.entities import DOCUMENT_HINTS, KIND_WORDS, EntityMatcher, Mention, Slot, scan_form
from knowledge.normalize import half_width, to_simplified
from knowledge.programme import classify

MAX_QUERY_CHARS = 200
__all__ = ["DOCUMENT_HINTS", "HELP_TEXT", "Query", "clean_question", "parse_query"]

_MARKUP_RE = re.compile(r"<[^>]{0,200}>|[*_`#>\[\]]|@\w+|^/ask\S*")
_CONTENT_RE = re.compile(r"[\u3400-\u9fffA-Za-z0-9★]")

TABLE_WORDS_RE = re.compile(r"表|台账|文件|方案|那张|这张|体系")
TABLE_HINTS = (("党委", "党委"), ("政府", "政府"))
_STAR_RE = re.compile(r"(?:带|打|标|有)?(?:星号|星标|五角星|星)(?:的|那个|那条|标的)?")
_PAREN_RE = re.compile(r"(?:带|加|有)?括号(?:的)?")

_NUMBER_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"(加分|减分)项?第?(\d{1,2})[项条个]?"), lambda m: f"{m.group(1)}{int(m.group(2))}"),
    (re.compile(r"★第?(\d{1,3})"), lambda m: f"★{int(m.group(1))}"),
    (re.compile(r"\((\d{1,3})\)"), lambda m: f"({int(m.group(1))})"),
    (re.compile(r"第?(\d{1,3})(?:号|项|条|个)?"), lambda m: str(int(m.group(1)))),
)
_NUMBER_FILLER_RE = re.compile(
    r"指标|那张表|这张表|那张|这张|表格|表里|表中|表上|表|的|是什么|是啥|什么|内容|第|号|项|条|查询|查|一下|看看|看|"
    r"请问|里面|里头|里|中|呢|吗|是|写的|写了|讲的|说的|要求|在|那一|那个|这个|一|了|啥|个|说|讲|帮我|我|给|方案|文件|文档|附件"
)
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER_RE = re.compile(r"(?<=第)[一二两三四五六七八九十百零]+|[一二两三四五六七八九十百零]+(?=[项条号])")

# What may be left around an owner's name in a question asking for that owner's list.
_OWNER_LIST_RE = re.compile(
    r"管哪些|管什么|管啥|都管|负责啥|负责什么|负责哪些|负责的|有哪些任务|有哪些|的活儿?|手里|手上|干啥|干什么|做啥|做什么|"
    r"要干|要做|有几项|几项|几条|多少项|多少条|多少个|都有啥|有啥|牵头的|配合的|的指标|的工作|的任务|的事儿?|指标|工作|任务|"
    r"事项|事情|事儿?|活儿?|负责|牵头|配合|参加|参与|承担|分工|哪些|都|的|是|请问|查一下|查查|查|一下|看看|那边|这边|那里|"
    r"我想|想|知道|列一下|列出|清单|全部|所有|一共|总共|共|啥|什么|呢|吗|了|在|给我|我|帮|有|要|管|哪|些|个|还|你好|麻烦|"
    r"方案|文件|表格|表|那张|这张|里面|里|中|方面|那个|这个|们|科|单位|部门|"
    r"要报|报送|上报|填报|材料|落实|具体|内容|东西|项目|多少|几个|几条|条|项|分别|和|与|及"
)
# Question scaffolding around a topic (the frame of the question, never its content).
_TOPIC_FILLER_RE = re.compile(
    r"我想问一下|我想了解一下|想了解一下|想问一下|请问一下|我想知道|我想问|想知道|"
    r"了解一下|问一下|咨询一下|麻烦问下|请问|我们单位|咱们单位|我们科|我们|咱们|"
    r"关于|这一块|这块|这方面|有什么具体要求|有什么要求|有哪些要求|具体要求是什么|"
    r"要求是什么|是怎么规定的|怎么规定的|有什么规定|有哪些规定|是指什么|指的是什么|"
    r"是什么|是啥|怎么办|怎么弄|怎么做|怎么|如何|需要做哪些工作|需要做什么|要做什么|"
    r"应该怎么|要达到多少|达到多少|是多少|什么|哪些|哪个|有没有|是不是|一下|吗|呢|"
    r"吧|啊|[?？!！]"
)
# A greeting or a question about the bot itself: nothing is left once these words are removed.
_HELP_WORDS_RE = re.compile(
    r"你好|您好|哈喽|嗨|hi|hello|在吗|在不在|早上好|下午好|晚上好|早安|晚安|谢谢|多谢|感谢|辛苦了|请问|打扰了|"
    r"机器人|小助手|助手|功能|帮助|帮忙|使用说明|说明书|介绍一下|介绍|help|start|"
    r"你是谁|是谁|怎么用|如何使用|怎么使用|怎么问|用法|能干什么|能做什么|能干啥|能做啥|会什么|会干啥|能查什么|能查啥|"
    r"你|您|这个|能|会|可以|都|做|干|查|用|使用|怎么|如何|什么|啥|嘛|么|些|有|吗|呢|啊|呀|哦|了|的|在|不|我|一下|问|好|嗯|"
    r"人|呐|哈|喂|老师|大家"
)
_GREETING_CORE_RE = re.compile(
    r"有人|在么|喂|你好|您好|哈喽|嗨|hi|hello|在吗|在不在|早|谢|感谢|辛苦|机器人|助手|功能|帮助|help|start|"
    r"怎么用|如何使用|怎么使用|怎么问|用法|能干|能做|会什么|会干|能查|你是谁|介绍"
)


def _is_help(scanned: str) -> bool:
    """A greeting or ``你能干什么``: a help word, and nothing else of substance."""
    return bool(_GREETING_CORE_RE.search(scanned)) and not _HELP_WORDS_RE.sub("", scanned)


HELP_TEXT = (
    "您好！我是法治政府建设台账助手，可以这样问我：\n"
    "• 某项工作是哪条指标、谁负责：“执法文书格式谁负责”\n"
    "• 某个科室或负责人的全部任务：“法规科管哪些”“李建伟负责哪些”\n"
    "• 按编号查：“12号指标”“司法局带星的第2条”“打分表政府那张第5项”\n"
    "• 工作要求：“每月几号前交”“台账交给谁”“涉密材料要不要上传”\n"
    "报送进度：/report；本单位未报：“我们科还有哪些没报”。"
)


@dataclass
class Query:
    """A question after routing."""

    raw: str
    intent: str  # number | owner | programme | topic | help | empty
    topic: str = ""
    expansions: list[str] = field(default_factory=list)
    owner_first: bool = False
    documents: list[str] = field(default_factory=list)
    table: str = ""
    number_key: str = ""
    owners: list[Slot] = field(default_factory=list)
    owner_documents: list[str] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    named_documents: list[str] = field(default_factory=list)
    programme_topic: str = ""
    scanned: str = ""
    message: str = ""


def clean_question(text: str) -> str:
    """Strip markup, mentions and the /ask command; half-width; bounded length."""
    text = half_width(text or "")
    text = _MARKUP_RE.sub(" ", text.strip())
    return re.sub(r"\s+", " ", text).strip()[:MAX_QUERY_CHARS]


def _cn_number(text: str) -> int:
    """``十二`` → 12, ``一百零三`` → 103, ``二十`` → 20."""
    total, current = 0, 0
    for char in text:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CN_DIGITS[char]
    return total + current


def _arabic(text: str) -> str:
    return _CN_NUMBER_RE.sub(lambda m: str(_cn_number(m.group(0))), text)


def _without(text: str, mentions: list[Mention]) -> str:
    """``text`` with the mentions cut out (a space where each was)."""
    pieces, position = [], 0
    for mention in mentions:
        pieces.append(text[position : mention.start])
        pieces.append(" ")
        position = mention.end
    pieces.append(text[position:])
    return "".join(pieces)


def parse_query(question: str, dictionary: DomainDictionary, entities: EntityMatcher) -> Query:
    """Route ``question`` by the names it mentions and what is left around them."""
    text = to_simplified(clean_question(question))
    query = Query(raw=text, intent="topic")
    if not _CONTENT_RE.search(text):
        query.intent = "empty"
        query.message = "请输入要查询的内容，例如：执法文书格式谁负责、李建伟负责哪些、12号指标"
        return query
    scanned = scan_form(text)
    if _is_help(scanned):
        query.intent = "help"
        query.message = HELP_TEXT
        return query
    query.scanned = scanned
    for phrase in dictionary.owner_phrases:
        if phrase in scanned:
            query.owner_first = True
            scanned = scanned.replace(phrase, " ")
    mentions = entities.find(scanned.replace(" ", ""))
    scanned = scanned.replace(" ", "")
    query.mentions = mentions
    named_documents = [m for m in mentions if m.kind == "document"]
    owners = [m for m in mentions if m.kind in ("unit", "person", "title")]
    documents: set[str] | None = None
    for mention in named_documents:
        docs = set(mention.documents)
        documents = docs if documents is None else (documents & docs or documents | docs)
    specific: set[str] | None = None
    for mention in named_documents:
        if mention.surface not in KIND_WORDS:
            docs = set(mention.documents)
            specific = docs if specific is None else (specific & docs or specific | docs)
    query.named_documents = sorted(specific or [])
    if _number_query(query, _without(scanned, sorted(named_documents + owners, key=lambda m: m.start)), documents):
        return query
    if owners:
        left = _OWNER_LIST_RE.sub("", _without(scanned, sorted(named_documents + owners, key=lambda m: m.start)))
        left = re.sub(r"\s+", "", left)
        if len(left) <= 1 and not query.owner_first:
            query.intent = "owner"
            query.owners = sorted({slot for m in owners for slot in m.slots})
            owner_docs = {d for m in owners for d in m.documents}
            if documents:
                owner_docs &= documents
            query.owner_documents = sorted(owner_docs)
            return query
        query.owners = sorted({slot for m in owners for slot in m.slots})
    topic = classify(query.scanned)
    if topic:
        query.intent = "programme"
        query.programme_topic = topic
        return query
    if documents and TABLE_WORDS_RE.search(scanned):
        query.documents = sorted(documents)
        scanned = _without(scanned, named_documents).replace(" ", "")
        scanned = re.sub(r"那张表|这张表|那张|这张|表里|表中|里的|里", "", scanned)
    query.topic = re.sub(r"\s+", "", _TOPIC_FILLER_RE.sub(" ", scanned))
    if not query.topic:
        query.topic = scanned
    return query


def _number_query(query: Query, text: str, documents: set[str] | None) -> bool:
    """Fill ``query`` as a number question if ``text`` (names cut out) is one."""
    text = _arabic(text.replace(" ", ""))
    table = ""
    if documents:
        for word, name in TABLE_HINTS:
            if word in text:
                table = name
                text = text.replace(word, "")
    starred = bool(_STAR_RE.search(text)) or "★" in text
    bracketed = bool(_PAREN_RE.search(text))
    text = _PAREN_RE.sub("", _STAR_RE.sub("", text)).replace("★", "")
    number = _find_number(text)
    if number is None:
        return False
    key, span = number
    residual = _NUMBER_FILLER_RE.sub("", text[: span[0]] + text[span[1] :])
    if residual:
        return False
    if key.isdigit() and starred:
        key = f"★{key}"
    elif key.isdigit() and bracketed:
        key = f"({key})"
    query.intent = "number"
    query.number_key = key
    query.table = table
    query.documents = sorted(documents) if documents else []
    return True


def _find_number(text: str) -> tuple[str, tuple[int, int]] | None:
    for pattern, key in _NUMBER_PATTERNS:
        match = pattern.search(text)
        if match:
            return key(match), match.span()
    return None

"""Chinese HTML text of search answers (every piece of data escaped, under 4096 characters)."""

from __future__ import annotations

from html import escape

from knowledge.dates import chinese_date
from knowledge.model import Owner, ParsedIndicator
from knowledge.profile_reader import milestones_of
from knowledge.programme import ProgrammeAnswer
from knowledge.search import Entry, Hit, SearchResult

PAGE_SIZE = 3
OWNER_PAGE_SIZE = 20
MAX_MESSAGE = 4000


def trim(text: str, limit: int) -> str:
    """Shorten to ``limit`` characters at a sentence or clause end where possible."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for mark in ("。", "；", "，"):
        position = cut.rfind(mark)
        if position >= limit * 0.6:
            return cut[: position + 1] + "…"
    return cut + "…"


def owners_text(owners: list[Owner]) -> str:
    """``法规科（刘海利）、支队`` or ``—``."""
    if not owners:
        return "—"
    return "、".join(escape(o.unit) + (f"（{escape('、'.join(o.persons))}）" if o.persons else "") for o in owners)


def _owner_lines(item: ParsedIndicator) -> list[str]:
    if item.unassigned and not item.leads:
        note = f"（{escape(item.owner_note)}）" if item.owner_note else ""
        return [f"<b>牵头单位</b>：未分配{note}"]
    lines = [f"<b>牵头单位</b>：{owners_text(item.leads)}"]
    if item.coops:
        lines.append(f"<b>配合单位</b>：{owners_text(item.coops)}")
    return lines


def brief_card(position: int, hit: Hit, owner_first: bool) -> str:
    """A result in a list: label, owners, heading, text (trimmed), materials, methods."""
    item = hit.entry.indicator
    heading = " / ".join(escape(h) for h in (item.level1, item.level2) if h)
    body = [f"{position}. <b>{escape(hit.entry.label)}</b>"]
    details = []
    if heading:
        details.append(heading)
    details.append(escape(trim(item.text, 90)))
    owners = _owner_lines(item)
    body += owners + details if owner_first else details + owners
    if item.materials:
        body.append(f"<b>上报资料</b>：{escape(trim(item.materials, 60))}")
    if item.methods:
        body.append(f"<b>测评方法</b>：{escape('、'.join(item.methods))}")
    return "\n".join(body)


def full_card(entry: Entry) -> str:
    """Everything about one indicator (the 详情 button)."""
    item = entry.indicator
    lines = [f"<b>{escape(entry.label)}</b>"]
    if item.level1:
        lines.append(f"<b>一级指标</b>：{escape(item.level1)}")
    if item.level2:
        lines.append(f"<b>二级指标</b>：{escape(item.level2)}")
    lines.append(f"<b>内容</b>：{escape(item.text)}")
    milestones = milestones_of(item)
    if milestones:
        dated = "；".join(f"{chinese_date(m.due)}前{m.text}" for m in milestones)
        lines.append(f"<b>时间节点</b>：{escape(dated)}")
    lines += _owner_lines(item)
    if item.owner_note and not item.unassigned:
        lines.append(f"<i>{escape(item.owner_note)}</i>")
    if item.materials:
        lines.append(f"<b>上报资料</b>：{escape(item.materials)}")
    if item.methods:
        lines.append(f"<b>测评方法</b>：{escape('、'.join(item.methods))}")
    if item.criteria:
        lines.append(f"<b>检查标准</b>：{escape(item.criteria)}")
    if item.points is not None:
        lines.append(f"<b>分值</b>：{item.points:g} 分")
    text = "\n".join(lines)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _scope_line(result: SearchResult, names: dict[str, str]) -> str:
    if result.scope_note:
        return f"范围：{escape(result.scope_note)}"
    if len(result.scope_documents) == 1:
        return f"范围：{escape(names.get(result.scope_documents[0], result.scope_documents[0]))}"
    return "范围：全部文档"


PENDING_WITHOUT_UNIT = "要查看本单位本期还有哪些没报，请先用 /join 登记所属单位，然后在群里再问一次（或发送 /status）。"
NO_PROGRAMME_ANSWER = "文件里没有写明这一点。可以点下方按钮把问题转给协调人。"


def programme_text(answer: ProgrammeAnswer) -> str:
    """A programme answer: per document what it says, with the document's own words as source."""
    if not answer.lines:
        return f"📌 <b>{escape(answer.title)}</b>\n{NO_PROGRAMME_ANSWER}"
    lines = [f"📌 <b>{escape(answer.title)}</b>"]
    grouped: dict[tuple[str, str], list[str]] = {}
    for line in answer.lines:
        grouped.setdefault((line.text, line.source), []).append(line.document)
    for (text, source), documents in grouped.items():
        lines.append(f"\n<b>{escape('、'.join(dict.fromkeys(documents)))}</b>：{escape(text)}")
        if source:
            lines.append(f"<i>来源：{escape(trim(source, 160))}</i>")
    text = "\n".join(lines)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def result_page(result: SearchResult, page: int, names: dict[str, str]) -> tuple[str, list[Hit], bool]:
    """(HTML text, hits shown, has more) of one page of an answer."""
    if result.intent in ("empty", "help"):
        return escape(result.message), [], False
    if result.intent == "pending":
        return PENDING_WITHOUT_UNIT, [], False
    if result.programme is not None:
        return programme_text(result.programme), [], False
    if result.uncertain:
        return _closest_page(result, names), result.hits[:PAGE_SIZE], False
    if not result.hits:
        if result.message:
            text = escape(result.message) + "。"
        else:
            text = f"没有找到与“{escape(result.query)}”相关的指标。"
        if result.suggestions:
            text += "\n可以试试这些方向：\n" + "\n".join(f"• {escape(s)}" for s in result.suggestions)
        text += "\n也可以换个说法，或发送指标编号（如“12号指标”）、单位或负责人姓名。"
        return text, [], False
    if result.intent == "owner":
        return _owner_page(result, page, names)
    size = PAGE_SIZE
    start = page * size
    shown = result.hits[start : start + size]
    head = (
        f"🔎 <b>{escape(result.query)}</b>：找到 {len(result.hits)} 项"
        f"（第 {start + 1}–{start + len(shown)} 项）\n{_scope_line(result, names)}"
    )
    if result.owner_first and shown:
        leads = "、".join(dict.fromkeys(o.unit for h in shown for o in h.entry.indicator.leads))
        if leads:
            head += f"\n<b>负责单位</b>：{escape(leads)}"
    cards = [brief_card(start + i + 1, hit, result.owner_first) for i, hit in enumerate(shown)]
    text = head + "\n\n" + "\n\n".join(cards)
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    return text, shown, start + size < len(result.hits)


def _closest_page(result: SearchResult, names: dict[str, str]) -> str:
    """An honest miss: nothing matched well; the three closest indicators, marked as such."""
    head = (
        f"没有找到与“{escape(result.query)}”明确对应的指标。下面是最接近的 {min(len(result.hits), PAGE_SIZE)} 项，"
        "供参考；也可以换个说法，或点“转给协调人”。"
    )
    cards = [brief_card(i + 1, hit, result.owner_first) for i, hit in enumerate(result.hits[:PAGE_SIZE])]
    text = head + "\n\n" + "\n\n".join(cards)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _owner_sections(result: SearchResult, names: dict[str, str], text_limit: int) -> list[str]:
    """Lines of an owner's list: per owner (if several), per document, 牵头 then 配合."""
    lines: list[str] = []
    owners = list(dict.fromkeys(h.owner for h in result.hits))
    for owner in owners:
        mine = [h for h in result.hits if h.owner == owner]
        if len(owners) > 1:
            lines.append(f"\n👤 <b>{escape(owner)}</b>（{len(mine)} 项）")
        for document in dict.fromkeys(h.entry.document for h in mine):
            lines.append(f"\n<b>{escape(names.get(document, document))}</b>")
            for role, title in (("lead", "牵头"), ("coop", "配合")):
                group = [h for h in mine if h.entry.document == document and h.role == role]
                if not group:
                    continue
                if text_limit:
                    lines.append(f"{title} {len(group)} 项：")
                    lines += [
                        f"• {escape(_number_label(h))} {escape(trim(h.entry.indicator.text, text_limit))}"
                        for h in group
                    ]
                else:
                    numbers = "、".join(escape(_number_label(h)) for h in group)
                    lines.append(f"{title} {len(group)} 项：{numbers}")
    return lines


def _number_label(hit: Hit) -> str:
    """``第12项`` / ``党委第5项`` / ``加分项1`` within a document."""
    label = hit.entry.label
    return (
        label.rsplit(" ", 1)[-1]
        if not hit.entry.indicator.table or hit.entry.indicator.table == "附加项"
        else (f"{hit.entry.indicator.table}{label.rsplit(' ', 1)[-1]}")
    )


def _owner_page(result: SearchResult, page: int, names: dict[str, str]) -> tuple[str, list[Hit], bool]:
    """An owner's complete list in one message (texts shortened, or numbers only if long)."""
    who = "、".join(dict.fromkeys(result.owners))
    lead_total = sum(1 for h in result.hits if h.role == "lead")
    coop_total = len(result.hits) - lead_total
    head = f"👤 <b>{escape(who)}</b> 负责的指标共 {len(result.hits)} 项：牵头 {lead_total} 项，配合 {coop_total} 项"
    for limit in (40, 20, 0):
        text = "\n".join([head, *_owner_sections(result, names, limit)])
        if len(text) <= MAX_MESSAGE:
            break
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    if page:
        return text, [], False
    return text, result.hits, False

"""Changing a profile by KEY VALUE (``taizhang profile set``, ``/rules set``, ``/deadline day``) and describing it.

Every change is remembered in ``profile.edits`` so a re-import of the same document keeps it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from knowledge.dates import chinese_date, parse_date
from knowledge.errors import Refusal
from knowledge.profile import (
    REPORTED_MONTH_CURRENT,
    REPORTED_MONTH_PREVIOUS,
    REPORTERS,
    REPORTERS_EACH_LISTED,
    REPORTERS_LEAD,
    DatedDeadline,
    Monthly,
    Profile,
)

NONE_WORDS = {"none", "无", "不设", "取消", "-", "0"}
YES_WORDS = {"yes", "true", "是", "1", "on"}
NO_WORDS = {"no", "false", "否", "0", "off"}

KEYS_HELP = (
    "可设置的项目：monthly.report_day 日（none 取消）、monthly.coordinator_day 日、monthly.report_to 科室、"
    "monthly.summary_to 单位、monthly.reported_month previous|current、reporters lead|lead_and_coop|each_listed、"
    "statuses 已完成,未完成,无材料、one_off.add 日期 标题、one_off.remove 日期、one_off.N.due 日期、"
    "phase.N.start|end 日期、evidence.note_chars 字数、evidence.note_chars_max 字数、evidence.formats PDF、"
    "evidence.classified_on_paper 是|否"
)


def _day(value: str) -> int | None:
    if value.strip().lower() in NONE_WORDS:
        return None
    match = re.fullmatch(r"(?:每月)?\s*(\d{1,2})\s*[日号]?(?:前)?", value.strip())
    if not match or not 1 <= int(match.group(1)) <= 31:
        raise Refusal(f"“{value}”不是有效的日期（1–31；小月会自动提前到月底；none 表示取消）")
    return int(match.group(1))


def _monthly(profile: Profile) -> Monthly:
    if profile.monthly is None:
        profile.monthly = Monthly()
    return profile.monthly


def _bool(value: str) -> bool:
    if value.strip().lower() in YES_WORDS:
        return True
    if value.strip().lower() in NO_WORDS:
        return False
    raise Refusal(f"“{value}”请写 是 或 否")


def _count(value: str) -> int | None:
    if value.strip().lower() in NONE_WORDS:
        return None
    if not value.strip().isdigit():
        raise Refusal(f"“{value}”不是字数")
    return int(value.strip())


def _index(items: list[object], raw: str, what: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= len(items):
        raise Refusal(f"没有第 {raw} 个{what}（共 {len(items)} 个，/rules 查看）")
    return int(raw) - 1


def apply_edit(profile: Profile, key: str, value: str, today: date, *, remember: bool = True) -> str:
    """Set ``key`` to ``value`` in ``profile``; returns a Chinese sentence saying what changed."""
    key = key.strip()
    value = value.strip()
    done: str
    if key in {"monthly.report_day", "monthly.coordinator_day"}:
        day = _day(value)
        monthly = _monthly(profile)
        if key == "monthly.report_day":
            monthly.report_day = day
            done = f"各单位每月报送日：{'每月' + str(day) + '日前' if day else '不设'}"
        else:
            monthly.coordinator_day = day
            done = f"每月汇总上报日：{'每月' + str(day) + '日前' if day else '不设'}"
        if monthly.report_day is None and monthly.coordinator_day is None:
            profile.monthly = None
    elif key in {"monthly.report_to", "monthly.summary_to"}:
        setattr(_monthly(profile), key.split(".")[1], value)
        done = f"{'报送给' if key.endswith('report_to') else '汇总上报给'}：{value}"
    elif key == "monthly.reported_month":
        if value not in {REPORTED_MONTH_PREVIOUS, REPORTED_MONTH_CURRENT, "上月", "本月"}:
            raise Refusal("monthly.reported_month 只能是 previous（上月）或 current（本月）")
        current = value in {REPORTED_MONTH_CURRENT, "本月"}
        _monthly(profile).reported_month = REPORTED_MONTH_CURRENT if current else REPORTED_MONTH_PREVIOUS
        done = f"报送{'本月' if current else '上月'}完成情况"
    elif key == "reporters":
        if value not in REPORTERS:
            raise Refusal(
                "reporters 只能是 lead（仅牵头单位）、lead_and_coop（牵头和配合单位）、each_listed（列出的每个单位）"
            )
        profile.reporters = value
        done = f"谁报送：{REPORTER_WORDS[value]}"
    elif key == "statuses":
        statuses = [s for s in re.split(r"[,，、\s]+", value) if s]
        if not statuses:
            raise Refusal("请列出至少一个状态，如：已完成,未完成,无材料")
        profile.statuses = statuses
        done = f"可选状态：{'、'.join(statuses)}"
    elif key == "one_off.add":
        parts = value.split(maxsplit=1)
        due = parse_date(parts[0], today) if parts else None
        if due is None or len(parts) < 2:
            raise Refusal("用法：one_off.add 日期 标题，例如 one_off.add 10月28日 报送填报材料")
        if due < today:
            raise Refusal(f"{chinese_date(due)} 已经过去，不能设为截止日期")
        profile.one_offs.append(DatedDeadline(parts[1], due, parts[0], added_by="协调人"))
        done = f"新增截止日期：{chinese_date(due)} {parts[1]}"
    elif key == "one_off.remove":
        due = parse_date(value, today)
        kept = [d for d in profile.one_offs if d.due != due]
        if len(kept) == len(profile.one_offs):
            raise Refusal(f"没有 {chinese_date(due)} 的截止日期")
        profile.one_offs = kept
        done = f"已删除 {chinese_date(due)} 的截止日期"
    elif match := re.fullmatch(r"one_off\.(\d+)\.due", key):
        item = profile.one_offs[_index(list(profile.one_offs), match.group(1), "截止日期")]
        item.due = parse_date(value, today)
        done = f"{item.title} 截止日期改为 {chinese_date(item.due)}"
    elif match := re.fullmatch(r"phase\.(\d+)\.(start|end)", key):
        phase = profile.phases[_index(list(profile.phases), match.group(1), "阶段")]
        when = parse_date(value, today)
        if match.group(2) == "start":
            phase.start = when
        else:
            for item in phase.deliverables:
                if item.due == phase.end:
                    item.due = when
            phase.end = when
        done = f"{phase.title}{'开始' if match.group(2) == 'start' else '结束'}日期改为 {chinese_date(when)}"
    elif key in {"evidence.note_chars", "evidence.note_chars_max"}:
        setattr(profile.evidence, key.split(".")[1], _count(value))
        done = f"情况说明字数：{describe_evidence(profile)}"
    elif key == "evidence.formats":
        profile.evidence.formats = [
            f.upper() for f in re.split(r"[,，、\s]+", value) if f and f.lower() not in NONE_WORDS
        ]
        done = f"材料格式：{'、'.join(profile.evidence.formats) or '不限'}"
    elif key == "evidence.classified_on_paper":
        profile.evidence.classified_on_paper = _bool(value)
        done = f"涉密材料{'提供纸质件、不上传' if profile.evidence.classified_on_paper else '无特别要求'}"
    else:
        raise Refusal(f"不认识的项目“{key}”。{KEYS_HELP}")
    if remember:
        profile.edits[key if key != "one_off.add" else f"one_off.add#{len(profile.edits)}"] = value
    return done


def reapply_edits(profile: Profile, edits: dict[str, str], today: date) -> list[str]:
    """Apply a stored profile's coordinator edits to a freshly read one; returns edits that no longer apply."""
    failed = []
    for key, value in edits.items():
        try:
            apply_edit(profile, key.split("#")[0], value, today, remember=False)
            profile.edits[key] = value
        except Refusal:
            failed.append(f"{key} {value}")
    return failed


REPORTER_WORDS = {
    REPORTERS_LEAD: "只由牵头单位汇总报送（配合单位把材料交给牵头单位，不单独报送）",
    "lead_and_coop": "牵头单位和配合单位都要报送",
    REPORTERS_EACH_LISTED: "列出的每个单位（牵头、参加）都要报送",
}


def _past(day: date, today: date) -> str:
    return "（已过）" if day < today else ""


def _label(indicator: str) -> str:
    return f"第{indicator}项" if indicator[:1].isdigit() or indicator[:1] in "(★" else indicator


def describe_evidence(profile: Profile) -> str:
    """``情况说明一般不超过500字，最多1000字；PDF；涉密材料提供纸质件``."""
    rules = profile.evidence
    parts = []
    if rules.note_chars:
        limit = f"情况说明一般不超过{rules.note_chars}字"
        parts.append(limit + (f"，最多不超过{rules.note_chars_max}字" if rules.note_chars_max else ""))
    if rules.note_title_pattern:
        parts.append(f"标题为{rules.note_title_pattern}")
    if rules.formats:
        parts.append(
            "电子文档为" + "、".join(rules.formats) + "格式" + ("，同时提供纸质版" if rules.paper_copies else "")
        )
    if rules.classified_on_paper:
        parts.append("涉密材料不上传，提供纸质材料")
    return "；".join(parts)


def describe(profile: Profile, today: date, document_name: str = "", escape: Callable[[str], str] = str) -> list[str]:
    """The profile in plain Chinese, one line each (each value passed through ``escape``)."""
    e = escape
    lines: list[str] = []
    monthly = profile.monthly
    if monthly and monthly.report_day:
        month = "本月" if monthly.reported_month == REPORTED_MONTH_CURRENT else "上月"
        to = f"，报给{e(monthly.report_to)}" if monthly.report_to else ""
        lines.append(f"每月{monthly.report_day}日前报送{month}完成情况{to}")
    if monthly and monthly.coordinator_day:
        who = e(monthly.report_to) or "协调人"
        to = f"上报{e(monthly.summary_to)}" if monthly.summary_to else "上报"
        lines.append(f"{who}汇总后每月{monthly.coordinator_day}日前{to}")
    if not monthly or not (monthly.report_day or monthly.coordinator_day):
        lines.append("没有每月报送要求")
    for item in profile.one_offs:
        written = (
            f"（文件写“{e(item.written)}”）" if item.written and not item.written.startswith(str(item.due.year)) else ""
        )
        to = f"，报至{e(item.to)}" if item.to else ""
        by = "（协调人添加）" if item.added_by != "文档" else ""
        lines.append(f"截止：{chinese_date(item.due)}前{e(item.title)}{to}{written}{by}{_past(item.due, today)}")
    for number, phase in enumerate(profile.phases, start=1):
        if phase.start and phase.end:
            span = f"{chinese_date(phase.start)}至{chinese_date(phase.end, today)}"
        elif phase.end:
            span = f"{chinese_date(phase.end, today)}前"
        else:
            span = e(phase.written) or "时间待定"
        deliver = "；".join(
            f"{chinese_date(d.due)}前报送{e(d.title)}" + (f"至{e(d.to)}" if d.to else "") + _past(d.due, today)
            for d in phase.deliverables
        )
        lines.append(f"阶段{number}：{e(phase.title)}（{span}）" + (f"，{deliver}" if deliver else ""))
    for year_phase in profile.yearly_phases:
        past = "（已过）" if date(year_phase.year, 12, 31) < today else ""
        lines.append(f"年度阶段：{year_phase.year}年 {e(year_phase.title)}{past}")
    if profile.yearly_reporting:
        lines.append(f"年度报送：{e(profile.yearly_reporting)}")
    if profile.milestones:
        shown = [
            f"{_label(e(m.indicator))} {chinese_date(m.due)}前{e(m.text)}{_past(m.due, today)}"
            for m in profile.milestones[:8]
        ]
        more = f"等 {len(profile.milestones)} 个" if len(profile.milestones) > 8 else ""
        lines.append("指标节点：" + "；".join(shown) + more)
    lines.append(f"谁报送：{REPORTER_WORDS.get(profile.reporters, e(profile.reporters))}")
    lines.append(f"可选状态：{'、'.join(e(s) for s in profile.statuses)}")
    evidence = describe_evidence(profile)
    if evidence:
        lines.append(f"材料要求：{e(evidence)}")
    groups: dict[str, list[str]] = {}
    for contact in profile.contacts:
        if contact.phones or contact.role in {"组长", "联系人"}:
            phones = f"（{'、'.join(contact.phones)}）" if contact.phones else ""
            label = f"{contact.group}{contact.role}" if contact.group else contact.role
            groups.setdefault(label, []).append(f"{contact.name}{phones}")
    if groups:
        lines.append("联系人：" + "；".join(f"{e(k)} {e('、'.join(v))}" for k, v in groups.items()))
    if profile.resolved_dates:
        lines.append("未写年份的日期按导入日解析：" + "；".join(e(r) for r in profile.resolved_dates))
    return lines

"""Reading a programme profile from a document's text: what it states, and nothing else.

A document's dates written without a year are resolved together, as one calendar: the
year is the first one in which the document's last such date falls on or after the day of
import (so 004's phases stay in order), and each resolution is listed for the import report.
Dates written with a year stay as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from knowledge.model import ParsedIndicator
from knowledge.normalize import half_width
from knowledge.profile import (
    NOT_CONCERNED_STATUSES,
    REPORTED_MONTH_PREVIOUS,
    REPORTERS_EACH_LISTED,
    REPORTERS_LEAD,
    REPORTERS_LEAD_AND_COOP,
    Contact,
    DatedDeadline,
    EvidenceRules,
    Milestone,
    Monthly,
    Phase,
    Profile,
    YearPhase,
)
from knowledge.units import is_collective

_CN_NUMBER = "一二三四五六七八九十"


@dataclass
class _MonthDay:
    """A date as written without a year, resolved later."""

    month: int
    day: int
    written: str

    def resolve(self, year: int) -> date:
        return date(year, self.month, min(self.day, 28) if self.month == 2 and self.day == 29 else self.day)


def _flat(text: str) -> str:
    return re.sub(r"[ \t\u3000]+", "", half_width(text))


# ------------------------------------------------------------------ monthly cadence

_MONTHLY = re.compile(r"每月(\d{1,2})日前")


def _monthly(text: str) -> Monthly | None:
    report_day: int | None = None
    coordinator_day: int | None = None
    report_to = summary_to = ""
    sources: list[str] = []
    for match in _MONTHLY.finditer(text):
        day = int(match.group(1))
        before = text[max(0, match.start() - 15) : match.start()]
        after = text[match.end() : match.end() + 80]
        sentence_end = after.find("。")
        after_sentence = after[: sentence_end if sentence_end >= 0 else len(after)]
        coordinator = "汇总" in before and after_sentence.startswith("上报")
        if coordinator:
            if coordinator_day is None:
                coordinator_day = day
                summary_to = after_sentence.removeprefix("上报")
                office = re.search(r"由局?(\S{2,6}?科)汇总", before + "由" + before)
                if office and not report_to:
                    report_to = office.group(1)
        elif report_day is None:
            report_day = day
            recipient = re.search(r"(?:报送|报至|报)局?(\S{2,6}?科)", after_sentence)
            if recipient:
                report_to = recipient.group(1)
        else:
            continue
        sentence_start = max(text.rfind("。", 0, match.start()) + 1, match.start() - 60)
        note = text.rfind("说明", sentence_start, match.start())
        sentence_start = note if note >= 0 else sentence_start
        sentence = re.sub(r"\s+", "", text[sentence_start : match.end() + len(after_sentence)])
        if not any(sentence in known or known in sentence for known in sources):
            sources = [known for known in sources if known not in sentence] + [sentence]
    if report_day is None and coordinator_day is None:
        return None
    return Monthly(
        report_day=report_day,
        coordinator_day=coordinator_day,
        reported_month=REPORTED_MONTH_PREVIOUS,
        report_to=report_to,
        summary_to=summary_to,
        source="；".join(sources),
    )


# ------------------------------------------------------------------ one-off deadlines and phases

_ONE_OFF = re.compile(r"请于(\d{1,2})月(\d{1,2})日前[，,]?将?(.{0,30}?)报(?:至|送)(\S{2,12}?)(?:邮箱([\w.@-]+))?[。；]")
_PHASE = re.compile(rf"^[(（]([{_CN_NUMBER}]+)[)）](\S{{2,10}}?阶段)[(（]([^)）]*)[)）]")
_RANGE = re.compile(r"(\d{1,2})月(\d{1,2})日(?:至|-|—|－|~)(\d{1,2})月(\d{1,2})日")
_BEFORE = re.compile(r"(\d{1,2})月(\d{1,2})日(?:之)?前")
_DELIVER_TO = re.compile(
    r"(?:于|在)(\d{1,2})月(\d{1,2})日之?前(?:向|报)(\S{2,12}?(?:办|局|委|室|组|科|部))(?:报送|提交)?(\S{2,6}?报告)?[。，,；]"
)
_FORMED = re.compile(r"形成(\S{2,6}?报告)")
_YEAR_PHASE = re.compile(rf"[(（][{_CN_NUMBER}]+[)）](\S{{2,8}}年)[(（](\d{{4}})年\d{{1,2}}月至\d{{1,2}}月[)）]")


@dataclass
class _RawDeadline:
    title: str
    due: _MonthDay
    to: str = ""
    source: str = ""


@dataclass
class _RawPhase:
    title: str
    start: _MonthDay | None
    end: _MonthDay | None
    written: str
    deliverables: list[_RawDeadline]


def _one_offs(text: str) -> list[_RawDeadline]:
    found = []
    for match in _ONE_OFF.finditer(text):
        month, day = int(match.group(1)), int(match.group(2))
        what = match.group(3) or "材料"
        to = match.group(4) + (f"（邮箱 {match.group(5)}）" if match.group(5) else "")
        found.append(_RawDeadline(f"报送{what}", _MonthDay(month, day, f"{month}月{day}日"), to, match.group(0)))
    return found


def _phases(lines: list[str]) -> list[_RawPhase]:
    found = []
    for raw in lines:
        line = _flat(raw)
        match = _PHASE.match(line)
        if not match:
            continue
        title, inside = match.group(2), match.group(3)
        start = end = None
        span = _RANGE.search(inside)
        if span:
            start = _MonthDay(int(span.group(1)), int(span.group(2)), f"{span.group(1)}月{span.group(2)}日")
            end = _MonthDay(int(span.group(3)), int(span.group(4)), f"{span.group(3)}月{span.group(4)}日")
        else:
            before = _BEFORE.search(inside)
            if before:
                end = _MonthDay(int(before.group(1)), int(before.group(2)), f"{before.group(1)}月{before.group(2)}日前")
        deliverables = []
        formed = _FORMED.search(line)
        for deliver in _DELIVER_TO.finditer(line):
            name = deliver.group(4) or (formed.group(1) if formed else "")
            if not name or "督察组" in line[max(0, deliver.start() - 8) : deliver.start()]:
                continue  # the inspectors' own report, not something the inspected units deliver
            month, day = int(deliver.group(1)), int(deliver.group(2))
            deliverables.append(
                _RawDeadline(name, _MonthDay(month, day, f"{month}月{day}日前"), deliver.group(3), deliver.group(0))
            )
        found.append(_RawPhase(title, start, end, inside, deliverables))
    return found


def _yearly_phases(text: str) -> list[YearPhase]:
    return [YearPhase(m.group(1), int(m.group(2)), m.group(0)) for m in _YEAR_PHASE.finditer(text)]


def _yearly_reporting(text: str) -> str:
    match = re.search(r"[^。\n]*每年度[^。\n]*考核[^。\n]*报送[^。\n]*。", text)
    return match.group(0) if match else ""


# ------------------------------------------------------------------ milestones inside indicators

_WITH_YEAR = re.compile(r"(\d{4})年(?:(\d{1,2})月(\d{1,2})日|年?底)(?:之)?前")


def _milestones(indicators: list[ParsedIndicator], lead_only: bool) -> list[Milestone]:
    found = []
    for item in indicators:
        text = half_width(item.text)
        units = [o.unit for o in item.leads] + ([] if lead_only else [o.unit for o in item.coops])
        units = [u for u in units if not is_collective(u)]
        label = f"{item.table}{item.number}" if item.table else item.number
        for match in _WITH_YEAR.finditer(text):
            year = int(match.group(1))
            due = date(year, int(match.group(2)), int(match.group(3))) if match.group(2) else date(year, 12, 31)
            rest = text[match.end() :]
            stop = re.search(r"[。；;]", rest)
            clause = re.sub(r"^[，,]", "", rest[: stop.start() if stop else 60]).strip()[:60]
            found.append(Milestone(label, due, clause, match.group(0), units))
    return found


def milestones_of(item: ParsedIndicator) -> list[Milestone]:
    """The dated milestones written in one indicator's text (shown on its card)."""
    return _milestones([item], lead_only=False)


_NUMBERED = re.compile(r"^(\d{1,3})[.．、](\S{2,30}?)。")


def _programme_milestones(lines: list[str], indicators: list[ParsedIndicator]) -> list[Milestone]:
    """Dated aims in the programme's own numbered paragraphs (003 实施方案 23: 2024年年底前基本建成…)."""
    covered = {n for i in indicators if i.line_start for n in range(i.line_start, (i.line_end or i.line_start) + 1)}
    found = []
    for number, raw in enumerate(lines, start=1):
        line = half_width(raw).strip()
        heading = _NUMBERED.match(line)
        if number in covered or not heading:
            continue
        for match in _WITH_YEAR.finditer(line):
            year = int(match.group(1))
            due = date(year, int(match.group(2)), int(match.group(3))) if match.group(2) else date(year, 12, 31)
            rest = line[match.end() :]
            stop = re.search(r"[。；;]", rest)
            clause = re.sub(r"^[，,]", "", rest[: stop.start() if stop else 60]).strip()[:60]
            found.append(Milestone(f"方案第{heading.group(1)}条（{heading.group(2)}）", due, clause, match.group(0)))
    return found


# ------------------------------------------------------------------ who reports, statuses, evidence, contacts


def _reporters(text: str, indicators: list[ParsedIndicator]) -> tuple[str, str]:
    lead_only = re.search(r"[^。\n]*由牵头单位汇总报送[^。\n]*", text)
    if lead_only:
        return REPORTERS_LEAD, lead_only.group(0).strip()
    listed = re.search(r"责任单位[:：][^\n]*牵头[^\n]*参加", text)
    if listed:
        return REPORTERS_EACH_LISTED, "责任单位：…牵头，…参加（每个列出的单位都要报送）"
    return REPORTERS_LEAD_AND_COOP, ""


def _statuses(text: str) -> list[str]:
    statuses = ["已完成", "未完成"]
    if re.search(r"选择无材料|不涉及本部门", text):
        statuses += list(NOT_CONCERNED_STATUSES)
    return statuses


def _evidence(text: str) -> EvidenceRules:
    rules = EvidenceRules()
    sources = []
    usual = re.search(r"情况说明[^。\n]*?一般不超过(\d+)字(?:[，,]最多不超过(\d+)字)?", text)
    if usual:
        rules.note_chars = int(usual.group(1))
        rules.note_chars_max = int(usual.group(2)) if usual.group(2) else None
        sources.append(usual.group(0))
    if re.search(r"PDF", text, re.IGNORECASE):
        rules.formats = ["PDF"]
    title = re.search(r"标题为(《[^》]+》)", text)
    if title:
        rules.note_title_pattern = title.group(1)
        sources.append(title.group(0))
    classified = re.search(r"涉密的材料[^。\n；;]*", text)
    if classified and re.search(r"纸质|实地核验", classified.group(0)):
        rules.classified_on_paper = True
        sources.append(classified.group(0))
    rules.paper_copies = bool(re.search(r"同时提供纸质版", text))
    rules.source = "；".join(sources)
    return rules


def _names(text: str) -> list[str]:
    """Names separated by spaces; ``王  军`` (padded to three characters) is one name."""
    tokens = [t for t in re.split(r"\s+", text.strip()) if t]
    names: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if len(token) == 1 and index + 1 < len(tokens) and len(tokens[index + 1]) == 1:
            names.append(token + tokens[index + 1])
            index += 2
            continue
        names.append(token)
        index += 1
    return names


_ROLE_LINE = re.compile(r"^(组\s*长|副组长|成\s*员)[:：](.*)$")
_LEADER_PHONE = re.compile(r"^组长[:：](\S{2,4})[(（]联系电话[:：]([^)）]+)[)）]")
_GROUP_HEADING = re.compile(rf"^[(（][{_CN_NUMBER}]+[)）](\S+组)$")
_CONTACT_PERSON = re.compile(r"联系人[:：]\s*(\S{2,4})\s*电话[:：]\s*([\d\-,，]+)")


def _phones(text: str) -> list[str]:
    return [p for p in re.split(r"[,，\s]+", text.strip()) if p]


def _contacts(lines: list[str]) -> list[Contact]:
    contacts: list[Contact] = []
    group = ""
    current: Contact | None = None
    last_role = ""
    in_leading_group = False
    for raw in lines:
        line = half_width(raw).strip()
        if "领导小组" in line and "组成人员" in line:
            in_leading_group, group = True, "领导小组"
            continue
        if line.startswith("领导小组下设办公室"):
            in_leading_group = False
            continue
        heading = _GROUP_HEADING.match(line)
        if heading:
            group, last_role = heading.group(1), ""
            continue
        leader = _LEADER_PHONE.match(line)
        if leader and group:
            current = Contact(leader.group(1), "组长", group, _phones(leader.group(2)))
            contacts.append(current)
            last_role = ""
            continue
        role = _ROLE_LINE.match(line)
        if role and group and (in_leading_group or role.group(1).replace(" ", "") == "成员"):
            last_role = role.group(1).replace(" ", "")
            contacts += [Contact(name, last_role, group) for name in _names(role.group(2))]
            continue
        names = _names(line)
        if in_leading_group and last_role and names and all(re.fullmatch(r"[\u3400-\u9fff]{2,4}", n) for n in names):
            contacts += [Contact(name, last_role, group) for name in names]
            continue
        person = _CONTACT_PERSON.search(line)
        if person:
            contacts.append(Contact(person.group(1), "联系人", "", _phones(person.group(2))))
        if line and not in_leading_group and not role:
            last_role = ""
    return contacts


# ------------------------------------------------------------------ the whole profile


def _year_for(written: list[_MonthDay], today: date) -> int:
    """The year in which the last of these dates falls on or after ``today``."""
    last = max(written, key=lambda d: (d.month, d.day))
    return today.year if last.resolve(today.year) >= today else today.year + 1


def read_profile(document_id: str, text: str, indicators: list[ParsedIndicator], today: date) -> Profile:
    """The profile a document's text states, its yearless dates resolved against ``today``."""
    lines = text.replace("\r\n", "\n").split("\n")
    flat = _flat(text)
    reporters, reporters_source = _reporters(flat, indicators)
    raw_one_offs = _one_offs(flat)
    raw_phases = _phases(lines)
    written = [d.due for d in raw_one_offs]
    for phase in raw_phases:
        written += [d for d in (phase.start, phase.end) if d] + [d.due for d in phase.deliverables]
    year = _year_for(written, today) if written else today.year
    resolved: list[str] = []

    def resolve(month_day: _MonthDay) -> date:
        day = month_day.resolve(year)
        past = "（已过）" if day < today else ""
        note = f"{month_day.written} → {day.isoformat()}{past}"
        if note not in resolved:
            resolved.append(note)
        return day

    def deadline(raw: _RawDeadline) -> DatedDeadline:
        return DatedDeadline(raw.title, resolve(raw.due), raw.due.written, raw.to, source=raw.source)

    phases = [
        Phase(
            p.title,
            resolve(p.start) if p.start else None,
            resolve(p.end) if p.end else None,
            p.written,
            [deadline(d) for d in p.deliverables],
        )
        for p in raw_phases
    ]
    return Profile(
        document_id=document_id,
        imported_on=today,
        monthly=_monthly(flat),
        one_offs=[deadline(d) for d in raw_one_offs],
        phases=phases,
        yearly_phases=_yearly_phases(flat),
        yearly_reporting=_yearly_reporting(flat),
        milestones=_milestones(indicators, reporters == REPORTERS_LEAD) + _programme_milestones(lines, indicators),
        reporters=reporters,
        reporters_source=reporters_source,
        statuses=_statuses(flat),
        evidence=_evidence(flat),
        contacts=_contacts(lines),
        resolved_dates=resolved,
    )


def profile_from_rules(document_id: str, rules: list[dict[str, object]]) -> Profile:
    """A profile for a document stored before profiles existed (its monthly days only)."""
    days = {str(r.get("kind")): r.get("day") for r in rules if isinstance(r, dict)}
    unit_day, coordinator_day = days.get("monthly_unit"), days.get("monthly_coordinator")
    if not isinstance(unit_day, int) and not isinstance(coordinator_day, int):
        return Profile(document_id)
    return Profile(
        document_id,
        monthly=Monthly(
            report_day=unit_day if isinstance(unit_day, int) else None,
            coordinator_day=coordinator_day if isinstance(coordinator_day, int) else None,
        ),
    )

"""Reading a report line as staff write it, without changing a character of what they wrote.

``31 已完成 预计12月底完成整改`` → number 31, status 已完成, details ``预计12月底完成整改``. Matching
runs on a normalised copy (full-width → half-width, NFKC) whose every character points back
into the original, so the details handed to storage are a slice of the original text, byte for
byte. Rules (also in README):

* The indicator comes first, in any form the search accepts: ``31``, ``#31``, ``第31项``,
  ``（1）``, ``★1``, ``加分项2``, ``党委2``, ``政府第21项``, ``打分表政府那张第21项``.
* A period counts only at the head of the line: at the very start (``10月：31 …``,
  ``2026年10月 31 …``, ``2026-10 31 …``) or between the number and a leading status word
  (``31 10月 已完成 …``); months and dates inside the details never change the period. A future month is refused; a
  month name that could be this (unfinished) month or the same month last year is asked.
* The status is a leading word (已完成, 完成了, 已经完成, 已全部完成, 未完成, 还没完成, 推进中,
  正在推进, 无材料, 不涉及 …) followed by a pause (space, punctuation, end), which is consumed;
  or a phrase that is itself the report (本月无进展, 不涉及我单位, 无此项工作), which stays in the
  details; or a status word inside the sentence (``本月开展检查2次，已完成``), all of which stays
  in the details. 基本完成, or both kinds in one sentence, is asked, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from knowledge.domain import ReportStatus
from knowledge.errors import Refusal
from knowledge.model import ParsedDocument
from knowledge.statuses import BASIC_STATUSES, STATUS_LABELS

MAX_DETAILS = 2000
MAX_MESSAGE = 20_000

# ------------------------------------------------------------------ normalised view


class NormalisedText:
    """``text`` NFKC-normalised character by character, remembering where each character came from."""

    def __init__(self, original: str) -> None:
        self.original = original
        chars: list[str] = []
        origin: list[int] = []
        for index, char in enumerate(original):
            for normalised in unicodedata.normalize("NFKC", char):
                chars.append(normalised)
                origin.append(index)
        origin.append(len(original))
        self.text = "".join(chars)
        self._origin = origin

    def original_slice(self, start: int, end: int | None = None) -> str:
        """The original characters behind ``text[start:end]``."""
        stop = len(self.text) if end is None else end
        if start >= stop:
            return ""
        return self.original[self._origin[start] : self._origin[stop - 1] + 1]


# ------------------------------------------------------------------ indicator numbers


@dataclass(frozen=True)
class IndicatorRef:
    """An indicator as a user names it: number key, table (党委/政府) and the document words used."""

    key: str
    table: str = ""
    document_words: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.table}第{self.key}项" if self.table else f"第{self.key}项"


# Words naming a document before an indicator number (``打分表政府那张第21项``, ``生态局台账第12条``),
# each with the test a document must pass to be the one meant.
DocumentTest = Callable[[ParsedDocument], bool]
DOCUMENT_HINTS: tuple[tuple[str, DocumentTest], ...] = (
    (r"焦作", lambda d: "焦作" in d.issuer),
    (r"生态环境局|生态局|环保局|环境局", lambda d: "生态环境" in d.issuer),
    (r"司法局", lambda d: "司法局" in d.issuer),
    (r"县委|濮阳县|一体建设", lambda d: "县委" in d.issuer),
    (r"打分表|督察|依法治市办?", lambda d: d.kind == "scoring"),
    (r"工作台账|台账", lambda d: d.kind == "ledger"),
    (r"分工表", lambda d: d.kind == "duty_table"),
    (r"指标体系", lambda d: d.kind == "indicator_system"),
)
_DOC_WORDS = "|".join(f"(?:{pattern})" for pattern, _ in DOCUMENT_HINTS)
_REF_RE = re.compile(
    r"\s*(?P<docs>(?:(?:" + _DOC_WORDS + r")\s*(?:的)?\s*)*)"
    r"(?P<table>党委|政府)?\s*(?:的)?\s*(?:那张表?|这张表?|表)?\s*(?:的|里的?|中的?)?\s*#?\s*"
    r"(?:(?P<bonus>加分|减分)\s*项?\s*第?\s*(?P<bonus_n>\d{1,2})\s*[项条个]?"
    r"|★\s*(?P<star>\d{1,3})\s*[项条号]?"
    r"|第?\s*\(\s*(?P<paren>\d{1,3})\s*\)\s*(?:[项条](?![目]))?"
    r"|第\s*(?P<ordinal>\d{1,3})\s*[项条号个]?"
    r"|(?P<plain>\d{1,3})(?![\d%]|\.\d|[年月日])\s*(?:[项条号](?![目]))?)"
)


def _document_words(matched: str) -> tuple[str, ...]:
    return tuple(m.group(0) for m in re.finditer(_DOC_WORDS, matched))


def match_indicator_ref(text: str, start: int = 0) -> tuple[IndicatorRef, int] | None:
    """An indicator reference at ``text[start:]`` (normalised text) → (ref, end offset)."""
    match = _REF_RE.match(text, start)
    if not match:
        return None
    if match.group("bonus"):
        key = f"{match.group('bonus')}{int(match.group('bonus_n'))}"
    elif match.group("star"):
        key = f"★{int(match.group('star'))}"
    elif match.group("paren"):
        key = f"({int(match.group('paren'))})"
    else:
        key = str(int(match.group("ordinal") or match.group("plain")))
    return IndicatorRef(key, match.group("table") or "", _document_words(match.group("docs"))), match.end()


_REF_TAIL_RE = re.compile(r"[\s。.,，:：、?？!！]*(?:指标)?[\s。.,，:：、?？!！]*")


def parse_indicator_ref(text: str) -> IndicatorRef:
    """A command argument that is only an indicator (``/history 第12项``); raises Refusal otherwise."""
    normalised = unicodedata.normalize("NFKC", text or "").strip()
    found = match_indicator_ref(normalised)
    if found is None or not _REF_TAIL_RE.fullmatch(normalised, found[1]):
        raise Refusal(f"“{(text or '').strip()[:30]}”不是指标编号，请写成 31、第31项、（1）、★1、加分项2 或 政府21")
    return found[0]


def document_named(ref: IndicatorRef, issuer: str, kind: str) -> bool:
    """Whether a document (by issuer and kind) fits every document word of ``ref``."""
    probe = ParsedDocument(doc_id="", title="", issuer=issuer, short_name="", kind=kind, indicators=[])
    for word in ref.document_words:
        tests = [test for pattern, test in DOCUMENT_HINTS if re.fullmatch(pattern, word)]
        if tests and not any(test(probe) for test in tests):
            return False
    return True


# ------------------------------------------------------------------ periods

_CN_MONTHS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CN_MONTH = r"十[一二]|[一二三四五六七八九十]"
_PERIOD_START_RE = re.compile(
    r"\s*(?:"
    r"(?P<iso_y>\d{4})\s*[-/.]\s*(?P<iso_m>\d{1,2})(?![\d.])"
    r"|(?:(?P<year>\d{4})\s*年\s*)?(?:(?P<month>\d{1,2})|(?P<cn>" + _CN_MONTH + r"))\s*月份?(?![度底末初中])"
    r")\s*(?:的|份)?\s*(?:[:：,，、]|\s|(?=[#第★(加减党政\d]))"
)
_RELATIVE_PERIODS = {"上月": -1, "上个月": -1, "本月": 0, "这个月": 0}


def month_offset(period: str, months: int) -> str:
    """``YYYY-MM`` shifted by ``months``."""
    year, month = (int(p) for p in period.split("-"))
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _label(period: str) -> str:
    year, month = period.split("-")
    return f"{year}年{int(month)}月"


@dataclass(frozen=True)
class PeriodChoice:
    """An explicit period: one month, or a question between months (``choices``)."""

    period: str | None
    choices: tuple[str, ...] = ()


def _month_period(year: int | None, month: int, today: date) -> PeriodChoice:
    if not 1 <= month <= 12:
        raise Refusal(f"“{month}月”不是有效的月份")
    this_month = f"{today.year:04d}-{today.month:02d}"
    if year is not None:
        period = f"{year:04d}-{month:02d}"
        if period > this_month:
            raise Refusal(f"不能报送未来月份（{_label(period)}）的进度")
        return PeriodChoice(period)
    if month < today.month:
        return PeriodChoice(f"{today.year:04d}-{month:02d}")
    if month > today.month:
        return PeriodChoice(f"{today.year - 1:04d}-{month:02d}")
    # This very month (not over yet) or the same month last year: ask.
    return PeriodChoice(None, (this_month, f"{today.year - 1:04d}-{month:02d}"))


def match_period_at_start(text: str, today: date, start: int = 0) -> tuple[PeriodChoice, int] | None:
    """An explicit period at ``text[start:]`` (normalised) → (choice, end offset)."""
    match = _PERIOD_START_RE.match(text, start)
    return (_period_of(match, today), match.end()) if match else None


def _period_of(match: re.Match[str], today: date) -> PeriodChoice:
    if match.group("iso_y"):
        return _month_period(int(match.group("iso_y")), int(match.group("iso_m")), today)
    month = int(match.group("month")) if match.group("month") else _chinese_month(match.group("cn"))
    year = int(match.group("year")) if match.group("year") else None
    return _month_period(year, month, today)


def _chinese_month(word: str) -> int:
    """``十一`` → 11."""
    return 10 + _CN_MONTHS[word[1]] if len(word) == 2 else _CN_MONTHS[word]


_PERIOD_ARG_RE = re.compile(r"\s*(?:(?P<year>\d{4})\s*(?:年|[-/.])\s*)?(?P<month>\d{1,2})\s*月?份?\s*")


def parse_period_argument(text: str, today: date) -> str:
    """``/export`` and ``/bundle``: ``10月``, ``2026年10月``, ``2026-10``, ``上月`` → ``YYYY-MM``.

    A month name alone means its latest occurrence that has begun (``12月`` in December is this
    December). A future month is refused.
    """
    word = unicodedata.normalize("NFKC", text or "").strip()
    this_month = f"{today.year:04d}-{today.month:02d}"
    if word in _RELATIVE_PERIODS:
        return month_offset(this_month, _RELATIVE_PERIODS[word])
    match = _PERIOD_ARG_RE.fullmatch(word)
    if match is None or (match.group("year") is None and "月" not in word):
        raise Refusal(f"“{text.strip()[:20]}”不是月份，请写成 10月、2026年10月、2026-10 或 上月")
    month = int(match.group("month"))
    if not 1 <= month <= 12:
        raise Refusal(f"“{text.strip()[:20]}”不是有效的月份")
    year = int(match.group("year")) if match.group("year") else None
    if year is None:
        year = today.year if month <= today.month else today.year - 1
    period = f"{year:04d}-{month:02d}"
    if period > this_month:
        raise Refusal(f"{_label(period)}还没有到，不能导出未来月份")
    return period


def looks_like_period(text: str) -> bool:
    """Whether a command argument is meant as a month (so ``/export 10月`` is not a unit name)."""
    word = unicodedata.normalize("NFKC", text or "").strip()
    return word in _RELATIVE_PERIODS or bool(
        _PERIOD_ARG_RE.fullmatch(word) and ("月" in word or re.search(r"\d{4}", word))
    )


# ------------------------------------------------------------------ statuses

_PAUSE = r"(?=$|[\s:：,，。.;；、!！~～\-—(（)）])"
_DONE_MARKERS = (
    "已全部完成",
    "全部完成",
    "已经完成",
    "已完成了",
    "已完成",
    "以完成",  # a frequent typo of 已完成
    "完成了",
    "已办结",
    "办结了",
    "已落实",
    "已做完",
    "做完了",
    "完成",
    "办结",
)
_PROGRESS_MARKERS = (
    "尚未完成",
    "还没完成",
    "还未完成",
    "没有完成",
    "暂未完成",
    "未完成",
    "没完成",
    "正在推进",
    "持续推进",
    "推进中",
    "正在进行",
    "进行中",
    "正在办理",
    "办理中",
    "未办结",
)
_NO_MATERIAL_MARKERS = ("暂无材料", "无材料", "没有材料")
_NOT_APPLICABLE_MARKERS = ("不涉及",)
_ASK_MARKERS = ("基本完成", "大部分完成", "部分完成", "接近完成")

# Phrases that are themselves the report: recognised, and kept in the details.
_STATEMENTS: tuple[tuple[str, ReportStatus], ...] = (
    (r"(?:本月|上月|当月)?(?:暂)?无(?:新)?进展", ReportStatus.IN_PROGRESS),
    (r"(?:本月|上月|当月)?(?:暂)?无此项(?:工作|业务|任务|事项)", ReportStatus.NOT_APPLICABLE),
    (r"(?:本月|上月|当月)?没有此项(?:工作|业务|任务|事项)", ReportStatus.NOT_APPLICABLE),
    (r"不涉及(?:我|本)(?:单位|部门|科室|局)", ReportStatus.NOT_APPLICABLE),
    (r"(?:我|本)(?:单位|部门|科室|局)不涉及", ReportStatus.NOT_APPLICABLE),
    (r"不涉及(?:此|该|这)项", ReportStatus.NOT_APPLICABLE),
)

_LEADING: tuple[tuple[str, ReportStatus | None], ...] = tuple(
    sorted(
        [(w, ReportStatus.DONE) for w in _DONE_MARKERS]
        + [(w, ReportStatus.IN_PROGRESS) for w in _PROGRESS_MARKERS]
        + [(w, ReportStatus.NO_MATERIAL) for w in _NO_MATERIAL_MARKERS]
        + [(w, ReportStatus.NOT_APPLICABLE) for w in _NOT_APPLICABLE_MARKERS]
        + [(w, None) for w in _ASK_MARKERS],
        key=lambda item: -len(item[0]),
    )
)
# Status words of three characters or more are taken off even when the text follows without a
# pause (已完成《…》已印发); the short verbs 完成/办结 only before a pause (完成整改 is a sentence).
_LEADING_RE = re.compile("(?:" + "|".join(re.escape(w) + ("" if len(w) >= 3 else _PAUSE) for w, _ in _LEADING) + ")")
_STATEMENT_RE = re.compile("|".join(f"(?P<s{i}>{p})" for i, (p, _) in enumerate(_STATEMENTS)))
_INSIDE_PROGRESS_RE = re.compile(
    r"(?:尚未|还没有?|还未|没有|暂未|未能?|没)(?:全部)?(?:完成|办结|落实)|推进中|正在推进|持续推进|进行中|正在进行|正在办理"
)
_INSIDE_ASK_RE = re.compile("|".join(_ASK_MARKERS))
_INSIDE_DONE_RE = re.compile(r"(?<![未没])(?:完成|办结|落实到位)(?!率)")
_SEPARATORS = " \t\u3000:：,，、.。-—~～;；"


@dataclass(frozen=True)
class StatusReading:
    """What the status part says: a status, or the choices to ask; where the details start."""

    status: ReportStatus | None
    details_start: int
    choices: tuple[ReportStatus, ...] = ()


def _skip_separators(text: str, position: int) -> int:
    while position < len(text) and text[position] in _SEPARATORS:
        position += 1
    return position


def read_status(text: str, start: int = 0) -> StatusReading | None:
    """The status of ``text[start:]`` (normalised); None when no status can be read."""
    position = _skip_separators(text, start)
    statement = _STATEMENT_RE.match(text, position)
    if statement:
        status = next(s for i, (_, s) in enumerate(_STATEMENTS) if statement.group(f"s{i}"))
        return StatusReading(status, position)
    leading = _LEADING_RE.match(text, position)
    if leading:
        marked = dict(_LEADING)[leading.group(0)]
        if marked is None:  # 基本完成: keep the words, ask which it is
            return StatusReading(None, position, (ReportStatus.DONE, ReportStatus.IN_PROGRESS))
        end = leading.end()
        while end < len(text) and text[end] in _SEPARATORS + "。.!！":
            end += 1
        return StatusReading(marked, end)
    rest = text[position:]
    statement = _STATEMENT_RE.search(rest)
    if statement:
        status = next(s for i, (_, s) in enumerate(_STATEMENTS) if statement.group(f"s{i}"))
        return StatusReading(status, position)
    # A status word inside the sentence (``已于9月完成``, ``…，已完成``): the whole sentence is the
    # details and the bot asks which status it is, instead of guessing.
    if _INSIDE_ASK_RE.search(rest) or _INSIDE_PROGRESS_RE.search(rest) or _INSIDE_DONE_RE.search(rest):
        return StatusReading(None, position, (ReportStatus.DONE, ReportStatus.IN_PROGRESS))
    return None


# ------------------------------------------------------------------ the line


@dataclass(frozen=True)
class ReportLine:
    """A report line as read: what to match on, and the verbatim text to store."""

    source: str  # the line exactly as written
    ref: IndicatorRef
    status: ReportStatus | None  # None: ask among status_choices
    details: str  # verbatim slice of ``source``
    period: str | None = None  # an explicit period; None: the programme's current period
    period_choices: tuple[str, ...] = ()  # an explicit but ambiguous month: ask
    status_choices: tuple[ReportStatus, ...] = field(default=())
    line: int = 1

    @property
    def needs_question(self) -> bool:
        return self.status is None or bool(self.period_choices)


def _status_hint(allowed: frozenset[ReportStatus]) -> str:
    words = "“已完成”或“未完成”（也可写“推进中”）"
    if ReportStatus.NO_MATERIAL in allowed or ReportStatus.NOT_APPLICABLE in allowed:
        words = "“已完成”“未完成”“无材料”或“不涉及”"
    return words


def _indicator_follows(text: str, position: int) -> bool:
    """An indicator (possibly after a status word: ``已完成 第42项``) comes at ``position``."""
    if match_indicator_ref(text, position) is not None:
        return True
    status = _LEADING_RE.match(text, position)
    return status is not None and match_indicator_ref(text, _skip_separators(text, status.end())) is not None


def parse_report_line(
    text: str,
    today: date,
    *,
    allowed: frozenset[ReportStatus] = BASIC_STATUSES,
    line: int = 1,
    number_required: bool = True,
) -> ReportLine:
    """Read one report line; raises Refusal with one Chinese sentence saying what to fix."""
    if len(text) > MAX_MESSAGE:
        raise Refusal(f"内容太长（{len(text)} 字），请控制在 {MAX_DETAILS} 字以内，或作为附件上传")
    source = text.strip()
    if not source:
        raise Refusal("报送内容是空的，请写成：/report 31 已完成 具体情况")
    view = NormalisedText(source)
    normal = view.text
    period = PeriodChoice(None)
    position = 0
    head = _PERIOD_START_RE.match(normal)
    if head is not None and (_indicator_follows(normal, head.end()) or not number_required):
        period, position = _period_of(head, today), head.end()
    ref = IndicatorRef("")
    if number_required:
        found_ref = match_indicator_ref(normal, position)
        status_first = _LEADING_RE.match(normal, position) if found_ref is None else None
        if status_first is not None:  # ``已完成 第42项，…``: the status word before the number
            found_ref = match_indicator_ref(normal, _skip_separators(normal, status_first.end()))
        if found_ref is None:
            raise Refusal("请以指标编号开头，例如：31 已完成 已将审批时限压缩至法定时限的40%")
        ref, position = found_ref
        if status_first is not None:
            marked = dict(_LEADING)[status_first.group(0)]
            choices = (ReportStatus.DONE, ReportStatus.IN_PROGRESS) if marked is None else ()
            return _finish(
                view, source, ref, marked, choices, period, _skip_separators(normal, position), allowed, line
            )
        # ``31 10月 已完成 …``: a period between the number and a leading status word is the head too.
        head = _PERIOD_START_RE.match(normal, position)
        starts_status = head is not None and _LEADING_RE.match(normal, _skip_separators(normal, head.end()))
        if head is not None and starts_status and period.period is None and not period.choices:
            period, position = _period_of(head, today), head.end()
    reading = read_status(normal, position)
    if reading is None:
        raise Refusal(f"看不出完成情况，请写明完成情况：{_status_hint(allowed)}，例如：/report 31 已完成 具体情况")
    return _finish(view, source, ref, reading.status, reading.choices, period, reading.details_start, allowed, line)


def _finish(
    view: NormalisedText,
    source: str,
    ref: IndicatorRef,
    status: ReportStatus | None,
    choices: tuple[ReportStatus, ...],
    period: PeriodChoice,
    details_start: int,
    allowed: frozenset[ReportStatus],
    line: int,
) -> ReportLine:
    """Check the status and the details (a verbatim slice of the line) and build the result."""
    if status is not None and status not in allowed:
        raise Refusal(f"这份文档没有“{STATUS_LABELS[status]}”这一项，请写明{_status_hint(allowed)}及具体情况")
    details = view.original_slice(details_start).strip()
    if not details and status in BASIC_STATUSES:
        need = "具体完成情况" if status == ReportStatus.DONE else "正在推进情况"
        raise Refusal(f"请在“{STATUS_LABELS[status]}”后写上{need}")
    if len(details) > MAX_DETAILS:
        raise Refusal(f"情况说明太长（{len(details)} 字），请控制在 {MAX_DETAILS} 字以内，或作为附件上传")
    return ReportLine(
        source=source,
        ref=ref,
        status=status,
        details=details,
        period=period.period,
        period_choices=period.choices,
        status_choices=choices,
        line=line,
    )


_SAME_AS_LAST_MONTH_RE = re.compile(r"\s*(?:同上月|与上月相同|和上月一样|同上个月)\s*[。.!！]?\s*")


def parse_same_as_last_month(text: str) -> IndicatorRef | None:
    """``31 同上月`` / ``31 与上月相同`` → the indicator whose last-month report is repeated."""
    normal = unicodedata.normalize("NFKC", text or "")
    found = match_indicator_ref(normal)
    if found is None or not _SAME_AS_LAST_MONTH_RE.fullmatch(normal, found[1]):
        return None
    return found[0]


# ------------------------------------------------------------------ captions and sizes

_CAPTION_HEAD_RE = re.compile(r"\s*#\s*")


def parse_caption(caption: str) -> tuple[IndicatorRef, str] | None:
    """A file caption naming an indicator → (ref, the rest verbatim); None if it names none.

    ``#31 情况说明`` and ``#政府21 …`` always; without ``#`` only forms that cannot be a count
    (``第31项``, ``（1）``, ``★1``, ``加分项2``, ``党委2``), so ``2 份材料`` is not read as indicator 2.
    """
    view = NormalisedText(caption or "")
    text = view.text
    head = _CAPTION_HEAD_RE.match(text)
    found = match_indicator_ref(text, head.end() if head else 0)
    if found is None:
        return None
    ref, end = found
    if head is None and re.fullmatch(r"\s*\d{1,3}\s*[项条号]?\s*", text[:end]):
        return None
    while end < len(text) and text[end] in _SEPARATORS:
        end += 1
    return ref, view.original_slice(end).strip()


def human_size(size: int) -> str:
    """``12.3 KB``, ``1.5 MB``, ``512 B``: a real size, never ``0 KB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"

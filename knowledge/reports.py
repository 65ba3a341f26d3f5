"""Reporting rules: reading what staff write (31 已完成 具体情况, 10月, status words) and recording
it: one line at once, a pasted list after a preview, the items of the guided flow.

Parsing raises ReportError (= ``knowledge.errors.Refusal``) with a Chinese message saying what
to fix. The recording use cases take a :class:`ReportRepository` (``storage.progress.SqlReports``
implements it over one session, i.e. inside the caller's unit of work) and plain values; who
may report or see what is decided by ``knowledge.access``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from knowledge.access import Action, Reporter, Target, may, require
from knowledge.domain import ReportStatus, Role
from knowledge.errors import Refusal
from knowledge.evidence_items import EvidenceNote, missing_items
from knowledge.profile import Profile
from knowledge.report_line import (
    IndicatorRef,
    NormalisedText,
    document_named,
    match_indicator_ref,
    match_period_at_start,
    month_offset,
    read_status,
)
from knowledge.report_line import parse_report_line as parse_line
from knowledge.schedule import Period, report_period
from knowledge.statuses import (
    BASIC_STATUSES,
    OPTIONAL_STATUSES,
    REPORTED_STATUSES,
    STATUS_LABELS,
    allowed_statuses,
)

ReportError = Refusal  # the name the parsing code has always used

MAX_LINES = 50
ALL_STATUSES = frozenset(BASIC_STATUSES | OPTIONAL_STATUSES)


def parse_status(text: str) -> tuple[ReportStatus, str]:
    """A status written before the details (guided flow) → (status, the rest verbatim)."""
    view = NormalisedText(text.strip())
    reading = read_status(view.text)
    if reading is None or reading.status is None:
        raise ReportError("请写明完成情况：“已完成”或“未完成”（也可写“推进中”），例如：/report 31 已完成 具体情况…")
    return reading.status, view.original_slice(reading.details_start).strip()


@dataclass
class ReportDraft:
    """A parsed report line before it is checked and stored."""

    number: IndicatorRef
    status: ReportStatus | None
    details: str
    period: str | None = None
    line: int = 1
    message_text: str = ""
    status_choices: tuple[ReportStatus, ...] = ()
    period_choices: tuple[str, ...] = ()

    @property
    def needs_question(self) -> bool:
        """Status or period could not be decided: ask with buttons."""
        return self.status is None or bool(self.period_choices)


def parse_report_line(text: str, today: date, line: int = 1, message_text: str = "") -> ReportDraft:
    """``31 已完成 具体情况`` (optionally opened by ``10月：``) → a draft; raises ReportError."""
    parsed = parse_line(text, today, allowed=ALL_STATUSES, line=line)
    return ReportDraft(
        parsed.ref,
        parsed.status,
        parsed.details,
        parsed.period,
        line,
        message_text or parsed.source,
        parsed.status_choices,
        parsed.period_choices,
    )


# ------------------------------------------------------------------ what the use cases need


@dataclass(frozen=True)
class OwnerRef:
    """A unit owning an indicator."""

    role: Role
    unit_id: int
    unit_name: str


@dataclass(frozen=True)
class IndicatorRecord:
    """An indicator as the rules see it: number, programme, owners, the programme's profile."""

    id: int
    number: str
    text: str
    document_id: str
    document_name: str
    owners: tuple[OwnerRef, ...] = ()
    profile: Profile | None = None  # the programme's rules (periods: knowledge.schedule; who reports)
    table_name: str = ""
    document_issuer: str = ""
    document_kind: str = ""
    materials: str = ""  # 上报资料/填报材料 as the document states it

    @property
    def label(self) -> str:
        """``000第12项``, with 党委/政府 for the two-table document."""
        table = self.table_name if self.table_name in ("党委", "政府") else ""
        return f"{self.document_name}{table}第{self.number}项"

    def target(self, units: frozenset[int] | None = None) -> Target:
        """The access target of this indicator (a record of ``units`` on it, when given)."""
        return Target(
            frozenset({self.document_id}),
            units if units is not None else frozenset(),
            frozenset(o.unit_id for o in self.owners if o.role == Role.LEAD),
            frozenset(o.unit_id for o in self.owners if o.role == Role.COOPERATING),
            self.profile.reports_for(role_is_lead=False) if self.profile else True,
        )

    @property
    def unit_ids(self) -> frozenset[int]:
        return frozenset(o.unit_id for o in self.owners)


@dataclass(frozen=True)
class NewReport:
    """A report version to append."""

    indicator_id: int
    unit_id: int
    period: str
    late: bool
    status: ReportStatus
    text: str
    reporter: Reporter
    update_id: int | None
    chat_id: int | None
    created_at: datetime
    message_text: str = ""  # the whole message as written (verbatim)


@dataclass(frozen=True)
class StoredReport:
    """A stored report version."""

    short_id: str
    indicator_id: int
    unit_id: int
    unit_name: str
    period: str
    version: int
    status: ReportStatus
    text: str
    late: bool
    reporter_name: str
    created_at: datetime


@dataclass
class Receipt:
    """What the bot confirms after a report is committed."""

    short_id: str
    indicator_number: str
    indicator_text: str
    document_name: str
    unit: str
    period: Period
    status: ReportStatus
    version: int
    details: str
    duplicate: bool = False
    materials_total: int = 0  # items the 上报资料 asks for
    missing: tuple[str, ...] = ()  # those no file or paper entry covers yet


@dataclass
class StatusLine:
    """An indicator of a unit and its current report for a period."""

    indicator_id: int
    number: str
    text: str
    role: Role
    status: ReportStatus | None
    late: bool = False
    attachments: int = 0
    document_id: str = ""


@dataclass
class UnitStatus:
    """A unit's indicators for a period, reported or not."""

    unit: str
    period: str
    lines: list[StatusLine] = field(default_factory=list)

    @property
    def reported(self) -> int:
        """Indicators with a standing report (a returned one does not count until a new version)."""
        return sum(1 for line in self.lines if line.status in REPORTED_STATUSES)


class ReportRepository(Protocol):
    """What the reporting use cases read and write (``storage.progress.SqlReports``)."""

    def reporter(self, telegram_user_id: int, name: str, is_admin: bool) -> Reporter: ...
    def bound_document(self, chat_id: int) -> str | None: ...
    def claim_update(self, update_id: int | None, kind: str, now: datetime) -> bool: ...
    def indicators_by_key(self, key: str, document_id: str | None, table: str = "") -> list[IndicatorRecord]: ...
    def indicator(self, indicator_id: int) -> IndicatorRecord | None: ...
    def append_report(self, report: NewReport) -> StoredReport: ...
    def reports_of_update(self, update_id: int) -> list[StoredReport]: ...
    def reports_on(self, indicator_id: int) -> list[StoredReport]: ...
    def profile(self, document_id: str) -> Profile | None: ...
    def unit_status(self, unit_id: int, period: str, document_id: str | None) -> UnitStatus: ...
    def find_unit(self, name: str) -> tuple[int, str] | None: ...
    def unassigned(self, document_id: str | None) -> list[tuple[str, str, str, str]]: ...
    def latest_report(self, indicator_id: int, unit_id: int, period: str) -> StoredReport | None: ...
    def bound_unit(self, chat_id: int) -> tuple[int, str] | None: ...
    def document_units(self, document_id: str) -> list[tuple[int, str]]: ...
    def document_ids(self) -> list[str]: ...
    def evidence_notes(self, indicator_id: int, unit_id: int, period: str) -> list[EvidenceNote]: ...


# ------------------------------------------------------------------ rules


def resolve_indicator(
    repo: ReportRepository, reporter: Reporter, key: str | IndicatorRef, document_id: str | None
) -> IndicatorRecord:
    """The indicator a reporter means: their unit's, in the named/bound document first; asks if several."""
    ref = key if isinstance(key, IndicatorRef) else IndicatorRef(key)
    candidates = repo.indicators_by_key(ref.key, None, ref.table)
    if ref.document_words:
        candidates = [i for i in candidates if document_named(ref, i.document_issuer, i.document_kind)]
    elif document_id:  # the chat's document decides; another document's number is not guessed
        candidates = [i for i in candidates if i.document_id == document_id]
    if not candidates:
        raise Refusal(f"没有编号为 {ref.table}{ref.key} 的指标，请核对编号（可发送 /ask {ref.key} 查询）")
    if reporter.unit_id is not None:
        own = [i for i in candidates if reporter.unit_id in i.unit_ids]
        if len(own) == 1:
            return own[0]
        if own:
            candidates = own
    if len(candidates) == 1:
        return candidates[0]
    names = "、".join(i.label for i in candidates[:6])
    raise Refusal(f"编号 {ref.key} 有多项：{names}，请写明是哪一项（例如“党委{ref.key}”“政府{ref.key}”或文档简称）")


def check_status_allowed(indicator: IndicatorRecord, status: ReportStatus) -> None:
    """Refuse a status the indicator's document does not offer (无材料/不涉及 only where allowed)."""
    allowed = allowed_statuses(indicator.profile.statuses if indicator.profile else [])
    if status not in allowed:
        words = "、".join(STATUS_LABELS[s] for s in sorted(allowed, key=list(STATUS_LABELS).index))
        raise Refusal(f"《{indicator.document_name}》没有“{STATUS_LABELS[status]}”这一项，请写：{words}")


def reporting_unit(reporter: Reporter, indicator: IndicatorRecord, action: Action = Action.REPORT) -> OwnerRef:
    """The unit a report (or file: ``Action.UPLOAD``) is for: the reporter's own owning unit, else
    (the programme's coordinators) the lead. Refusal naming the lead unit when not allowed."""
    decision = may(reporter.actor, action, indicator.target())
    if not decision:
        if reporter.unit_id is not None and reporter.unit_id not in indicator.unit_ids:
            lead = "、".join(o.unit_name for o in indicator.owners if o.role == Role.LEAD) or "未分配"
            raise Refusal(f"指标 {indicator.number} 由{lead}牵头，{reporter.unit_name}不能报送；请联系牵头单位或协调人")
        raise Refusal(decision.reason)
    for owner in indicator.owners:
        if owner.unit_id == reporter.unit_id:
            return owner
    if indicator.owners:
        return indicator.owners[0]
    raise Refusal(f"指标 {indicator.number} 没有分配责任单位，无法登记进度")


def visible_units(reporter: Reporter, indicator: IndicatorRecord, action: Action) -> frozenset[int] | None:
    """Whose records on ``indicator`` the reporter may see: None for all (its coordinators), else their units.

    Raises Refusal for strangers and for members of units that do not own the indicator.
    """
    actor = reporter.actor
    if may(actor, action, indicator.target(indicator.unit_ids)):
        return None  # coordinators of the programme and admins
    own = actor.units & indicator.unit_ids
    require(actor, action, indicator.target(own))
    return own


# ------------------------------------------------------------------ recording


@dataclass
class PendingReport:
    """A checked report waiting for 确认 (bulk preview or guided flow)."""

    indicator_id: int
    status: ReportStatus
    details: str
    period: str | None
    label: str
    message_text: str = ""


def _receipt(
    indicator: IndicatorRecord,
    stored: StoredReport,
    *,
    duplicate: bool = False,
    evidence: list[EvidenceNote] | None = None,
) -> Receipt:
    period = report_period(indicator.profile, stored.created_at, stored.period)
    total, missing = missing_items(indicator.materials, evidence or [])
    return Receipt(
        stored.short_id,
        indicator.number,
        indicator.text,
        indicator.document_name,
        stored.unit_name,
        Period(stored.period, stored.late, period.deadline),
        stored.status,
        stored.version,
        stored.text,
        duplicate,
        total,
        tuple(missing),
    )


def store_report(
    repo: ReportRepository,
    *,
    reporter: Reporter,
    indicator: IndicatorRecord,
    status: ReportStatus,
    details: str,
    now: datetime,
    explicit_period: str | None = None,
    update_id: int | None = None,
    chat_id: int | None = None,
    message_text: str = "",
) -> Receipt:
    """Append a new version of a unit's report on an indicator for a period."""
    unit = reporting_unit(reporter, indicator)
    check_status_allowed(indicator, status)
    period = report_period(indicator.profile, now, explicit_period)
    stored = repo.append_report(
        NewReport(indicator.id, unit.unit_id, period.period, period.late, status, details, reporter, update_id,
                  chat_id, now, message_text or details)
    )  # fmt: skip
    return _receipt(indicator, stored, evidence=repo.evidence_notes(indicator.id, unit.unit_id, period.period))


def receipts_for_update(repo: ReportRepository, update_id: int) -> list[Receipt]:
    """Receipts of reports an update already created (to answer a redelivery the same way)."""
    receipts = []
    for stored in repo.reports_of_update(update_id):
        indicator = repo.indicator(stored.indicator_id)
        if indicator is not None:
            receipts.append(_receipt(indicator, stored, duplicate=True))
    return receipts


def record_line(
    repo: ReportRepository,
    *,
    user: tuple[int, str, bool],
    draft: ReportDraft,
    now: datetime,
    update_id: int | None,
    chat_id: int,
) -> list[tuple[Receipt, int]]:
    """One-line report: claim the update and store the report in one transaction."""
    if not repo.claim_update(update_id, "report", now):
        return [(r, 0) for r in receipts_for_update(repo, update_id)] if update_id else []
    reporter = repo.reporter(*user)
    indicator = resolve_indicator(repo, reporter, draft.number, repo.bound_document(chat_id))
    if draft.status is None:
        raise Refusal("请先选择完成情况")
    receipt = store_report(
        repo,
        reporter=reporter,
        indicator=indicator,
        status=draft.status,
        details=draft.details,
        now=now,
        explicit_period=draft.period,
        update_id=update_id,
        chat_id=chat_id,
        message_text=draft.message_text,
    )
    return [(receipt, indicator.id)]


def check_lines(
    repo: ReportRepository,
    reporter: Reporter,
    document_id: str | None,
    lines: list[str],
    now: datetime,
    message_text: str = "",
) -> tuple[list[PendingReport], list[str]]:
    """Bulk paste: each line parsed and checked (indicator, permission) into (ready, Chinese errors)."""
    ok: list[PendingReport] = []
    errors: list[str] = []
    for number, line in enumerate(lines[:MAX_LINES], 1):
        try:
            draft = parse_report_line(line, now.date(), number, message_text)
            if draft.status is None:
                raise Refusal("看不出是“已完成”还是“未完成”，请写明")
            if draft.period_choices:
                years = "或".join(f"{p[:4]}年{int(p[5:])}月" for p in draft.period_choices)
                raise Refusal(f"请写明是{years}")
            indicator = resolve_indicator(repo, reporter, draft.number, document_id)
            unit = reporting_unit(reporter, indicator)
            check_status_allowed(indicator, draft.status)
            ok.append(
                PendingReport(
                    indicator.id,
                    draft.status,
                    draft.details,
                    draft.period,
                    f"第{indicator.number}项（{unit.unit_name}）",
                    draft.message_text,
                )
            )
        except Refusal as exc:
            errors.append(f"第{number}行：{exc}")
    if len(lines) > MAX_LINES:
        errors.append(f"一次最多 {MAX_LINES} 行，其余 {len(lines) - MAX_LINES} 行未处理")
    return ok, errors


def question_choices(
    repo: ReportRepository, reporter: Reporter, document_id: str | None, draft: ReportDraft
) -> list[PendingReport]:
    """An undecided line (基本完成, ``12月`` in December): one checked report per possible answer."""
    indicator = resolve_indicator(repo, reporter, draft.number, document_id)
    unit = reporting_unit(reporter, indicator)
    statuses = draft.status_choices or ((draft.status,) if draft.status else ())
    periods: tuple[str | None, ...] = draft.period_choices or (draft.period,)
    choices = []
    for status in statuses:
        check_status_allowed(indicator, status)
        for period in periods:
            choices.append(
                PendingReport(
                    indicator.id,
                    status,
                    draft.details,
                    period,
                    f"第{indicator.number}项（{unit.unit_name}）",
                    draft.message_text,
                )
            )
    return choices


def record_checked(
    repo: ReportRepository,
    *,
    reporter: Reporter,
    items: list[PendingReport],
    now: datetime,
    update_id: int | None,
    chat_id: int,
) -> list[tuple[Receipt, int]]:
    """Store previewed reports on confirmation, once per button press (its update is claimed).

    Rights are checked again: they may have changed since the preview.
    """
    if not repo.claim_update(update_id, "report-confirm", now):
        return []
    receipts = []
    for item in items:
        indicator = repo.indicator(item.indicator_id)
        if indicator is None:
            raise Refusal("指标已被删除，请重新报送")
        receipt = store_report(
            repo,
            reporter=reporter,
            indicator=indicator,
            status=item.status,
            details=item.details,
            now=now,
            explicit_period=item.period,
            update_id=update_id,
            chat_id=chat_id,
            message_text=item.message_text,
        )
        receipts.append((receipt, indicator.id))
    return receipts


def guided_items(
    repo: ReportRepository, reporter: Reporter, document_id: str | None, now: datetime
) -> list[tuple[int, str, bool]]:
    """The unit indicators for the guided flow: (id, number, reported), unreported and lead first."""
    if reporter.unit_id is None:
        raise Refusal("您还没有登记所属单位，请先发送 /join 单位 姓名；协调人可直接用 /report 编号 已完成 …")
    period = report_period(repo.profile(document_id) if document_id else None, now).period
    status = repo.unit_status(reporter.unit_id, period, document_id)
    ordered = sorted(status.lines, key=lambda line: (line.status is not None, line.role != Role.LEAD))
    return [(line.indicator_id, line.number, line.status is not None) for line in ordered]


@dataclass(frozen=True)
class Withdrawal:
    """A withdrawing version appended: which report, which version it withdrew."""

    indicator: IndicatorRecord
    unit_name: str
    period: Period
    withdrawn_version: int
    version: int


def withdraw_report(
    repo: ReportRepository,
    *,
    reporter: Reporter,
    text: str,
    message_text: str,
    now: datetime,
    update_id: int | None,
    chat_id: int,
) -> Withdrawal | None:
    """/withdraw 31 [原因]: append a 撤回 version to the unit's current report (None: a redelivery).

    The earlier versions stay (history is append-only); the report counts as not reported until a
    new version arrives. A leading period (``10月 31``) picks another month.
    """
    view = NormalisedText(text.strip())
    found_period = match_period_at_start(view.text, now.date())
    start = 0
    explicit: str | None = None
    if found_period is not None:
        choice, start = found_period
        if choice.period is None:
            raise Refusal("请写明年份，例如：/withdraw 2026年11月 31")
        explicit = choice.period
    found = match_indicator_ref(view.text, start)
    if found is None:
        raise Refusal("请写明要撤回的指标编号，例如：/withdraw 31")
    ref, end = found
    reason = view.original_slice(end).strip().lstrip("：:，, ").strip()
    if not repo.claim_update(update_id, "withdraw", now):
        return None
    indicator = resolve_indicator(repo, reporter, ref, repo.bound_document(chat_id))
    unit = reporting_unit(reporter, indicator)
    period = report_period(indicator.profile, now, explicit)
    current = repo.latest_report(indicator.id, unit.unit_id, period.period)
    if current is None or current.status == ReportStatus.WITHDRAWN:
        raise Refusal(f"{indicator.label} {period.label}没有可撤回的报送")
    stored = repo.append_report(
        NewReport(indicator.id, unit.unit_id, period.period, current.late, ReportStatus.WITHDRAWN, reason,
                  reporter, update_id, chat_id, now, message_text)
    )  # fmt: skip
    return Withdrawal(indicator, unit.unit_name, period, current.version, stored.version)


def same_as_last_month(
    repo: ReportRepository, reporter: Reporter, ref: IndicatorRef, document_id: str | None, now: datetime
) -> PendingReport:
    """``/report 31 同上月``: last month's status and text (verbatim) for this period, to confirm."""
    indicator = resolve_indicator(repo, reporter, ref, document_id)
    unit = reporting_unit(reporter, indicator)
    period = report_period(indicator.profile, now)
    previous = month_offset(period.period, -1)
    last = repo.latest_report(indicator.id, unit.unit_id, previous)
    if last is None or last.status not in REPORTED_STATUSES:
        label = f"{previous[:4]}年{int(previous[5:])}月"
        raise Refusal(f"{indicator.label}上月（{label}）没有报送，不能“同上月”，请直接写：/report {ref.key} 已完成 …")
    return PendingReport(
        indicator.id,
        last.status,
        last.text,
        None,
        f"第{indicator.number}项（{unit.unit_name}）{period.label}",
        f"同上月（{previous}）：{last.text}",
    )


@dataclass(frozen=True)
class Returned:
    """A report a coordinator sent back (退回) with a comment."""

    indicator: IndicatorRecord
    unit_id: int
    unit_name: str
    period: Period
    comment: str


def return_report(
    repo: ReportRepository,
    *,
    reporter: Reporter,
    text: str,
    message_text: str,
    now: datetime,
    update_id: int | None,
    chat_id: int,
) -> Returned | None:
    """/return 31 [单位] 意见: the programme's coordinators send a unit's current report back.

    Appends a 退回 version carrying the comment (verbatim); the status shows 退回 until the unit
    sends a new version. None: a redelivered update.
    """
    view = NormalisedText(text.strip())
    found = match_indicator_ref(view.text)
    if found is None:
        raise Refusal("请写明要退回的指标编号和意见，例如：/return 31 法规科 请补充具体数据")
    ref, end = found
    rest = view.original_slice(end).strip()
    first, _, remainder = rest.partition(" ")
    named = repo.find_unit(first) if first else None
    comment = (remainder if named else rest).strip()
    if not comment:
        raise Refusal("请写明退回意见，例如：/return 31 法规科 请补充具体数据")
    if not repo.claim_update(update_id, "return", now):
        return None
    indicator = resolve_indicator(repo, reporter, ref, repo.bound_document(chat_id))
    units = [named] if named else [(o.unit_id, o.unit_name) for o in indicator.owners]
    require(reporter.actor, Action.RETURN, indicator.target(frozenset(u for u, _ in units)))
    period = report_period(indicator.profile, now)
    standing = [
        (unit, latest)
        for unit in units
        if (latest := repo.latest_report(indicator.id, unit[0], period.period)) is not None
        and latest.status in REPORTED_STATUSES
    ]
    if not standing:
        raise Refusal(f"{indicator.label} {period.label}没有可退回的报送")
    if len(standing) > 1:
        names = "、".join(name for (_, name), _ in standing)
        raise Refusal(f"{indicator.label}有多个单位报送（{names}），请写明单位：/return {ref.key} 单位 意见")
    (unit_id, unit_name), latest = standing[0]
    repo.append_report(
        NewReport(indicator.id, unit_id, period.period, latest.late, ReportStatus.RETURNED, comment, reporter,
                  update_id, chat_id, now, message_text)
    )  # fmt: skip
    return Returned(indicator, unit_id, unit_name, period, comment)


# ------------------------------------------------------------------ reading


def indicator_history(
    repo: ReportRepository, reporter: Reporter, key: str | IndicatorRef, document_id: str | None
) -> tuple[IndicatorRecord, list[StoredReport]]:
    """Every report version on an indicator the reporter may see (newest first)."""
    indicator = resolve_indicator(repo, reporter, key, document_id)
    units = visible_units(reporter, indicator, Action.VIEW_RECORDS)
    reports = [r for r in repo.reports_on(indicator.id) if units is None or r.unit_id in units]
    return indicator, reports


def status_of(
    repo: ReportRepository,
    reporter: Reporter,
    unit_name: str | None,
    document_id: str | None,
    now: datetime,
    chat_id: int | None = None,
) -> tuple[UnitStatus, Period]:
    """/status: a unit's indicators and reports this period (own unit, or one a coordinator names)."""
    group_unit = repo.bound_unit(chat_id) if chat_id is not None else None
    if unit_name:
        found = repo.find_unit(unit_name)
        if found is None:
            raise Refusal(f"找不到单位“{unit_name}”")
        unit_id = found[0]
    elif group_unit is not None:  # a unit group: its unit, for members, coordinators and admins alike
        unit_id = group_unit[0]
    elif reporter.unit_id is not None:
        unit_id = reporter.unit_id
    else:
        raise Refusal("您还没有登记所属单位，请先发送 /join 单位 姓名")
    period = report_period(repo.profile(document_id) if document_id else None, now)
    status = repo.unit_status(unit_id, period.period, document_id)
    actor = reporter.actor
    if unit_id not in actor.units:
        # Another unit: coordinators see the programmes they coordinate; members and strangers nothing.
        programmes = sorted({line.document_id for line in status.lines})
        allowed = {p for p in programmes if may(actor, Action.VIEW_RECORDS, Target.of(p, units=[unit_id]))}
        if not allowed:
            require(actor, Action.VIEW_RECORDS, Target.of(programmes[0] if programmes else None, units=[unit_id]))
        status.lines = [line for line in status.lines if line.document_id in allowed]
    return status, period


def status_of_all(
    repo: ReportRepository, reporter: Reporter, document_id: str | None, now: datetime
) -> list[tuple[str, Period, list[tuple[str, int, int]]]]:
    """/status 全部: per programme the coordinator may see, (unit, reported, total) of every unit."""
    documents = [document_id] if document_id else repo.document_ids()
    found = []
    for document in documents:
        if not may(reporter.actor, Action.VIEW_RECORDS, Target.of(document)):
            continue
        period = report_period(repo.profile(document), now)
        counts = []
        for unit_id, unit_name in repo.document_units(document):
            status = repo.unit_status(unit_id, period.period, document)
            counts.append((unit_name, status.reported, len(status.lines)))
        found.append((document, period, counts))
    if not found:
        require(reporter.actor, Action.VIEW_RECORDS, Target.of(document_id))
        raise Refusal("只有协调人可以查看全部单位的报送情况")
    return found

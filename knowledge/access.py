"""Who may do what: the one authorization rule of the bot.

``may(actor, action, target)`` decides every command and every button; ``require`` raises
:class:`knowledge.errors.Refusal` with the Chinese reason. The rule (issue 11):

* the indicator itself and its owners are public (they are printed in the documents);
* members see and act on their own units' records (reports, files, status, ledger);
* a cooperating unit reports on an indicator when its programme lets cooperating units
  report (``Target.cooperating_report``; 000 says only the lead reports), and sees its
  own unit's records only;
* coordinators act on the programmes (document ids) they coordinate, admins on everything;
* strangers (no active unit) see nothing else.

Coordinator scope: an empty ``Actor.programmes`` of a coordinator means *every* programme.
That is what coordinators were before scopes existed; the migration narrows an existing
coordinator to the documents of the coordinator groups they bound, and leaves the others
unscoped so nobody loses access on upgrade (an admin can narrow them with ``/addmember``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.errors import Refusal


class Action(enum.StrEnum):
    """Everything a user can ask the bot to do (every command and every button kind)."""

    VIEW_INDICATOR = "view_indicator"  # /ask, 详情, 更多结果, /rules, /deadline list
    JOIN_REQUEST = "join_request"  # /join, the unit buttons of /join
    REPORT = "report"  # /report (line, paste, guided), 确认登记, 报进度 buttons
    UPLOAD = "upload"  # evidence file, 上传材料 button
    VIEW_RECORDS = "view_records"  # /history, /status of a unit, receipts
    VIEW_FILES = "view_files"  # /files and 重发
    EXPORT = "export"  # /export (ledger + chart)
    BUNDLE = "bundle"  # /bundle (evidence zip)
    JOIN_DECIDE = "join_decide"  # 同意 / 拒绝 a join request
    ADD_MEMBER = "add_member"  # /addmember (a coordinator: ADD_COORDINATOR)
    ADD_COORDINATOR = "add_coordinator"
    BIND_CHAT = "bind_chat"  # /bind
    DEADLINE_EDIT = "deadline_edit"  # /deadline add|remove|day|coordday
    WEBHOOK_SET = "webhook_set"  # /webhook
    IMPORT = "import"  # /import a table
    SCORE = "score"  # scoring an indicator
    WITHDRAW = "withdraw"  # a reporter withdraws their unit's report
    RETURN = "return"  # 退回: a coordinator returns a report for rework
    RULES_VIEW = "rules_view"  # /rules
    RULES_EDIT = "rules_edit"  # editing a programme profile


PUBLIC = frozenset({Action.VIEW_INDICATOR, Action.JOIN_REQUEST, Action.RULES_VIEW})
UNIT_WRITE = frozenset({Action.REPORT, Action.UPLOAD})
UNIT_RECORDS = frozenset({Action.VIEW_RECORDS, Action.VIEW_FILES, Action.EXPORT, Action.WITHDRAW})
COORDINATION = frozenset(
    {
        Action.BUNDLE,
        Action.JOIN_DECIDE,
        Action.ADD_COORDINATOR,
        Action.ADD_MEMBER,
        Action.BIND_CHAT,
        Action.DEADLINE_EDIT,
        Action.WEBHOOK_SET,
        Action.IMPORT,
        Action.SCORE,
        Action.RETURN,
        Action.RULES_EDIT,
    }
)
assert frozenset(Action) == PUBLIC | UNIT_WRITE | UNIT_RECORDS | COORDINATION

# What a coordinator action is called in a refusal: 只有本项目的协调人或管理员可以…
COORDINATION_VERBS = {
    Action.BUNDLE: "打包佐证材料",
    Action.JOIN_DECIDE: "确认登记申请",
    Action.ADD_MEMBER: "添加成员",
    Action.ADD_COORDINATOR: "指定协调人",
    Action.BIND_CHAT: "绑定群",
    Action.DEADLINE_EDIT: "修改截止日期",
    Action.WEBHOOK_SET: "设置群机器人",
    Action.IMPORT: "导入指标表",
    Action.SCORE: "打分",
    Action.RETURN: "退回报送",
    Action.RULES_EDIT: "修改报送规则",
}


@dataclass(frozen=True)
class Actor:
    """Who asks, as plain values: the Telegram user, admin flag, active units, coordinated programmes."""

    user_id: int
    is_admin: bool = False
    units: frozenset[int] = frozenset()
    is_coordinator: bool = False
    programmes: frozenset[str] = frozenset()  # coordinated document ids; empty = all (see module doc)

    def coordinates(self, programme: str | None) -> bool:
        """Whether this actor coordinates ``programme`` (``None``: a programme-less object)."""
        if self.is_admin:
            return True
        if not self.is_coordinator:
            return False
        return not self.programmes or (programme is not None and programme in self.programmes)

    def coordinates_any(self, programmes: Iterable[str]) -> bool:
        """Whether this actor coordinates at least one of ``programmes`` (all of them if unscoped)."""
        wanted = set(programmes)
        if self.is_admin or (self.is_coordinator and not self.programmes):
            return True
        return self.is_coordinator and bool(wanted & self.programmes)


STRANGER = Actor(0)


@dataclass(frozen=True)
class Reporter:
    """A user as the reporting rules see them: Telegram identity, linked unit, role, scope."""

    telegram_user_id: int
    name: str
    member_id: int | None
    unit_id: int | None
    unit_name: str
    is_coordinator: bool  # coordinators and admins
    is_admin: bool = False
    programmes: frozenset[str] = frozenset()  # coordinated programmes; empty = all

    @property
    def actor(self) -> Actor:
        """The same user as :func:`may` sees them."""
        return Actor(
            self.telegram_user_id,
            self.is_admin,
            frozenset({self.unit_id}) if self.unit_id is not None else frozenset(),
            self.is_coordinator,
            self.programmes,
        )


@dataclass(frozen=True)
class Target:
    """What is acted on: its programmes and its units.

    ``units``: whose record it is (a report's or file's unit; the unit of a status or ledger;
    the unit a member joins). ``lead_units``/``cooperating_units``: the owners of an indicator.
    ``cooperating_report``: whether the programme lets cooperating units report.
    """

    programmes: frozenset[str] = frozenset()
    units: frozenset[int] = frozenset()
    lead_units: frozenset[int] = frozenset()
    cooperating_units: frozenset[int] = frozenset()
    cooperating_report: bool = True

    @classmethod
    def of(
        cls,
        programme: str | None = None,
        *,
        units: Iterable[int] = (),
        leads: Iterable[int] = (),
        cooperating: Iterable[int] = (),
        cooperating_report: bool = True,
    ) -> Target:
        """A target from plain iterables."""
        return cls(
            frozenset({programme} if programme else set()),
            frozenset(units),
            frozenset(leads),
            frozenset(cooperating),
            cooperating_report,
        )


ANYTHING = Target()


@dataclass(frozen=True)
class Decision:
    """Allowed, or refused with the Chinese reason the user reads."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)
NOT_JOINED = "您还没有登记所属单位，请先发送 /join 单位 姓名，例如：/join 法规科 刘海利"
OTHER_UNIT = "这是其他单位的记录，只有该单位成员、本项目协调人或管理员可以查看。"
NOT_OWNER = "本单位不是这项指标的责任单位，不能报送；请联系牵头单位或协调人。"
COOPERATING_ONLY = "本项目由牵头单位汇总报送，配合单位请把材料交给牵头单位。"


def may(actor: Actor, action: Action, target: Target = ANYTHING) -> Decision:
    """Whether ``actor`` may do ``action`` on ``target`` (with the reason when not)."""
    if action in PUBLIC:
        return ALLOW
    if actor.is_admin:
        return ALLOW
    coordinator = _coordinates_target(actor, target)
    if action in COORDINATION:
        return ALLOW if coordinator else Decision(False, not_coordinator(action))
    if coordinator:
        return ALLOW
    if not actor.units and not actor.is_coordinator:
        return Decision(False, NOT_JOINED)
    if action in UNIT_WRITE:
        if actor.units & target.lead_units:
            return ALLOW
        if actor.units & target.cooperating_units:
            return ALLOW if target.cooperating_report else Decision(False, COOPERATING_ONLY)
        return Decision(False, NOT_OWNER)
    # UNIT_RECORDS: the record's own unit only
    if target.units and target.units <= actor.units:
        return ALLOW
    return Decision(False, OTHER_UNIT)


def not_coordinator(action: Action) -> str:
    """The refusal of a coordinator action to someone else."""
    return f"只有本项目的协调人或管理员可以{COORDINATION_VERBS[action]}。"


def require(actor: Actor, action: Action, target: Target = ANYTHING) -> None:
    """Raise :class:`Refusal` with the reason unless ``may`` allows it."""
    decision = may(actor, action, target)
    if not decision:
        raise Refusal(decision.reason)


def _coordinates_target(actor: Actor, target: Target) -> bool:
    if not actor.is_coordinator:
        return False
    if not target.programmes:
        return not actor.programmes  # a programme-less object: only unscoped coordinators
    return actor.coordinates_any(target.programmes)


def visible(actor: Actor, records: Iterable[tuple[str | None, int | None]]) -> list[bool]:
    """For (programme, unit) of each record: may ``actor`` see it (``VIEW_RECORDS``)?"""
    return [
        bool(may(actor, Action.VIEW_RECORDS, Target.of(programme, units=[unit] if unit is not None else [])))
        for programme, unit in records
    ]

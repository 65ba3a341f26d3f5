"""Domain vocabulary shared by every layer: the enums records are stored and decided with.

Plain Python (no database, no Telegram); ``storage.models`` stores these values and
``knowledge.access`` / ``knowledge.reports`` decide with them.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """How a unit takes part in an indicator."""

    LEAD = "lead"
    COOPERATING = "coop"


class MemberRole(enum.StrEnum):
    """What a Telegram user may do."""

    MEMBER = "member"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class MemberStatus(enum.StrEnum):
    """Whether a join request has been confirmed."""

    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"


class ChatKind(enum.StrEnum):
    """What a bound group is for."""

    UNIT = "unit"
    COORDINATOR = "coordinator"


class ReportStatus(enum.StrEnum):
    """What a report version says about an indicator for a period (labels: knowledge.statuses)."""

    DONE = "done"  # 已完成
    IN_PROGRESS = "in_progress"  # 未完成（推进中）
    NO_MATERIAL = "no_material"  # 无材料 (001 说明5)
    NOT_APPLICABLE = "not_applicable"  # 不涉及 (001 说明5)
    WITHDRAWN = "withdrawn"  # 撤回: a version that withdraws the report
    RETURNED = "returned"  # 退回: a coordinator sent it back with a comment


class RuleKind(enum.StrEnum):
    """Kinds of reminder rule."""

    MONTHLY_UNIT = "monthly_unit"
    MONTHLY_COORDINATOR = "monthly_coordinator"
    ONE_OFF = "one_off"
    DATED = "dated"  # a programme's dated deadlines from its profile: one-offs, phases, milestones

"""Report statuses: the words users read, which ones a document offers, which count as reported.

The enum itself is ``knowledge.domain.ReportStatus``.
"""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.domain import ReportStatus

STATUS_LABELS: dict[ReportStatus, str] = {
    ReportStatus.DONE: "已完成",
    ReportStatus.IN_PROGRESS: "未完成",
    ReportStatus.NO_MATERIAL: "无材料",
    ReportStatus.NOT_APPLICABLE: "不涉及",
    ReportStatus.WITHDRAWN: "已撤回",
    ReportStatus.RETURNED: "退回",
}

# Statuses a unit can choose when it reports; the profile may add the optional ones.
BASIC_STATUSES = frozenset({ReportStatus.DONE, ReportStatus.IN_PROGRESS})
OPTIONAL_STATUSES = frozenset({ReportStatus.NO_MATERIAL, ReportStatus.NOT_APPLICABLE})

# Versions that count as "reported" for the period (withdrawn and returned ones do not).
REPORTED_STATUSES = frozenset(BASIC_STATUSES | OPTIONAL_STATUSES)


def allowed_statuses(labels: Sequence[str]) -> frozenset[ReportStatus]:
    """The statuses a programme profile offers (its ``statuses``: 已完成, 未完成, and 无材料/不涉及 where allowed)."""
    by_label = {label: status for status, label in STATUS_LABELS.items()}
    allowed = {by_label[label] for label in labels if by_label.get(label) in REPORTED_STATUSES}
    return frozenset(allowed) or BASIC_STATUSES

"""What an import did, in plain values the CLI and the chat both print."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.errors import Refusal


@dataclass
class ImportReport:
    """What an import did, with source line numbers."""

    document_id: str
    title: str
    imported: list[tuple[str, int | None]] = field(default_factory=list)
    updated: list[tuple[str, int | None]] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    unassigned: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    profile_lines: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.imported) + len(self.updated) + self.unchanged

    def summary(self) -> str:
        """Chinese multi-line summary for the CLI and the chat."""
        lines = [
            f"文档 {self.document_id}（{self.title}）：共 {self.total} 项指标",
            f"  新增 {len(self.imported)} 项，更新 {len(self.updated)} 项，未变 {self.unchanged} 项",
        ]
        if self.updated:
            lines.append("  更新：" + "、".join(f"{k}（第{n}行）" for k, n in self.updated[:20]))
        if self.removed:
            lines.append("  文件中已没有、已删除：" + "、".join(self.removed))
        if self.kept:
            lines.append("  文件中已没有、但已有进度报告而保留：" + "、".join(self.kept))
        if self.unassigned:
            lines.append("  未分配责任单位：" + "、".join(self.unassigned))
        lines += [f"  提示：{w}" for w in self.warnings]
        if self.profile_lines:
            lines.append("  报送规则（taizhang profile set 可修改）：")
            lines += [f"    {line}" for line in self.profile_lines]
        return "\n".join(lines)


class RemovalsNeedConfirmation(Refusal):
    """An import would delete indicators; nothing was changed (the transaction rolls back)."""

    def __init__(self, document_id: str, removed: list[str]) -> None:
        super().__init__(f"文档 {document_id} 导入后将删除 {len(removed)} 项指标（文件中已没有）：{'、'.join(removed)}")
        self.document_id = document_id
        self.removed = removed

"""The progress chart draws its Chinese labels with a real CJK font (warnings are errors here)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from knowledge.chart import chinese_font_family, completion_chart
from knowledge.records import LedgerRow, UnitLedger
from storage.models import ReportStatus, Role


def unit(name: str, statuses: list[ReportStatus | None]) -> UnitLedger:
    rows = [
        LedgerRow(i, "文档", str(i), "", "内容", "", [], Role.LEAD, name, "", "", s, "", False, None, "", 0)
        for i, s in enumerate(statuses)
    ]
    return UnitLedger(name, rows)


def test_chart_has_every_glyph_and_is_a_png(tmp_path: Path) -> None:
    units = [
        unit("濮阳市生态环境综合行政执法支队", [ReportStatus.DONE, None]),
        unit("县(区)委依法治县(区)办", [ReportStatus.IN_PROGRESS]),
        unit("法规科", [None, None, ReportStatus.DONE]),
    ]
    out = tmp_path / "chart.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns “Glyph … missing from font(s)”
        completion_chart(units, "2026-10", out, [("2026-09", 0.5), ("2026-10", 0.7)])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert chinese_font_family() == "WenQuanYi Micro Hei"


def test_a_missing_glyph_would_fail(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="missing from font"):
        completion_chart([unit("𠀀单位", [None])], "2026-10", tmp_path / "x.png")

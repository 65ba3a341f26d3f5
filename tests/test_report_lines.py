"""Report lines as staff write them: number, status, period and the verbatim stored text."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from knowledge.domain import ReportStatus
from knowledge.errors import Refusal
from knowledge.report_line import (
    IndicatorRef,
    NormalisedText,
    parse_indicator_ref,
    parse_period_argument,
    parse_report_line,
)

TODAY = date(2026, 11, 10)
ALL = frozenset(ReportStatus) - {ReportStatus.WITHDRAWN, ReportStatus.RETURNED}
TABLE = Path(__file__).parent / "data" / "report_lines.tsv"


def _rows(path: Path) -> list[list[str]]:
    rows = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.startswith("#") or not raw.strip():
            continue
        cells = raw.split("\t")
        assert len(cells) == 5, raw
        rows.append(cells)
    return rows


ROWS = _rows(TABLE)


def _number(ref: IndicatorRef) -> str:
    return f"{ref.table}{ref.key}"


def test_the_table_has_at_least_100_lines() -> None:
    assert len(ROWS) >= 100


@pytest.mark.parametrize(("line", "number", "status", "period", "details"), ROWS, ids=[r[0][:24] for r in ROWS])
def test_report_line(line: str, number: str, status: str, period: str, details: str) -> None:
    if status == "refuse":
        with pytest.raises(Refusal) as refused:
            parse_report_line(line, TODAY, allowed=ALL)
        assert details in refused.value.reason
        return
    parsed = parse_report_line(line, TODAY, allowed=ALL)
    assert _number(parsed.ref) == number
    if status == "ask":
        assert parsed.status is None and parsed.status_choices == (ReportStatus.DONE, ReportStatus.IN_PROGRESS)
    else:
        assert parsed.status == ReportStatus(status)
    if period.startswith("ask:"):
        assert parsed.period is None and parsed.period_choices == tuple(period[4:].split("|"))
    else:
        assert parsed.period == (None if period == "-" else period)
    assert parsed.details == details
    assert parsed.details in parsed.source  # a slice of what was written, never rewritten
    assert parsed.source == line.strip()


def test_status_the_document_does_not_offer_is_refused() -> None:
    with pytest.raises(Refusal) as refused:
        parse_report_line("3 不涉及 本部门无中介服务", TODAY)
    assert refused.value.reason == "这份文档没有“不涉及”这一项，请写明“已完成”或“未完成”（也可写“推进中”）及具体情况"


def test_a_huge_paste_is_refused_without_reading_it() -> None:
    with pytest.raises(Refusal) as refused:
        parse_report_line("31 已完成 " + "很" * 1_000_000, TODAY)
    assert refused.value.reason.startswith("内容太长（1000007 字）")


def test_empty_line_is_refused() -> None:
    with pytest.raises(Refusal) as refused:
        parse_report_line("   ", TODAY)
    assert refused.value.reason == "报送内容是空的，请写成：/report 31 已完成 具体情况"


def test_normalised_view_maps_back_to_the_original() -> None:
    view = NormalisedText("（１）已完成，共２１３项")
    assert view.text == "(1)已完成,共213项"
    assert view.original_slice(7) == "共２１３项"


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("31", IndicatorRef("31")),
        ("第31项", IndicatorRef("31")),
        ("（1）", IndicatorRef("(1)")),
        ("★1", IndicatorRef("★1")),
        ("加分项2", IndicatorRef("加分2")),
        ("党委2", IndicatorRef("2", "党委")),
        ("政府21", IndicatorRef("21", "政府")),
        ("打分表政府那张第21项", IndicatorRef("21", "政府", ("打分表",))),
        ("生态局台账第12条", IndicatorRef("12", "", ("生态局", "台账"))),
        ("#12", IndicatorRef("12")),
    ],
)
def test_indicator_references(argument: str, expected: IndicatorRef) -> None:
    assert parse_indicator_ref(argument) == expected


def test_not_an_indicator_reference() -> None:
    with pytest.raises(Refusal) as refused:
        parse_indicator_ref("执法记录仪")
    assert refused.value.reason == "“执法记录仪”不是指标编号，请写成 31、第31项、（1）、★1、加分项2 或 政府21"


@pytest.mark.parametrize(
    ("argument", "expected"),
    [("10月", "2026-10"), ("2026年10月", "2026-10"), ("2026-10", "2026-10"), ("上月", "2026-10"), ("12月", "2025-12")],
)
def test_period_arguments(argument: str, expected: str) -> None:
    assert parse_period_argument(argument, TODAY) == expected


def test_future_period_argument_is_refused() -> None:
    with pytest.raises(Refusal) as refused:
        parse_period_argument("2026-12", TODAY)
    assert refused.value.reason == "2026年12月还没有到，不能导出未来月份"

"""Evaluation on the frozen held-out report lines (written from the documents by someone else).

Not tuned on: the score is measured and written to README, the lines are never used to change
the parser. Each line is read as the bot reads it in a group bound to the line's document.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select

from knowledge.errors import Refusal
from knowledge.report_line import parse_indicator_ref, parse_report_line
from knowledge.statuses import STATUS_LABELS, allowed_statuses
from storage.db import Database
from storage.models import Document, Indicator
from storage.profiles import profile_of

HELDOUT = Path(__file__).parent / "data" / "heldout_report_lines.tsv"
REFERENCE_DAY = date(2026, 12, 3)  # stated in the held-out file's header


@dataclass(frozen=True)
class Reading:
    """What the bot makes of a line, in the held-out file's terms."""

    number: str
    status: str  # 已完成 | 未完成 | 无材料 | 不涉及 | ASK | ERROR | ASK-PERIOD
    period: str
    details: str


def _documents(url: str) -> dict[str, tuple[frozenset[object], set[tuple[str, str]]]]:
    db = Database(url)
    try:
        with db.session_scope() as session:
            found = {}
            for document in session.scalars(select(Document)):
                keys = {
                    (table or "", key)
                    for key, table in session.execute(
                        select(Indicator.key, Indicator.table_name).where(Indicator.document_id == document.id)
                    )
                }
                found[document.id[:3]] = (frozenset(allowed_statuses(profile_of(document).statuses)), keys)
            return found
    finally:
        db.dispose()


def read_as_the_bot(line: str, allowed: frozenset[object], keys: set[tuple[str, str]]) -> Reading:
    try:
        parsed = parse_report_line(line, REFERENCE_DAY, allowed=allowed)  # type: ignore[arg-type]
    except Refusal:
        return Reading("", "ERROR", "", "")
    table = parsed.ref.table
    if (table, parsed.ref.key) not in keys and not (not table and any(k == parsed.ref.key for _, k in keys)):
        return Reading("", "ERROR", "", "")
    status = STATUS_LABELS[parsed.status] if parsed.status else "ASK"
    period = parsed.period or ("ASK-PERIOD" if parsed.period_choices else "default")
    return Reading(f"{table}{parsed.ref.key}", status, period, parsed.details)


def _gold_number(number: str) -> str:
    ref = parse_indicator_ref(number)
    return f"{ref.table}{ref.key}"


def test_heldout_report_lines_score(seeded_db_url: str) -> None:
    documents = _documents(seeded_db_url)
    lines = [raw.split("\t") for raw in HELDOUT.read_text(encoding="utf-8").splitlines() if not raw.startswith("#")]
    lines = [cells + [""] * (6 - len(cells)) for cells in lines if len(cells) >= 5]
    assert len(lines) >= 100
    fields: Counter[str] = Counter()
    exact = 0
    misses = []
    for doc, line, number, status, period, details in lines:
        allowed, keys = documents[doc]
        got = read_as_the_bot(line, allowed, keys)
        if status == "ERROR":
            ok = got.status == "ERROR"
            fields["status"] += ok
            fields["number"] += ok
            fields["period"] += ok
            fields["details"] += ok
        else:
            checks = {
                "number": got.number == _gold_number(number),
                "status": got.status == status,
                "period": got.period == period,
                "details": got.details == details,
            }
            fields.update({name for name, good in checks.items() if good})
            ok = all(checks.values())
        exact += ok
        if not ok:
            misses.append((doc, line, (number, status, period, details), got))
    print(f"\nheld-out: {exact}/{len(lines)} lines exact ({exact / len(lines):.0%})")
    for name in ("number", "status", "period", "details"):
        print(f"  {name}: {fields[name]}/{len(lines)}")
    for doc, line, gold, got in misses:
        print(f"  MISS {doc} {line!r}: gold={gold} got={got}")

"""Ledger export at province size: 20 000 indicators × 1 month, and with 12 months of history.

Builds a database from the bundled documents replicated under new ids (each with every
indicator reported in every month), then times the export (query + write-only xlsx) and
records its peak traced memory. Run: ``.venv/bin/python bench/ledger_bench.py [--write-readme]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bench.readme_block import write_block  # noqa: E402
from knowledge.bundled import sample_files  # noqa: E402
from knowledge.files import read_document_bytes  # noqa: E402
from knowledge.ledger_xlsx import write_export  # noqa: E402
from storage.catalog import import_document  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.ledger_data import ledger_data  # noqa: E402
from storage.models import Assignment, ProgressReport, ReportStatus  # noqa: E402

MONTHS = [f"2025-{m:02d}" for m in range(11, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]


def build(url: str, target: int, months: list[str]) -> int:
    db = Database(url)
    db.upgrade()
    documents = [d for name, data in sample_files() for d in read_document_bytes(data, name)]
    per_round = sum(len(d.indicators) for d in documents)
    now = datetime.now(UTC)
    with db.session_scope() as session:
        for round_number in range(max(1, target // per_round)):
            for document in documents:
                copy = dataclasses.replace(document, doc_id=f"{document.doc_id}_{round_number:03d}")
                import_document(session, copy, now=now)
        pairs = session.execute(select(Assignment.indicator_id, Assignment.unit_id).distinct()).all()
        serial = 0
        for period in months:
            rows = []
            for indicator_id, unit_id in pairs:
                serial += 1
                rows.append({"short_id": f"B{serial:09d}", "indicator_id": indicator_id, "unit_id": unit_id,
                             "period": period, "version": 1, "status": ReportStatus.DONE, "text": "已完成本月工作",
                             "late": False, "reporter_name": "基准", "created_at": now})  # fmt: skip
            session.execute(insert(ProgressReport), rows)
        count = len(pairs)
    db.dispose()
    return count


def export(url: str, period: str, out: Path, template: str) -> tuple[float, float, int]:
    """Time of one export (query + xlsx, untraced), then peak traced memory of a second one."""
    db = Database(url)
    started = time.perf_counter()
    result = write_export(db.call(ledger_data, period), out, datetime.now(UTC), template)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    write_export(db.call(ledger_data, period), out, datetime.now(UTC), template)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    db.dispose()
    return seconds, peak / 1024 / 1024, result.owned


def run(target: int) -> str:
    lines = [f"Measured {datetime.now(UTC):%Y-%m-%d} by `python bench/ledger_bench.py` (SQLite file, XlsxWriter):", "",
             "| database | template | ledger rows exported | time (query + xlsx) | peak traced memory | xlsx size |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for label, months in (("1 month of reports", MONTHS[-1:]), ("12 months of reports", MONTHS)):
        with TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.sqlite3"
            pairs = build(url, target, months)
            for template in ("000", "generic"):
                out = Path(folder) / f"ledger-{template}.xlsx"
                seconds, peak, rows = export(url, MONTHS[-1], out, template)
                size = out.stat().st_size / 1024 / 1024
                lines.append(f"| ~{target} indicators, {pairs} unit assignments, {label} | {template} | {rows}"
                             f" | {seconds:.1f} s | {peak:.0f} MB | {size:.1f} MB |")  # fmt: skip
    return "\n".join(lines)


def write_readme(table: str) -> None:
    write_block("ledger-bench", table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--indicators", type=int, default=20_000)
    parser.add_argument("--write-readme", action="store_true")
    arguments = parser.parse_args()
    result = run(arguments.indicators)
    print(result)
    if arguments.write_readme:
        write_readme(result)

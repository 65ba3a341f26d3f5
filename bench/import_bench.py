"""Import benchmark: the largest accepted table and the hostile files, each in a fresh process.

Run: ``python bench/import_bench.py`` (writes the ``import-bench`` block of README.md).
Each measurement runs ``read_document_bytes`` in its own child process and reports wall time,
CPU time and the child's peak resident memory (``ru_maxrss``), so one case cannot inflate the next.
"""

from __future__ import annotations

import io
import multiprocessing
import resource
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.readme_block import write_block

ROWS = 20_000


def big_xlsx(rows: int) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("指标")
    sheet.append(["一级指标", "二级指标", "序号", "三级指标", "测评方法", "上报资料", "牵头单位", "配合单位"])
    for n in range(1, rows + 1):
        text = f"第{n}项：深化行政审批制度改革，全面实行政府权责清单制度，推动各级政府高效履职尽责"
        level1, level2 = "一、依法全面履行政府职能", "（一）推进政府机构职能优化"
        sheet.append([level1, level2, n, text, "材料查证\n实地察看", "权责清单文件", "法规科（刘海利）", "办公室"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def hostile() -> list[tuple[str, str, bytes]]:
    from tests.test_hostile_inputs import BOMB, ENTITIES, declared_million_rows, docx_replacing, long_cell, wide, xlsx

    return [
        ("xlsx declaring 1,048,576 rows", "百万行.xlsx", declared_million_rows()),
        ("xlsx zip bomb (30 MB part)", "炸弹.xlsx", BOMB),
        ("xlsx cell in column 100", "宽表.xlsx", xlsx(wide)),
        ("xlsx 10 001-character cell", "长格.xlsx", xlsx(long_cell)),
        ("docx with DTD entities", "实体.docx", docx_replacing("word/document.xml", ENTITIES)),
        ("xlsx over the row cap (30 000 rows)", "长表.xlsx", big_xlsx(30_000)),
    ]


def _peak_mb() -> float:
    """This process's peak resident memory: VmHWM (ru_maxrss survives exec and shows the parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(data: bytes, name: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from knowledge.files import ImportInputError, read_document_bytes

    wall, cpu = time.perf_counter(), time.process_time()
    try:
        documents = read_document_bytes(data, name, max_bytes=50 * 1024 * 1024)
        outcome = f"accepted: {sum(len(d.indicators) for d in documents)} indicators"
    except ImportInputError as exc:
        outcome = f"refused: {str(exc)[:40]}…"
    peak = _peak_mb()
    queue.put((time.perf_counter() - wall, time.process_time() - cpu, peak, outcome))


def measure(data: bytes, name: str) -> tuple[float, float, float, str]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_measure, args=(data, name, queue))
    child.start()
    result = queue.get()
    child.join()
    return result  # type: ignore[no-any-return]


def main() -> None:
    lines = [
        f"Measured {date.today()} by `python bench/import_bench.py` (each case in a fresh process; "
        "peak = the child's VmHWM, interpreter and libraries included).",
        "",
        "| input | size | outcome | wall | CPU | peak memory |",
        "|---|---|---|---|---|---|",
    ]
    cases = [(f"xlsx, {ROWS:,} indicator rows (largest accepted)", "大表.xlsx", big_xlsx(ROWS)), *hostile()]
    for label, name, data in cases:
        wall, cpu, peak, outcome = measure(data, name)
        lines.append(
            f"| {label} | {len(data) / 1024:.0f} KB | {outcome} | {wall:.2f} s | {cpu:.2f} s | {peak:.0f} MB |"
        )
        print(lines[-1], flush=True)
    write_block("import-bench", "\n".join(lines))


if __name__ == "__main__":
    main()

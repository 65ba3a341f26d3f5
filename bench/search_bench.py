"""Search benchmark: quality per query kind vs a plain rapidfuzz baseline, latency, build time, memory.

Run: ``.venv/bin/python bench/search_bench.py`` (add ``--write-readme`` to refresh README).
Quality is measured on two labelled sets: the tuning set ``tests/data/queries.tsv`` (the
method is tuned on it) and the frozen held-out set ``tests/data/heldout_queries.tsv`` (written
independently; only scored, never tuned on). Answers are scored on the text the bot sends.
``--draw`` prints the seeded random draw (``random.Random(15)``) of indicators and owners the
second part of the tuning set was written from.
Everything is measured in one run on this machine; latencies are percentiles, so noise from
the other core matters less than in a single timing.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.readme_block import write_block  # noqa: E402
from handlers.cards import result_page  # noqa: E402
from knowledge.evaluation import LabelledQuery, Scores, baseline_ranker, engine_ranker, evaluate, load_queries  # noqa: E402
from knowledge.model import ParsedDocument  # noqa: E402
from knowledge.profile import Profile  # noqa: E402
from knowledge.search import SearchIndex  # noqa: E402
from storage.catalog import import_samples_if_empty, load_documents  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.profiles import all_profiles  # noqa: E402

QUERIES = load_queries(ROOT / "tests" / "data" / "queries.tsv")
HELDOUT = load_queries(ROOT / "tests" / "data" / "heldout_queries.tsv")
DRAW_SEED = 15


def seed_documents() -> list[ParsedDocument]:
    return seed_corpus()[0]


def seed_corpus() -> tuple[list[ParsedDocument], list[Profile]]:
    """The bundled documents and their programme profiles, as stored."""
    with TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/bench.sqlite3")
        db.upgrade()
        db.call(import_samples_if_empty, datetime.now(UTC))
        documents = db.call(load_documents)
        profiles = db.call(all_profiles)
        db.dispose()
    return documents, profiles


def draw(index: SearchIndex) -> str:
    """The seeded draw the second part of the tuning set was written from (not the held-out set)."""
    rng = random.Random(DRAW_SEED)
    lines = []
    for n, position in enumerate(rng.sample(range(index.size), 80)):
        entry = index.entries[position]
        owners = "、".join(o.unit for o in entry.indicator.leads)
        lines.append(f"{n}\t{entry.label}\t{entry.indicator.text[:60]}\t{owners}")
    owners = sorted({(e.document[:3], o.unit) for e in index.entries for o in e.indicator.leads + e.indicator.coops})
    persons = sorted(
        {(e.document[:3], p) for e in index.entries for o in e.indicator.leads + e.indicator.coops for p in o.persons}
    )
    lines += [f"owner\t{doc}\t{name}" for doc, name in rng.sample(owners, 16) + rng.sample(persons, 8)]
    return "\n".join(lines)


def replicate(documents: list[ParsedDocument], target: int) -> list[ParsedDocument]:
    """Copies of the seeds under new ids until ``target`` indicators (a province).

    Each copy's texts get a distinct suffix so that no cache of repeated strings flatters
    the numbers: every indicator is indexed as new text.
    """
    per_round = sum(len(d.indicators) for d in documents)
    copies = []
    for round_number in range(max(1, target // per_round)):
        for document in documents:
            items = [
                dataclasses.replace(i, text=f"{i.text}（副本{round_number}）", materials=f"{i.materials}{round_number}")
                for i in document.indicators
            ]
            copies.append(
                dataclasses.replace(document, doc_id=f"{document.doc_id}_{round_number:03d}", indicators=items)
            )
    return copies


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50, p95


def measure_build(documents: list[ParsedDocument]) -> tuple[SearchIndex, float, float, float]:
    """Build time (median of 3 builds); in a separate traced build, peak and retained memory."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        index = SearchIndex(documents)
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    traced = SearchIndex(documents)
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced
    return index, statistics.median(times), peak / 1024 / 1024, retained / 1024 / 1024


def measure_queries(index: SearchIndex, rounds: int) -> tuple[float, float]:
    index.search("预热")
    samples = []
    for _ in range(rounds):
        for labelled in QUERIES:
            started = time.perf_counter()
            index.search(labelled.query, limit=10)
            samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def measure_baseline(index: SearchIndex, count: int) -> tuple[float, float]:
    texts = [e.indicator.text for e in index.entries]
    samples = []
    for labelled in QUERIES[:count]:
        started = time.perf_counter()
        process.extract(labelled.query, texts, scorer=fuzz.WRatio, limit=5)
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def quality_table(index: SearchIndex, queries: list[LabelledQuery], title: str) -> list[str]:
    """Per kind: top-1 / top-3 (and owner-list recall) for ours and for plain rapidfuzz."""
    names = {doc_id: doc.short_name or doc_id for doc_id, doc in index.documents.items()}
    ours = evaluate(index, queries, engine_ranker(index, lambda r: result_page(r, 0, names)[0]))
    baseline = evaluate(index, queries, baseline_ranker(index))

    def recall(scores: Scores) -> str:
        summary = scores.summary()
        return f"{summary['recall']:.2f}" if "recall" in summary else "–"

    lines = [
        title,
        "",
        "| kind | n | top-1 | top-3 | owner-list recall | rapidfuzz top-1 | rapidfuzz top-3 | rapidfuzz recall |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind in sorted(ours, key=lambda k: (k == "all", k)):
        a, b = ours[kind].summary(), baseline[kind].summary()
        lines.append(
            f"| {kind} | {a['n']:.0f} | {a['top1']:.2f} | {a['top3']:.2f} | {recall(ours[kind])}"
            f" | {b['top1']:.2f} | {b['top3']:.2f} | {recall(baseline[kind])} |"
        )
    return lines


def run() -> str:
    load_at_start = os.getloadavg()[0]
    documents, profiles = seed_corpus()
    seed_index, seed_build, seed_memory, seed_kept = measure_build(documents)
    quality_index = SearchIndex(documents, profiles=profiles)
    province = replicate(documents, 20_000)
    big_index, big_build, big_memory, big_kept = measure_build(province)
    seed_p50, seed_p95 = measure_queries(quality_index, rounds=5)
    big_p50, big_p95 = measure_queries(big_index, rounds=1)
    base_seed = measure_baseline(seed_index, len(QUERIES))
    base_big = measure_baseline(big_index, 40)

    load = load_at_start
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on this 2-core machine by `python bench/search_bench.py`"
        f" (1-minute load average at the start: {load:.1f}; other work on the machine inflates the timings).",
        "",
        "| corpus | indicators | index build (median of 3) | memory: peak while building / index kept"
        " | query p50 | query p95 | plain rapidfuzz p50 / p95 |",
        "|---|---|---|---|---|---|---|",
        f"| seeds | {seed_index.size} | {seed_build:.2f} s | {seed_memory:.0f} / {seed_kept:.0f} MB"
        f" | {seed_p50:.2f} ms | {seed_p95:.2f} ms | {base_seed[0]:.2f} / {base_seed[1]:.2f} ms |",
        f"| seeds × {len(province) // len(documents)} | {big_index.size} | {big_build:.2f} s"
        f" | {big_memory:.0f} / {big_kept:.0f} MB | {big_p50:.2f} ms | {big_p95:.2f} ms"
        f" | {base_big[0]:.1f} / {base_big[1]:.1f} ms |",
        "",
    ]
    lines += quality_table(
        quality_index,
        QUERIES,
        f"Tuning set (`tests/data/queries.tsv`, {len(QUERIES)} questions; the method is tuned on it):",
    )
    lines.append("")
    lines += quality_table(
        quality_index,
        HELDOUT,
        f"Frozen held-out set (`tests/data/heldout_queries.tsv`, {len(HELDOUT)} questions written independently"
        " from the seeds; scored only, never tuned on):",
    )
    lines += [
        "",
        "Scoring: a topic/number question counts when an acceptable indicator is at rank 1 (top-1) or within 3;"
        " `who` also needs the owner named in the reply; an owner question needs the owner's complete list"
        " (recall = share of the owner's indicators in the answer); a programme question needs every gold keyword"
        " in the reply text; a greeting needs the usage reply. Plain rapidfuzz has no reply text, so it scores 0"
        " on programme, greeting and who questions.",
    ]
    return "\n".join(lines)


def write_readme(table: str) -> None:
    write_block("search-bench", table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--draw", action="store_true", help="print the seeded draw of the tuning set, part 2")
    arguments = parser.parse_args()
    if arguments.draw:
        print(draw(SearchIndex(seed_documents())))
        raise SystemExit(0)
    result = run()
    print(result)
    if arguments.write_readme:
        write_readme(result)

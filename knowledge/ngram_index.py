"""A character unigram + bigram inverted index built entirely with numpy (no per-gram Python loop).

All field texts are joined into one UTF-32 array; characters get compact ids; every
unigram and bigram inside a field becomes an integer code; (code, entry, field) triples
are de-duplicated with one sort; weights of the fields an entry has a gram in are summed.
The result is CSR: for each gram code, the entries holding it and their weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROW_BITS = 27  # up to 134 M (entry, field) rows
_ROW_MASK = np.uint64((1 << ROW_BITS) - 1)


CHUNK_ENTRIES = 2000


def _points(rows: Sequence[Sequence[str]]) -> NDArray[np.uint32]:
    """The code points of all fields of ``rows``, each field followed by a 0 separator."""
    joined = "".join(text.replace("\x00", "") + "\x00" for row in rows for text in row)
    return np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)


def _chunk_triples(
    rows: Sequence[Sequence[str]],
    first_entry: int,
    table: NDArray[np.uint32],
    k: int,
    code_type: type[np.unsignedinteger],
    weight_of_field: NDArray[np.float32],
    unigram_factor: float,
) -> tuple[NDArray[np.unsignedinteger], NDArray[np.int32], NDArray[np.float32]]:
    """(gram code, entry, summed field weight) per distinct (gram, entry) of a chunk, by code then entry."""
    fields = len(weight_of_field)
    flat = [text.replace("\x00", "") for row in rows for text in row]
    points = _points(rows)
    lengths = np.fromiter((len(t) + 1 for t in flat), dtype=np.int64, count=len(flat))
    slot_of = np.repeat(np.arange(len(flat), dtype=np.uint64), lengths)  # (entry, field) slot in the chunk
    ids = table[points].astype(np.uint64)
    real = points != 0
    pair = real[:-1] & real[1:]
    big_k = np.uint64(k)
    codes = np.concatenate((ids[real], big_k + ids[:-1][pair] * big_k + ids[1:][pair]))
    slots = np.concatenate((slot_of[real], slot_of[:-1][pair]))
    del ids, slot_of, points
    keys = np.unique((codes << np.uint64(ROW_BITS)) | slots)  # sorted, one per (gram, entry, field)
    del codes, slots
    codes = keys >> np.uint64(ROW_BITS)
    slot_ids = keys & _ROW_MASK
    entries = (slot_ids // np.uint64(fields)).astype(np.int64)
    weights = weight_of_field[(slot_ids % np.uint64(fields)).astype(np.int64)]
    weights = np.where(codes < big_k, weights * np.float32(unigram_factor), weights).astype(np.float32)
    group_key = (codes << np.uint64(ROW_BITS)) | entries.astype(np.uint64)
    starts = _run_starts(group_key)
    summed = np.add.reduceat(weights, starts) if len(starts) else weights
    return codes[starts].astype(code_type), (entries[starts] + first_entry).astype(np.int32), summed


def _run_starts(values: NDArray[Any]) -> NDArray[np.intp]:
    """Indices where a sorted array's runs of equal values begin."""
    if values.size == 0:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))


class NgramPostings:
    """Postings of unigrams and bigrams over entries made of weighted text fields.

    Built in chunks of entries so the temporaries stay small (peak memory grows with the
    chunk, not the corpus): each chunk yields de-duplicated (gram, entry, weight) triples in
    32-bit arrays; one stable sort by gram over all triples makes the CSR (entries within a
    gram stay in entry order because chunks are processed in order).
    """

    def __init__(
        self,
        rows: Sequence[Sequence[str]],
        field_weights: Sequence[float],
        unigram_factor: float,
        *,
        chunk_entries: int = CHUNK_ENTRIES,
    ) -> None:
        self.entry_count = len(rows)
        present = np.zeros(0x110000, dtype=bool)
        for start in range(0, len(rows), chunk_entries):
            present[_points(rows[start : start + chunk_entries])] = True  # code points index a table: O(n)
        present[0] = True
        chars = np.flatnonzero(present)
        self._char_id = {chr(int(c)): i for i, c in enumerate(chars) if c != 0}
        self._k = len(chars)
        table = (np.cumsum(present, dtype=np.int32) - 1).astype(np.uint32)
        del present
        code_type = np.uint32 if self._k + self._k * self._k < 2**32 else np.uint64
        weight_of_field = np.asarray(field_weights, dtype=np.float32)
        parts: list[tuple[NDArray[np.unsignedinteger], NDArray[np.int32], NDArray[np.float32]]] = []
        for start in range(0, len(rows), chunk_entries):
            parts.append(
                _chunk_triples(
                    rows[start : start + chunk_entries],
                    start,
                    table,
                    self._k,
                    code_type,
                    weight_of_field,
                    unigram_factor,
                )
            )
        del table
        codes = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=code_type)
        order = np.argsort(codes, kind="stable")
        codes = codes[order]
        self.postings: NDArray[np.int32] = (
            np.concatenate([p[1] for p in parts])[order] if parts else np.zeros(0, np.int32)
        )
        self.weights: NDArray[np.float32] = (
            np.concatenate([p[2] for p in parts])[order] if parts else np.zeros(0, np.float32)
        )
        del parts, order
        first = _run_starts(codes)
        self.codes = codes[first].astype(np.uint64)
        self.offsets: NDArray[np.int64] = np.append(first, len(codes)).astype(np.int64)
        counts = np.diff(self.offsets)
        self.idf: NDArray[np.float32] = np.log1p(max(self.entry_count, 1) / np.maximum(counts, 1)).astype(np.float32)

    def code(self, gram: str) -> int | None:
        """The integer code of a unigram or bigram, if all its characters are known."""
        ids = [self._char_id.get(c) for c in gram]
        if any(i is None for i in ids):
            return None
        if len(ids) == 1:
            return ids[0]
        return self._k + ids[0] * self._k + ids[1]  # type: ignore[operator]

    def lookup(self, gram: str) -> tuple[NDArray[np.int32], NDArray[np.float32], float] | None:
        """(entries, weights, idf) of ``gram``; None if no entry has it."""
        code = self.code(gram)
        if code is None:
            return None
        position = int(
            np.searchsorted(self.codes, np.uint64(code))
        )  # a Python int would go through object dtype (~40 µs)
        if position >= len(self.codes) or int(self.codes[position]) != code:
            return None
        start, end = self.offsets[position], self.offsets[position + 1]
        return self.postings[start:end], self.weights[start:end], float(self.idf[position])

"""A character unigram + bigram inverted index built entirely with numpy (no per-gram Python loop).

All field texts are joined into one UTF-32 array; characters get compact ids; every
unigram and bigram inside a field becomes an integer code; (code, entry, field) triples
are de-duplicated with one sort; weights of the fields an entry has a gram in are summed.
The result is CSR: for each gram code, the entries holding it and their weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

ROW_BITS = 27  # up to 134 M (entry, field) rows
_ROW_MASK = np.uint64((1 << ROW_BITS) - 1)


def _run_starts(values: NDArray[np.uint64]) -> NDArray[np.intp]:
    """Indices where a sorted array's runs of equal values begin."""
    if values.size == 0:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))


class NgramPostings:
    """Postings of unigrams and bigrams over entries made of weighted text fields."""

    def __init__(self, rows: Sequence[Sequence[str]], field_weights: Sequence[float], unigram_factor: float) -> None:
        fields = len(field_weights)
        self.entry_count = len(rows)
        flat = [text.replace("\x00", "") for row in rows for text in row] or [""]
        joined = "\x00".join(flat) + "\x00"
        points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        lengths = np.fromiter((len(t) + 1 for t in flat), dtype=np.int64, count=len(flat))
        row_of = np.repeat(np.arange(len(flat), dtype=np.uint64), lengths)
        present = np.zeros(0x110000, dtype=bool)
        present[points] = True  # code points index a table: O(n), no sort
        chars = np.flatnonzero(present)
        table = np.cumsum(present, dtype=np.int64) - 1
        self._char_id = {chr(int(c)): i for i, c in enumerate(chars) if c != 0}
        k = np.uint64(len(chars))
        self._k = int(k)
        ids = table[points].astype(np.uint64)
        real = points != 0
        pair = real[:-1] & real[1:]
        codes = np.concatenate((ids[real], k + ids[:-1][pair] * k + ids[1:][pair]))
        owners = np.concatenate((row_of[real], row_of[:-1][pair]))
        keys = np.sort((codes << np.uint64(ROW_BITS)) | owners)
        keys = keys[_run_starts(keys)]  # one per (gram, entry, field)
        codes = keys >> np.uint64(ROW_BITS)
        row_ids = keys & _ROW_MASK
        entries = (row_ids // np.uint64(fields)).astype(np.int64)
        weight_of_field = np.asarray(field_weights, dtype=np.float32)
        weights = weight_of_field[(row_ids % np.uint64(fields)).astype(np.int64)]
        weights = np.where(codes < k, weights * np.float32(unigram_factor), weights).astype(np.float32)
        # Keys are sorted by code then row (entry-major), so (code, entry) groups are contiguous.
        group_key = (codes << np.uint64(ROW_BITS)) | entries.astype(np.uint64)
        starts = _run_starts(group_key)
        self.weights: NDArray[np.float32] = np.add.reduceat(weights, starts) if len(starts) else weights
        self.postings: NDArray[np.int32] = entries[starts].astype(np.int32)
        gram_codes = codes[starts]
        first = _run_starts(gram_codes)
        self.codes = gram_codes[first]
        self.offsets: NDArray[np.int64] = np.append(first, len(gram_codes)).astype(np.int64)
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
        position = int(np.searchsorted(self.codes, code))
        if position >= len(self.codes) or int(self.codes[position]) != code:
            return None
        start, end = self.offsets[position], self.offsets[position + 1]
        return self.postings[start:end], self.weights[start:end], float(self.idf[position])

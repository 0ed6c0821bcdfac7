"""Canonical sums of a value a position (DESIGN §8): the same bits whichever blocks,
threads, shards or engine computed them.

The positions are cut into chunks of :data:`CHUNK` on the flat index, each chunk summed as
numpy sums it (pairwise), and the chunks' sums summed in order. A block of positions gives
its :class:`Partial`: the sums of the chunks wholly inside it, and the values of the two
chunks it shares with its neighbours; :func:`merged_sum` puts those together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

CHUNK = 256  # positions a canonical chunk sums: a block keeps at most two part-chunks


def _chunk_sums(chunks: FloatArray) -> FloatArray:
    """Each row's sum of an (m, length) array: the one way every chunk is summed."""
    sums: FloatArray = chunks.sum(axis=1)
    return sums


@dataclass(frozen=True, eq=False)
class Partial:
    """The canonical sum of a value a position over positions ``start:start + n``, in
    pieces: ``head``, the values before the first chunk boundary at or after ``start``
    (the end of a chunk begun before); ``sums``, the sums of the chunks wholly inside;
    ``tail``, the values after them (the start of a chunk ended after).

    >>> part = Partial.of(np.arange(5.0), CHUNK - 2)
    >>> part.head.tolist(), part.sums.tolist(), part.tail.tolist()
    ([0.0, 1.0], [], [2.0, 3.0, 4.0])
    """

    head: FloatArray
    sums: FloatArray
    tail: FloatArray
    boundary: bool  # whether the head ends on a chunk boundary (else it is all the values)

    @classmethod
    def of(cls, values: FloatArray, start: int) -> Partial:
        """``values`` of positions ``start:start + len(values)`` in canonical pieces."""
        n = len(values)
        before = -start % CHUNK  # values up to the next boundary (0: start is on one)
        boundary = before <= n
        head_end = min(before, n)
        whole = (n - head_end) // CHUNK if boundary else 0
        tail_start = head_end + whole * CHUNK
        sums = _chunk_sums(values[head_end:tail_start].reshape(whole, CHUNK))
        return cls(values[:head_end].copy(), sums, values[tail_start:].copy(), boundary)


def merged_sum(parts: Sequence[Partial]) -> float:
    """The canonical sum of consecutive :class:`Partial` pieces, first to last: each chunk
    put together from the pieces that hold it, summed as a whole chunk is, and the chunks'
    sums summed in order.

    >>> values = np.random.default_rng(0).random(3 * CHUNK + 5)
    >>> cuts = [0, 7, CHUNK + 3, CHUNK + 9, 2 * CHUNK, len(values)]
    >>> parts = [Partial.of(values[a:b], a) for a, b in zip(cuts, cuts[1:])]
    >>> merged_sum(parts) == canonical_sum(values)
    True
    """
    sums: list[FloatArray] = []
    pending: list[FloatArray] = []

    def flush() -> None:
        if pending:
            chunk = np.concatenate(pending)
            if chunk.size:
                sums.append(_chunk_sums(chunk.reshape(1, -1)))
            pending.clear()

    for part in parts:
        pending.append(part.head)
        if part.boundary:
            flush()
            sums.append(part.sums)
            pending.append(part.tail)
    flush()
    return float(np.concatenate(sums).sum()) if sums else 0.0


def canonical_sum(values: FloatArray) -> float:
    """Σ values of positions 0…n − 1 in canonical chunks (:func:`merged_sum` of one part).

    >>> canonical_sum(np.full(CHUNK + 1, 0.5))
    128.5
    """
    return merged_sum([Partial.of(np.asarray(values, dtype=np.float64), 0)])


def row_sums(values: FloatArray, per_row: int) -> FloatArray:
    """Each row's canonical sum of a flat value a position (rows of ``per_row`` positions,
    whole rows only): chunks of :data:`CHUNK` from the row's first position, as
    :func:`canonical_sum` of the row alone gives, for every row at once.

    >>> row_sums(np.arange(6.0), 3).tolist()
    [3.0, 12.0]
    """
    rows = np.asarray(values, dtype=np.float64).reshape(-1, per_row)
    whole, rest = divmod(per_row, CHUNK)
    if whole == 0:
        return _chunk_sums(rows)
    parts = [rows[:, : whole * CHUNK].reshape(-1, whole, CHUNK).sum(axis=2)]
    if rest:
        parts.append(_chunk_sums(rows[:, whole * CHUNK :])[:, np.newaxis])
    return _chunk_sums(np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0])


@dataclass(frozen=True, eq=False)
class RowPartial:
    """Each row's canonical sum over positions ``start:start + n`` (rows of ``per_row``),
    in pieces: the end of a row begun before (``head``), the sums of the rows wholly
    inside (from row ``first``), and the start of a row ended after (``tail``)."""

    head: tuple[int, Partial] | None  # (row, its part) when the positions begin inside a row
    first: int  # the first row wholly inside
    sums: FloatArray
    tail: tuple[int, Partial] | None  # (row, its part) when they end inside a row

    @classmethod
    def of(cls, values: FloatArray, start: int, per_row: int) -> RowPartial:
        """``values`` of flat positions ``start:start + len(values)``, cut at the rows."""
        stop = start + len(values)
        row, within = divmod(start, per_row)
        head = None
        begin = start
        if within:  # the end of a row begun before (or a piece inside one row)
            begin = min(stop, (row + 1) * per_row)
            head = (row, Partial.of(values[: begin - start], within))
            row += 1
        end = max(begin, stop - stop % per_row)
        sums = row_sums(values[begin - start : end - start], per_row)
        tail = None
        if end < stop:
            tail = (end // per_row, Partial.of(values[end - start :], 0))
        return cls(head, row, sums, tail)


def merged_rows(parts: Sequence[RowPartial], rows: int) -> FloatArray:
    """Each of ``rows`` rows' canonical sum from consecutive :class:`RowPartial` pieces
    that cover every position, first to last.

    >>> values = np.random.default_rng(1).random(4 * 300)
    >>> cuts = [0, 5, 299, 301, 900, 1200]
    >>> parts = [RowPartial.of(values[a:b], a, 300) for a, b in zip(cuts, cuts[1:])]
    >>> bool((merged_rows(parts, 4) == row_sums(values, 300)).all())
    True
    """
    sums = np.zeros(rows)
    pending: list[Partial] = []
    pending_row = -1

    def add(row: int, part: Partial) -> None:
        nonlocal pending_row
        if row != pending_row:
            flush()
            pending_row = row
        pending.append(part)

    def flush() -> None:
        if pending:
            sums[pending_row] = merged_sum(pending)
            pending.clear()

    for part in parts:
        if part.head is not None:
            add(*part.head)
        if part.sums.size:
            flush()
            sums[part.first : part.first + part.sums.size] = part.sums
        if part.tail is not None:
            add(*part.tail)
    flush()
    return sums

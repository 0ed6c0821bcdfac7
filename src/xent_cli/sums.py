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

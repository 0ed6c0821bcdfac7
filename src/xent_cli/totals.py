"""The mean and the sum over positions with memory bounded by a block (DESIGN §8).

``xent compute LOGITS LABELS -r mean`` prints one number. For predictions with positions
read in blocks and class-index labels read in blocks beside them
(:class:`~sequences.LabelBlocks`), :func:`totals` reduces each block's losses as soon as
they are computed: no array of a value a position outlives its block, so a segmentation
dump of a few classes and millions of positions needs no more memory than a block does.

Sums of positions are *canonical* (:class:`Partial`): the positions are cut into chunks of
:data:`CHUNK` on the flat index, each chunk summed as numpy sums it, and the chunks' sums
summed in order. The number is the same whichever blocks computed it (threads, shards,
Dask, a file read whole), and the same as :class:`~result.Result` gives of the whole array.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .compute import SUMS_OFF, block_of, decided_blocks, left_out, settled, weight_exponent
from .detection import class_indices
from .inputs import Labels
from .result import clipping_note, mean_of, nothing_left, scaled
from .sequences import SCAN

if TYPE_CHECKING:
    import numpy.typing as npt

    from .detection import Decision
    from .inputs import Inputs
    from .options import Base
    from .parallel import Progress
    from .sequences import LabelBlocks, Layout
    from .settings import Settings

    FloatArray = npt.NDArray[np.float64]
    BoolArray = npt.NDArray[np.bool_]

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


@dataclass(frozen=True, eq=False)
class BlockTotals:
    """What a block of positions adds to the totals."""

    losses: Partial  # of the losses (in the unit asked for; 0 where left out)
    divisors: Partial | None  # of what each adds to the mean's divisor (class weights)
    counted: int  # positions not left out
    clipped: int
    sums_off: bool


@dataclass
class Totals:
    """The mean and sum over the counted positions, without a value a position: what
    ``-r mean`` and ``-r sum`` print (the mean as :attr:`Result.mean` gives it)."""

    decision: Decision
    numerator: float  # Σℓ (scaled by 2^−exponent: class weights)
    divisor: float | None  # Σd where positions add divisors (class weights, left out)
    positions: int
    counted: int
    exponent: int
    base: Base
    settings: Settings
    layout: Layout
    warnings: list[str]
    clipped: int = 0

    @property
    def mean(self) -> float:
        return mean_of(self.numerator, self.divisor, self.positions, self.exponent)

    @property
    def total(self) -> float:
        return scaled(self.numerator, self.exponent)

    @property
    def clipping_note(self) -> str | None:
        """One line when clipping moved any probability: how many, and ε."""
        return clipping_note(self.clipped, self.settings)


def totals(inputs: Inputs, settings: Settings, progress: Progress | None = None) -> Totals:
    """Decide the loss of ``inputs`` (predictions with positions, streamed, their labels
    in blocks) and reduce it block by block: :func:`~compute.compute`'s mean and sum,
    with memory bounded by a block."""
    blocks = inputs.label_blocks
    if blocks is None or inputs.layout is None:
        raise ValueError("totals are of predictions with positions and labels in blocks")
    settings = settled(inputs, settings)
    dtype = inputs.pred_source.dtype
    exponent = weight_exponent(settings.class_weights)
    scale = settings.base.log_e
    index = settings.ignore_index

    def work(decision: Decision, values: FloatArray, start: int, stop: int) -> BlockTotals:
        labels, ignored = _block_labels(blocks, start, stop, index)
        scored = blocks.layout.scored_in(start, stop)
        if scored is not None:
            ignored = ~scored if ignored is None else ignored | ~scored
        targets = class_indices(labels, values.shape[1])
        part = replace(decision, targets=targets)
        block = block_of(part, values, 0, stop - start, settings, dtype, detail=False)
        losses, divisors = left_out(block.losses, block.divisors, ignored, exponent)
        if scale != 1.0:
            losses = losses / scale
        return BlockTotals(
            Partial.of(losses, start),
            None if block.divisors is None else Partial.of(divisors, start),  # type: ignore[arg-type]
            stop - start - (0 if ignored is None else int(ignored.sum())),
            block.clipped,
            block.sums_off,
        )

    def check_labels() -> None:
        _check_classes(blocks, blocks.layout.classes, index)

    decision, _, parts = decided_blocks(inputs, settings, work, progress, check_labels)
    layout = inputs.layout
    positions = layout.rows * layout.per_row
    counted = sum(part.counted for part in parts)
    divisor = None
    if parts[0].divisors is not None:
        divisor = merged_sum([part.divisors for part in parts if part.divisors is not None])
    elif counted < positions:  # rows left out: each counted one adds 2^−e (Result.mean)
        divisor = float(np.ldexp(float(counted), -exponent))
    warnings = list(decision.warnings)
    if any(part.sums_off for part in parts):
        warnings.append(SUMS_OFF)
    nothing = nothing_left(counted == 0, divisor == 0.0 and counted > 0, True, settings)
    if nothing is not None:
        warnings.append(nothing)
    return Totals(
        decision,
        merged_sum([part.losses for part in parts]),
        divisor,
        positions,
        counted,
        exponent,
        settings.base,
        settings,
        layout,
        warnings,
        sum(part.clipped for part in parts),
    )


def _block_labels(
    blocks: LabelBlocks, start: int, stop: int, index: int | None
) -> tuple[Labels, BoolArray | None]:
    """The labels positions ``start:stop`` are scored against, those of ``--ignore-index``
    set to class 0 as detection sets them, and the mask of those."""
    matrix = blocks.read(start, stop)

    def where(row: int, column: int | None = None) -> str:
        return blocks.where(start + row, column)

    ignored = None if index is None else matrix[:, 0] == index
    if ignored is not None and ignored.any():
        matrix = np.where(ignored[:, None], 0.0, matrix)
    return Labels(matrix=matrix, where=where, dtype=blocks.dtype), ignored


def _check_classes(blocks: LabelBlocks, n_classes: int, index: int | None) -> None:
    """Raise what detection raises of all the labels as class indices of K classes, as the
    whole-label path does: the first label that is not a whole number, else the first
    negative, else the first beyond K (each first in position order); nothing if none."""
    layout = blocks.layout
    total = layout.rows * layout.per_row
    first: dict[int, tuple[int, int]] = {}  # kind (0 fraction, 1 negative, 2 beyond) → block
    for start in range(0, total, SCAN):
        stop = min(total, start + SCAN)
        labels, _ = _block_labels(blocks, start, stop, index)
        column = labels.matrix[:, 0]  # type: ignore[index]
        kinds = (column != np.floor(column), column < 0, column >= n_classes)
        for kind, bad in enumerate(kinds):
            if kind not in first and bad.any():
                first[kind] = (start, stop)
        if 0 in first:
            break
    if first:
        start, stop = first[min(first)]
        class_indices(_block_labels(blocks, start, stop, index)[0], n_classes)

"""The mean and the sum over positions with memory bounded by a block (DESIGN §8).

``xent compute LOGITS LABELS -r mean`` prints one number. For predictions with positions
read in blocks and class-index labels read in blocks beside them
(:class:`~sequences.LabelBlocks`), :func:`totals` reduces each block's losses as soon as
they are computed: no array of a value a position outlives its block, so a segmentation
dump of a few classes and millions of positions needs no more memory than a block does.

Sums of positions are canonical (:mod:`~xent_cli.sums`): the number is the same whichever
blocks computed it (threads, shards, Dask, a file read whole), and the same as
:class:`~result.Result` gives of the whole array.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .compute import (
    block_of,
    decided_blocks,
    left_out,
    settled,
    weight_exponent,
    without_ignored,
)
from .detection import class_indices, label_faults
from .inputs import Labels
from .result import SUMS_OFF, clipping_note, mean_of, nothing_left, scaled
from .sequences import SCAN
from .sums import Partial, merged_sum

if TYPE_CHECKING:
    import numpy.typing as npt

    from .detection import Decision
    from .inputs import Inputs
    from .parallel import Progress
    from .sequences import LabelBlocks
    from .settings import Settings

    FloatArray = npt.NDArray[np.float64]
    BoolArray = npt.NDArray[np.bool_]


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
    settings: Settings
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
        part = replace(decision, targets=class_indices(labels, values.shape[1]))
        block = block_of(part, values, settings, dtype, detail=False)
        losses, divisors = left_out(block.losses, block.divisors, ignored, exponent)
        if scale != 1.0:
            losses = losses / scale
        weighed = None  # class weights: what each position adds to the mean's divisor
        if block.divisors is not None:
            assert divisors is not None
            weighed = Partial.of(divisors, start)
        return BlockTotals(
            Partial.of(losses, start),
            weighed,
            stop - start - (0 if ignored is None else int(ignored.sum())),
            block.clipped,
            block.sums_off,
        )

    def check_labels() -> None:
        _check_classes(blocks, blocks.layout.classes, index)

    decision, _, parts = decided_blocks(inputs, settings, work, progress, check_labels)
    positions = inputs.layout.size
    counted = sum(part.counted for part in parts)
    divisor = None
    weighed = [part.divisors for part in parts if part.divisors is not None]
    if weighed:  # every block's, or none: one decision weighs them all
        assert len(weighed) == len(parts)
        divisor = merged_sum(weighed)
    elif counted < positions:  # rows left out: each counted one adds 2^−e (Result.mean)
        divisor = float(np.ldexp(float(counted), -exponent))
    warnings = list(decision.warnings)
    if any(part.sums_off for part in parts):
        warnings.append(SUMS_OFF)
    nothing = nothing_left(
        all_left_out=counted == 0,
        nothing_weighs=divisor == 0.0 and counted > 0,
        positions=True,
        settings=settings,
    )
    if nothing is not None:
        warnings.append(nothing)
    return Totals(
        decision,
        merged_sum([part.losses for part in parts]),
        divisor,
        positions,
        counted,
        exponent,
        settings,
        warnings,
        sum(part.clipped for part in parts),
    )


def _block_labels(
    blocks: LabelBlocks, start: int, stop: int, index: int | None
) -> tuple[Labels, BoolArray | None]:
    """The labels positions ``start:stop`` are scored against, those of ``--ignore-index``
    set to class 0 as detection sets them, and the mask of those."""

    def where(row: int, column: int | None = None) -> str:
        return blocks.where(start + row, column)

    read = Labels(matrix=blocks.read(start, stop), where=where, dtype=blocks.dtype)
    return without_ignored(read, index)


def _check_classes(blocks: LabelBlocks, n_classes: int, index: int | None) -> None:
    """Raise what detection raises of all the labels as class indices of K classes, as the
    whole-label path does: the first label that is not a whole number, else the first
    negative, else the first beyond K (each first in position order); nothing if none."""
    total = blocks.layout.size
    first: dict[int, tuple[int, int]] = {}  # kind (0 fraction, 1 negative, 2 beyond) → block
    for start in range(0, total, SCAN):
        stop = min(total, start + SCAN)
        labels, _ = _block_labels(blocks, start, stop, index)
        column = labels.matrix[:, 0]  # type: ignore[index]
        for kind, bad in enumerate(label_faults(column, n_classes)):
            if kind not in first and bad.any():
                first[kind] = (start, stop)
        if 0 in first:
            break
    if first:
        start, stop = first[min(first)]
        class_indices(_block_labels(blocks, start, stop, index)[0], n_classes)

"""The summary of predictions with positions with memory bounded by a block (DESIGN §8).

``xent compute LOGITS LABELS -r mean`` prints one number; ``-f json``, ``-r row`` and the
terminal print a summary: the mean and sum, each row's mean and perplexity, the accuracy
and the figures of DESIGN §10. For predictions with positions read in blocks and
class-index labels read in blocks beside them (:class:`~sequences.LabelBlocks`),
:func:`totals` reduces each block as soon as its losses are computed: no array of a value
a position outlives its block, so a segmentation dump of a few classes and millions of
positions needs no more memory than a block does (and a value a row).

Sums of positions are canonical (:mod:`~xent_cli.sums`): the mean, the sum and each
row's mean are the same bits whichever blocks computed them (threads, shards, Dask, a
file read whole), and the same as :class:`~result.Result` gives of the whole array.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from .compute import (
    block_of,
    decided_blocks,
    each_block,
    left_out,
    predicted_classes,
    settled,
    weight_exponent,
    without_ignored,
)
from .detection import class_indices, label_faults
from .evaluation import ClassSums, ScoreSums, summed_by_key
from .inputs import Labels
from .result import (
    SUMS_OFF,
    Confusion,
    Entries,
    RowMeans,
    class_label,
    clipping_note,
    mean_of,
    nothing_left,
    perplexity_of,
    scaled,
)
from .sequences import SCAN
from .sums import Partial, RowPartial, merged_rows, merged_sum

if TYPE_CHECKING:
    import numpy.typing as npt

    from .compute import Block
    from .detection import Decision
    from .evaluation import Bins, PerClass
    from .inputs import Inputs
    from .options import Base
    from .parallel import Progress
    from .sequences import LabelBlocks, Layout
    from .settings import Settings

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]
    BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Asked:
    """What the summary of positions in blocks holds beyond the mean and the sum."""

    detail: bool = False  # more than a bare number: each row's mean, the accuracy, …
    figures: bool = False  # those of DESIGN §10
    k: int | None = None  # the accuracy at k (--accuracy-at)
    spread: bool = False  # the histogram of the losses (a pass of its own)
    top: int = 0  # the worst positions (--top; a pass of its own)
    confusion: bool = False
    per_class: bool = False

    @property
    def entries(self) -> bool:
        """Whether the summary's pass works out each position's predicted class and
        p(target) (the confusion counts, the per-class table)."""
        return self.confusion or self.per_class


@dataclass(frozen=True, eq=False)
class RowParts:
    """What a block of positions adds to each row's mean and to the accuracy."""

    losses: RowPartial  # each row's Σℓ (as the block's Partial)
    divisors: RowPartial  # each row's Σd: class weights, else 2^−e; 0 where left out
    first: int  # the row of the block's first position
    counted: IntArray  # counted positions a row, from ``first``
    correct: int  # counted positions whose predicted class is the target
    finite: bool  # whether every loss is finite (scaled back by 2^exponent: as shown)
    scores: ScoreSums | None  # the figures' sums (evaluated)
    finite_range: tuple[float, float] | None  # the least and largest finite loss (shown)
    views: Views  # the confusion counts, the per-class sums


@dataclass(frozen=True, eq=False)
class Views:
    """What a block adds to the views of positions asked for: the confusion counts and
    the per-class sums."""

    pairs: tuple[IntArray, IntArray] | None = None  # keys target·K + predicted, counts
    largest_predicted: int = -1  # of every position (left out too), as Result counts K
    classes: ClassSums | None = None

    @classmethod
    def merged(cls, parts: list[Views]) -> Views:
        """The views of all the blocks, first to last."""
        pairs = [part.pairs for part in parts if part.pairs is not None]
        classes = [part.classes for part in parts if part.classes is not None]
        joined = None
        if pairs:
            keys, (counts,) = summed_by_key([(keys, [counts]) for keys, counts in pairs])
            joined = (keys, counts.astype(np.int64))
        return cls(
            joined,
            max((part.largest_predicted for part in parts), default=-1),
            functools.reduce(operator.add, classes) if classes else None,
        )


@dataclass(frozen=True, eq=False)
class BlockTotals:
    """What a block of positions adds to the totals."""

    losses: Partial  # of the losses (in the unit asked for; 0 where left out)
    divisors: Partial | None  # of what each adds to the mean's divisor (class weights)
    counted: int  # positions not left out
    clipped: int
    sums_off: bool
    rows: RowParts | None  # asked for (Asked.detail)


@dataclass
class RowTotals:
    """Each row's sums, the accuracy's count and the figures' sums over all blocks."""

    numerator: FloatArray  # Σℓ a row (scaled by 2^−exponent)
    divisor: FloatArray  # Σd a row (class weights, else 2^−exponent; 0 where left out)
    counted: IntArray  # counted positions a row
    correct: int
    finite: bool
    scores: ScoreSums | None
    views: Views

    @classmethod
    def merged(cls, parts: list[RowParts], rows: int) -> RowTotals:
        counted = np.zeros(rows, dtype=np.int64)
        for part in parts:
            counted[part.first : part.first + part.counted.size] += part.counted
        scores = [part.scores for part in parts if part.scores is not None]
        found = None
        if scores and len(scores) == len(parts):
            found = functools.reduce(operator.add, scores)
        return cls(
            merged_rows([part.losses for part in parts], rows),
            merged_rows([part.divisors for part in parts], rows),
            counted,
            sum(part.correct for part in parts),
            all(part.finite for part in parts),
            found,
            Views.merged([part.views for part in parts]),
        )


@dataclass
class Totals:
    """The summary of ``xent compute`` over predictions with positions without a value a
    position: the mean and sum over the counted positions (the mean as
    :attr:`Result.mean` gives it) and, with ``rows``, each row's mean, the accuracy and
    the figures of DESIGN §10. It answers what :class:`~result.Result` answers of a
    summary (:class:`~result.Summarised`)."""

    decision: Decision
    numerator: float  # Σℓ (scaled by 2^−exponent: class weights)
    divisor: float | None  # Σd where positions add divisors (class weights, left out)
    positions: int
    counted: int
    exponent: int
    settings: Settings
    warnings: list[str]
    layout: Layout
    clipped: int = 0
    row_totals: RowTotals | None = None
    asked: Asked = Asked()
    class_names: list[str] | None = None
    weights: None = None  # positions have no sample weights
    ids: None = None  # nor identifiers
    binary: bool = False  # class indices of K ≥ 2 classes
    single_label: bool = True
    spread: Spread | None = None  # the histogram of the counted positions' losses
    listing: Listing | None = None  # every counted position, made again (-r none)
    worst_entries: Entries | None = None  # the --top worst, found in a pass of their own

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

    @property
    def base(self) -> Base:
        return self.settings.base

    @property
    def unit(self) -> str:
        return self.settings.base.unit

    @property
    def perplexity(self) -> float:
        return perplexity_of(self.mean, self.settings.base)

    @property
    def rows(self) -> int:
        """Every position, counted or not (:attr:`Result.rows` of positions)."""
        return self.positions

    @property
    def row_count(self) -> int:
        return self.layout.rows

    @property
    def counted_rows(self) -> int:
        return self.counted

    @property
    def ignored_count(self) -> int:
        return self.positions - self.counted

    @property
    def leaves_out(self) -> bool:
        return self.settings.ignore_index is not None or self.layout.shift

    def _rows(self) -> RowTotals:
        if self.row_totals is None:
            raise ValueError("totals of a bare number: totals(..., Asked(detail=True))")
        return self.row_totals

    @property
    def all_finite(self) -> bool:
        return self._rows().finite

    @property
    def correct_count(self) -> int:
        return self._rows().correct

    @property
    def accuracy(self) -> float:
        return self.correct_count / self.counted if self.counted else math.nan

    def row_means(self) -> RowMeans:
        """Each row's mean over its counted positions, their count and perplexity."""
        return self._row_means

    @cached_property
    def _row_means(self) -> RowMeans:
        found = self._rows()
        # as Result's: Σℓ / Σd where positions add divisors (class weights, left out),
        # which scale ℓ and d alike; else Σℓ (scaled back) over the count
        if self.divisor is not None:
            return RowMeans.of(found.numerator, found.divisor, found.counted, self.base)
        with np.errstate(over="ignore"):
            numerator = np.ldexp(found.numerator, self.exponent)
        return RowMeans.of(numerator, found.counted, found.counted, self.base)

    @property
    def row_perplexity_mean(self) -> float:
        return self.row_means().perplexity_mean

    @property
    def evaluated(self) -> bool:
        return self._rows().scores is not None

    @property
    def score_columns(self) -> int:
        return self.layout.classes

    def _scores(self) -> ScoreSums | None:
        return None if self.row_totals is None else self.row_totals.scores

    @property
    def brier(self) -> float | None:
        found = self._scores()
        return None if found is None else found.brier

    def bins(self) -> Bins | None:
        found = self._scores()
        return None if found is None else found.bins()

    @property
    def ece(self) -> float | None:
        found = self.bins()
        return None if found is None else found.ece

    @property
    def log_loss_reduction(self) -> float | None:
        found = self._scores()
        return None if found is None else found.log_loss_reduction

    def accuracy_at(self, k: int) -> float | None:
        found = self._scores()
        if found is None or k != self.asked.k:
            return None
        return found.accuracy_at_k

    def class_label(self, index: int) -> str:
        return class_label(self.class_names, index)

    def worst(self, count: int) -> Entries:
        """The ``count`` worst counted positions, worst first (ties: earlier first)."""
        found = self.worst_entries
        if found is None or count > self.asked.top:
            raise ValueError(f"the {count} worst positions were not kept")
        return Entries.worst_of([found], count)

    def confusion(self) -> Confusion:
        """The confusion counts of the counted positions (:meth:`Result.confusion`)."""
        views = self._rows().views
        if views.pairs is None:
            raise ValueError("the confusion counts were not counted")
        keys, counts = views.pairs
        classes = self.layout.classes
        target, predicted = keys // classes, keys % classes
        k = max(
            max(views.largest_predicted, 0) + 1,
            int(target.max(initial=0)) + 1,
            len(self.class_names or ()),
        )
        return Confusion([self.class_label(i) for i in range(k)], target, predicted, counts)

    def per_class(self) -> PerClass:
        """The per-class table of the counted positions (:meth:`Result.per_class`)."""
        found = self._rows().views.classes
        if found is None:
            raise ValueError("the per-class sums were not summed")
        return found.table()

    def top_k_count(self, k: int) -> int:
        found = self._scores()
        if found is None or found.top_k is None or k != self.asked.k:
            raise ValueError(f"the accuracy at {k} was not summed")
        return found.top_k


def totals(
    inputs: Inputs, settings: Settings, progress: Progress | None = None, asked: Asked = Asked()
) -> Totals:
    """Decide the loss of ``inputs`` (predictions with positions, streamed, their labels
    in blocks) and reduce it block by block: :func:`~compute.compute`'s mean and sum,
    with memory bounded by a block, and what else is ``asked``."""
    if inputs.label_blocks is None or inputs.layout is None:
        raise ValueError("totals are of predictions with positions and labels in blocks")
    settings = settled(inputs, settings)
    run = _Pass(inputs.label_blocks, settings, inputs.pred_source.dtype, asked)
    layout = inputs.layout

    def work(decision: Decision, values: FloatArray, start: int, stop: int) -> BlockTotals:
        scored = run.scored(
            decision, values, start, stop, detail=asked.entries, evaluate=asked.figures
        )
        return run.totals(scored)

    def check_labels() -> None:
        _check_classes(run.blocks, layout.classes, settings.ignore_index)

    decision, _, parts = decided_blocks(inputs, settings, work, progress, check_labels)
    positions = layout.size
    counted = sum(part.counted for part in parts)
    divisor = None
    weighed = [part.divisors for part in parts if part.divisors is not None]
    if weighed:  # every block's, or none: one decision weighs them all
        assert len(weighed) == len(parts)
        divisor = merged_sum(weighed)
    elif counted < positions:  # rows left out: each counted one adds 2^−e (Result.mean)
        divisor = float(np.ldexp(float(counted), -run.exponent))
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
    row_parts = [part.rows for part in parts if part.rows is not None]
    row_totals = RowTotals.merged(row_parts, layout.rows) if asked.detail else None
    found = Totals(
        decision,
        merged_sum([part.losses for part in parts]),
        divisor,
        positions,
        counted,
        run.exponent,
        settings,
        warnings,
        layout,
        sum(part.clipped for part in parts),
        row_totals,
        asked,
        inputs.class_names,
    )
    if asked.top and row_totals is not None:
        found.worst_entries = run.worst(inputs, decision, asked.top)
    if asked.spread and row_totals is not None:
        found.spread = run.spread(inputs, decision, row_parts, progress)
    if asked.detail:
        found.listing = Listing(inputs, run, decision, [part.counted for part in parts])
    return found


@dataclass(frozen=True, eq=False)
class Listed:
    """The counted positions of a block, as ``-r none`` lists them."""

    positions: IntArray  # flat indices
    losses: FloatArray  # as shown (in the unit asked for)
    predicted: IntArray
    target: IntArray


class Listing:
    """Every counted position's loss, predicted class and target, made again a block at a
    time (a pass of its own, after :func:`totals`): ``-r none`` of a dump too large to
    hold a value a position."""

    def __init__(self, inputs: Inputs, run: _Pass, decision: Decision, counted: list[int]) -> None:
        """``counted``: each block's counted positions, as :func:`totals` found them."""
        assert inputs.stream is not None
        self.stream = inputs.stream
        self.run = run
        self.decision = decision
        self.pieces = self.stream.blocks()  # the blocks totals summed, in order
        offsets = np.cumsum([0, *counted]).tolist()
        # where each block's counted positions are listed (blocks with none left out)
        found = [
            (place, piece)
            for place, piece in zip(itertools.pairwise(offsets), self.pieces, strict=True)
            if place[1] > place[0]
        ]
        self.listed_pieces = [place for place, _ in found]
        self._piece_at = {place[0]: piece for place, piece in found}

    def listed(self, start: int, stop: int) -> Listed:
        """Positions ``start:stop`` (a block of the stream), their counted ones."""
        values = self.stream.read(start, stop)
        scored = self.run.scored(self.decision, values, start, stop)
        counted = scored.counted
        return Listed(
            np.flatnonzero(counted) + start,
            self.run.shown(scored),
            self.run.predicted(scored)[counted],
            scored.targets[counted],
        )

    def blocks(self) -> Iterator[Listed]:
        """Every block's listing in position order, made on the worker pool a few blocks
        ahead; stopping early (a closed pipe) stops the work."""
        from .blocks import in_order

        yield from in_order(self.listed, self.pieces, parallel=not self.stream.sequential)

    def losses(self, first: int, last: int) -> FloatArray:
        """The listing's losses ``first:last`` (counted positions, not the stream's): one
        of :attr:`listed_pieces`."""
        found = self.listed(*self._piece_at[first]).losses
        assert len(found) == last - first
        return found


@dataclass(frozen=True, eq=False)
class Scored:
    """A block of positions scored: its losses (in the unit asked for, scaled by
    2^−exponent, 0 where left out) and all that goes with them."""

    start: int
    stop: int
    decision: Decision  # with the block's targets
    targets: IntArray  # the class index a position is scored against
    values: FloatArray
    block: Block
    losses: FloatArray
    divisors: FloatArray | None  # as :func:`~compute.left_out` gives them
    counted: BoolArray  # not left out (--ignore-index, --shift)


class _Pass:
    """How each block of positions is scored and reduced, for :func:`totals`."""

    def __init__(
        self,
        blocks: LabelBlocks,
        settings: Settings,
        dtype: np.dtype[np.generic],
        asked: Asked,
    ) -> None:
        self.blocks = blocks
        self.settings = settings
        self.dtype = dtype
        self.asked = asked
        self.exponent = weight_exponent(settings.class_weights)
        self.per_row = blocks.layout.per_row

    def scored(
        self,
        decision: Decision,
        values: FloatArray,
        start: int,
        stop: int,
        *,
        detail: bool = False,
        evaluate: bool = False,
    ) -> Scored:
        """Positions ``start:stop`` (``values``) scored against their labels: their losses,
        with ``detail`` each one's p(target), with ``evaluate`` what it adds to the
        figures."""
        settings = self.settings
        labels, ignored = _block_labels(self.blocks, start, stop, settings.ignore_index)
        scored = self.blocks.layout.scored_in(start, stop)
        if scored is not None:
            ignored = ~scored if ignored is None else ignored | ~scored
        targets = class_indices(labels, values.shape[1])
        part = replace(decision, targets=targets)
        block = block_of(part, values, settings, self.dtype, detail=detail, evaluate=evaluate)
        losses, divisors = left_out(block.losses, block.divisors, ignored, self.exponent)
        scale = settings.base.log_e
        if scale != 1.0:
            losses = losses / scale
        counted = np.ones(stop - start, dtype=np.bool_) if ignored is None else ~ignored
        return Scored(start, stop, part, targets, values, block, losses, divisors, counted)

    def totals(self, scored: Scored) -> BlockTotals:
        """What the block adds to the totals (and to each row's, asked)."""
        block, start = scored.block, scored.start
        # class weights: what each position adds to the mean's divisor
        weights = scored.divisors if block.divisors is not None else None
        return BlockTotals(
            Partial.of(scored.losses, start),
            None if weights is None else Partial.of(weights, start),
            int(np.count_nonzero(scored.counted)),
            block.clipped,
            block.sums_off,
            self._rows(scored) if self.asked.detail else None,
        )

    def _rows(self, scored: Scored) -> RowParts:
        start, stop, counted = scored.start, scored.stop, scored.counted
        targets = scored.targets
        first = start // self.per_row
        row_of = np.arange(start, stop, dtype=np.int64) // self.per_row - first
        right = self.predicted(scored) == targets
        divisors = scored.divisors
        if divisors is None:  # nothing left out and no class weights: each adds 2^−e
            divisors = np.full(stop - start, math.ldexp(1.0, -self.exponent))
        shown = self.shown(scored)
        scores = scored.block.scores
        return RowParts(
            RowPartial.of(scored.losses, start, self.per_row),
            RowPartial.of(divisors, start, self.per_row),
            first,
            np.bincount(row_of[counted], minlength=int(row_of[-1]) + 1),
            int(np.count_nonzero(right & counted)),
            bool(np.isfinite(shown).all()),
            None if scores is None else ScoreSums.of(scores, counted, targets, self.asked.k),
            _finite_range(shown),
            self._views(scored, shown),
        )

    def _views(self, scored: Scored, shown: FloatArray) -> Views:
        """What the block adds to the views asked for (:class:`Views`)."""
        asked = self.asked
        if not asked.entries:
            return Views()
        counted, block = scored.counted, scored.block
        assert block.probability is not None
        every = self.predicted(scored)
        predicted, target = every[counted], scored.targets[counted]
        probability = block.probability[counted]
        pairs = classes = None
        if asked.confusion:
            keys = target * self.blocks.layout.classes + predicted
            pairs = np.unique(keys, return_counts=True)
        if asked.per_class:
            chance = np.nan_to_num(probability)
            classes = ClassSums.of(shown, predicted, target, chance, np.ones(len(shown)))
        return Views(pairs, int(every.max(initial=-1)), classes)

    def worst(self, inputs: Inputs, decision: Decision, count: int) -> Entries:
        """The ``count`` worst counted positions, worst first (ties: earlier first), from
        a pass of their own: each block's worst folded into those of the blocks before as
        they land, so memory is ``count`` entries a block in flight."""
        from .blocks import in_order

        stream = inputs.stream
        assert stream is not None

        def worst_of_block(start: int, stop: int) -> Entries:
            values = stream.read(start, stop)
            scored = self.scored(decision, values, start, stop, detail=True)
            counted = scored.counted
            probability = scored.block.probability
            assert probability is not None
            index = np.flatnonzero(counted) + start
            shown = self.shown(scored)
            order = np.lexsort((index, -shown))[:count]
            predicted, target = self.predicted(scored)[counted], scored.targets[counted]
            return Entries(
                index[order],
                shown[order],
                predicted[order],
                target[order],
                probability[counted][order],
            )

        found = Entries.none()
        for block in in_order(worst_of_block, stream.blocks(), parallel=not stream.sequential):
            found = Entries.worst_of([found, block], count)
        return found

    def predicted(self, scored: Scored) -> IntArray:
        """Each position's predicted class (the block's own, where it worked them out)."""
        found = scored.block.predicted
        if found is None:
            found = predicted_classes(scored.decision, scored.values)
        return np.asarray(found, dtype=np.int64)

    def shown(self, scored: Scored) -> FloatArray:
        """The counted positions' losses as listings show them (scaled back by 2^e)."""
        losses = scored.losses[scored.counted]
        with np.errstate(over="ignore"):  # a loss beyond the largest float is honestly inf
            shown: FloatArray = np.ldexp(losses, self.exponent) if self.exponent else losses
        return shown

    def spread(
        self,
        inputs: Inputs,
        decision: Decision,
        parts: list[RowParts],
        progress: Progress | None,
    ) -> Spread | None:
        """The histogram of the counted positions' finite losses (8 equal bins from the
        least to the largest, as :func:`numpy.histogram` counts them whole), from a
        second pass; ``None`` for fewer than two distinct values."""
        ranges = [part.finite_range for part in parts if part.finite_range is not None]
        if not ranges:
            return None
        lowest, highest = min(low for low, _ in ranges), max(high for _, high in ranges)
        if lowest == highest:
            return None

        def count(decision: Decision, values: FloatArray, start: int, stop: int) -> IntArray:
            shown = self.shown(self.scored(decision, values, start, stop))
            counts, _ = np.histogram(
                shown[np.isfinite(shown)], bins=SPREAD_BINS, range=(lowest, highest)
            )
            return counts

        counts = sum(each_block(inputs, decision, count, progress))
        edges = np.histogram_bin_edges([lowest, highest], bins=SPREAD_BINS)
        return Spread(np.asarray(counts, dtype=np.int64), edges)


SPREAD_BINS = 8  # the terminal's histogram of losses


@dataclass(frozen=True, eq=False)
class Spread:
    """A histogram: ``counts[i]`` values in [edges[i], edges[i + 1])."""

    counts: IntArray
    edges: FloatArray


def _finite_range(values: FloatArray) -> tuple[float, float] | None:
    """The least and the largest finite value (``None``: none is finite)."""
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else None


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

"""The result of ``xent compute``: per-row losses, their summary, and the views a person
asks of them next (the worst rows, the confusion counts). No terminal, no format."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .conventions import epsilon_text
from .options import Base
from .settings import Settings
from .sums import canonical_sum

if TYPE_CHECKING:
    import numpy.typing as npt

    from .detection import Decision
    from .evaluation import Bins, PerClass, RowScores
    from .sequences import Layout

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]

NOTHING_TO_AVERAGE = (
    "nothing left to average: every counted row's target has class weight 0, so the mean "
    "(Σ w·ℓ / Σ w = 0/0) is NaN, as PyTorch's is"
)
NO_WEIGHT = (
    "nothing left to average: every counted row has sample weight 0, so the mean (0/0) is NaN"
)
NO_POSITION = (
    "nothing left to average: no position has a label to score (every one is ignored or "
    "unscored), so the losses and their sum are 0 and the mean (0/0) is NaN, as PyTorch's is"
)
SUMS_OFF = (
    "scikit-learn warns here: 'The y_pred values do not sum to one' (it does not renormalise them)"
)
ALL_IGNORED = (
    "nothing left to average: every row has the ignored label {index}, so the losses and "
    "their sum are 0 and the mean (0/0) is NaN, as PyTorch's is"
)


class Summarised(Protocol):
    """What the summary of ``xent compute`` is read from: a :class:`Result`, or totals
    reduced block by block (:class:`xent_cli.totals.Totals`)."""

    @property
    def decision(self) -> Decision: ...
    @property
    def settings(self) -> Settings | None: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def layout(self) -> Layout | None: ...
    @property
    def weights(self) -> FloatArray | None: ...
    @property
    def class_names(self) -> list[str] | None: ...
    @property
    def ids(self) -> list[str] | None: ...
    @property
    def binary(self) -> bool: ...
    @property
    def single_label(self) -> bool: ...
    @property
    def unit(self) -> str: ...
    @property
    def mean(self) -> float: ...
    @property
    def total(self) -> float: ...
    @property
    def perplexity(self) -> float: ...
    @property
    def row_perplexity_mean(self) -> float | None: ...
    @property
    def rows(self) -> int: ...
    @property
    def row_count(self) -> int: ...
    @property
    def counted_rows(self) -> int: ...
    @property
    def ignored_count(self) -> int: ...
    @property
    def leaves_out(self) -> bool: ...
    @property
    def accuracy(self) -> float | None: ...
    @property
    def correct_count(self) -> int | None: ...
    @property
    def clipping_note(self) -> str | None: ...
    @property
    def all_finite(self) -> bool: ...
    @property
    def evaluated(self) -> bool: ...
    @property
    def score_columns(self) -> int: ...
    @property
    def brier(self) -> float | None: ...
    @property
    def ece(self) -> float | None: ...
    @property
    def log_loss_reduction(self) -> float | None: ...
    def accuracy_at(self, k: int) -> float | None: ...
    def top_k_count(self, k: int) -> int: ...
    def row_means(self) -> RowMeans: ...
    def worst(self, count: int) -> Entries: ...
    def confusion(self) -> Confusion | None: ...
    def per_class(self) -> PerClass | None: ...
    def class_label(self, index: int) -> str: ...


@dataclass
class Result:
    """Per-row losses and what a person or a script wants to see beside them."""

    decision: Decision
    losses: FloatArray
    class_names: list[str] | None
    predicted: npt.NDArray[np.generic] | None  # class index, or 0/1 for binary
    target: npt.NDArray[np.generic] | None  # class index, or the 0/1/[0,1] binary target
    target_probability: FloatArray | None  # model's probability of the (hard) target
    warnings: list[str] = field(default_factory=list)
    denominators: FloatArray | None = None  # what each row adds to the mean's divisor
    ignored: npt.NDArray[np.bool_] | None = None  # rows left out (--ignore-index)
    base: Base = Base.e
    settings: Settings | None = None
    clipped: int = 0  # probabilities that xent's clipping to [ε, 1 − ε] moved
    ids: list[str] | None = None  # each row's identifier (--id-column)
    weights: FloatArray | None = None  # each row's sample weight (shown losses: unweighted)
    # class weights w are used as w/2^exponent (compute.weight_exponent): the losses so
    # computed, and the denominators, are 2^exponent times smaller than the true ones
    scaled_losses: FloatArray | None = None
    exponent: int = 0
    # predictions of rank ≥ 3 (DESIGN §8): each entry above is a position, in row order
    layout: Layout | None = None
    scores: RowScores | None = None  # what each row adds to Brier, ECE, … (DESIGN §10)

    def __post_init__(self) -> None:
        nothing = nothing_left(
            all_left_out=self.ignored is not None and bool(self.ignored.all()),
            nothing_weighs=self.denominators is not None and not self.denominators.any(),
            positions=self.layout is not None,
            settings=self.settings,
        )
        if nothing is not None:
            self.warnings.append(nothing)
        elif self.weights is not None and not self._divisors().any() and not self._per_row:
            self.warnings.append(NO_WEIGHT)

    @property
    def clipping_note(self) -> str | None:
        """One line when clipping moved any probability: how many, and ε."""
        return clipping_note(self.clipped, self.settings)

    @property
    def rows(self) -> int:
        return int(self.losses.shape[0])

    @property
    def unit(self) -> str:
        return self.base.unit

    @property
    def mean(self) -> float:
        """Σ sᵢℓᵢ / Σ sᵢdᵢ: the plain mean; PyTorch's Σ w·ℓ / Σ w with class weights (d = w_y);
        scikit-learn's Σ sℓ / Σ s with sample weights s; Keras's Σ sℓ / N under --like keras
        or tf. NaN when the divisors sum to 0: nothing left to average.

        Sums are taken of weights scaled by powers of two (exact), so that weights near the
        largest float or subnormal ones give the mean the formula gives.
        """
        if self.weights is None:
            divisor = None if self.denominators is None else self._sum(self.denominators)
            return mean_of(self._sum(self._losses()), divisor, self.rows, self.exponent)
        numerator, weight_exponent = self._weighted_sum(self._losses())
        if self._per_row:
            return scaled(numerator / self.rows, self.exponent + weight_exponent)
        divisors = np.ones(self.rows) if self.denominators is None else self.denominators
        denominator, _ = self._weighted_sum(divisors)
        if not denominator:
            return math.nan
        # class weights scale ℓ and d alike (their exponents cancel); else only ℓ is scaled
        exponent = 0 if self.denominators is not None else self.exponent
        return scaled(numerator / denominator, exponent)

    def _losses(self) -> FloatArray:
        return self.losses if self.scaled_losses is None else self.scaled_losses

    def _weighted_sum(self, values: FloatArray) -> tuple[float, int]:
        """Σ sᵢvᵢ / 2^e with the sample weights s divided by 2^e (the largest in [½, 1)),
        and e; Σ vᵢ and 0 without sample weights."""
        with np.errstate(over="ignore"):
            if self.weights is None:
                return self._sum(values), 0
            exponent = scale_exponent(float(np.max(self.weights, initial=0.0)))
            return float(np.dot(np.ldexp(self.weights, -exponent), values)), exponent

    def _sum(self, values: FloatArray) -> float:
        """Σ values: of positions (DESIGN §8) in canonical chunks, as a total read in
        blocks sums them (:func:`xent_cli.totals.canonical_sum`)."""
        return float(values.sum()) if self.layout is None else canonical_sum(values)

    @property
    def _per_row(self) -> bool:
        """Keras's reduction: the weighted sum over the row count (sum_over_batch_size)."""
        like = None if self.settings is None else self.settings.like
        return self.weights is not None and like is not None and like.value in ("keras", "tf")

    def _divisors(self) -> FloatArray:
        """What each row adds to the mean's divisor: its sample weight × its class weight."""
        divisors = np.ones(self.rows) if self.denominators is None else self.denominators
        return divisors if self.weights is None else self.weights * divisors

    @property
    def total(self) -> float:
        """Σ sᵢℓᵢ: the (sample-weighted) sum."""
        total, weight_exponent = self._weighted_sum(self._losses())
        return scaled(total, self.exponent + weight_exponent)

    @property
    def ignored_count(self) -> int:
        return 0 if self.ignored is None else int(self.ignored.sum())

    @property
    def leaves_out(self) -> bool:
        """Whether rows (positions) may be left out: ``--ignore-index`` or ``--shift``."""
        return self.ignored is not None

    @property
    def all_finite(self) -> bool:
        """Whether every loss is finite (JSON writes the others as null)."""
        return bool(np.isfinite(self.losses).all())

    @property
    def evaluated(self) -> bool:
        """Whether the figures of DESIGN §10 were worked out (single labels, asked for)."""
        return self.scores is not None

    @property
    def score_columns(self) -> int:
        """The prediction columns the figures saw: 1, or K classes (1 unless evaluated)."""
        return 1 if self.scores is None else self.scores.columns

    def top_k_count(self, k: int) -> int:
        """The counted rows (or positions) whose target ranks in the top ``k``."""
        assert self.scores is not None
        assert self.scores.rank is not None
        hits = self.scores.rank <= k
        if self.ignored is not None:
            hits = hits[~self.ignored]
        return int(np.count_nonzero(hits))

    @property
    def correct(self) -> npt.NDArray[np.bool_] | None:
        if not self.decision.hard or self.predicted is None or self.target is None:
            return None
        return np.asarray(self.predicted == self.target)

    @property
    def counted_rows(self) -> int:
        """The rows the mean and the accuracy count: all but those ``--ignore-index`` left out."""
        return self.rows - self.ignored_count

    @property
    def correct_count(self) -> int | None:
        """How many counted rows have the target as their predicted class (hard targets)."""
        correct = self.correct
        if correct is None:
            return None
        if self.ignored is not None:
            correct = correct[~self.ignored]
        return int(correct.sum())

    @property
    def accuracy(self) -> float | None:
        """The share of counted rows whose predicted class is the target (NaN for none);
        with sample weights s, Σ s·[right] / Σ s, as scikit-learn's ``accuracy_score`` with
        ``sample_weight`` (a row of weight 0 does not count)."""
        correct = self.correct
        if correct is None:
            return None
        if self.weights is None:
            count = self.correct_count or 0
            return count / self.counted_rows if self.counted_rows else math.nan
        kept = np.ones(self.rows, dtype=bool) if self.ignored is None else ~self.ignored
        weights = self.weights[kept]
        total = float(weights.sum())
        return float(np.dot(weights, correct[kept])) / total if total else math.nan

    @property
    def perplexity(self) -> float:
        """exp of the mean loss in nats (= base^mean in the chosen unit); ``inf`` on overflow."""
        return perplexity_of(self.mean, self.base)

    def mean_terms(self) -> tuple[FloatArray, FloatArray]:
        """Each row's part of the mean's numerator and denominator, so that the mean is
        Σ numerator / Σ denominator over any rows (the paired bootstrap resamples them):
        ℓ and 1 for a plain mean, s·ℓ and s with sample weights, w_y·ℓ and w_y with class
        weights (both scaled alike), 0 and 0 for a row left out."""
        if self.denominators is not None:  # class weights or ignored rows: scaled alike
            numerator, denominator = self._losses(), self.denominators
        else:
            numerator, denominator = self.losses, np.ones(self.rows)
        if self.weights is not None:
            numerator = self.weights * numerator
            denominator = np.ones(self.rows) if self._per_row else self.weights * denominator
        return numerator, denominator

    def counted_weights(self) -> FloatArray:
        """What each row weighs in the figures of DESIGN §10: its sample weight (else 1), 0
        for a row left out (``--ignore-index``, ``--shift``)."""
        weights = np.ones(self.rows) if self.weights is None else self.weights
        return weights if self.ignored is None else np.where(self.ignored, 0.0, weights)

    @property
    def brier(self) -> float | None:
        """scikit-learn's ``brier_score_loss`` (None: not single-label, or not evaluated)."""
        from .evaluation import brier

        if self.scores is None:
            return None
        return brier(self.scores, self.counted_weights())

    def bins(self, bins: int | None = None, strategy: str = "uniform") -> Bins | None:
        """The calibration bins (DESIGN §10), 15 equal-width ones unless said."""
        from .evaluation import BINS, calibration_bins

        if self.scores is None:
            return None
        weights = self.counted_weights()
        return calibration_bins(
            self.scores.confidence, self.scores.outcome, weights, bins or BINS, strategy
        )

    @property
    def ece(self) -> float | None:
        """torchmetrics' ``calibration_error(norm="l1")``, 15 bins."""
        found = self.bins()
        return None if found is None else found.ece

    @property
    def log_loss_reduction(self) -> float | None:
        """scikit-learn's ``d2_log_loss_score``, ML.NET's ``LogLossReduction``."""
        from .evaluation import log_loss_reduction

        if self.scores is None:
            return None
        row = self.decision.row
        targets = self.decision.targets
        if row.per_column:
            targets = np.asarray(targets, dtype=np.float64)[:, 0]
        elif not row.sparse:
            targets = np.argmax(targets, axis=1)
        return log_loss_reduction(self.scores, self.counted_weights(), targets, row.per_column)

    def accuracy_at(self, k: int) -> float | None:
        """scikit-learn's ``top_k_accuracy_score`` (ties count for the target)."""
        from .evaluation import accuracy_at

        if self.scores is None:
            return None
        return accuracy_at(self.scores, self.counted_weights(), k)

    def per_class(self) -> PerClass | None:
        """The per-class table (hard single labels only)."""
        from .evaluation import per_class

        if self.correct is None or self.target_probability is None:
            return None
        assert self.predicted is not None
        assert self.target is not None
        return per_class(
            self.losses,
            np.asarray(self.predicted, dtype=np.int64),
            np.asarray(self.target, dtype=np.int64),
            np.nan_to_num(self.target_probability),
            self.counted_weights(),
        )

    @property
    def row_count(self) -> int:
        """The rows of the input: sequences or images for predictions with positions."""
        return self.layout.rows if self.layout is not None else self.rows

    @property
    def listed(self) -> IntArray:
        """The entries a per-row (per-position) listing shows: every row; of positions,
        the counted ones (DESIGN §8: ignored and unscored positions are left out)."""
        if self.layout is None or self.ignored is None:
            return np.arange(self.rows)
        return np.flatnonzero(~self.ignored)

    def row_means(self) -> RowMeans:
        """Per row of predictions with positions: the mean loss over its counted positions
        (Σ w·ℓ / Σ w with class weights), their count and exp(mean in nats); NaN for a row
        with none. Worked out once (the JSON, the table and the files all ask)."""
        if self.layout is None:
            raise ValueError("row means are of predictions with positions")
        return self._row_means

    @cached_property
    def _row_means(self) -> RowMeans:
        layout = self.layout
        assert layout is not None
        counted = np.ones(self.rows, dtype=np.bool_) if self.ignored is None else ~self.ignored
        count = layout.row_sums(counted)
        if self.denominators is not None:  # class weights scale ℓ and d alike: they cancel
            numerator = layout.row_sums(self._losses())
            denominator = layout.row_sums(self.denominators)
        else:
            numerator, denominator = layout.row_sums(self.losses), count
        return RowMeans.of(numerator, denominator, count, self.base)

    @property
    def row_perplexity_mean(self) -> float | None:
        """The mean over rows (with a counted position) of each row's perplexity: Hugging
        Face evaluate's ``mean_perplexity``; ``None`` below rank 3, NaN with no such row."""
        return None if self.layout is None else self.row_means().perplexity_mean

    def class_label(self, index: int) -> str:
        return class_label(self.class_names, index)

    @property
    def binary(self) -> bool:
        """One sigmoid per column: predicted and target are 0/1 (or [0,1]), not classes."""
        return self.decision.row.per_column

    @property
    def single_label(self) -> bool:
        """A predicted and a target value per row (not multi-label, not soft classes)."""
        return self.predicted is not None and self.target is not None

    def worst_rows(self, count: int) -> list[int]:
        """The ``count`` rows (of sequences: counted positions) with the largest loss, worst
        first (ties: earlier first)."""
        listed = self.listed
        order = listed[np.argsort(-self.losses[listed], kind="stable")]
        return [int(row) for row in order[:count]]

    def entries(self, order: IntArray) -> Entries:
        """The rows (of sequences: flat positions) ``order`` names, and their values."""
        labels = self.predicted is not None and self.target is not None
        return Entries(
            order,
            self.losses[order],
            np.asarray(self.predicted)[order] if labels else None,
            np.asarray(self.target)[order] if labels else None,
            None if self.target_probability is None else self.target_probability[order],
        )

    def worst(self, count: int) -> Entries:
        """The ``count`` worst rows (of sequences: counted positions), worst first."""
        return self.entries(np.asarray(self.worst_rows(count), dtype=np.int64))

    def confusion(self) -> Confusion | None:
        """The confusion counts (target against predicted class), counted rows only: a row
        left out by ``--ignore-index`` is not counted; every other row counts once, whatever
        its sample weight (0 too). Kept sparse: memory is bounded by the rows, never by K².
        ``None`` unless the targets are hard single labels."""
        if self.correct is None or self.predicted is None or self.target is None:
            return None
        predicted = np.asarray(self.predicted, dtype=np.int64)
        target = np.asarray(self.target, dtype=np.int64)
        # K: 1 + the largest class predicted (ignored rows too) or targeted (counted rows
        # only), at least the named classes: as large as the matrix has always been
        k = int(predicted.max(initial=0)) + 1
        if self.ignored is not None:
            target, predicted = target[~self.ignored], predicted[~self.ignored]
        k = max(k, int(target.max(initial=0)) + 1, len(self.class_names or ()))
        names = [str(i) if self.binary else self.class_label(i) for i in range(k)]
        return Confusion(names, *count_pairs(target, predicted, k))


def class_label(names: list[str] | None, index: int) -> str:
    """A class's name from the predictions' header, else its index.

    >>> class_label(["cat", "dog"], 1), class_label(None, 1), class_label(["cat"], 3)
    ('dog', '1', '3')
    """
    if names is not None and 0 <= index < len(names):
        return names[index]
    return str(index)


def clipping_note(clipped: int, settings: Settings | None) -> str | None:
    """One line when clipping moved any probability (``clipped`` of them): how many, and ε."""
    if not clipped or settings is None:
        return None
    what = "probability" if clipped == 1 else "probabilities"
    return f"{clipped:,} {what} clipped to [ε, 1−ε], ε = {epsilon_text(settings.clipping)}"


def scaled(value: float, exponent: int) -> float:
    """``value`` · 2^``exponent``; beyond the largest float, honestly ∞."""
    with np.errstate(over="ignore"):
        return float(np.ldexp(value, exponent))


def perplexity_of(mean: float, base: Base) -> float:
    """exp of a mean loss in nats (= base^mean in ``base``'s unit); ``inf`` on overflow.

    >>> perplexity_of(1.0, Base.two), perplexity_of(800.0, Base.e)
    (2.0, inf)
    """
    nats = mean * base.log_e
    return math.exp(nats) if nats < 709.0 or math.isnan(nats) else math.inf


def mean_of(numerator: float, divisor: float | None, count: int, exponent: int) -> float:
    """The mean from its sums: Σℓ / Σd when rows add divisors ``d`` (class weights, rows
    left out: both sums scaled by 2^−e alike, which cancel; NaN when Σd = 0), else Σℓ over
    the ``count`` rows, scaled back by 2^``exponent``.

    >>> mean_of(3.0, None, 4, 1), mean_of(3.0, 2.0, 4, 1), mean_of(0.0, 0.0, 4, 0)
    (1.5, 1.5, nan)
    """
    if divisor is None:
        return scaled(numerator / count, exponent)
    return numerator / divisor if divisor else math.nan


def nothing_left(
    *, all_left_out: bool, nothing_weighs: bool, positions: bool, settings: Settings | None
) -> str | None:
    """The warning when the mean has nothing to average: every row (of ``positions``:
    every position) left out, or every counted one of class weight 0; else ``None``."""
    if all_left_out:
        if positions:
            return NO_POSITION
        return ALL_IGNORED.format(index=settings.ignore_index if settings is not None else None)
    return NOTHING_TO_AVERAGE if nothing_weighs else None


@dataclass(frozen=True, eq=False)
class Entries:
    """Some rows (of predictions with positions: flat positions) and what a listing shows
    of each: its loss and, of single labels, its predicted class, target and the model's
    probability of that target."""

    index: IntArray
    losses: FloatArray
    predicted: npt.NDArray[np.generic] | None
    target: npt.NDArray[np.generic] | None
    probability: FloatArray | None

    def __len__(self) -> int:
        return len(self.index)

    @classmethod
    def none(cls) -> Entries:
        """No entry (of single labels: empty predicted and target columns)."""
        empty = np.zeros(0, dtype=np.int64)
        return cls(empty, np.zeros(0), empty, empty, np.zeros(0))

    @classmethod
    def worst_of(cls, parts: list[Entries], count: int) -> Entries:
        """The ``count`` largest losses of ``parts`` (each holding its own worst), worst
        first, ties in index order; NaN last, as a stable sort of −loss puts it.

        >>> a = Entries(np.array([0, 1]), np.array([2.0, 1.0]), None, None, None)
        >>> b = Entries(np.array([5]), np.array([2.0]), None, None, None)
        >>> Entries.worst_of([a, b], 2).index.tolist()
        [0, 5]
        """
        index = np.concatenate([part.index for part in parts])
        losses = np.concatenate([part.losses for part in parts])
        order = np.lexsort((index, -losses))[:count]

        def joined(arrays: list[Any]) -> Any:
            return None if any(a is None for a in arrays) else np.concatenate(arrays)[order]

        return cls(
            index[order],
            losses[order],
            joined([part.predicted for part in parts]),
            joined([part.target for part in parts]),
            joined([part.probability for part in parts]),
        )


@dataclass(frozen=True, eq=False)
class RowMeans:
    """Per row of predictions with positions: mean loss (NaN: no counted position), the
    count of counted positions, and the perplexity exp(mean in nats)."""

    loss: FloatArray
    positions: IntArray
    perplexity: FloatArray

    @classmethod
    def of(
        cls,
        numerator: FloatArray,
        denominator: FloatArray | IntArray,
        count: IntArray,
        base: Base,
    ) -> RowMeans:
        """Each row's mean Σℓ / Σd (NaN where Σd = 0), from its sums, in ``base``'s unit.

        >>> RowMeans.of(np.array([2.0, 0.0]), np.array([2, 0]), np.array([2, 0]), Base.e).loss
        array([ 1., nan])
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(
                denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
            )
        with np.errstate(over="ignore", invalid="ignore"):
            perplexity = np.exp(means * base.log_e)
        return cls(means, np.asarray(count).astype(np.int64), perplexity)

    @property
    def perplexity_mean(self) -> float:
        """The mean over rows with a counted position of their perplexity (NaN: none)."""
        kept = self.perplexity[~np.isnan(self.perplexity)]
        return float(kept.mean()) if kept.size else math.nan


DENSE_COUNTING = 1 << 20  # K² up to which count_pairs counts with one bincount (8 MB)


def count_pairs(
    target: IntArray, predicted: IntArray, classes: int
) -> tuple[IntArray, IntArray, IntArray]:
    """The (target, predicted) pairs that occur and how often, sorted by target then
    predicted: a K×K confusion matrix without its zeros. Each pair is one int64 key
    target·K + predicted, counted with one ``bincount`` while K² is small beside the rows,
    else with ``np.unique``; memory O(rows), never O(K²).

    >>> [a.tolist() for a in count_pairs(np.array([1, 0, 1, 1]), np.array([0, 0, 0, 1]), 2)]
    [[0, 1, 1], [0, 0, 1], [1, 2, 1]]
    """
    keys = np.asarray(target, dtype=np.int64) * classes + np.asarray(predicted, dtype=np.int64)
    if classes * classes <= max(keys.size, DENSE_COUNTING):
        counts = np.bincount(keys, minlength=classes * classes)
        keys = np.flatnonzero(counts)
        counts = counts[keys]
    else:
        keys, counts = np.unique(keys, return_counts=True)
    return keys // classes, keys % classes, counts.astype(np.int64)


@dataclass(frozen=True, eq=False)
class Confusion:
    """Confusion counts kept sparse: ``count[i]`` rows have target class ``target[i]`` and
    predicted class ``predicted[i]``; only pairs that occur, sorted by target then predicted.
    ``labels`` names the K classes (K × K would be 298 GiB of int64 for 200,000 classes)."""

    labels: list[str]
    target: IntArray
    predicted: IntArray
    count: IntArray

    @property
    def classes(self) -> int:
        return len(self.labels)

    @property
    def right(self) -> int:
        """The counted rows on the diagonal: predicted class = target."""
        return int(self.count[self.target == self.predicted].sum())

    @property
    def confusions(self) -> int:
        """How many (target, predicted) pairs off the diagonal occur."""
        return int(np.count_nonzero(self.target != self.predicted))

    def matrix(self) -> IntArray:
        """The dense K×K counts (rows: target, columns: predicted): K² cells, for few
        classes only."""
        matrix = np.zeros((self.classes, self.classes), dtype=np.int64)
        matrix[self.target, self.predicted] = self.count
        return matrix

    def most_confused(self, limit: int) -> IntArray:
        """The indices of the ``limit`` most frequent pairs off the diagonal, largest count
        first (ties: by target, then predicted).

        >>> pairs = Confusion(["a", "b", "c"], *count_pairs(
        ...     np.array([0, 0, 1, 2, 2, 2]), np.array([1, 1, 1, 0, 1, 1]), 3))
        >>> [(int(pairs.target[i]), int(pairs.predicted[i])) for i in pairs.most_confused(2)]
        [(0, 1), (2, 1)]
        """
        off = np.flatnonzero(self.target != self.predicted)
        order = np.argsort(-self.count[off], kind="stable")
        return off[order[:limit]]


def scale_exponent(largest: float) -> int:
    """e with ``largest`` / 2^e in [½, 1): weights divided by 2^e (exactly) keep their sums
    finite and their precision; 0 for 0, ∞ or NaN.

    >>> scale_exponent(3.0), scale_exponent(1e308), scale_exponent(0.0)
    (2, 1024, 0)
    """
    return math.frexp(largest)[1] if 0 < largest < math.inf else 0

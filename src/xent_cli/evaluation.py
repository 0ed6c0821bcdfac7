"""Evaluation beyond the mean (DESIGN §10): Brier score, calibration bins (ECE, MCE,
RMSCE), log-loss reduction, accuracy at k and the per-class table, as pure functions.

:func:`row_scores` gives, for a block of rows with single-label targets, what each row adds
to these figures: its top-label confidence and whether that label is right (one column: p
and y), its squared error Σₖ (pₖ − yₖ)², its log loss and its target's rank. The rest reduce
those arrays, every row weighted by its sample weight (0: a row ``--ignore-index`` or a
zero weight leaves out), so blocks merge by concatenation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import losses

if TYPE_CHECKING:
    import numpy.typing as npt

    from .detection import Decision

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]

BINS = 15  # torchmetrics' default n_bins
STRATEGIES = ("uniform", "quantile")


@dataclass
class RowScores:
    """Per row: the calibration pair, the squared error, the log loss and the rank."""

    confidence: FloatArray  # the top label's probability (one column: p)
    outcome: FloatArray  # 1 where the top label is the target, else 0 (one column: y)
    squared_error: FloatArray  # Σₖ (pₖ − yₖ)² (one column: (p − y)²)
    log_loss: FloatArray  # −log p_target (one column: −[y·log p + (1−y)·log(1−p)])
    rank: IntArray | None  # 1 + the classes scored strictly above the target (hard only)
    columns: int = 1  # the prediction columns: 1, or K classes

    @classmethod
    def joined(cls, parts: list[RowScores]) -> RowScores:
        """Blocks end to end."""
        ranks = [part.rank for part in parts]
        return cls(
            np.concatenate([part.confidence for part in parts]),
            np.concatenate([part.outcome for part in parts]),
            np.concatenate([part.squared_error for part in parts]),
            np.concatenate([part.log_loss for part in parts]),
            None if any(r is None for r in ranks) else np.concatenate(ranks),  # type: ignore[arg-type]
            parts[0].columns,
        )


def single_label(decision: Decision) -> bool:
    """Whether a row has one target (one column, or one class of K): the figures of §10
    need it; multi-label rows and soft distributions over K classes have none."""
    if decision.multilabel:
        return False
    return decision.row.per_column or decision.hard


def row_scores(
    decision: Decision,
    values: FloatArray,
    targets: npt.NDArray[np.generic],
    epsilon: float,
    plain_losses: FloatArray | None = None,
) -> RowScores | None:
    """What each row of a block adds to the figures (``None`` unless single-label).

    ``values`` are the block's predictions, ``targets`` its rows of the decision's targets;
    probabilities are clipped to [ε, 1 − ε] for the log loss, as the loss is.
    ``plain_losses``: the block's −log p of the target when the loss already computed it
    (class indices and scores, no option), not computed again.

    >>> from xent_cli.detection import decide
    >>> from xent_cli.inputs import Labels
    >>> z = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    >>> decision = decide(z, Labels(indices=np.array([0, 1])), pred_where=lambda r, c: "")
    >>> scores = row_scores(decision, z, decision.targets, 2.0**-52)
    >>> scores.outcome.tolist(), scores.rank.tolist()
    ([1.0, 0.0], [1, 2])
    """
    if not single_label(decision):
        return None
    row = decision.row
    if row.per_column:
        return _one_column(
            decision, values[:, 0], np.asarray(targets, dtype=np.float64)[:, 0], epsilon
        )
    step = max(1, SCORED_BYTES // (8 * values.shape[1]))
    if len(values) <= step:
        return _classes(decision, values, targets, epsilon, plain_losses)
    return RowScores.joined(  # a slice at a time: a vocabulary's temporaries stay small
        [
            _classes(
                decision,
                values[start : start + step],
                targets[start : start + step],
                epsilon,
                None if plain_losses is None else plain_losses[start : start + step],
            )
            for start in range(0, len(values), step)
        ]
    )


SCORED_BYTES = 1 << 21  # of a row's K values, row_scores works out this much at a time


def _classes(
    decision: Decision,
    values: FloatArray,
    targets: npt.NDArray[np.generic],
    epsilon: float,
    plain_losses: FloatArray | None,
) -> RowScores:
    """:func:`row_scores` of rows of K ≥ 2 classes."""
    row = decision.row
    classes = (
        np.asarray(targets, dtype=np.int64)
        if row.sparse
        else np.argmax(np.asarray(targets), axis=1).astype(np.int64)
    )
    if row.from_scores:
        probabilities = losses.softmax(values)
        log_loss = (
            losses.sparse_softmax_ce_with_logits(values, classes)
            if plain_losses is None
            else plain_losses
        )
    elif decision.log_probs:
        probabilities = np.exp(values)
        log_loss = 0.0 - np.take_along_axis(values, classes[:, np.newaxis], axis=1)[:, 0]
    else:
        probabilities = values
        own = np.take_along_axis(values, classes[:, np.newaxis], axis=1)[:, 0]
        with np.errstate(divide="ignore"):  # ε = 0: −log 0 is honestly ∞
            log_loss = -np.log(np.clip(own, epsilon, 1.0 - epsilon) if epsilon else own)
    own = np.take_along_axis(probabilities, classes[:, np.newaxis], axis=1)[:, 0]
    target_score = np.take_along_axis(values, classes[:, np.newaxis], axis=1)
    top = np.argmax(values, axis=1)
    squares = np.einsum("ij,ij->i", probabilities, probabilities)
    return RowScores(
        confidence=probabilities[np.arange(len(top)), top],
        outcome=(top == classes).astype(np.float64),
        squared_error=(squares - own * own) + (1.0 - own) ** 2,
        log_loss=log_loss,
        rank=1 + np.count_nonzero(values > target_score, axis=1),
        columns=int(values.shape[1]),
    )


def _one_column(decision: Decision, z: FloatArray, y: FloatArray, epsilon: float) -> RowScores:
    """One output column: p = σ(z) (or as given) against y ∈ [0, 1]."""
    if decision.row.from_scores:
        p = losses.sigmoid(z)
        log_loss = _times(y, losses.softplus(-z)) + _times(1.0 - y, losses.softplus(z))
    else:
        p = z
        kept = np.clip(z, epsilon, 1.0 - epsilon) if epsilon else z
        with np.errstate(divide="ignore"):
            log_loss = -(_times_log(y, kept) + _times_log(1.0 - y, 1.0 - kept))
    rank = None
    if decision.hard:  # classes 0 and 1 scored 1 − p and p
        above = np.where(y == 1, (1.0 - p) > p, p > (1.0 - p))
        rank = 1 + above.astype(np.int64)
    return RowScores(p, y, (p - y) ** 2, log_loss, rank)


def _times_log(weight: FloatArray, value: FloatArray) -> FloatArray:
    """w·log v with 0·log 0 = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _times(weight, np.log(value))


def _times(weight: FloatArray, value: FloatArray) -> FloatArray:
    """w·v with 0·∞ = 0 (a target weight of 0 on an infinite term contributes nothing)."""
    with np.errstate(invalid="ignore"):
        product = weight * value
    return np.where(weight == 0, 0.0, product)


def _mean(values: FloatArray, weights: FloatArray) -> float:
    """Σ wᵢvᵢ / Σ wᵢ (NaN for no weight)."""
    total = float(weights.sum())
    return float(np.dot(weights, values)) / total if total else math.nan


def brier(scores: RowScores, weights: FloatArray) -> float:
    """scikit-learn's ``brier_score_loss`` (``scale_by_half="auto"``): the mean squared
    error over the classes, halved for two columns (then it equals the one-column score).

    >>> rows = (np.zeros(2), np.zeros(2), np.array([0.5, 0.1]), np.zeros(2), None)
    >>> brier(RowScores(*rows), np.ones(2)), brier(RowScores(*rows, columns=2), np.ones(2))
    (0.3, 0.15)
    """
    return _halved(_mean(scores.squared_error, weights), scores.columns)


def _halved(mean_squared_error: float, columns: int) -> float:
    """scikit-learn's Brier score from the mean of Σₖ (pₖ − yₖ)²: halved for two columns."""
    return mean_squared_error / 2 if columns == 2 else mean_squared_error


def accuracy_at(scores: RowScores, weights: FloatArray, k: int) -> float | None:
    """The share of rows whose target ranks in the top ``k`` (rank: 1 + the classes scored
    strictly higher, so ties count for the target), weighted; ``None`` without ranks."""
    if scores.rank is None:
        return None
    return _mean((scores.rank <= k).astype(np.float64), weights)


def log_loss_reduction(
    scores: RowScores, weights: FloatArray, targets: FloatArray | IntArray, one_column: bool
) -> float:
    """1 − log loss / the log loss of predicting every row the targets' (weighted) class
    frequencies: scikit-learn's ``d2_log_loss_score``, ML.NET's ``LogLossReduction``. NaN
    for fewer than two rows, as scikit-learn's.

    >>> s = RowScores(np.zeros(4), np.zeros(4), np.zeros(4), np.full(4, 0.5), None)
    >>> round(log_loss_reduction(s, np.ones(4), np.array([0, 0, 1, 1]), False), 12)
    0.278652479556
    """
    kept = weights > 0
    if int(np.count_nonzero(kept)) < 2:
        return math.nan
    w = weights[kept]
    if one_column:
        y = np.asarray(targets, dtype=np.float64)[kept]
        p = _mean(y, w)
        prior_rows = -(
            _times_log(y, np.full_like(y, p)) + _times_log(1.0 - y, np.full_like(y, 1.0 - p))
        )
    else:
        classes = np.asarray(targets, dtype=np.int64)[kept]
        frequency = np.bincount(classes, weights=w) / float(w.sum())
        prior_rows = -np.log(frequency[classes])
    return _reduction(_mean(scores.log_loss[kept], w), _mean(prior_rows, w))


def _reduction(mean_log_loss: float, prior: float) -> float:
    """1 − the log loss / that of predicting the class frequencies (``prior``); ±∞ or NaN
    where the prior's is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(1.0 - np.float64(mean_log_loss) / np.float64(prior))


@dataclass(frozen=True, eq=False)
class ScoreSums:
    """The figures of rows of hard class-index targets (K ≥ 2 classes, every counted row
    weighing 1) as sums that blocks of rows add up (:mod:`xent_cli.totals`): the Brier
    score, the calibration bins, the log-loss reduction and the accuracy at k, with no
    value a row kept."""

    columns: int
    rows: int  # counted rows
    squared_error: float  # Σ Σₖ (pₖ − yₖ)²
    log_loss: float  # Σ −log p_target
    top_k: int | None  # counted rows whose target ranks in the top k
    bin_count: IntArray  # per calibration bin (:data:`BINS` equal-width): its rows,
    bin_confidence: FloatArray  # their top probabilities' sum,
    bin_right: FloatArray  # and how many have the target on top
    classes: IntArray  # the target classes of counted rows, ascending,
    class_count: IntArray  # and how many rows have each

    @classmethod
    def of(
        cls, scores: RowScores, counted: npt.NDArray[np.bool_], targets: IntArray, k: int | None
    ) -> ScoreSums:
        """The sums of a block's ``counted`` rows (``targets``: their class indices).

        >>> s = RowScores(np.array([.25, .75]), np.array([0., 1.]), np.array([.5, .1]),
        ...               np.array([1., 2.]), np.array([2, 1]), columns=3)
        >>> sums = ScoreSums.of(s, np.array([True, True]), np.array([0, 2]), 1)
        >>> sums.brier, sums.accuracy_at_k, round(sums.bins().ece, 12)
        (0.3, 0.5, 0.25)
        """
        confidence = scores.confidence[counted]
        classes, class_count = np.unique(
            np.asarray(targets, dtype=np.int64)[counted], return_counts=True
        )
        index = np.searchsorted(_uniform_edges(BINS)[1:-1], confidence, side="left")
        rank = scores.rank
        return cls(
            columns=scores.columns,
            rows=int(np.count_nonzero(counted)),
            squared_error=float(scores.squared_error[counted].sum()),
            log_loss=float(scores.log_loss[counted].sum()),
            top_k=None if k is None or rank is None else int(np.count_nonzero(rank[counted] <= k)),
            bin_count=np.bincount(index, minlength=BINS),
            bin_confidence=_bin_sums(index, confidence, BINS),
            bin_right=_bin_sums(index, scores.outcome[counted], BINS),
            classes=classes,
            class_count=class_count.astype(np.int64),
        )

    def __add__(self, other: ScoreSums) -> ScoreSums:
        """The sums of both blocks' rows."""
        classes, (class_count,) = summed_by_key(
            [(self.classes, [self.class_count]), (other.classes, [other.class_count])]
        )
        top_k = None if self.top_k is None or other.top_k is None else self.top_k + other.top_k
        return ScoreSums(
            self.columns,
            self.rows + other.rows,
            self.squared_error + other.squared_error,
            self.log_loss + other.log_loss,
            top_k,
            self.bin_count + other.bin_count,
            self.bin_confidence + other.bin_confidence,
            self.bin_right + other.bin_right,
            classes,
            class_count,
        )

    def _mean(self, total: float) -> float:
        return total / self.rows if self.rows else math.nan

    @property
    def brier(self) -> float:
        """scikit-learn's ``brier_score_loss`` (see :func:`brier`)."""
        return _halved(self._mean(self.squared_error), self.columns)

    def bins(self) -> Bins:
        """The :data:`BINS` equal-width calibration bins (see :func:`calibration_bins`)."""
        weight = self.bin_count.astype(np.float64)
        edges = _uniform_edges(BINS)
        return Bins.of_sums(edges, self.bin_count, weight, self.bin_confidence, self.bin_right)

    @property
    def log_loss_reduction(self) -> float:
        """scikit-learn's ``d2_log_loss_score`` (see :func:`log_loss_reduction`): the
        prior's log loss Σ_c n_c·log(N/n_c) / N from the class counts."""
        if self.rows < 2:
            return math.nan
        seen = self.class_count.astype(np.float64)
        prior = float(np.dot(seen, np.log(self.rows / seen))) / self.rows  # +0 for one class
        return _reduction(self._mean(self.log_loss), prior)

    @property
    def accuracy_at_k(self) -> float | None:
        """The share of counted rows whose target ranks in the top k (see :func:`accuracy_at`)."""
        return None if self.top_k is None else self._mean(float(self.top_k))


def summed_by_key(
    parts: Sequence[tuple[IntArray, Sequence[npt.NDArray[Any]]]],
) -> tuple[IntArray, list[npt.NDArray[Any]]]:
    """Arrays given a value a key, in parts, added key by key: the keys (ascending, each
    once) and each array's sums over them.

    >>> keys, (sums,) = summed_by_key([(np.array([3, 5]), [np.array([1, 2])]),
    ...                                (np.array([5]), [np.array([10])])])
    >>> keys.tolist(), sums.tolist()
    ([3, 5], [1, 12])
    """
    keys, inverse = np.unique(np.concatenate([k for k, _ in parts]), return_inverse=True)
    sums = []
    for at in range(len(parts[0][1])):
        values = np.concatenate([arrays[at] for _, arrays in parts])
        total = np.zeros(len(keys), dtype=values.dtype)
        np.add.at(total, inverse, values)
        sums.append(total)
    return keys.astype(np.int64), sums


def _uniform_edges(bins: int) -> FloatArray:
    """The edges of ``bins`` equal-width bins of [0, 1], k/B rounded once (0.3, not
    0.30000000000000004)."""
    edges: FloatArray = np.arange(bins + 1) / bins
    return edges


@dataclass
class Bins:
    """The non-empty calibration bins: edges, rows, and the (weighted) mean confidence and
    accuracy of each; the errors torchmetrics calls l1, max and l2."""

    index: IntArray  # each bin's place among all the bins (0-based)
    lower: FloatArray
    upper: FloatArray
    count: IntArray
    weight: FloatArray
    confidence: FloatArray
    accuracy: FloatArray

    @classmethod
    def of_sums(
        cls,
        edges: FloatArray,
        count: IntArray,
        weight: FloatArray,
        confident: FloatArray,
        right: FloatArray,
    ) -> Bins:
        """The non-empty bins between ``edges`` from each bin's rows (``count``), and its
        sums of weights, of weighted confidences and of weighted outcomes."""
        full = count > 0
        held = np.where(weight > 0, weight, 1.0)
        return cls(
            index=np.flatnonzero(full).astype(np.int64),
            lower=edges[:-1][full],
            upper=edges[1:][full],
            count=count[full].astype(np.int64),
            weight=weight[full],
            confidence=(confident / held)[full],
            accuracy=(right / held)[full],
        )

    @property
    def gap(self) -> FloatArray:
        """accuracy − confidence: negative where the model is overconfident."""
        gap: FloatArray = self.accuracy - self.confidence
        return gap

    @property
    def _share(self) -> FloatArray:
        total = float(self.weight.sum())
        share: FloatArray = self.weight / total if total else self.weight
        return share

    @property
    def ece(self) -> float:
        """Σ (n_b/N)·|gap_b|: torchmetrics' ``calibration_error(norm="l1")``."""
        return float(np.dot(self._share, np.abs(self.gap))) if self.count.size else math.nan

    @property
    def mce(self) -> float:
        """max |gap_b|: ``norm="max"``."""
        return float(np.max(np.abs(self.gap))) if self.count.size else math.nan

    @property
    def rmsce(self) -> float:
        """√Σ (n_b/N)·gap_b²: ``norm="l2"``."""
        if not self.count.size:
            return math.nan
        return math.sqrt(float(np.dot(self._share, self.gap**2)))


def calibration_bins(
    confidence: FloatArray,
    outcome: FloatArray,
    weights: FloatArray,
    bins: int = BINS,
    strategy: str = "uniform",
) -> Bins:
    """The rows of weight > 0 binned by confidence: ``bins`` equal-width bins of [0, 1], or
    (``quantile``) edges at the confidences' quantiles, as scikit-learn's
    ``calibration_curve``. A confidence c falls in (eₖ₋₁, eₖ]; the lowest edge itself in
    the first bin (so a confidence of exactly 1 lands in the last bin, torchmetrics#3510).

    torchmetrics' docstring example (2 bins): l1 0.2900, l2 0.2918, max 0.3167.

    >>> b = calibration_bins(np.array([.25, .25, .55, .75, .75]), np.array([0., 0, 1, 1, 1]),
    ...                      np.ones(5), bins=2)
    >>> round(b.ece, 4), round(b.rmsce, 4), round(b.mce, 4), b.count.tolist()
    (0.29, 0.2918, 0.3167, [2, 3])
    """
    kept = weights > 0
    confidence, outcome, weights = confidence[kept], outcome[kept], weights[kept]
    if strategy == "quantile" and confidence.size:
        edges = np.quantile(confidence, np.linspace(0.0, 1.0, bins + 1))
    else:
        edges = _uniform_edges(bins)
    index = np.searchsorted(edges[1:-1], confidence, side="left")
    count = np.bincount(index, minlength=bins)
    weight = _bin_sums(index, weights, bins)
    confident = _bin_sums(index, weights * confidence, bins)
    right = _bin_sums(index, weights * outcome, bins)
    return Bins.of_sums(edges, count, weight, confident, right)


def _bin_sums(index: IntArray, values: FloatArray, bins: int) -> FloatArray:
    """Σ ``values`` in each of ``bins`` bins (``index``: each value's), in order."""
    sums: FloatArray = np.bincount(index, weights=values, minlength=bins).astype(np.float64)
    return sums


@dataclass
class PerClass:
    """Per true class that occurs (as a target or a prediction): rows, mean loss, recall,
    precision and the mean predicted probability of the class over its rows."""

    classes: IntArray
    count: IntArray
    loss: FloatArray
    recall: FloatArray
    precision: FloatArray
    mean_p: FloatArray


def per_class(
    losses_: FloatArray,
    predicted: IntArray,
    target: IntArray,
    probability: FloatArray,
    weights: FloatArray,
) -> PerClass:
    """The per-class table (ML.NET's ``PerClassLogLoss``, recall, precision), over the rows
    of weight > 0, each weighted by it; NaN where a class has no rows (or no predictions).

    >>> t = per_class(np.array([0.1, 2.0, 0.5]), np.array([0, 0, 1]), np.array([0, 1, 1]),
    ...               np.array([0.9, 0.1, 0.6]), np.ones(3))
    >>> t.classes.tolist(), t.count.tolist(), t.recall.tolist(), t.precision.tolist()
    ([0, 1], [1, 2], [1.0, 0.5], [0.5, 1.0])
    """
    return ClassSums.of(losses_, predicted, target, probability, weights).table()


@dataclass(frozen=True, eq=False)
class ClassSums:
    """The per-class table's sums of the classes that occur (as a target or a predicted
    class), which blocks of rows add up: memory the classes a block saw, never K."""

    classes: IntArray  # the classes, ascending
    count: IntArray  # rows whose target it is
    held: FloatArray  # their weight
    said: FloatArray  # the weight of the rows predicted it
    right: FloatArray  # the weight of its rows predicted right
    loss: FloatArray  # Σ w·ℓ over its rows
    chance: FloatArray  # Σ w·p(target) over its rows

    @classmethod
    def of(
        cls,
        losses_: FloatArray,
        predicted: IntArray,
        target: IntArray,
        probability: FloatArray,
        weights: FloatArray,
    ) -> ClassSums:
        """The sums of the rows of weight > 0."""
        kept = weights > 0
        losses_, predicted, target = losses_[kept], predicted[kept], target[kept]
        probability, weights = probability[kept], weights[kept]
        classes = np.union1d(target, predicted).astype(np.int64)
        size = len(classes)
        at, said_at = np.searchsorted(classes, target), np.searchsorted(classes, predicted)
        return cls(
            classes,
            count=np.bincount(at, minlength=size).astype(np.int64),
            held=_bin_sums(at, weights, size),
            said=_bin_sums(said_at, weights, size),
            right=_bin_sums(at, weights * (predicted == target), size),
            loss=_bin_sums(at, weights * losses_, size),
            chance=_bin_sums(at, weights * probability, size),
        )

    def __add__(self, other: ClassSums) -> ClassSums:
        """The sums of both blocks' rows.

        >>> one = ClassSums.of(np.ones(2), np.array([0, 4]), np.array([0, 0]), np.ones(2),
        ...                    np.ones(2))
        >>> both = one + ClassSums.of(np.ones(1), np.array([2]), np.array([2]), np.ones(1),
        ...                           np.ones(1))
        >>> both.classes.tolist(), both.count.tolist(), both.said.tolist()
        ([0, 2, 4], [2, 1, 0], [1.0, 1.0, 1.0])
        """
        fields = ("count", "held", "said", "right", "loss", "chance")
        classes, summed = summed_by_key(
            [(part.classes, [getattr(part, name) for name in fields]) for part in (self, other)]
        )
        return ClassSums(classes, *summed)

    def table(self) -> PerClass:
        """The per-class table of the classes that occur as a target or a prediction."""
        held = self.held
        with np.errstate(divide="ignore", invalid="ignore"):
            return PerClass(
                classes=self.classes,
                count=self.count,
                loss=self.loss / held,
                recall=self.right / held,
                precision=self.right / self.said,
                mean_p=self.chance / held,
            )

"""The result of ``xent compute``: per-row losses, their summary, and the views a person
asks of them next (the worst rows, the confusion counts). No terminal, no format."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .conventions import epsilon_text
from .options import Base
from .settings import Settings

if TYPE_CHECKING:
    import numpy.typing as npt

    from .detection import Decision

    FloatArray = npt.NDArray[np.float64]

NOTHING_TO_AVERAGE = (
    "nothing left to average: every counted row's target has class weight 0, so the mean "
    "(Σ w·ℓ / Σ w = 0/0) is NaN, as PyTorch's is"
)
NO_WEIGHT = (
    "nothing left to average: every counted row has sample weight 0, so the mean (0/0) is NaN"
)
ALL_IGNORED = (
    "nothing left to average: every row has the ignored label {index}, so the losses and "
    "their sum are 0 and the mean (0/0) is NaN, as PyTorch's is"
)


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

    def __post_init__(self) -> None:
        if self.ignored is not None and self.ignored.all():
            index = self.settings.ignore_index if self.settings is not None else None
            self.warnings.append(ALL_IGNORED.format(index=index))
        elif self.denominators is not None and not self.denominators.any():
            self.warnings.append(NOTHING_TO_AVERAGE)
        elif self.weights is not None and not self._divisors().any() and not self._per_row:
            self.warnings.append(NO_WEIGHT)

    @property
    def clipping_note(self) -> str | None:
        """One line when clipping moved any probability: how many, and ε."""
        if not self.clipped or self.settings is None:
            return None
        what = "probability" if self.clipped == 1 else "probabilities"
        epsilon = epsilon_text(self.settings.clipping)
        return f"{self.clipped:,} {what} clipped to [ε, 1−ε], ε = {epsilon}"

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
        """
        if self.denominators is None and self.weights is None:
            return float(self.losses.mean())
        divisors = None if self._per_row else self._divisors()
        with np.errstate(over="ignore"):
            divisor = float(self.rows) if divisors is None else float(divisors.sum())
            total = self.total
        if not divisor:
            return math.nan
        if divisors is not None and not (math.isfinite(total) and math.isfinite(divisor)):
            return self._scaled_mean(divisors)
        return total / divisor

    def _scaled_mean(self, divisors: FloatArray) -> float:
        """Σ sᵢℓᵢ / Σ sᵢdᵢ with both sums divided by c = max |sᵢdᵢ| first: the mean is the
        same, and weights near the largest float (``--class-weights 1e308,…``) no longer
        overflow the sums into inf/inf or x/inf = 0."""
        scale = float(np.max(np.abs(divisors)))
        if not math.isfinite(scale):
            return math.nan
        weights = np.ones(self.rows) if self.weights is None else self.weights
        with np.errstate(over="ignore"):
            numerator = float(np.dot(weights, self.losses / scale))
            denominator = float((divisors / scale).sum())
        return numerator / denominator if denominator else math.nan

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
        with np.errstate(over="ignore"):  # beyond the largest float the sum is honestly inf
            if self.weights is None:
                return float(self.losses.sum())
            return float(np.dot(self.weights, self.losses))

    @property
    def ignored_count(self) -> int:
        return 0 if self.ignored is None else int(self.ignored.sum())

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
        """The share of counted rows whose predicted class is the target (NaN for none)."""
        correct = self.correct_count
        if correct is None:
            return None
        return correct / self.counted_rows if self.counted_rows else math.nan

    @property
    def perplexity(self) -> float:
        """exp of the mean loss in nats (= base^mean in the chosen unit); ``inf`` on overflow."""
        mean = self.mean * self.base.log_e
        return math.exp(mean) if mean < 709.0 or math.isnan(mean) else math.inf

    def class_label(self, index: int) -> str:
        """A class's name from the predictions' header, else its index."""
        if self.class_names is not None and 0 <= index < len(self.class_names):
            return self.class_names[index]
        return str(index)

    @property
    def binary(self) -> bool:
        """One sigmoid per column: predicted and target are 0/1 (or [0,1]), not classes."""
        return self.decision.row.per_column

    @property
    def single_label(self) -> bool:
        """A predicted and a target value per row (not multi-label, not soft classes)."""
        return self.predicted is not None and self.target is not None

    def worst_rows(self, count: int) -> list[int]:
        """The ``count`` rows with the largest loss, worst first (ties: earlier rows first)."""
        order = np.argsort(-self.losses, kind="stable")
        return [int(row) for row in order[:count]]

    def confusion(self) -> tuple[list[str], npt.NDArray[np.int64]] | None:
        """Class labels and confusion counts (rows: target, columns: predicted), counted rows
        only; ``None`` unless the targets are hard single labels."""
        if self.correct is None or self.predicted is None or self.target is None:
            return None
        predicted = np.asarray(self.predicted, dtype=np.int64)
        target = np.asarray(self.target, dtype=np.int64)
        keep = np.ones(target.shape, dtype=bool) if self.ignored is None else ~self.ignored
        k = int(max(predicted.max(initial=0), target[keep].max(initial=0))) + 1
        if self.class_names is not None:
            k = max(k, len(self.class_names))
        matrix = np.zeros((k, k), dtype=np.int64)
        np.add.at(matrix, (target[keep], predicted[keep]), 1)
        names = [str(i) if self.binary else self.class_label(i) for i in range(k)]
        return names, matrix

"""Detection (DESIGN §2): the row of the decision table that fits the data, and why.

Nothing here prints: :func:`decide` returns a :class:`Decision` holding the chosen row, the
targets in the form its kernel takes, the one-line reason and any warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .decision_table import LossRow, loss_row, pick_row
from .errors import InputError, UsageError
from .inputs import Labels
from .options import Outputs, Targets, Task
from .readers.base import Where

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]


def _scores_twin(row: LossRow) -> LossRow:
    """The row that takes scores where ``row`` takes probabilities."""
    return pick_row(from_scores=True, per_column=row.per_column, sparse=row.sparse)


def sum_tolerance(n_classes: int, dtype: np.dtype[np.generic]) -> float:
    """ "Sums to 1" means within 1e-6, or K·ε of the input's dtype when that is larger.

    >>> sum_tolerance(10, np.dtype(np.float64))
    1e-06
    >>> round(sum_tolerance(100, np.dtype(np.float32)), 10)
    1.19209e-05
    """
    if not np.issubdtype(dtype, np.floating):
        return 1e-6
    eps = float(np.finfo(cast("np.dtype[np.floating[Any]]", dtype)).eps)
    return max(1e-6, n_classes * eps)


@dataclass
class Decision:
    """The chosen row, its targets as the kernel takes them, and why."""

    row: LossRow
    targets: FloatArray | IntArray  # indices (n,) for sparse rows, else (n, k) floats
    hard: bool
    outcomes: str
    outputs_reason: str
    targets_reason: str
    warnings: list[str]
    notes: tuple[str, ...] = ()  # what reading the files decided (pandas' index, headers)
    log_probs: bool = False  # the predictions are log-probabilities (a probability row)

    @property
    def loss(self) -> str:
        return self.row.name

    @property
    def multilabel(self) -> bool:
        return self.row.per_column and self.targets.ndim == 2 and self.targets.shape[1] > 1

    @property
    def reason(self) -> str:
        """One line, e.g. ``3 classes · scores (…) · hard targets (…) → sparse-…``, after
        what reading the files decided, if anything."""
        said = [*self.notes, self.outcomes, self.outputs_reason, self.targets_reason]
        return f"{' · '.join(said)} → {self.loss}"


def _rows_sum_to_one(matrix: FloatArray, tolerance: float) -> npt.NDArray[np.bool_]:
    close: npt.NDArray[np.bool_] = np.abs(matrix.sum(axis=1) - 1.0) <= tolerance
    return close


def _in_unit(matrix: FloatArray) -> bool:
    return bool(((matrix >= 0) & (matrix <= 1)).all())


def _first(mask: npt.NDArray[np.bool_]) -> tuple[int, int | None]:
    """Row and column of the first True in a 1-D or 2-D mask (one pass, no index list)."""
    flat = int(np.argmax(mask.ravel()))
    if mask.ndim == 1:
        return flat, None
    row, column = divmod(flat, int(mask.shape[1]))
    return row, column


def _fmt(value: float) -> str:
    return f"{value:.10g}"


def label_faults(
    column: FloatArray, n_classes: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Where labels read as class indices of K classes are not whole numbers, negative, or
    K or more: the faults in the order detection names the first of them.

    >>> [fault.tolist() for fault in label_faults(np.array([0.5, -1.0, 3.0]), 3)]
    [[True, False, False], [False, True, False], [False, False, True]]
    """
    return column != np.floor(column), column < 0, column >= n_classes


def _indices_from_column(labels: Labels, n_classes: int, binary_hint: bool) -> IntArray:
    """Class indices from a one-column numeric label matrix, checked against K classes
    (:func:`label_faults`, in its order)."""
    assert labels.matrix is not None
    column = labels.matrix[:, 0]
    fractional = column != np.floor(column)
    if fractional.any():
        row = int(np.argmax(fractional))
        hint = (
            "; soft binary targets need one prediction column"
            if binary_hint
            else f"; class indices are whole numbers 0–{n_classes - 1}"
        )
        raise InputError(
            labels.where(row, 0), f"label {_fmt(column[row])} is not a class index{hint}"
        )
    return _check_range(column, n_classes, labels)


def class_indices(labels: Labels, n_classes: int) -> IntArray:
    """A one-column block of labels as class indices of K classes, checked as detection
    checks them for a sparse loss (labels read in blocks: :mod:`xent_cli.totals`)."""
    return _indices_from_column(labels, n_classes, binary_hint=n_classes == 2)


def _check_range(
    indices: npt.NDArray[np.int64] | npt.NDArray[np.float64], n_classes: int, labels: Labels
) -> IntArray:
    """Indices in 0…K−1, checked before the cast to int64 (so 1e20 is out of range, not garbage)."""
    negative = indices < 0
    if negative.any():
        row = int(np.argmax(negative))
        if indices[row] == -100:  # DESIGN §5
            raise InputError(
                labels.where(row, 0),
                "label -100 marks padding in PyTorch and Hugging Face (positions to leave "
                "out); say --ignore-index -100",
            )
        raise InputError(
            labels.where(row, 0),
            f"label {_fmt(indices[row])} is negative; class indices count from 0 (labels "
            "that name the classes, as −1 and 1 do, are read with --classes)",
        )
    beyond = indices >= n_classes
    if beyond.any():
        row = int(np.argmax(beyond))
        raise InputError(
            labels.where(row, 0),
            f"label {_fmt(indices[row])} is out of range for {n_classes} classes "
            f"(valid: 0–{n_classes - 1}); labels that name the classes (as 1…{n_classes} "
            "do) are read with --classes",
        )
    return indices.astype(np.int64)


def _check_unit_matrix(labels: Labels) -> FloatArray:
    assert labels.matrix is not None
    outside = (labels.matrix < 0) | (labels.matrix > 1)
    if outside.any():
        row, column = _first(outside)
        value = labels.matrix[row, column if column is not None else 0]
        raise InputError(labels.where(row, column), f"target {_fmt(value)} is outside [0,1]")
    return labels.matrix


def _one_hot(indices: IntArray, n_classes: int) -> FloatArray:
    matrix = np.zeros((indices.shape[0], n_classes), dtype=np.float64)
    matrix[np.arange(indices.shape[0]), indices] = 1.0
    return matrix


def _is_one_hot(matrix: FloatArray) -> npt.NDArray[np.bool_]:
    one_hot: npt.NDArray[np.bool_] = ((matrix == 0) | (matrix == 1)).all(axis=1) & (
        matrix.sum(axis=1) == 1
    )
    return one_hot


def _resolve_task(
    task: Task, loss: LossRow | None, k: int, labels: Labels, tolerance: float
) -> Task:
    """binary, multiclass or multilabel, from the override, the loss or the shapes."""
    m = labels.n_columns
    if labels.indices is None and m not in (1, k):
        raise InputError(
            labels.where(0, None),
            f"labels have {m} columns but the predictions have {k}; give one label per row "
            f"or a {k}-column target matrix",
        )
    wanted = task
    if loss is not None:
        implied = (
            Task.multiclass if not loss.per_column else (Task.binary if k == 1 else Task.multilabel)
        )
        if task not in (Task.auto, implied) and not (
            task is Task.multilabel and implied is Task.binary
        ):
            raise UsageError(f"--loss {loss.name} does not fit --task {task.value}")
        wanted = implied
    if wanted is Task.binary and k != 1:
        raise UsageError(
            f"--task binary needs one prediction column, but there are {k}; "
            "use --task multilabel for several yes/no columns"
        )
    if wanted is Task.multiclass and k < 2:
        raise UsageError("--task multiclass needs K ≥ 2 prediction columns, but there is 1")
    if wanted is Task.multilabel and k >= 2 and (labels.indices is not None or m != k):
        raise InputError(
            labels.where(0, None),
            f"multi-label targets need a {k}-column matrix of 0/1 (or [0,1]) values, "
            "one per output",
        )
    if wanted is not Task.auto:
        return Task.binary if wanted is Task.multilabel and k == 1 else wanted
    if k == 1:
        return Task.binary
    if labels.indices is not None or m == 1:
        return Task.multiclass
    matrix = labels.matrix
    assert matrix is not None
    binary = bool(((matrix == 0) | (matrix == 1)).all())
    if binary and not _rows_sum_to_one(matrix, tolerance).all():
        return Task.multilabel  # multi-hot; fractional rows not summing to 1 stay classes
    return Task.multiclass


@dataclass
class Summary:
    """What detection needs to know of the predictions, mergeable over row blocks.

    >>> Summary.of(np.array([[0.2, 0.8], [0.5, 1.5]]), 1e-6).first_outside
    (1, 1, 1.5)
    """

    n_columns: int
    any_minus_inf: bool = False
    first_outside: tuple[int, int, float] | None = None  # row, column, value outside [0,1]
    first_off_sum: tuple[int, float] | None = None  # a row whose sum is not 1, and the sum
    off_sum_rows: int = 0
    highest: float = -np.inf  # the largest value
    first_off_logsumexp: tuple[int, float] | None = None  # where all are ≤ 0: a row's lse ≠ 0
    off_logsumexp_rows: int = 0

    @classmethod
    def of(
        cls,
        predictions: FloatArray,
        tolerance: float,
        row_offset: int = 0,
        extremes: tuple[float, float] | None = None,
    ) -> Summary:
        """The summary of a block of rows that starts at row ``row_offset``.

        Whole-array minimum and maximum first (fast: ``extremes``, when the caller has
        them); where a value lies outside [0,1] the row sums do not matter, and only the
        first such value is looked for.
        """
        summary = cls(int(predictions.shape[1]))
        if predictions.size == 0:
            return summary
        lowest, highest = extremes or (float(predictions.min()), float(predictions.max()))
        summary.any_minus_inf = lowest == -np.inf
        summary.highest = highest
        if lowest < 0 or highest > 1:
            summary.first_outside = _first_outside(predictions, row_offset)
            if highest <= 0 and summary.n_columns > 1:  # log-probabilities, maybe
                from .losses import logsumexp

                off = np.abs(logsumexp(predictions)) > tolerance
                if off.any():
                    row = int(np.argmax(off))
                    total = float(logsumexp(predictions[row]))
                    summary.first_off_logsumexp = (row + row_offset, total)
                    summary.off_logsumexp_rows = int(np.count_nonzero(off))
            return summary
        from .losses import row_sum

        sums = row_sum(predictions)
        off = np.abs(sums - 1.0) > tolerance
        if off.any():
            row = int(np.argmax(off))
            summary.first_off_sum = (row + row_offset, float(sums[row]))
            summary.off_sum_rows = int(np.count_nonzero(off))
        return summary

    def merge(self, later: Summary) -> Summary:
        """This block followed by ``later``."""
        return Summary(
            self.n_columns,
            self.any_minus_inf or later.any_minus_inf,
            self.first_outside or later.first_outside,
            self.first_off_sum or later.first_off_sum,
            self.off_sum_rows + later.off_sum_rows,
            max(self.highest, later.highest),
            self.first_off_logsumexp or later.first_off_logsumexp,
            self.off_logsumexp_rows + later.off_logsumexp_rows,
        )

    @property
    def log_probabilities(self) -> bool:
        """Every value ≤ 0 and every row's logsumexp 0: log_softmax outputs (K ≥ 2)."""
        return (
            self.n_columns > 1
            and self.highest <= 0
            and self.first_outside is not None
            and self.first_off_logsumexp is None
        )


def _first_outside(predictions: FloatArray, row_offset: int) -> tuple[int, int, float]:
    """Row, column and value of the first entry outside [0,1], scanning slices that double
    from one row: scores have such a value in their first row, almost always, and no
    value is looked at twice.

    >>> _first_outside(np.array([[0.5, 0.5], [0.2, 0.8], [0.1, -3.0]]), 10)
    (12, 1, -3.0)
    """
    start, step = 0, 1
    while start < predictions.shape[0]:
        part = predictions[start : start + step]
        outside = (part < 0) | (part > 1)
        if outside.any():
            row, column = _first(outside)
            col = column if column is not None else 0
            return row + start + row_offset, col, float(part[row, col])
        start, step = start + step, 2 * step
    raise AssertionError("no value outside [0,1]")


def tolerance_for(k: int, pred_dtype: np.dtype[np.generic], labels: Labels) -> float:
    """The "sums to 1" tolerance for K classes and both inputs' dtypes."""
    return max(sum_tolerance(k, pred_dtype), sum_tolerance(k, labels.dtype))


def _resolve_outputs(
    outputs: Outputs,
    loss: LossRow | None,
    summary: Summary,
    task: Task,
    where: Where,
) -> tuple[Outputs, str, list[str]]:
    """(what the predictions hold: scores, probs or log-probs; the reason; warnings)."""
    if loss is not None:
        if outputs is not Outputs.auto and (outputs is Outputs.scores) != loss.from_scores:
            raise UsageError(f"--loss {loss.name} does not fit --outputs {outputs.value}")
        if outputs is not Outputs.log_probs:
            outputs = Outputs.scores if loss.from_scores else Outputs.probs
    k = summary.n_columns
    by = "--outputs" if loss is None else "--loss"
    if outputs is Outputs.scores:
        return Outputs.scores, f"scores ({by} scores)" if loss is None else "scores (--loss)", []
    if outputs is Outputs.log_probs:
        return (
            Outputs.log_probs,
            "log-probabilities (--outputs log-probs)",
            _log_warnings(summary, task, where),
        )
    if outputs is Outputs.probs:
        if summary.first_outside is not None:
            row, column, value = summary.first_outside
            fix = (
                "drop --outputs probs" if loss is None else f"use --loss {_scores_twin(loss).name}"
            )
            if summary.log_probabilities:
                fix += "; if they are log-probabilities, --outputs log-probs"
            raise InputError(
                where(row, column),
                f"value {_fmt(value)} is not a probability in [0,1]; "
                f"if these are scores (logits), {fix}",
            )
        warnings = []
        if k > 1 and task is Task.multiclass and summary.first_off_sum is not None:
            row, total = summary.first_off_sum
            warnings.append(
                f"{where(row, None)}: probabilities sum to {_fmt(total)}, "
                f"not 1 ({summary.off_sum_rows} row(s)); they are used as given, not renormalised"
            )
        reason = "probabilities (--outputs probs)" if loss is None else "probabilities (--loss)"
        return Outputs.probs, reason, warnings
    if summary.log_probabilities and task is Task.multiclass:
        return Outputs.log_probs, "log-probabilities (every value ≤ 0, rows' logsumexp 0)", []
    if summary.any_minus_inf:
        return Outputs.scores, "scores (−∞ entries)", []
    if summary.first_outside is not None:
        return Outputs.scores, "scores (values outside [0,1])", []
    if k == 1:
        return Outputs.probs, "probabilities (one column in [0,1])", []
    if summary.first_off_sum is None:
        return Outputs.probs, "probabilities (rows sum to 1)", []
    if task is Task.multilabel:
        return Outputs.probs, "probabilities (values in [0,1], multi-hot labels)", []
    return (
        Outputs.scores,
        "scores (values in [0,1] but rows do not sum to 1)",
        [
            "predictions lie in [0,1] but their rows do not sum to 1, so they are taken as "
            "scores (logits); if they are probabilities, say --outputs probs"
        ],
    )


def _log_warnings(summary: Summary, task: Task, where: Where) -> list[str]:
    """``--outputs log-probs``: values above 0 are an error; rows whose logsumexp is not 0
    are used as given, with a warning."""
    if task is not Task.multiclass:
        raise UsageError("--outputs log-probs is for K ≥ 2 classes (a log_softmax's outputs)")
    if summary.highest > 0:
        raise InputError(
            where(0, None),
            f"log-probabilities are ≤ 0, but the predictions hold {_fmt(summary.highest)}; "
            "if these are scores (logits), drop --outputs log-probs",
        )
    if summary.first_off_logsumexp is None:
        return []
    row, total = summary.first_off_logsumexp
    return [
        f"{where(row, None)}: log-probabilities' logsumexp is {_fmt(total)}, not 0 "
        f"({summary.off_logsumexp_rows} row(s)); they are used as given, not renormalised"
    ]


def decide(
    predictions: FloatArray | Summary,
    labels: Labels,
    *,
    pred_where: Where,
    pred_dtype: np.dtype[np.generic] | None = None,
    outputs: Outputs = Outputs.auto,
    targets: Targets = Targets.auto,
    task: Task = Task.auto,
    loss: str | None = None,
    notes: Sequence[str] = (),
    as_given: bool = False,
    check_indices: Callable[[], None] | None = None,
) -> Decision:
    """Choose the row of the decision table for these arrays (DESIGN §2), and say why.

    ``predictions`` is the array, or the :class:`Summary` of one read in blocks. With
    ``as_given``, soft target rows that do not sum to 1 are used as they are (a warning),
    not refused. ``check_indices`` checks, where class indices are checked, labels that
    ``labels`` holds only the start of (read in blocks beside the predictions).

    >>> d = decide(np.array([[0.5, 1.5, 0.1]]), Labels(matrix=np.array([[1.0]])),
    ...            pred_where=lambda r, c: "p")
    >>> d.loss
    'sparse-softmax-ce-with-logits'
    >>> d.outcomes, d.outputs_reason, d.targets_reason
    ('3 classes', 'scores (values outside [0,1])', 'hard targets (integer labels)')
    """
    if isinstance(predictions, Summary):
        summary = predictions
        k = summary.n_columns
        tolerance = tolerance_for(k, pred_dtype or np.dtype(np.float64), labels)
    else:
        k = int(predictions.shape[1])
        tolerance = tolerance_for(k, pred_dtype or predictions.dtype, labels)
        summary = Summary.of(predictions, tolerance)
    chosen = loss_row(loss) if loss is not None else None
    kind = _resolve_task(task, chosen, k, labels, tolerance)
    held, outputs_reason, warnings = _resolve_outputs(outputs, chosen, summary, kind, pred_where)
    from_scores = held is Outputs.scores
    if kind is Task.binary or kind is Task.multilabel:
        decision = _decide_per_column(
            k, labels, from_scores, targets, outputs_reason, warnings, multi=kind is Task.multilabel
        )
    else:
        decision = _decide_multiclass(
            k,
            labels,
            from_scores,
            targets,
            chosen,
            outputs_reason,
            warnings,
            tolerance,
            as_given,
            check_indices,
        )
    if held is Outputs.log_probs:
        decision = replace(decision, log_probs=True)
    return replace(decision, notes=tuple(notes)) if notes else decision


def _decide_per_column(
    k: int,
    labels: Labels,
    from_scores: bool,
    targets: Targets,
    outputs_reason: str,
    warnings: list[str],
    *,
    multi: bool,
) -> Decision:
    if labels.indices is not None:
        raise InputError(
            labels.where(0, None),
            "labels are class names, but a one-column output needs 0/1 labels or probabilities",
        )
    matrix = labels.matrix
    assert matrix is not None
    if k == 1 and matrix.shape[1] != 1:
        raise InputError(
            labels.where(0, None),
            f"labels have {matrix.shape[1]} columns but the predictions have 1",
        )
    outside = (matrix < 0) | (matrix > 1)
    if outside.any():
        row, column = _first(outside)
        value = matrix[row, column if column is not None else 0]
        hint = (
            "; a one-column output needs 0/1 labels or probabilities "
            "(for K classes give K prediction columns)"
            if k == 1
            else ""
        )
        raise InputError(labels.where(row, column), f"label {_fmt(value)} is outside [0,1]{hint}")
    binary_values = (matrix == 0) | (matrix == 1)
    hard = bool(binary_values.all())
    if targets is Targets.hard and not hard:
        row, column = _first(~binary_values)
        value = matrix[row, column if column is not None else 0]
        raise InputError(
            labels.where(row, column), f"label {_fmt(value)} is not 0 or 1 (--targets hard)"
        )
    if targets is Targets.soft:
        hard = False
    chosen = pick_row(from_scores=from_scores, per_column=True, sparse=False)
    if multi:
        outcomes = f"{k} labels (multi-label)"
        what = "multi-hot targets" if hard else "soft multi-label targets"
        why = (
            "rows of 0/1, not all summing to 1"
            if hard
            else "values in [0,1], rows not all summing to 1"
        )
    else:
        outcomes = "1 output column (binary)"
        what = "hard targets" if hard else "soft targets"
        why = "labels in {0,1}" if hard else "labels in [0,1]"
    if targets is not Targets.auto:
        why = f"--targets {targets.value}"
    return Decision(chosen, matrix, hard, outcomes, outputs_reason, f"{what} ({why})", warnings)


def _decide_multiclass(
    k: int,
    labels: Labels,
    from_scores: bool,
    targets: Targets,
    chosen: LossRow | None,
    outputs_reason: str,
    warnings: list[str],
    tolerance: float,
    as_given: bool = False,
    check_indices: Callable[[], None] | None = None,
) -> Decision:
    outcomes = f"{k} classes"
    if labels.indices is not None or labels.n_columns == 1:
        if labels.indices is not None:
            indices = _check_range(labels.indices, k, labels)
            why = "class names"
        else:
            if check_indices is not None:  # all the labels, of which these are the start
                check_indices()
            indices = _indices_from_column(labels, k, binary_hint=k == 2)
            why = "integer labels"
        if targets is Targets.soft or (chosen is not None and not chosen.sparse):
            row = pick_row(from_scores=from_scores, per_column=False, sparse=False)
            why = f"{why}, one-hot for --{'targets soft' if chosen is None else 'loss'}"
            return Decision(
                row,
                _one_hot(indices, k),
                True,
                outcomes,
                outputs_reason,
                f"hard targets ({why})",
                warnings,
            )
        row = pick_row(from_scores=from_scores, per_column=False, sparse=True)
        return Decision(
            row, indices, True, outcomes, outputs_reason, f"hard targets ({why})", warnings
        )
    matrix = _check_unit_matrix(labels)
    sums = matrix.sum(axis=1)
    off = np.abs(sums - 1.0) > tolerance
    if off.any():
        row_index = int(np.argmax(off))
        where = labels.where(row_index, None)
        total = _fmt(sums[row_index])
        if not as_given:
            raise InputError(
                where,
                f"target row sums to {total}, not 1: --targets soft takes such rows as given "
                "(−Σ y·log p, as Keras and TensorFlow do), --task multilabel as independent "
                "labels",
            )
        warnings = [
            *warnings,
            f"{where}: target row sums to {total}, not 1 ({int(off.sum())} row(s)); "
            "used as given (−Σ y·log p), not renormalised",
        ]
    one_hot = _is_one_hot(matrix)
    hard = bool(one_hot.all())
    if targets is Targets.hard and not hard:
        row_index = int(np.argmax(~one_hot))
        raise InputError(
            labels.where(row_index, None), "target row is not one-hot (--targets hard)"
        )
    if targets is Targets.soft:
        hard = False
    if chosen is not None and chosen.sparse:
        if not bool(one_hot.all()):
            row_index = int(np.argmax(~one_hot))
            raise InputError(
                labels.where(row_index, None),
                f"target row is not one-hot, so it has no class index for --loss {chosen.name}",
            )
        row = pick_row(from_scores=from_scores, per_column=False, sparse=True)
        indices = np.argmax(matrix, axis=1).astype(np.int64)
        return Decision(
            row, indices, True, outcomes, outputs_reason, "hard targets (one-hot rows)", warnings
        )
    row = pick_row(from_scores=from_scores, per_column=False, sparse=False)
    if targets is not Targets.auto:
        why = f"--targets {targets.value}"
    else:
        why = "one-hot rows" if hard else "rows are distributions"
    what = "hard targets" if hard else "soft targets"
    return Decision(row, matrix, hard, outcomes, outputs_reason, f"{what} ({why})", warnings)

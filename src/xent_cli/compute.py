"""Read → decide → compute: the engine behind ``xent compute``, free of terminals and Typer."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from . import losses
from .errors import InputError, UsageError
from .readers import ArraySource, TextSource, parse_number, read
from .table import Decision, Labels, Outputs, Targets, Task, decide
from .transform import check_not_all_masked

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Source = TextSource | ArraySource
Kernel = Callable[[FloatArray, FloatArray, float], FloatArray]


def _binary(p: FloatArray, y: FloatArray, eps: float) -> FloatArray:
    return losses.mean_over_columns(losses.binary_ce(p, y, eps))


def _sigmoid(z: FloatArray, y: FloatArray, eps: float) -> FloatArray:
    return losses.mean_over_columns(losses.sigmoid_ce_with_logits(z, y))


KERNELS: dict[str, Kernel] = {
    "binary-ce": _binary,
    "categorical-ce": losses.categorical_ce,
    "sparse-categorical-ce": losses.sparse_categorical_ce,
    "sigmoid-ce-with-logits": _sigmoid,
    "softmax-ce-with-logits": lambda z, y, eps: losses.softmax_ce_with_logits(z, y),
    "sparse-softmax-ce-with-logits": lambda z, c, eps: losses.sparse_softmax_ce_with_logits(z, c),
}


@dataclass
class Settings:
    """What the user chose; ``auto`` leaves it to detection."""

    outputs: Outputs = "auto"
    targets: Targets = "auto"
    task: Task = "auto"
    loss: str | None = None
    epsilon: float = losses.DEFAULT_EPSILON
    key: str | None = None
    label_key: str | None = None
    label_column: str | None = None


@dataclass
class Inputs:
    """Predictions and labels as arrays, with their sources for error positions."""

    predictions: FloatArray
    labels: Labels
    pred_source: Source
    class_names: list[str] | None
    pred_columns: list[int] | None = None

    def pred_where(self, row: int, column: int | None = None) -> str:
        if column is not None and self.pred_columns is not None:
            column = self.pred_columns[column]
        return self.pred_source.where(row, column)


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

    @property
    def rows(self) -> int:
        return int(self.losses.shape[0])

    @property
    def mean(self) -> float:
        return float(self.losses.mean())

    @property
    def total(self) -> float:
        return float(self.losses.sum())

    @property
    def correct(self) -> npt.NDArray[np.bool_] | None:
        if not self.decision.hard or self.predicted is None or self.target is None:
            return None
        return np.asarray(self.predicted == self.target)

    @property
    def accuracy(self) -> float | None:
        correct = self.correct
        return None if correct is None else float(correct.mean())

    @property
    def perplexity(self) -> float:
        """exp of the mean loss (in nats); ``inf`` when that overflows."""
        mean = self.mean
        return math.exp(mean) if mean < 709.0 else math.inf

    def class_label(self, index: int) -> str:
        """A class's name from the predictions' header, else its index."""
        if self.class_names is not None and 0 <= index < len(self.class_names):
            return self.class_names[index]
        return str(index)


def _column_index(spec: str, source: Source) -> int:
    """``--label-column``: a header name, or a 0-based index (negative counts from the end)."""
    if source.header is not None and spec in source.header:
        return source.header.index(spec)
    try:
        index = int(spec)
    except ValueError:
        names = ", ".join(source.header) if source.header else "the file has no header"
        raise UsageError(
            f"--label-column {spec!r} names no column of {source.name} ({names})"
        ) from None
    width = source.n_columns
    if not -width <= index < width:
        raise UsageError(
            f"--label-column {index} is out of range: {source.name} has {width} columns"
        )
    return index % width


def _labels_from(
    source: Source,
    column: int | None,
    class_names: list[str] | None,
    columns: list[int] | None = None,
) -> Labels:
    """Labels from ``column`` of ``source`` (class names or numbers), or all its columns."""

    def where(row: int, col: int | None = None) -> str:
        if column is not None:
            return source.where(row, column)
        if col is not None and columns is not None:
            col = columns[col]
        return source.where(row, col)

    if column is None and source.n_columns > 1:
        matrix = source.numbers(allow_minus_inf=False)
        return Labels(matrix=matrix, where=where, dtype=source.dtype)
    index = 0 if column is None else column
    if source.is_numeric(index):
        matrix = source.numbers([index], allow_minus_inf=False)
        return Labels(matrix=matrix, where=where, dtype=source.dtype)
    names = source.strings(index)
    if not class_names:
        first = next(row for row, name in enumerate(names) if parse_number(name) is None)
        raise InputError(
            where(first, None),
            f"label {names[first]!r} is not a number, and the predictions have no header "
            "naming the classes",
        )
    lookup = {name: position for position, name in reversed(list(enumerate(class_names)))}
    indices = np.empty(len(names), dtype=np.int64)
    for row, name in enumerate(names):
        position = lookup.get(name)
        if position is None:
            shown = ", ".join(class_names[:12]) + (", …" if len(class_names) > 12 else "")
            raise InputError(
                where(row, None), f"unknown class name {name!r}; the classes are: {shown}"
            )
        indices[row] = position
    return Labels(indices=indices, named=True, where=where, dtype=source.dtype)


def load(
    predictions: str, labels: str | None, settings: Settings, stdin: BinaryIO | None = None
) -> Inputs:
    """Read both inputs and check that they line up row for row."""
    if predictions == "-" and labels == "-":
        raise UsageError("only one input can be standard input (-)")
    pred_source = read(predictions, stdin=stdin, key=settings.key)
    if settings.label_column is not None:
        if labels is not None:
            raise UsageError("give either LABELS or --label-column, not both")
        label_index = _column_index(settings.label_column, pred_source)
        columns = [c for c in range(pred_source.n_columns) if c != label_index]
        if not columns:
            raise UsageError(f"{pred_source.name} has no prediction columns besides the labels")
        values = pred_source.numbers(columns, allow_minus_inf=True)
        header = pred_source.header
        class_names = [header[c] for c in columns] if header is not None else None
        label_set = _labels_from(pred_source, label_index, class_names)
        return Inputs(values, label_set, pred_source, class_names, columns)
    if labels is None:
        raise UsageError("missing LABELS: give a labels file (or - for stdin), or --label-column")
    values = pred_source.numbers(allow_minus_inf=True)
    class_names = pred_source.header
    label_source = read(labels, stdin=stdin, key=settings.label_key, class_names=class_names or [])
    label_set = _labels_from(label_source, None, class_names)
    n, m = values.shape[0], label_source.n_rows
    if m < n:
        raise InputError(
            label_source.where_end(),
            f"labels end after {_rows(m)}, but {pred_source.name} has {_rows(n)} of predictions",
        )
    if m > n:
        raise InputError(
            label_source.where(n, None),
            f"{_rows(m)} of labels, but {pred_source.name} has {_rows(n)} of predictions",
        )
    return Inputs(values, label_set, pred_source, class_names)


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _predicted(decision: Decision, predictions: FloatArray) -> npt.NDArray[np.generic] | None:
    if decision.multilabel:
        return None
    if predictions.shape[1] == 1:
        threshold = 0.0 if decision.row.from_scores else 0.5
        above: IntArray = (predictions[:, 0] > threshold).astype(np.int64)
        return above
    best: IntArray = np.argmax(predictions, axis=1).astype(np.int64)
    return best


def _target(decision: Decision) -> npt.NDArray[np.generic] | None:
    targets = decision.targets
    if decision.multilabel:
        return None
    if decision.row.sparse:
        return targets
    if decision.row.per_column:
        column = targets[:, 0]
        return column.astype(np.int64) if decision.hard else column
    best: IntArray = np.argmax(targets, axis=1).astype(np.int64)
    return best


def _target_probability(
    decision: Decision, predictions: FloatArray, row_losses: FloatArray
) -> FloatArray | None:
    if not decision.hard or decision.multilabel:
        return None
    row = decision.row
    if row.per_column:
        y = decision.targets[:, 0]
        p = losses.sigmoid(predictions[:, 0]) if row.from_scores else predictions[:, 0]
        q = losses.sigmoid(-predictions[:, 0]) if row.from_scores else 1.0 - predictions[:, 0]
        return np.where(y == 1, p, q)
    if row.from_scores:
        return np.exp(-row_losses)
    indices = decision.targets if row.sparse else np.argmax(decision.targets, axis=1)
    return np.take_along_axis(predictions, np.asarray(indices).reshape(-1, 1), axis=1)[:, 0]


def compute(inputs: Inputs, settings: Settings) -> Result:
    """Decide the loss for ``inputs`` and compute it row by row."""
    if not 0.0 <= settings.epsilon < 0.5:
        raise UsageError(f"--epsilon must be in [0, 0.5), not {settings.epsilon}")
    predictions = inputs.predictions
    check_not_all_masked(predictions, inputs.pred_where)
    decision = decide(
        predictions,
        inputs.labels,
        pred_where=inputs.pred_where,
        pred_dtype=inputs.pred_source.dtype,
        outputs=settings.outputs,
        targets=settings.targets,
        task=settings.task,
        loss=settings.loss,
    )
    kernel = KERNELS[decision.loss]
    row_losses = kernel(predictions, decision.targets, settings.epsilon)  # type: ignore[arg-type]
    return Result(
        decision=decision,
        losses=row_losses,
        class_names=inputs.class_names,
        predicted=_predicted(decision, predictions),
        target=_target(decision),
        target_probability=_target_probability(decision, predictions, row_losses),
        warnings=list(decision.warnings),
    )

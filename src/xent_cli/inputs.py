"""Read: predictions and labels as arrays that line up row for row, from any reader.

:func:`load` reads both inputs (or the labels from a column of the predictions), turns
class names into indices and checks the row counts; a large ``.npy`` of predictions is
left on disk as a stream. Nothing here decides the loss or computes one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from .errors import InputError, UsageError
from .readers import NpyStream, Positions, Source, Where, open_npy, parse_number, read
from .settings import Settings

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]


@dataclass
class Labels:
    """Targets as read: class indices (one per row) or an (n, m) matrix of numbers."""

    indices: IntArray | None = None
    matrix: FloatArray | None = None
    named: bool = False  # indices came from class names
    where: Where = field(default=lambda row, column: f"row {row + 1}")
    dtype: np.dtype[np.generic] = field(default_factory=lambda: np.dtype(np.float64))

    @property
    def n_columns(self) -> int:
        return 1 if self.matrix is None else int(self.matrix.shape[1])


@dataclass
class Inputs:
    """Predictions and labels as arrays, with their sources for error positions.

    A large ``.npy`` is not loaded: ``stream`` reads it in row blocks and ``predictions``
    is then an empty placeholder.
    """

    predictions: FloatArray
    labels: Labels
    pred_source: Positions
    class_names: list[str] | None
    pred_columns: list[int] | None = None
    stream: NpyStream | None = None

    @property
    def n_rows(self) -> int:
        return self.stream.n_rows if self.stream is not None else int(self.predictions.shape[0])

    def pred_where(self, row: int, column: int | None = None) -> str:
        if column is not None and self.pred_columns is not None:
            column = self.pred_columns[column]
        return self.pred_source.where(row, column)


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


def labels_from(
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
            listed = [n if n.isprintable() and n == n.strip() else repr(n) for n in class_names]
            shown = ", ".join(listed[:12]) + (", …" if len(listed) > 12 else "")
            raise InputError(
                where(row, None), f"unknown class name {name!r}; the classes are: {shown}"
            )
        indices[row] = position
    return Labels(indices=indices, named=True, where=where, dtype=source.dtype)


def load(
    predictions: str,
    labels: str | None,
    settings: Settings,
    stdin: BinaryIO | None = None,
    *,
    stream: bool = False,
) -> Inputs:
    """Read both inputs and check that they line up row for row.

    With ``stream``, a large ``.npy`` of predictions is left on disk for :func:`compute`
    to read in blocks (bounded memory).
    """
    streamed = None
    if stream and predictions != "-" and settings.label_column is None and labels is not None:
        streamed = open_npy(predictions, predictions)
    if streamed is not None:
        assert labels is not None
        label_source = read(labels, stdin=stdin, key=settings.label_key, class_names=[])
        label_set = labels_from(label_source, None, None)
        _check_counts(streamed.n_rows, label_source, streamed.name)
        placeholder = np.empty((0, streamed.n_columns))
        return Inputs(placeholder, label_set, streamed, None, stream=streamed)
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
        label_set = labels_from(pred_source, label_index, class_names)
        return Inputs(values, label_set, pred_source, class_names, columns)
    if labels is None:
        raise UsageError("missing LABELS: give a labels file (or - for stdin), or --label-column")
    values = pred_source.numbers(allow_minus_inf=True)
    # a header names classes only when there are K ≥ 2 of them
    class_names = pred_source.header if values.shape[1] > 1 else None
    label_source = read(labels, stdin=stdin, key=settings.label_key, class_names=class_names or [])
    label_set = labels_from(label_source, None, class_names)
    _check_counts(values.shape[0], label_source, pred_source.name)
    return Inputs(values, label_set, pred_source, class_names)


def _check_counts(n: int, label_source: Source, predictions_name: str) -> None:
    m = label_source.n_rows
    if m < n:
        raise InputError(
            label_source.where_end(),
            f"labels end after {_rows(m)}, but {predictions_name} has {_rows(n)} of predictions",
        )
    if m > n:
        raise InputError(
            label_source.where(n, None),
            f"{_rows(m)} of labels, but {predictions_name} has {_rows(n)} of predictions",
        )


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")

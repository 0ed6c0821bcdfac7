"""Read: predictions and labels as arrays that line up row for row, from any reader.

:func:`load` reads both inputs (or the labels from a column of the predictions), turns
class names into indices and checks the row counts; a large ``.npy`` of predictions is
left on disk as a stream. Nothing here decides the loss or computes one.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from .errors import InputError, UsageError
from .options import Targets, Task
from .parallel import distributed
from .readers import (
    FrameSource,
    Positions,
    ShardStream,
    SideColumns,
    Source,
    Stream,
    TextSource,
    Where,
    WholeShard,
    data_columns,
    open_shards,
    open_stream,
    pandas_names,
    parse_number,
    read,
    spooled_stdin,
    stdin_named,
)
from .sequences import (
    SCAN,
    LabelBlocks,
    LabelShards,
    Layout,
    label_blocks,
    position_labels,
    prepared,
    refuse_positions,
    shard_rows,
)
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
    stream: Stream | None = None
    notes: list[str] = field(default_factory=list)  # what reading decided, for the reason line
    ids: list[str] | None = None  # each row's identifier (--id-column)
    weights: FloatArray | None = None  # each row's sample weight (--sample-weights, …)
    layout: Layout | None = None  # predictions of rank ≥ 3: a row above is a position
    unscored: npt.NDArray[np.bool_] | None = None  # positions no label scores (--shift)
    # labels read a block at a time beside the stream (``labels`` then holds the first
    # positions' only, enough to decide the loss): see :func:`xent_cli.totals.totals`
    label_blocks: LabelBlocks | None = None

    @property
    def n_rows(self) -> int:
        return self.stream.n_rows if self.stream is not None else int(self.predictions.shape[0])

    def pred_where(self, row: int, column: int | None = None) -> str:
        if column is not None and self.pred_columns is not None:
            column = self.pred_columns[column]
        return self.pred_source.where(row, column)


def _column_index(spec: str, source: Source, option: str = "--label-column") -> int:
    """A column named by ``option``: a header name, or a 0-based index (negative counts from
    the end)."""
    if source.header is not None and spec in source.header:
        return source.header.index(spec)
    try:
        index = int(spec)
    except ValueError:
        shown = [name if name.strip() else repr(name) for name in source.header or ()]
        names = ", ".join(shown) if source.header else "the file has no header"
        raise UsageError(f"{option} {spec!r} names no column of {source.name} ({names})") from None
    width = source.n_columns
    if not -width <= index < width:
        raise UsageError(f"{option} {index} is out of range: {source.name} has {width} columns")
    return index % width


def labels_from(source: Source, columns: list[int] | None, class_names: list[str] | None) -> Labels:
    """Labels from ``columns`` of ``source`` (default all): one column of class names or
    numbers, or a matrix of several."""
    chosen = list(range(source.n_columns)) if columns is None else columns

    def where(row: int, column: int | None = None) -> str:
        if len(chosen) == 1:
            return source.where(row, chosen[0])
        return source.where(row, None if column is None else chosen[column])

    if len(chosen) > 1:
        matrix = source.numbers(chosen if columns is not None else None, allow_minus_inf=False)
        return Labels(matrix=matrix, where=where, dtype=source.dtype)
    index = chosen[0]
    if source.is_numeric(index):
        matrix = source.numbers([index], allow_minus_inf=False)
        named = _by_name(matrix[:, 0], class_names)
        if named is not None:
            return Labels(indices=named, named=True, where=where, dtype=source.dtype)
        return Labels(matrix=matrix, where=where, dtype=source.dtype)
    names = source.strings(index)
    booleans = [BOOLEANS.get(name.lower()) for name in names]
    if None not in booleans and not set(class_names or ()).intersection(names):  # true/false
        values = np.asarray(booleans, dtype=np.float64)
        if class_names is not None and len(class_names) == 2:  # classes False, True
            return Labels(indices=values.astype(np.int64), where=where, dtype=source.dtype)
        return Labels(matrix=values.reshape(-1, 1), where=where, dtype=source.dtype)
    numbers = [parse_number(name) for name in names]
    if None not in numbers:  # numbers kept as text (an .npy of strings): numbers
        matrix = np.asarray(numbers, dtype=np.float64).reshape(-1, 1)
        named = _by_name(matrix[:, 0], class_names)
        if named is not None:
            return Labels(indices=named, named=True, where=where, dtype=source.dtype)
        return Labels(matrix=matrix, where=where)
    if not class_names:
        first = numbers.index(None)
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


def _by_name(values: FloatArray, class_names: list[str] | None) -> IntArray | None:
    """Numeric labels that are the classes' names, not their indices: names that are
    numbers other than 0…K−1 (``--classes 1,2``, a header of scikit-learn's ``classes_``)
    and every label among them. ``None``: the labels are indices (or not all names).

    >>> _by_name(np.array([2.0, 1.0]), ["1", "2"]).tolist(), _by_name(np.array([1.0]), ["0", "1"])
    ([1, 0], None)
    """
    names = _NumberNames.of(class_names)
    return None if names is None else names.indices_of(values)


@dataclass(frozen=True)
class _NumberNames:
    """Class names that are numbers other than 0…K−1 (labels may be those names): the
    numbers, ascending, and the class each names (the first name that is it)."""

    numbers: FloatArray
    classes: IntArray

    @classmethod
    def of(cls, class_names: list[str] | None) -> _NumberNames | None:
        """``None`` unless every name is a number and they are not 0…K−1.

        >>> _NumberNames.of(["1", "2", "1"]).classes.tolist(), _NumberNames.of(["0", "1"])
        ([0, 1], None)
        """
        if not class_names:
            return None
        numbers = [parse_number(name) for name in class_names]
        if any(n is None for n in numbers) or numbers == [float(k) for k in range(len(numbers))]:
            return None
        lookup = {n: k for k, n in reversed(list(enumerate(numbers))) if n is not None}
        ordered = sorted(lookup)
        return cls(np.array(ordered), np.array([lookup[n] for n in ordered], dtype=np.int64))

    def indices_of(self, values: FloatArray) -> IntArray | None:
        """Each value's class, or ``None`` if a value is not one of the names."""
        at = np.minimum(np.searchsorted(self.numbers, values), len(self.numbers) - 1)
        if not (self.numbers[at] == values).all():
            return None
        found: IntArray = self.classes[at]
        return found


def _named_blocks(blocks: LabelBlocks, names: list[str], ignore_index: int | None) -> LabelBlocks:
    """``blocks`` whose labels, when every one (but ``--ignore-index``'s) is a class's name
    (:class:`_NumberNames`), read as the classes' indices, as :func:`_named_positions`
    reads labels whole; else ``blocks`` as they are (checked a :data:`SCAN` at a time)."""
    numbers = _NumberNames.of(names)
    if numbers is None:
        return blocks

    def renamed(read: FloatArray) -> FloatArray | None:
        column = read[:, 0]
        kept = np.ones(len(column), dtype=bool) if ignore_index is None else column != ignore_index
        indices = numbers.indices_of(column[kept])
        if indices is None:
            return None
        named = column.copy()
        named[kept] = indices
        return named.reshape(-1, 1)

    total = blocks.layout.size
    for start in range(0, total, SCAN):
        if renamed(blocks.read(start, min(total, start + SCAN))) is None:
            return blocks

    def every(read: FloatArray) -> FloatArray:
        found = renamed(read)
        assert found is not None
        return found

    return replace(blocks, renamed=every)


BOOLEANS = {"true": 1.0, "false": 0.0}  # binary labels as pandas and JSON write them


@dataclass
class _Table:
    """One input as read: its source, the columns that hold data, and what was decided."""

    source: Source
    columns: list[int]
    notes: list[str]

    @classmethod
    def of(cls, source: Source, *, less: tuple[int, ...] = ()) -> _Table:
        """All the columns of ``source`` but pandas' index and ``less`` (of a table, those
        that hold its predictions: DESIGN §9)."""
        columns, index = data_columns(source)
        notes = (
            [f"{source.name}: column 1 is pandas' index (row numbers), dropped"] if index else []
        )
        kept = [c for c in columns if c not in less]
        return cls(source, kept, notes)

    @property
    def n_rows(self) -> int:
        return self.source.n_rows

    @property
    def chosen(self) -> list[int] | None:
        """The columns to read, or ``None`` for all of them (the reader's fastest path)."""
        return None if len(self.columns) == self.source.n_columns else self.columns

    def numbers(self) -> FloatArray:
        """The predictions: the chosen columns as float64 (−∞ allowed)."""
        return self.source.numbers(self.chosen, allow_minus_inf=True)


def _header_by_count(table: _Table, n: int) -> _Table | None:
    """The file read again with its first line as a header, where that line is pandas' name
    for unnamed columns (``0``; ``0,1,…`` over several) and the file has one line more than
    the predictions have rows (DESIGN §2); ``None`` otherwise."""
    source = table.source
    if not isinstance(source, TextSource) or source.header is not None:
        return None
    if not pandas_names(source.first_row, floats=False) or table.n_rows != n + 1:
        return None
    reread = source.reread(header=True)
    note = f"{source.name}: first line {','.join(source.first_row)} is a header (pandas')"
    return _with_note(reread, note)


def _with_note(source: Source, note: str) -> _Table:
    table = _Table.of(source)
    table.notes.insert(0, note)
    return table


def load(
    predictions: str,
    labels: str | None,
    settings: Settings,
    stdin: BinaryIO | None = None,
    *,
    stream: bool = False,
    bounded: bool = False,
) -> Inputs:
    """Read both inputs and check that they line up row for row.

    Files as pandas writes them read right (DESIGN §2): its index column is dropped, and
    its headers (``0,1,…,K−1`` over predictions, ``0`` over a Series of labels) are told
    from data by the row counts. With ``stream``, a large ``.npy`` of predictions is left
    on disk for :func:`compute` to read in blocks (bounded memory). With ``bounded`` too
    (only a summary is wanted, no value a position), the class-index labels of such
    predictions with positions are left as they lie, for :func:`xent_cli.totals.totals`
    to read beside them.
    """
    whole = (
        settings.label_column is None
        and settings.id_column is None
        and settings.weight_column is None
        and not settings.drop
    )
    streamed = None
    if stream and predictions == "-" and stdin is not None and not distributed():
        # an array on standard input: copied to a file, streamed (not for --engine dask,
        # whose workers may not read this machine's temporary files)
        spooled, stdin = spooled_stdin(stdin)
        if spooled is not None:
            streamed = open_stream(spooled, settings.key, settings.delimiter)
            streamed = None if streamed is None else stdin_named(streamed, spooled)
    elif stream:
        streamed = open_shards(predictions, settings.key, settings.delimiter) or open_stream(
            predictions, settings.key, settings.delimiter
        )
        if streamed is not None and not whole and not _in_pieces(streamed):
            streamed = None  # columns set aside from arrays or shards: read whole
    if streamed is not None:
        streamed, layout = prepared(streamed, settings.class_axis, settings.shift)
        if layout is not None:
            return _load_positions(
                streamed, layout, labels, settings, stdin, streamed=True, bounded=bounded
            )
        return _load_streamed(streamed, labels, settings, stdin, whole)
    pred_source = read(predictions, stdin=stdin, key=settings.key, delimiter=settings.delimiter)
    pred_source, layout = prepared(pred_source, settings.class_axis, settings.shift)
    if layout is not None:
        return _load_positions(pred_source, layout, labels, settings, stdin, streamed=False)
    if settings.label_column is not None:
        if labels is not None:
            raise UsageError("give either LABELS or --label-column, not both")
        label_index = _column_index(settings.label_column, pred_source)
        less, ids = _set_aside(pred_source, settings, label_index)
        table = _Table.of(pred_source, less=less)
        if not table.columns:
            raise UsageError(f"{pred_source.name} has no prediction columns besides the labels")
        values = table.numbers()
        class_names = _class_names(pred_source, table.columns, settings.classes)
        label_set = _binary_by_name(labels_from(pred_source, [label_index], class_names), values)
        named = class_names if values.shape[1] > 1 else None  # one column: 0/1, not names
        weights = _weights(pred_source, settings, stdin, len(values), pred_source.name)
        return Inputs(
            values,
            label_set,
            pred_source,
            named,
            table.columns,
            notes=table.notes,
            ids=ids,
            weights=weights,
        )
    if labels is None:
        raise UsageError("missing LABELS: give a labels file (or - for stdin), or --label-column")
    less, ids = _set_aside(pred_source, settings)
    table = _Table.of(pred_source, less=less)
    if not table.columns:
        raise UsageError(f"{pred_source.name} has no prediction columns left")
    values = table.numbers()
    class_names = _class_names(table.source, table.columns, settings.classes)
    name = table.source.name
    if isinstance(table.source, TextSource) and table.source.integer_header:
        name += f" (its first line, {','.join(table.source.header or [])}, is pandas' header)"
    label_set, label_table = _lined_up_labels(
        labels, settings, stdin, class_names, pred_source, len(values), name
    )
    label_set = _binary_by_name(label_set, values)
    notes = table.notes + label_table.notes
    named = class_names if values.shape[1] > 1 else None  # one column: 0/1, not names
    weights = _weights(table.source, settings, stdin, len(values), table.source.name)
    return Inputs(
        values,
        label_set,
        table.source,
        named,
        table.chosen,
        notes=notes,
        ids=ids,
        weights=weights,
    )


def _load_positions(
    source: Source | Stream,
    layout: Layout,
    labels: str | None,
    settings: Settings,
    stdin: BinaryIO | None,
    *,
    streamed: bool,
    bounded: bool = False,
) -> Inputs:
    """:func:`load` for predictions with positions (DESIGN §8): a row per position, the
    labels flattened (and shifted under ``--shift``) to line up with them; with
    ``bounded``, class-index labels left in blocks (:func:`_open_label_blocks`)."""
    for option, given in (
        ("--label-column", settings.label_column),
        ("--id-column", settings.id_column),
        ("--drop", settings.drop),
        ("--weight-column", settings.weight_column),
        ("--sample-weights", settings.sample_weights),
    ):
        if given:
            raise UsageError(
                f"{option} is for rows of a table; {source.name} holds predictions with "
                "positions (rank ≥ 3), whose labels are an array of their own"
            )
    if labels is None:
        raise UsageError(
            f"missing LABELS: give the labels of {source.name}'s positions (or - for stdin)"
        )
    n_classes = source.n_columns
    label_source = None
    if bounded and streamed and _class_indices_only(settings, n_classes):
        found_blocks = _open_label_blocks(labels, layout, settings, stdin)
        if isinstance(found_blocks, LabelBlocks):
            pairs = shard_rows(source, found_blocks.source, layout)
            _check_shards(source, found_blocks.source, "labels", *pairs)
            found_blocks.check_numbers()  # before the predictions, as read whole they are
            names = _class_names(source, list(range(n_classes)), settings.classes)
            if names:
                found_blocks = _named_blocks(found_blocks, names, settings.ignore_index)
            first = found_blocks.read(0, min(layout.size, FIRST_LABELS))
            return Inputs(
                np.empty((0, n_classes)),
                Labels(matrix=first, where=found_blocks.where, dtype=found_blocks.dtype),
                source,
                names,
                stream=source,  # type: ignore[arg-type]
                layout=layout,
                label_blocks=found_blocks,
            )
        label_source = found_blocks
    if label_source is None:
        label_source = read(
            labels,
            stdin=stdin,
            key=settings.label_key,
            delimiter=settings.delimiter,
            class_names=[],
        )
    _check_shards(source, label_source, "labels", *shard_rows(source, label_source, layout))
    found = position_labels(label_source, layout, source.name)
    if streamed:
        predictions: FloatArray = np.empty((0, n_classes))
    else:
        predictions = source.numbers(allow_minus_inf=True)  # type: ignore[union-attr]
    names = _class_names(source, list(range(n_classes)), settings.classes)
    values = found.values
    if names and values.shape[1] == 1:
        values = _named_positions(values, names, settings.ignore_index)
    return Inputs(
        predictions,
        Labels(matrix=values, where=found.where, dtype=found.dtype),
        source,
        names if n_classes > 1 else None,
        stream=source if streamed else None,  # type: ignore[arg-type]
        layout=layout,
        unscored=found.unscored,
    )


FIRST_LABELS = 4096  # of labels read in blocks, the positions' read whole to decide the loss


def _class_indices_only(settings: Settings, n_classes: int) -> bool:
    """Whether the loss of ``n_classes`` prediction columns is decided as a sparse one from
    a class index a position, whatever the labels' values (their checks aside): what a
    total over labels read in blocks needs (:func:`xent_cli.totals.totals`)."""
    return (
        n_classes > 1
        and settings.loss is None
        and settings.targets is not Targets.soft
        and settings.task in (Task.auto, Task.multiclass)
    )


def _open_label_blocks(
    labels: str, layout: Layout, settings: Settings, stdin: BinaryIO | None
) -> LabelBlocks | Source:
    """The labels at ``labels`` in blocks: a ``.npy`` (or unpacked ``.npz`` member) left on
    disk, else an array read whole in the dtype it holds; other labels as read whole."""
    from .readers.arrays import open_on_disk

    sharded = _label_shards(labels, layout, settings)
    if sharded is not None:
        return sharded
    path = labels
    if labels == "-" and stdin is not None and not distributed():  # to a file, in blocks
        spooled, stdin = spooled_stdin(stdin)
        path = labels if spooled is None else spooled
    on_disk = None if path == "-" else open_on_disk(path, settings.label_key)
    if on_disk is not None:
        if path != labels:
            on_disk = stdin_named(on_disk, path)
        blocks = label_blocks(on_disk, layout)
        if blocks is not None:
            return blocks
    source = read(
        labels, stdin=stdin, key=settings.label_key, delimiter=settings.delimiter, class_names=[]
    )
    return label_blocks(source, layout) or source


def _label_shards(labels: str, layout: Layout, settings: Settings) -> LabelBlocks | None:
    """Label shards (a glob or a directory) of ``.npy`` files or ``.npz`` members stored
    unpacked, each the shape without the class axis for its rows, left on disk to be read
    in blocks; ``None`` for one file, or shards of anything else (read whole)."""
    from .readers.arrays import open_on_disk
    from .readers.shards import shard_paths

    paths = None if labels == "-" else shard_paths(labels)
    if not paths:
        return None
    parts = [open_on_disk(path, settings.label_key) for path in paths]
    if any(part is None or part.sequential for part in parts):
        return None
    streams = [part for part in parts if part is not None]
    if any(part.shape[1:] != layout.label_shape[1:] for part in streams):
        return None
    return label_blocks(LabelShards(labels, streams, layout.per_row), layout)


def _named_positions(values: FloatArray, names: list[str], ignore_index: int | None) -> FloatArray:
    """Labels a position that are the classes' names (``--classes 1,2,…``: numbers other
    than 0…K−1) as class indices; the ``--ignore-index`` ones kept as they are."""
    column = values[:, 0]
    kept = np.ones(len(column), dtype=bool) if ignore_index is None else column != ignore_index
    named = _by_name(column[kept], names)
    if named is None:
        return values
    indices = column.copy()
    indices[kept] = named
    return indices.reshape(-1, 1)


def _weights(
    source: Source, settings: Settings, stdin: BinaryIO | None, n: int, name: str
) -> FloatArray | None:
    """Each row's sample weight: from ``--weight-column`` of the predictions, or the file
    ``--sample-weights`` (one number ≥ 0 a row, as many rows as the predictions)."""
    if settings.weight_column is not None:
        if settings.sample_weights is not None:
            raise UsageError("give either --sample-weights or --weight-column, not both")
        index = _column_index(settings.weight_column, source, "--weight-column")
        weights = source.numbers([index], allow_minus_inf=False)[:, 0]
        _check_weights(weights, lambda row: source.where(row, index))
        return weights
    return _weights_file(settings, stdin, n, name)


def _weights_file(
    settings: Settings, stdin: BinaryIO | None, n: int, name: str
) -> FloatArray | None:
    if settings.sample_weights is None:
        return None
    given = read(settings.sample_weights, stdin=stdin, delimiter=settings.delimiter, class_names=[])
    refuse_positions(given, "--sample-weights gives one number a row (a 1-D array)")
    table = _Table.of(given)
    table = _header_by_count(table, n) or table
    source = table.source
    if len(table.columns) != 1:
        raise InputError(
            source.where(0), f"has {len(table.columns)} columns: give one weight a row"
        )
    weights = source.numbers(table.columns, allow_minus_inf=False)[:, 0]
    _check_counts(n, source, name, what="sample weights")
    _check_weights(weights, lambda row: source.where(row, 0))
    return weights


def _check_weights(weights: FloatArray, where: Callable[[int], str]) -> None:
    negative = weights < 0
    if negative.any():
        row = int(np.argmax(negative))
        raise InputError(where(row), f"sample weight {weights[row]:g} is negative; weights are ≥ 0")


def _set_aside(
    source: Source, settings: Settings, label_index: int | None = None, *, ids: bool = True
) -> tuple[tuple[int, ...], list[str] | None]:
    """The columns that are not predictions (``--drop``, ``--id-column``, the labels'), and
    each row's identifier from ``--id-column`` (unless not ``ids``)."""
    taken = [] if label_index is None else [(label_index, "--label-column")]
    taken += [(_column_index(spec, source, "--drop"), "--drop") for spec in settings.drop]
    if settings.weight_column is not None:
        index = _column_index(settings.weight_column, source, "--weight-column")
        taken.append((index, "--weight-column"))
    found = None
    if settings.id_column is not None:
        index = _column_index(settings.id_column, source, "--id-column")
        taken.append((index, "--id-column"))
        found = source.strings(index) if ids else None
    for k, (index, option) in enumerate(taken):
        other = next((o for i, o in taken[:k] if i == index and o != option), None)
        if other is not None:
            name = source.header[index] if source.header else str(index)
            raise UsageError(f"column {name!r} is given to both {other} and {option}")
    return tuple(index for index, _ in taken), found


def _in_pieces(stream: Stream) -> bool:
    """Whether ``stream`` is one file in pieces whose columns have places (text, tables)."""
    return isinstance(stream, ShardStream) and not stream.sharded


def _load_streamed(
    streamed: Stream, labels: str | None, settings: Settings, stdin: BinaryIO | None, whole: bool
) -> Inputs:
    """:func:`load` for predictions left on disk: the columns set aside (labels, ids,
    weights) read in one pass, the predictions a block at a time later."""
    side = None
    if not whole:
        assert isinstance(streamed, ShardStream)
        side, streamed = _side_columns(streamed, settings)
    names = _class_names(streamed, list(range(streamed.n_columns)), settings.classes)
    nothing = np.empty((0, streamed.n_columns))
    notes: list[str] = []
    if settings.label_column is not None:
        if labels is not None:
            raise UsageError("give either LABELS or --label-column, not both")
        assert side is not None
        label_index = _column_index(settings.label_column, side)
        label_set = labels_from(side, [label_index], names)
    else:
        if labels is None:
            raise UsageError(
                "missing LABELS: give a labels file (or - for stdin), or --label-column"
            )
        label_set, label_table = _lined_up_labels(
            labels, settings, stdin, names, streamed, streamed.n_rows, streamed.name
        )
        notes = label_table.notes
    ids = None
    if side is not None:
        _, ids = _set_aside(side, settings, None)
        weights = _weights(side, settings, stdin, streamed.n_rows, streamed.name)
    else:
        weights = _weights_file(settings, stdin, streamed.n_rows, streamed.name)
    return Inputs(
        nothing,
        _binary_by_name(label_set, nothing),
        streamed,
        names if streamed.n_columns > 1 else None,  # one column: 0/1, not names
        stream=streamed,
        notes=notes,
        ids=ids,
        weights=weights,
    )


def _side_columns(streamed: ShardStream, settings: Settings) -> tuple[SideColumns, ShardStream]:
    """The columns of a file in pieces that options set aside, and the stream of the rest."""
    first = streamed.parts[0]
    assert isinstance(first, WholeShard)
    head = first.load()  # its header names the columns
    label_index = None
    if settings.label_column is not None:
        label_index = _column_index(settings.label_column, head)
    wanted = [] if label_index is None else [label_index]
    for spec, option in (
        (settings.id_column, "--id-column"),
        (settings.weight_column, "--weight-column"),
    ):
        if spec is not None:
            wanted.append(_column_index(spec, head, option))
    parts = [part for part in streamed.parts if isinstance(part, WholeShard)]
    side = SideColumns(streamed.name, parts, head.header, head.n_columns, wanted)
    less, _ = _set_aside(head, settings, label_index, ids=False)
    kept = [c for c in first.columns if c not in less]
    if not kept:
        raise UsageError(f"{streamed.name} has no prediction columns left")
    header = None if head.header is None else [head.header[c] for c in kept]
    if isinstance(head, FrameSource) and head.vectors(kept):
        header = None  # a vector a row: its elements have no names (--classes names them)
    narrowed = ShardStream(
        streamed.name,
        [replace(part, columns=kept) for part in parts],
        len(kept),
        streamed.dtype,
        header,
        sharded=False,
    )
    return side, narrowed


def _lined_up_labels(
    labels: str,
    settings: Settings,
    stdin: BinaryIO | None,
    class_names: list[str] | None,
    predictions: Positions,
    n_rows: int,
    name: str,
) -> tuple[Labels, _Table]:
    """The labels file read against ``n_rows`` rows of ``predictions`` (called ``name``):
    pandas' header told by the row count, shards paired, the counts checked."""
    label_table = _labels_table(labels, settings, stdin, class_names or [])
    first_read = _try_labels(label_table, class_names)  # counts the rows fast
    relabelled = _header_by_count(label_table, n_rows)
    if relabelled is not None:
        label_table = relabelled
        first_read = labels_from(label_table.source, label_table.chosen, class_names)
    if isinstance(first_read, InputError):
        raise first_read
    _check_shards(predictions, label_table.source)
    _check_counts(n_rows, label_table.source, name)
    return first_read, label_table


def _try_labels(table: _Table, class_names: list[str] | None) -> Labels | InputError:
    """The labels, or why they could not be read as they stand (their first line may yet be
    a header: pandas' ``0`` over ``True``/``False``)."""
    try:
        return labels_from(table.source, table.chosen, class_names)
    except InputError as error:
        return error


def _labels_table(
    labels: str, settings: Settings, stdin: BinaryIO | None, class_names: list[str]
) -> _Table:
    """The labels file, read (its class names among ``class_names``) as a table."""
    source = read(
        labels,
        stdin=stdin,
        key=settings.label_key,
        delimiter=settings.delimiter,
        class_names=class_names,
    )
    refuse_positions(
        source,
        "labels of 2-D predictions are 1-D or 2-D (rank ≥ 3 goes with predictions of "
        "rank ≥ 3, DESIGN §8)",
    )
    if isinstance(source, FrameSource) and settings.label_key is None:
        choices = source.choices()
        if len(choices) > 1 and source.vectors(source.matrix_columns):
            raise UsageError(
                f"{source.name} has several columns that may hold the labels "
                f"({', '.join(choices)}); choose one with --label-key"
            )
    return _Table.of(source)


def _class_names(
    source: Positions, columns: list[int], classes: tuple[str, ...] | None = None
) -> list[str] | None:
    """The names of the prediction columns' classes: the header's when there are K ≥ 2, or
    ``--classes`` (K names for K ≥ 2 columns; two, negative then positive, for one)."""
    header = source.header
    if isinstance(source, FrameSource) and source.vectors(columns):
        header = None  # a vector a row: its elements have no names
    if classes is not None:
        if header is not None:
            raise UsageError(
                f"{source.name} has a header naming its columns; --classes is for "
                "predictions without one"
            )
        wanted = 2 if len(columns) == 1 else len(columns)
        if len(classes) != wanted:
            what = "a negative and a positive class" if len(columns) == 1 else f"{wanted}"
            raise UsageError(
                f"--classes names {len(classes)} classes, but {source.name} has "
                f"{len(columns)} prediction column(s): give {what}"
            )
        return list(classes)
    if header is None or len(columns) < 2:
        return None
    names = [header[c] for c in columns]
    counts = collections.Counter(names)
    twice = next((name for name in names if counts[name] > 1), None)
    if twice is not None:
        raise InputError(
            source.name, f"the header names the class {twice!r} twice; class names are distinct"
        )
    return names


def _binary_by_name(labels: Labels, values: FloatArray) -> Labels:
    """One prediction column with labels named by ``--classes neg,pos``: targets 0 and 1."""
    if values.shape[1] != 1 or labels.indices is None:
        return labels
    matrix = labels.indices.astype(np.float64).reshape(-1, 1)
    return replace(labels, indices=None, matrix=matrix, named=False)


def _check_shards(
    predictions: Positions,
    labels: Positions | LabelShards,
    what: str = "labels",
    shards: list[tuple[str, int]] | None = None,
    label_shards: list[tuple[str, int]] | None = None,
) -> None:
    """Label shards pair with prediction shards in order (DESIGN §9): row counts (their
    ``shard_rows``, unless given) are checked shard by shard; a mismatch names both files."""
    shards = shards or getattr(predictions, "shard_rows", None)
    label_shards = label_shards or getattr(labels, "shard_rows", None)
    if shards is None or label_shards is None:
        return
    if len(shards) != len(label_shards):
        raise InputError(
            labels.name,
            f"{len(label_shards)} shards of {what}, but {predictions.name} has {len(shards)} "
            "shards of predictions",
        )
    for (shard, n), (label_shard, m) in zip(shards, label_shards, strict=True):
        if n != m:
            raise InputError(
                label_shard,
                f"{_rows(m)} of {what}, but its prediction shard {shard} has {_rows(n)}",
            )


def _check_counts(
    n: int, label_source: Source, predictions_name: str, what: str = "labels"
) -> None:
    m = label_source.n_rows
    if m < n:
        raise InputError(
            label_source.where_end(),
            f"{what} end after {_rows(m)}, but {predictions_name} has {_rows(n)} of predictions",
        )
    if m > n:
        raise InputError(
            label_source.where(n, None),
            f"{_rows(m)} of {what}, but {predictions_name} has {_rows(n)} of predictions",
        )


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")

"""Sequences, images and vocabularies (DESIGN §8): predictions of rank ≥ 3 as one row per
*position*, and labels lined up with them.

Logits of shape (N, d1, …, C) are read as N·d1·… rows of C classes (rows, then positions in
C order); ``--class-axis 1`` reads PyTorch's (N, C, d1, …). Hard labels have the shape
without the class axis, soft ones the predictions' shape; both are flattened to one label a
position. ``--shift`` scores the causal-LM way (Hugging Face's ``ForCausalLMLoss``): the
scores at position t against the label at t + 1 along the first position axis. Its labels
are shifted one step and the last position of each row is *unscored* (left out of every
mean, count and accuracy, as padding is). Nothing here reads a file or computes a loss.
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .errors import InputError, UsageError
from .parallel import distributed
from .readers import (
    ArraySource,
    NpyStream,
    PackedNpyStream,
    Shards,
    arrays,
    check_values,
    data_columns,
    position_where,
)
from .sums import row_sums

if TYPE_CHECKING:
    import numpy.typing as npt

    from .readers import Positions, Source, Where

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]
    BoolArray = npt.NDArray[np.bool_]

RULES = (
    "predictions of rank ≥ 3 have the classes on the last axis (or --class-axis 1: "
    "PyTorch's N×C×d1…), hard labels the shape without the class axis, soft labels the "
    "predictions' shape (DESIGN §8)"
)


def dims(shape: tuple[int, ...] | list[int]) -> str:
    """A shape as messages write it.

    >>> dims((16, 256, 32000))
    '16×256×32000'
    """
    return "×".join(str(n) for n in shape)


@dataclass(frozen=True)
class Layout:
    """How the positions of predictions of rank ≥ 3 line up with rows and labels.

    >>> layout = Layout(rows=2, positions=(3,), classes=5, shift=True)
    >>> layout.row_of(np.arange(6)).tolist(), layout.position_of(np.arange(6)).tolist()
    ([0, 0, 0, 1, 1, 1], [1, 2, 3, 1, 2, 3])
    >>> layout.unscored().tolist()
    [False, False, True, False, False, True]
    """

    rows: int  # N: sequences, images
    positions: tuple[int, ...]  # the position axes' lengths
    classes: int
    shift: bool = False
    shape: tuple[int, ...] = ()  # the predictions' shape as stored (the class axis in place)
    class_axis: int = -1  # where the classes lie in ``shape``

    @property
    def per_row(self) -> int:
        return math.prod(self.positions)

    @property
    def size(self) -> int:
        """Every position of every row: the flat positions' count."""
        return self.rows * self.per_row

    @property
    def label_shape(self) -> tuple[int, ...]:
        """The shape of hard labels: the predictions' without the class axis."""
        return (self.rows, *self.positions)

    @property
    def step(self) -> int:
        """Positions (flat, C order) between a position and the next along the first axis."""
        return math.prod(self.positions[1:])

    def row_of(self, index: IntArray) -> IntArray:
        """The row of each flat position index."""
        return np.asarray(index, dtype=np.int64) // self.per_row

    def position_of(self, index: IntArray) -> IntArray:
        """The position within its row of the label each flat index scores (DESIGN §8: under
        ``--shift`` the label one step on)."""
        within = np.asarray(index, dtype=np.int64) % self.per_row
        return within + self.step if self.shift else within

    def row_sums(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Per row, the sum of a value a position (flat, rows then positions); of floats
        the canonical sum (:func:`~xent_cli.sums.row_sums`), as rows in blocks sum it.

        >>> Layout(rows=2, positions=(3,), classes=4).row_sums(np.arange(6.0)).tolist()
        [3.0, 12.0]
        """
        values = np.asarray(values)
        if values.dtype.kind == "f":
            return row_sums(values, self.per_row)
        summed: npt.NDArray[Any] = values.reshape(self.rows, self.per_row).sum(axis=1)
        return summed

    def unscored(self) -> BoolArray | None:
        """The positions no label is left to score (``--shift``: each row's last along the
        first position axis), flat; ``None`` without a shift."""
        if not self.shift:
            return None
        mask = np.zeros(self.label_shape, dtype=np.bool_)
        mask[:, -1] = True
        return mask.reshape(-1)

    def scored_in(self, start: int, stop: int) -> BoolArray | None:
        """Of the flat positions ``start:stop``, those a label is left to score (``None``
        without a shift: all of them).

        >>> Layout(rows=2, positions=(3,), classes=5, shift=True).scored_in(1, 5).tolist()
        [True, False, True, True]
        """
        if not self.shift:
            return None
        within = np.arange(start, stop, dtype=np.int64) % self.per_row
        scored: BoolArray = within < self.per_row - self.step
        return scored


def positions_of(source: Positions) -> tuple[int, ...]:
    """The position axes of an input read a row per position (none for rank ≤ 2)."""
    return tuple(getattr(source, "positions", ()) or ())


def prepared(source: Any, class_axis: int | None, shift: bool) -> tuple[Any, Layout | None]:
    """Predictions with their class axis where ``--class-axis`` says, and their layout
    (``None`` for rank ≤ 2, where ``--shift`` has nothing to shift)."""
    positions = positions_of(source)
    shape = _stored_shape(source, positions)
    rank = len(shape) if positions else 2
    if class_axis is not None and not (1 <= class_axis < rank or -rank < class_axis <= -1):
        raise UsageError(
            f"--class-axis {class_axis} is not an axis of {source.name} (rank {rank}); "
            f"the classes lie on an axis after the first (rows): 1 … {rank - 1}, or counted "
            f"from the end, -1 … -{rank - 1}"
        )
    if not positions:
        if shift:
            raise UsageError(
                "--shift scores each position against the next position's label: it needs "
                f"predictions with positions, such as logits of shape N×T×V; {RULES}"
            )
        return source, None
    axis = rank - 1 if class_axis is None else class_axis % rank
    if axis != rank - 1:
        source = _moved(source, shape, axis)
        positions = positions_of(source)
    rows = source.n_rows // math.prod(positions)
    return source, Layout(rows, positions, source.n_columns, shift, shape, axis)


def _stored_shape(source: Any, positions: tuple[int, ...]) -> tuple[int, ...]:
    """The predictions' shape as stored (a stream reads the last axis as the classes)."""
    if isinstance(source, ArraySource):
        return source.shape
    if not positions:
        return (source.n_rows, source.n_columns)
    return (source.n_rows // math.prod(positions), *positions, source.n_columns)


def _moved(source: Any, shape: tuple[int, ...], axis: int) -> Any:
    """``source`` read with ``axis`` as its classes."""
    if isinstance(source, ArraySource):
        return replace(source, class_axis=axis)
    if isinstance(source, NpyStream):
        return AxisStream(source, shape, axis)
    raise UsageError(
        f"--class-axis {axis} is not read for shards yet; save them with the classes last "
        "(np.moveaxis(a, 1, -1)) and leave --class-axis out"
    )


@dataclass
class AxisStream:
    """A large array whose classes lie on an axis other than the last (PyTorch's N×C×d1…),
    seen as a row per position: the interface of :class:`~.readers.NpyStream`.

    A block is a slice of one row (N) along its first position axis, moved to classes-last
    and widened to float64 a block at a time. With the classes on axis 1 it is read a class
    run at a time into a buffer of the block's size (a memory map would fault whole
    stretches of the file in around each class); with them on a later axis the slice lies
    in one piece. A compressed ``.npz`` member is unpacked once, to a file of the tool's
    own, to be read so.
    """

    stored: NpyStream  # the file as it lies: N rows of everything else
    shape: tuple[int, ...]
    axis: int
    header: list[str] | None = None
    sequential: ClassVar[bool] = False  # read by position (a packed one unpacked first)

    def __post_init__(self) -> None:
        stored = self.stored
        if isinstance(stored, PackedNpyStream):  # compressed: unpacked once, to the disk
            stored = stored.unpacked()
        self.stored = replace(
            stored,
            n_rows=self.shape[0],
            n_columns=math.prod(self.shape[1:]),
            positions=(),
        )

    @property
    def name(self) -> str:
        return self.stored.name

    @property
    def positions(self) -> tuple[int, ...]:
        return tuple(n for k, n in enumerate(self.shape) if k not in (0, self.axis))

    @property
    def per_row(self) -> int:
        return math.prod(self.positions)

    @property
    def n_rows(self) -> int:
        return self.shape[0] * self.per_row

    @property
    def n_columns(self) -> int:
        return self.shape[self.axis]

    @property
    def dtype(self) -> np.dtype[np.generic]:
        return self.stored.dtype

    @property
    def _first_position(self) -> int:
        """The axis a block slices: the first that is not the rows' or the classes'."""
        return 2 if self.axis == 1 else 1

    @property
    def _inner(self) -> int:
        """Positions per step along the first position axis."""
        return self.per_row // self.shape[self._first_position]

    def blocks(self) -> list[tuple[int, int]]:
        """Slices of each row along its first position axis, about the stored stream's
        block size once widened."""
        steps = self.shape[self._first_position]
        step = arrays.rows_a_block(self.n_columns, self._inner)
        return [
            (
                row * self.per_row + i * self._inner,
                row * self.per_row + min(steps, i + step) * self._inner,
            )
            for row in range(self.shape[0])
            for i in range(0, steps, step)
        ]

    def read(self, start: int, stop: int) -> FloatArray:
        parts = []
        for row in range(start // self.per_row, -(-stop // self.per_row)):
            first = max(start - row * self.per_row, 0)
            last = min(stop - row * self.per_row, self.per_row)
            parts.append(self._slice(row, first, last))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _slice(self, row: int, first: int, last: int) -> FloatArray:
        """Positions ``first:last`` of ``row``. With the classes on axis 1, each class's
        values for a stretch of the first position axis lie together in the file: the
        block is read a class run at a time, into a buffer of the block's size. With them
        on a later axis, a stretch of axis 1 lies in one piece, classes within."""
        inner = self._inner
        low, high = first // inner, -(-last // inner)
        stored, classes = self.stored, self.n_columns
        width = (high - low) * inner  # positions in the block
        itemsize = stored.storage.itemsize
        row_start = stored.offset + row * classes * self.per_row * itemsize
        descriptor = os.open(stored.path, os.O_RDONLY)
        try:
            if self.axis == 1:
                raw = np.empty((classes, width), dtype=stored.storage)
                buffer = raw.view(np.uint8).reshape(classes, -1)
                per_class = self.per_row * itemsize
                start = row_start + low * inner * itemsize
                _read_runs(descriptor, buffer, start, per_class, stored, row)
                moved = np.ascontiguousarray(raw.T)
            else:
                piece = np.empty((high - low, *self.shape[2:]), dtype=stored.storage)
                start = row_start + low * inner * classes * itemsize
                _read_exactly(descriptor, piece.view(np.uint8).reshape(-1).data, start, stored, row)
                classes_last = np.moveaxis(piece, self.axis - 1, -1)
                moved = np.ascontiguousarray(classes_last).reshape(width, classes)
        finally:
            os.close(descriptor)
        cells = replace(stored, n_columns=classes)
        values = cells._widened(moved.view(np.uint8).reshape(-1).data, 0, width)
        return values[first - low * inner : last - low * inner]

    def where(self, row: int, column: int | None = None) -> str:
        return position_where(self.name, self.positions, row, column)

    def where_end(self) -> str:
        return self.stored.where_end()


IOVECS = 1024  # buffers one preadv fills (Linux's IOV_MAX)
OVERREAD = 16  # a gap between class runs up to this many runs long is read, not skipped


def _read_runs(
    descriptor: int,
    runs: npt.NDArray[np.uint8],
    start: int,
    stride: int,
    stored: NpyStream,
    row: int,
) -> None:
    """Fill each row of ``runs`` with the bytes at ``start + c · stride`` (class c's run of
    a block). Runs close together are read many at a time by one ``preadv`` with the gaps
    between them read into a scratch buffer (a read a class costs a system call each:
    32,000 a block of a vocabulary); runs far apart, or a short read, one at a time."""
    classes, run = runs.shape
    gap = stride - run
    if classes == 1 or gap > OVERREAD * run:
        for c in range(classes):
            _read_exactly(descriptor, runs[c].data, start + c * stride, stored, row)
        return
    scratch = memoryview(bytearray(gap))
    per_call = IOVECS // 2
    for first in range(0, classes, per_call):
        last = min(classes, first + per_call)
        buffers: list[memoryview] = []
        for c in range(first, last):
            buffers.append(runs[c].data)
            if gap and c < last - 1:
                buffers.append(scratch)
        wanted = (last - first) * run + (last - first - 1) * gap
        if os.preadv(descriptor, buffers, start + first * stride) < wanted:
            for c in range(first, last):  # cut short (a file that shrank): each on its own
                _read_exactly(descriptor, runs[c].data, start + c * stride, stored, row)


def _read_exactly(
    descriptor: int, buffer: memoryview, offset: int, stored: NpyStream, row: int
) -> None:
    """Fill ``buffer`` from ``offset`` of the file (the GIL released while it reads)."""
    done = 0
    while done < len(buffer):
        got = os.preadv(descriptor, [buffer[done:]], offset + done)
        if got == 0:  # the file shrank after its size was checked
            raise InputError(stored.where(row), "the file ends before its header says")
        done += got


SCAN = 1 << 20  # labels looked at a time when all of them are checked


@dataclass
class LabelBlocks:
    """Hard labels, a class index a position, read a block of positions at a time beside
    the predictions' blocks and never whole (DESIGN §8: memory bounded by the work): from
    a file left on disk, or an array held in the dtype it was stored in."""

    values: Callable[[int, int], np.ndarray]  # the labels first:last, flat, as stored
    columns: int  # labels a row of the labels' own matrix (their places in errors)
    source: Positions | LabelShards  # as read: its ``where`` names a label's own place
    layout: Layout
    where: Where  # the place of the label a flat position is scored against
    dtype: np.dtype[np.generic]
    # labels that name classes (--classes 1,2,…) as their indices, once all are known to
    renamed: Callable[[FloatArray], FloatArray] | None = None

    def check_numbers(self) -> None:
        """Every label a number (no NaN, no ±∞), checked first to last as a whole-label read
        checks them, :data:`SCAN` at a time (an integer dtype holds nothing else)."""
        if self.dtype.kind != "f":
            return
        total = self.layout.size
        for start in range(0, total, SCAN):
            self.read(start, min(total, start + SCAN))

    def read(self, start: int, stop: int) -> FloatArray:
        """The labels that positions ``start:stop`` are scored against, a (stop − start) × 1
        float64 column checked to hold numbers; under ``--shift``, each the label one step
        on (an unscored position keeps its own, as :func:`position_labels` does)."""
        layout = self.layout
        step = layout.step if layout.shift else 0
        last = min(stop + step, layout.size)
        read = np.asarray(self.values(start, last), dtype=np.float64).reshape(-1, 1)

        def where(index: int, column: int | None = None) -> str:
            row, within = divmod(start + index, self.columns)
            return self.source.where(row, within if self.columns > 1 else 0)

        check_values(read, where, allow_minus_inf=False)
        scored = layout.scored_in(start, stop)
        if scored is not None:
            index = np.arange(stop - start)
            read = read[np.where(scored, index + step, index)]
        return read if self.renamed is None else self.renamed(read)


@dataclass
class LabelShards:
    """Hard label shards (a glob or a directory), each a ``.npy`` or ``.npz`` member left
    on disk, read a range of flat positions at a time across them; errors name each
    shard's own file, row and position."""

    name: str  # the glob or directory, as given
    parts: list[NpyStream]
    per_row: int  # positions a row (sequence, image)

    def __post_init__(self) -> None:
        rows = np.cumsum([0, *(part.shape[0] for part in self.parts)])
        self._row_starts = rows[:-1].tolist()
        self._flat_starts = (rows * self.per_row).tolist()

    @property
    def shape(self) -> tuple[int, ...]:
        return (sum(part.shape[0] for part in self.parts), *self.parts[0].shape[1:])

    @property
    def dtype(self) -> np.dtype[np.generic]:
        return np.dtype(np.result_type(*(part.dtype for part in self.parts)))

    @property
    def shard_rows(self) -> list[tuple[str, int]]:
        """Each shard's file and rows (its first axis), for pairing with prediction shards."""
        return [(part.name, part.shape[0]) for part in self.parts]

    def part_at(self, row: int) -> tuple[int, int]:
        """The shard that holds ``row`` (of the first axis), and the row within it."""
        index = bisect.bisect_right(self._row_starts, row) - 1
        return index, row - self._row_starts[index]

    def values(self, first: int, last: int) -> np.ndarray:
        """The labels of flat positions ``first:last``, as stored, across the shards."""
        pieces = []
        for part, start, stop in zip(
            self.parts, self._flat_starts[:-1], self._flat_starts[1:], strict=True
        ):
            if start < last and first < stop:
                pieces.append(part.values(max(first, start) - start, min(last, stop) - start))
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)

    def where(self, row: int, column: int | None = None) -> str:
        """A label's place in its own shard: its row of the shard's matrix, its column."""
        columns = self.parts[0].n_columns
        flat = row * columns + (column or 0)
        index = int(np.searchsorted(self._flat_starts, flat, side="right")) - 1
        local = flat - self._flat_starts[index]
        return self.parts[index].where(local // columns, local % columns)


def label_blocks(source: Source | NpyStream | LabelShards, layout: Layout) -> LabelBlocks | None:
    """``source`` as labels read in blocks beside predictions laid out as ``layout``: of
    hard labels in numbers (one a position, the shape without the class axis or flat);
    ``None`` for any other labels, which :func:`position_labels` reads whole."""
    if isinstance(source, LabelShards):
        shape, values = source.shape, source.values
    elif isinstance(source, NpyStream):
        if source.shape not in (layout.label_shape, (layout.size,)):
            return None
        if isinstance(source, PackedNpyStream):  # compressed: unpacked once, to the disk,
            if distributed():  # which workers on other machines may not read: whole
                return None
            source = source.unpacked()
        shape, values = source.shape, source.values
    elif isinstance(source, ArraySource) and source.array.dtype.kind in "biuf":
        flat = source.array.reshape(-1)
        shape = source.shape

        def values(first: int, last: int) -> np.ndarray:
            return flat[first:last]

    else:
        return None
    if shape not in (layout.label_shape, (layout.size,)):
        return None
    columns = 1 if len(shape) == 1 else shape[-1]
    place = _label_places(source, layout, None, False, hard=True)  # type: ignore[arg-type]
    return LabelBlocks(values, columns, source, layout, place, source.dtype)


@dataclass
class PositionLabels:
    """Labels lined up with the positions: ``values`` (one per position, or a distribution
    a position), where a flat position's label lies, and the positions left unscored."""

    values: FloatArray  # (N·P, 1) class indices as read, or (N·P, C) distributions
    where: Where
    dtype: np.dtype[np.generic]
    unscored: BoolArray | None


def position_labels(source: Source, layout: Layout, predictions: str) -> PositionLabels:
    """The labels of ``source`` for predictions laid out as ``layout`` (named
    ``predictions`` in errors): hard labels of the shape without the class axis (or one
    a position in a single column), soft ones of the predictions' shape; shifted one step
    under ``--shift``. A table's pandas index column is left out (DESIGN §2)."""
    columns = None if isinstance(source, (ArraySource, Shards)) else data_columns(source)[0]
    shape = _label_shape(source, columns)
    flat = shape == (layout.size,)
    if shape == layout.label_shape or flat:
        values = source.numbers(columns, allow_minus_inf=False).reshape(layout.label_shape)
        values = _shifted(values, layout).reshape(-1, 1)
    elif shape == layout.shape:
        if isinstance(source, ArraySource):
            source = replace(source, class_axis=layout.class_axis)
        classes = source.numbers(columns, allow_minus_inf=False)
        values = classes.reshape(*layout.label_shape, layout.classes)
        values = _shifted(values, layout).reshape(-1, layout.classes)
    else:
        raise InputError(
            source.name,
            f"labels of shape {dims(shape)} do not fit {predictions} of shape "
            f"{dims(layout.shape)}: give {dims(layout.label_shape)} class indices or "
            f"{dims(layout.shape)} distributions; {RULES}",
        )
    place = _label_places(source, layout, columns, flat, hard=values.shape[1] == 1)
    return PositionLabels(values, place, source.dtype, layout.unscored())


def _label_places(
    source: Source, layout: Layout, columns: list[int] | None, flat: bool, *, hard: bool
) -> Where:
    """Where the label each flat position is scored against lies, as messages say it: a
    table's line and column; an array's own row and position (a shard's, of shards)."""
    per_row = layout.per_row

    def where(index: int, column: int | None = None) -> str:
        row, within = divmod(index, per_row)
        if layout.shift:
            within = min(within + layout.step, per_row - 1)
        if columns is not None:  # a table: a row of labels a line, or one label a line
            if flat:
                return source.where(row * per_row + within, columns[0])
            return source.where(row, columns[within])
        name, local = _shard_of(source, row, 1 if hard or not layout.positions else per_row)
        return position_where(
            name, layout.positions, local * per_row + within, None if hard else column
        )

    return where


def _shard_of(source: Source, row: int, unit: int) -> tuple[str, int]:
    """The file that holds ``row`` of labels (a shard's, of shards) and the row within it;
    ``unit``: the source's rows a row of labels spans (a row per position: its positions)."""
    if isinstance(source, (Shards, LabelShards)):
        index, local = source.part_at(row * unit)
        return os.fspath(source.parts[index].name), local // unit
    return os.fspath(source.name), row


def shard_rows(
    predictions: Positions, labels: Positions | LabelShards, layout: Layout
) -> tuple[list[tuple[str, int]] | None, list[tuple[str, int]] | None]:
    """Each prediction shard's and each label shard's file and count of rows (sequences,
    images), for pairing them shard by shard; ``None`` for an input that is one file."""
    shards = getattr(predictions, "shard_rows", None)
    ours = None if shards is None else [(name, n // layout.per_row) for name, n in shards]
    parts = getattr(labels, "parts", None) if getattr(labels, "shard_rows", None) else None
    theirs = None if parts is None else [(part.name, _rows_of(part, layout)) for part in parts]
    return ours, theirs


def _rows_of(labels: Source, layout: Layout) -> int:
    """The rows (sequences, images) a label shard holds: its first axis, or of one label a
    line, its lines over the positions a row."""
    shape = labels.shape if isinstance(labels, NpyStream) else _label_shape(labels)
    return shape[0] // layout.per_row if len(shape) == 1 else shape[0]


def _label_shape(source: Source, columns: list[int] | None = None) -> tuple[int, ...]:
    """The shape labels were given in: an array's own (of shards: rows summed); a table's
    rows × its ``columns`` (one column: the rows)."""
    if isinstance(source, ArraySource):
        return source.shape
    if isinstance(source, Shards) and isinstance(source.parts[0], ArraySource):
        shapes = [_label_shape(part) for part in source.parts]
        return (sum(shape[0] for shape in shapes), *shapes[0][1:])
    width = source.n_columns if columns is None else len(columns)
    return (source.n_rows,) if width == 1 else (source.n_rows, width)


def _shifted(values: npt.NDArray[Any], layout: Layout) -> npt.NDArray[Any]:
    """Labels one step on along the first position axis (``--shift``): the label of position
    t is the label given at t + 1; the last position keeps its own (it is unscored, and a
    copy of a real label leaves detection's evidence as it was)."""
    if not layout.shift:
        return values
    return np.concatenate([values[:, 1:], values[:, -1:]], axis=1)


def refuse_positions(source: Positions, reads: str) -> None:
    """An input of rank ≥ 3 where rows of classes are read: say what is (``reads``)."""
    positions = positions_of(source)
    if positions:
        shape = _stored_shape(source, positions)
        raise InputError(source.name, f"is {len(shape)}-D (shape {dims(shape)}): {reads}")

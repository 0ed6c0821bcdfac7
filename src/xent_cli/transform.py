"""The engine behind ``xent softmax`` and ``xent sigmoid``: scores in, a row-wise map, rows out
a block at a time.

Both maps are row-local, so a block of rows gives the same bits as the whole array (the
tests check it byte for byte). A large ``.npy`` (or ``.npz`` member) is read a block of rows
at a time (:class:`~xent_cli.readers.arrays.NpyStream`), each block checked as it is read;
other inputs are read whole, checked, and cut into blocks. So memory is a few blocks, not
the matrix, whatever the size, and output that stops (a closed pipe) stops the work.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from . import losses
from .errors import UsageError
from .options import DELIMITER_AUTO
from .readers import check_not_all_masked, check_values, data_columns, read

if TYPE_CHECKING:
    import numpy.typing as npt

    from .parallel import Progress
    from .readers import Positions, Source, Stream

    ArrayLike = npt.ArrayLike
    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]

BLOCK_CELLS = 1 << 18  # values a block (2 MiB of float64): it stays in cache (benchmarks/)
_local = threading.local()  # each thread's reused output buffer


SCORES_RANK = (
    "softmax and sigmoid read rows of scores (a 1-D or 2-D array); xent compute reads "
    "predictions with positions (DESIGN §8)"
)


def read_scores(
    path: str, stdin: BinaryIO | None, key: str | None, delimiter: str = DELIMITER_AUTO
) -> tuple[FloatArray, Source, list[str] | None]:
    """Scores as an (N, K) float64 array (−∞ allowed: a masked class), their source, and
    their header: the columns that hold data (pandas' index dropped, DESIGN §2; a table's
    list column or numeric columns, §9)."""
    source = read(path, stdin=stdin, key=key, delimiter=delimiter)
    _refuse_positions(source)
    columns, _ = data_columns(source)
    if columns == list(range(source.n_columns)):
        return source.numbers(allow_minus_inf=True), source, source.header
    from .readers import FrameSource

    header = None if source.header is None else [source.header[c] for c in columns]
    if isinstance(source, FrameSource) and source.vectors(columns):
        header = None  # a vector a row: its elements have no names
    return source.numbers(columns, allow_minus_inf=True), source, header


def _refuse_positions(scores: Positions) -> None:
    """Scores of rank ≥ 3 (read a row per position) are refused: :data:`SCORES_RANK`. Only
    such an input loads :mod:`~xent_cli.sequences`, which says what it is."""
    if getattr(scores, "positions", ()):
        from .sequences import refuse_positions

        refuse_positions(scores, SCORES_RANK)


def check_temperature(temperature: float, option: str) -> None:
    """T of a softmax of z/T is a positive number; else a usage error naming ``option``."""
    if not (temperature > 0 and math.isfinite(temperature)):
        raise UsageError(f"{option} must be a positive number, not {temperature}")


def scaled_softmax(
    values: ArrayLike, *, temperature: float = 1.0, log: bool = False, option: str = "--temperature"
) -> FloatArray:
    """Row-wise softmax (or log-softmax) of z/T; T must be a positive number.

    >>> scaled_softmax([[0.0, 2.0]], temperature=2.0, log=True).round(6).tolist()
    [[-1.313262, -0.313262]]
    """
    check_temperature(temperature, option)
    z = np.asarray(values, dtype=np.float64)
    if temperature != 1.0:  # shift first: z/T of a tiny T overflows, (z − max z)/T does not
        top = np.max(z, axis=-1, keepdims=True)
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = np.where(z == top, 0.0, (z - top) / temperature)
    else:
        scaled = z
    return losses.log_softmax(scaled) if log else losses.softmax(scaled)


def softmax_into(scores: FloatArray, out: FloatArray) -> FloatArray:
    """:func:`xent_cli.losses.softmax` of the rows of ``scores``, written into ``out``: the
    same bits, with one ``exp`` and no temporaries of the block's size.

    pₖ = e^(zₖ − m) / (1 + Σ_{j≠argmax} e^(zⱼ − m)), m = max z (the maximum's own term is
    exactly 1, so it is left out of the sum and added as 1, as ``losses.softmax`` does).

    >>> z = np.array([[0.5, 1.5, 0.1], [0.0, -np.inf, 1.0]])
    >>> softmax_into(z, np.empty_like(z)).tobytes() == losses.softmax(z).tobytes()
    True
    """
    rows = np.arange(scores.shape[0])
    top = np.argmax(scores, axis=1)
    with np.errstate(over="ignore"):  # z − max z of ±1e308 is −∞, and e^(−∞) = 0: right
        np.subtract(scores, scores[rows, top][:, np.newaxis], out=out)
    np.exp(out, out=out)
    out[rows, top] = 0.0
    rest = out.sum(axis=1)
    out[rows, top] = 1.0
    rest += 1.0
    np.divide(out, rest[:, np.newaxis], out=out)
    return out


def _buffer(shape: tuple[int, int]) -> FloatArray:
    """This thread's reused output buffer, of ``shape`` (no fresh pages for every block)."""
    size = shape[0] * shape[1]
    buffer: FloatArray | None = getattr(_local, "buffer", None)
    if buffer is None or buffer.size < size:
        buffer = np.empty(size, dtype=np.float64)
        _local.buffer = buffer
    return buffer[:size].reshape(shape)


@dataclass
class Scores:
    """Scores to map, read a block of rows at a time: a large input streamed from its
    file (each block checked as it is read), or an array read whole (checked when read).

    ``masked_rows``: whether a row of nothing but −∞ is allowed (σ(−∞) = 0; a softmax of
    such a row has nothing to normalise, and is an error naming the row).
    """

    name: str
    n_rows: int
    n_columns: int
    header: list[str] | None
    masked_rows: bool
    values: FloatArray | None = None  # read whole
    stream: Stream | None = None  # read in blocks

    @property
    def streamed(self) -> bool:
        return self.stream is not None

    @property
    def sequential(self) -> bool:
        """Whether blocks must be read in order, on one thread (a compressed member)."""
        return self.stream is not None and self.stream.sequential

    def read(self, start: int, stop: int) -> FloatArray:
        """Rows ``start:stop`` as float64, checked. A streamed block may lie in a buffer
        its thread reuses: use it before this thread reads the next one."""
        if self.values is not None:
            return self.values[start:stop]
        stream = self.stream
        assert stream is not None
        block = stream.read(start, stop)
        check_values(block, stream.where, allow_minus_inf=True, row_offset=start)
        if not self.masked_rows:
            check_not_all_masked(block, stream.where, row_offset=start)
        return block

    def pieces(self, cells: int) -> list[tuple[int, int]]:
        """Row ranges of about ``cells`` values each; of a stream that is read in its own
        blocks (shards, pieces of a text file: a range must not span two), those blocks."""
        if self.stream is not None and _own_blocks(self.stream):
            return self.stream.blocks()
        step = max(1, cells // max(1, self.n_columns))
        return [(start, min(self.n_rows, start + step)) for start in range(0, self.n_rows, step)]

    def check(self, progress: Progress | None = None) -> None:
        """Read and check every row of a streamed file once, before any output: an error
        leaves nothing partial on standard output (DESIGN §5), as ``compute``'s first pass."""
        from .parallel import run_blocks

        if self.stream is None:
            return

        def checked(start: int, stop: int) -> None:
            self.read(start, stop)

        run_blocks(checked, self.stream.blocks(), progress, parallel=not self.sequential)


def _own_blocks(stream: Stream) -> bool:
    """Whether ``stream`` is read in blocks of its own (shards, pieces of a text file), not
    in any range of rows as a ``.npy`` is."""
    from .readers import NpyStream

    return not isinstance(stream, NpyStream)


def open_scores(
    path: str,
    stdin: BinaryIO | None,
    *,
    key: str | None = None,
    delimiter: str = DELIMITER_AUTO,
    masked_rows: bool = False,
) -> Scores:
    """The scores of ``path`` (``-``: stdin): streamed when the readers stream it (shards,
    a glob or a directory, a shard at a time; a large ``.npy`` or ``.npz`` member, and what
    else :func:`~xent_cli.readers.open_stream` reads in blocks), else read whole and
    checked."""
    from .readers import open_shards, open_stream

    if path != "-":
        stream = open_shards(path, key, delimiter) or open_stream(path, key, delimiter)
        if stream is not None:
            _refuse_positions(stream)
            return Scores(
                stream.name,
                stream.n_rows,
                stream.n_columns,
                stream.header,
                masked_rows,
                stream=stream,
            )
    values, source, header = read_scores(path, stdin, key, delimiter)
    if not masked_rows:
        check_not_all_masked(values, source.where)
    return Scores(source.name, values.shape[0], values.shape[1], header, masked_rows, values=values)


@dataclass
class Mapping:
    """A row-wise map of scores: ``softmax`` (of z/T, or its log) or ``sigmoid``."""

    kind: str = "softmax"  # or "sigmoid"
    temperature: float = 1.0
    log: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("softmax", "sigmoid"):
            raise ValueError(f"no row-wise map {self.kind!r}")
        check_temperature(self.temperature, "--temperature")

    @property
    def winners(self) -> bool:
        """Whether the argmax of each row means something (softmax: the winning class)."""
        return self.kind == "softmax"

    def __call__(self, scores: FloatArray, reuse: bool = False) -> FloatArray:
        """The map of a block of rows; with ``reuse``, maybe in this thread's reused buffer."""
        if self.kind == "sigmoid":
            return losses.sigmoid(scores)
        if self.temperature == 1.0 and not self.log:
            out = _buffer(scores.shape) if reuse else np.empty(scores.shape)
            return softmax_into(scores, out)
        return scaled_softmax(scores, temperature=self.temperature, log=self.log)


@dataclass
class Block:
    """Rows ``start:stop`` of a mapped matrix, and the argmax of each (where it means
    something)."""

    start: int
    stop: int
    values: FloatArray | None  # None: only the winners were asked for
    winners: IntArray | None


@dataclass
class Transformed:
    """The N×K result of ``mapping`` over ``scores``, made a block of rows at a time."""

    scores: Scores
    mapping: Mapping

    @property
    def n_rows(self) -> int:
        return self.scores.n_rows

    @property
    def n_columns(self) -> int:
        return self.scores.n_columns

    @property
    def header(self) -> list[str] | None:
        return self.scores.header

    @property
    def names(self) -> list[str]:
        """The columns' names: the input's header, or 0…K−1 (pandas' names for unnamed
        columns, which xent reads back as a header)."""
        if self.header is not None:
            return self.header
        return [str(k) for k in range(self.n_columns)]

    def block(
        self,
        start: int,
        stop: int,
        *,
        reuse: bool = False,
        values: bool = True,
        winners: bool = False,
    ) -> Block:
        """Rows ``start:stop``: their ``values`` (with ``reuse``, maybe in a buffer this
        thread reuses for its next block) and, where they mean something, their
        ``winners``."""
        scores = self.scores.read(start, stop)
        found: IntArray | None = None
        if winners and self.mapping.winners:
            found = np.argmax(scores, axis=1).astype(np.int64)
        return Block(start, stop, self.mapping(scores, reuse) if values else None, found)

    def pieces(self, cells: int | None = None) -> list[tuple[int, int]]:
        """Row ranges of about ``cells`` values each (:data:`BLOCK_CELLS`)."""
        return self.scores.pieces(BLOCK_CELLS if cells is None else cells)

    def blocks(
        self,
        cells: int | None = None,
        progress: Progress | None = None,
        *,
        values: bool = True,
        winners: bool = False,
    ) -> Iterator[Block]:
        """Every block in row order (its ``values``, its ``winners``), made on the worker
        pool a few blocks ahead of the reader; stopping early (a closed pipe) stops the
        work."""
        from .blocks import in_order

        def made(start: int, stop: int) -> Block:
            return self.block(start, stop, values=values, winners=winners)

        for block in in_order(made, self.pieces(cells), parallel=not self.scores.sequential):
            if progress is not None:
                progress(block.stop - block.start)
            yield block

    def rows(self, wanted: list[int]) -> tuple[FloatArray, IntArray | None]:
        """The rows numbered ``wanted`` (ascending), for a view that shows a few: read as
        the runs of consecutive rows they form (or, from a stream read in its own blocks,
        the blocks that hold them)."""
        stream = self.scores.stream
        ranges: list[tuple[int, int]] = []
        if stream is None or not _own_blocks(stream):
            for row in wanted:
                if ranges and ranges[-1][1] == row:
                    ranges[-1] = (ranges[-1][0], row + 1)
                else:
                    ranges.append((row, row + 1))
        else:
            ranges = [(a, b) for a, b in stream.blocks() if any(a <= r < b for r in wanted)]
        values: list[FloatArray] = []
        winners: list[IntArray] = []
        for start, stop in ranges:
            block = self.block(start, stop, winners=True)
            picked = [row - start for row in wanted if start <= row < stop]
            assert block.values is not None
            values.append(block.values[picked])
            if block.winners is not None:
                winners.append(block.winners[picked])
        return np.concatenate(values), (np.concatenate(winners) if winners else None)

"""Large text, NDJSON and table files in pieces of rows (DESIGN §9: bounded memory in every
format): a piece is read, parsed and computed, then dropped.

Text and NDJSON are cut at line ends into pieces of about :data:`~.arrays.BLOCK_BYTES`; one
pass counts each piece's rows (its non-blank lines), so that the rows of every piece are
known before any is parsed. Parquet and Arrow IPC are read in slices of rows (polars reads
only the row groups a slice needs). Errors name the file's own line or row.

Files the pieces could misread are left to the whole-file readers: text with a quote (a
quoted field may hold a line break) or a lone CR (a line break that is not ``\\n``).
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from functools import partial
from typing import IO, TYPE_CHECKING, Any

from . import arrays
from .base import from_root
from .compressed import blocks, broken
from .shards import ShardStream, WholeShard
from .tables import FrameSource, parse_table
from .text import TextSource, binary_data, decode, nonblank_lines, parse_text

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .base import Source

Piece = tuple[int, int, int, int]  # first byte, end byte, first line (1-based), rows


def rows_in(piece: bytes) -> tuple[int, int]:
    """The non-blank lines of ``piece`` (the rows a reader finds in it), and its line ends.

    >>> rows_in(b"1,2\\n\\n  \\n3,4\\r\\n5,6"), rows_in(b"1\\n2\\n"), rows_in(b"")
    ((3, 4), (2, 2), (0, 0))
    """
    starts, _, _, breaks = nonblank_lines(piece)
    return int(starts.size), breaks


class FileBytes:
    """The bytes of a plain file, read anywhere."""

    sequential = False

    def __init__(self, path: str) -> None:
        self.path = path

    def reader(self, offset: int) -> IO[bytes]:
        handle = open(self.path, "rb")  # closed by its caller
        handle.seek(offset)
        return handle

    def read(self, start: int, end: int) -> bytes:
        with self.reader(start) as handle:
            return handle.read(end - start)


class PackedBytes:
    """The unpacked bytes of a compressed file, read forward: a read before the current
    place unpacks again from the start, so pieces are read in order (``sequential``)."""

    sequential = True

    def __init__(self, path: str, kind: str, name: str | None = None) -> None:
        self.path, self.kind = path, kind
        self.name = path if name is None else name  # as errors say it
        self._lock = threading.Lock()
        self._open: _Unpacked | None = None

    def __getstate__(self) -> dict[str, object]:
        """Pickled without its open file and lock (a worker of ``--engine dask`` unpacks
        the file itself)."""
        return {"path": self.path, "kind": self.kind, "name": self.name}

    def __setstate__(self, state: dict[str, str]) -> None:
        self.__init__(state["path"], state["kind"], state["name"])  # type: ignore[misc]

    def reader(self, offset: int) -> _Unpacked:
        unpacked = _Unpacked(self.path, self.kind, self.name)
        unpacked.skip(offset)
        return unpacked

    def read(self, start: int, end: int) -> bytes:
        with self._lock:
            if self._open is None or self._open.position > start:
                if self._open is not None:
                    self._open.close()
                self._open = _Unpacked(self.path, self.kind, self.name)
            self._open.skip(start - self._open.position)
            return self._open.read(end - start)


class _Unpacked:
    """A compressed file unpacked as a forward-only file: ``read``, ``skip``, ``close``."""

    def __init__(self, path: str, kind: str, name: str) -> None:
        self._name = name
        self._raw = open(path, "rb")  # closed by close()
        self._blocks = blocks(kind, self._raw)
        self._kind = kind
        self._buffer = b""
        self.position = 0

    def read(self, count: int) -> bytes:
        parts, wanted = [], count
        while wanted > 0:
            if not self._buffer:
                try:
                    block = next(self._blocks, None)
                except Exception as exc:  # EOFError, zstandard's ZstdError, OSError, …
                    raise broken(self._name, self._kind, exc) from None
                if block is None:  # the end
                    break
                self._buffer = block
                continue
            taken, self._buffer = self._buffer[:wanted], self._buffer[wanted:]
            parts.append(taken)
            wanted -= len(taken)
        data = b"".join(parts)
        self.position += len(data)
        return data

    def skip(self, count: int) -> None:
        while count > 0:
            got = len(self.read(min(count, 1 << 22)))
            if not got:
                return
            count -= got

    def close(self) -> None:
        self._raw.close()

    def __del__(self) -> None:  # a pass that ended early leaves the last one open
        raw = getattr(self, "_raw", None)  # not there when open() failed
        if raw is not None:
            raw.close()

    def __enter__(self) -> _Unpacked:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


Bytes = FileBytes | PackedBytes


def line_pieces(
    data: Bytes, offset: int, line: int, size: int, *, quotes: bool = False
) -> list[Piece] | None:
    """``data`` from byte ``offset`` (line ``line``) cut at line ends into pieces of about
    ``size`` bytes, each with its rows; ``None`` when a lone CR is in the text, or a quote
    unless ``quotes`` (JSON: a string holds no raw line break).

    A plain file is cut by looking near each boundary only, and its pieces are counted on
    both cores; an unpacked stream is read once, in order.
    """
    bounds = _cuts(data, offset, size) if isinstance(data, FileBytes) else None
    if bounds is None:
        return _counted_in_order(data, offset, line, size, quotes)
    from xent_cli import parallel

    counts = parallel.run_blocks(lambda start, end: _count(data.read(start, end), quotes), bounds)
    if any(count is None for count in counts):
        return None
    pieces: list[Piece] = []
    for (start, end), count in zip(bounds, counts, strict=True):
        assert count is not None
        rows, ends = count
        pieces.append((start, end, line, rows))
        line += ends
    return [p for p in pieces if p[3]]


def _cuts(data: FileBytes, offset: int, size: int) -> list[tuple[int, int]]:
    """Byte ranges of about ``size`` from ``offset`` to the end of a file, each ending just
    after a line break (or at the end): a few KiB read near each boundary."""
    total = os.path.getsize(data.path)
    bounds, start = [], offset
    with open(data.path, "rb") as handle:
        while start < total:
            end = min(total, start + size)
            while end < total:  # on to the next line end
                handle.seek(end - 1)
                window = handle.read(1 << 16)
                found = window.find(b"\n")
                if found >= 0:
                    end += found
                    break
                end += len(window)
            end = min(total, end)
            bounds.append((start, end))
            start = end
    return bounds


def _count(piece: bytes, quotes: bool) -> tuple[int, int] | None:
    """A piece's rows and line ends; ``None`` for a lone CR, or a quote unless ``quotes``."""
    lone_cr = b"\r" in piece and b"\r" in piece.replace(b"\r\n", b"")
    if (b'"' in piece and not quotes) or lone_cr:
        return None
    return rows_in(piece)


def _counted_in_order(
    data: Bytes, offset: int, line: int, size: int, quotes: bool
) -> list[Piece] | None:
    """:func:`line_pieces` reading ``data`` once, in order (an unpacked stream)."""
    pieces: list[Piece] = []
    with data.reader(offset) as handle:
        carry = b""
        while True:
            block = handle.read(size)
            joined = carry + block
            if not joined:
                break
            cut = joined.rfind(b"\n") + 1 if block else len(joined)
            if cut == 0:  # one line longer than a piece: read on to its end
                carry = joined
                continue
            piece, carry = joined[:cut], joined[cut:]
            count = _count(piece, quotes)
            if count is None:
                return None
            rows, ends = count
            pieces.append((offset, offset + cut, line, rows))
            offset += cut
            line += ends
    return [p for p in pieces if p[3]]


def _piece_bytes(name: str, data: Bytes, piece: Piece) -> bytes:
    """A piece's bytes, checked as text (NUL bytes, UTF-8) with the file's own lines."""
    start, end, line, _ = piece
    raw = data.read(start, end)
    if b"\x00" in raw:
        raise binary_data(name, raw, first_line=line)
    decode(name, raw, first_line=line)  # UTF-8 throughout, or an error at the bad byte
    return raw


def _text_piece(name: str, data: Bytes, head: TextSource, piece: Piece) -> Source:
    """A piece of a large text, its rows held to the file's header (or first row) width
    and named by its header, its lines numbered as in the file."""
    raw = _piece_bytes(name, data, piece)
    source = parse_text(name, raw, header=False, delimiter=head.delimiter or ",")
    return replace(source, header=head.header, n_columns=head.n_columns, line_offset=piece[2] - 1)


def _json_piece(
    name: str, data: Bytes, key: str | None, piece: Piece, like: FrameSource | None = None
) -> FrameSource:
    raw = _piece_bytes(name, data, piece)
    return parse_table(name, raw, "ndjson", key, first_line=piece[2], like=like)


def _slice(
    name: str,
    path: str,
    kind: str,
    key: str | None,
    start: int,
    rows: int,
    like: FrameSource | None = None,
) -> FrameSource:
    scan = _scan(path, kind)
    return FrameSource.of(name, scan.slice(start, rows).collect(), key, row_offset=start, like=like)


def _scan(path: str, kind: str) -> Any:
    """A lazy Parquet or Arrow IPC file, read only where a slice of it is collected."""
    import polars as pl

    return pl.scan_parquet(path) if kind == "parquet" else pl.scan_ipc(path)


def text_stream(name: str, head: TextSource, data: Bytes) -> ShardStream | None:
    """A large CSV/TSV (plain, or unpacked as it is read) in pieces; ``None`` when it must
    be read whole."""
    from . import data_columns

    if head.delimiter is None:
        return None  # runs of blanks: the whole-file reader
    offset = _line_start(data, head.first_line)
    pieces = line_pieces(data, offset, head.first_line, arrays.BLOCK_BYTES)
    if not pieces:
        return None
    columns, _ = data_columns(head)
    parts = [
        WholeShard(name, p[3], partial(_text_piece, name, data, head, p), columns, data.sequential)
        for p in pieces
    ]
    header = None if head.header is None else [head.header[c] for c in columns]
    return ShardStream(name, parts, len(columns), head.dtype, header, sharded=False)


def json_stream(name: str, key: str | None, data: Bytes) -> ShardStream | None:
    """A large NDJSON file in pieces of lines, each read like the first (the same columns
    by name), or ``None`` (a lone CR sends it to the whole-file reader)."""
    pieces = line_pieces(data, 0, 1, arrays.BLOCK_BYTES, quotes=True)
    if not pieces:
        return None
    first = _json_piece(name, data, key, pieces[0])
    loaders = [partial(_json_piece, name, data, key, piece, first) for piece in pieces]
    return _stream(name, first, loaders, [piece[3] for piece in pieces], data.sequential)


def table_stream(path: str, kind: str, key: str | None) -> ShardStream | None:
    """A large Parquet or Arrow IPC file in slices of rows, each read like the first."""
    import polars as pl

    located = from_root(path)  # read where a Dask worker's directory is not
    total = int(_scan(located, kind).select(pl.len()).collect().item())
    if total == 0:
        return None
    first = _slice(path, located, kind, key, 0, 1)
    step = max(1, arrays.BLOCK_BYTES // (8 * max(1, len(first.matrix_columns))))
    starts = range(0, total, step)
    loaders = [
        partial(_slice, path, located, kind, key, a, min(step, total - a), first) for a in starts
    ]
    return _stream(path, first, loaders, [min(step, total - a) for a in starts], False)


def _stream(
    name: str,
    first: FrameSource,
    loaders: Sequence[Callable[[], Source]],
    rows: list[int],
    sequential: bool,
) -> ShardStream:
    columns = first.matrix_columns
    parts = [
        WholeShard(name, n, load, columns, sequential)
        for load, n in zip(loaders, rows, strict=True)
    ]
    header = None if first.header is None else [first.header[c] for c in columns]
    if first.vectors(columns):
        header = None  # a vector a row: its elements have no names (--classes names them)
    return ShardStream(name, parts, len(columns), first.dtype, header, sharded=False)


def _line_start(data: Bytes, line: int) -> int:
    """The byte offset where 1-based ``line`` starts."""
    offset, seen = 0, 1
    with data.reader(0) as handle:
        while seen < line:
            block = handle.read(1 << 16)
            if not block:
                break
            found = -1
            while seen < line:
                found = block.find(b"\n", found + 1)
                if found < 0:
                    break
                seen += 1
            if seen == line:
                return offset + found + 1
            offset += len(block)
    return offset

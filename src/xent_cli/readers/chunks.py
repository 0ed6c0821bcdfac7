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
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from xent_cli.errors import InputError

from . import arrays
from .shards import ShardStream, WholeShard
from .tables import FrameSource, parse_table
from .text import TextSource, binary_data, parse_text

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .base import Source

BLANK = np.zeros(256, dtype=np.uint8)
BLANK[[9, 10, 11, 12, 13, 32]] = 1  # the bytes str.strip() takes away (in ASCII)
Piece = tuple[int, int, int, int]  # first byte, end byte, first line (1-based), rows


def rows_in(piece: bytes) -> int:
    """The non-blank lines of ``piece``: the rows a reader finds in it.

    >>> rows_in(b"1,2\\n\\n  \\n3,4\\r\\n5,6"), rows_in(b"1\\n2\\n"), rows_in(b"")
    (3, 2, 0)
    """
    codes = np.frombuffer(piece, dtype=np.uint8)
    starts = np.concatenate(([0], np.flatnonzero(codes == 10) + 1))
    starts = starts[starts < codes.size]
    if starts.size == 0:
        return 0
    if not BLANK[codes[starts]].any():  # every line starts with a character that is not blank
        return int(starts.size)
    filled = 1 - BLANK[codes]  # 1 where a byte is not blank
    return int(np.count_nonzero(np.maximum.reduceat(filled, starts)))


def line_pieces(
    path: str, offset: int, line: int, size: int, *, quotes: bool = False
) -> list[Piece] | None:
    """``path`` from byte ``offset`` (line ``line``) cut at line ends into pieces of about
    ``size`` bytes, each with its rows; ``None`` when a lone CR is in the text, or a quote
    unless ``quotes`` (JSON: a string holds no raw line break)."""
    pieces: list[Piece] = []
    with open(path, "rb") as handle:
        handle.seek(offset)
        carry = b""
        while True:
            block = handle.read(size)
            data = carry + block
            if not data:
                break
            cut = data.rfind(b"\n") + 1 if block else len(data)
            if cut == 0:  # one line longer than a piece: read on to its end
                carry = data
                continue
            piece, carry = data[:cut], data[cut:]
            lone_cr = b"\r" in piece and b"\r" in piece.replace(b"\r\n", b"")
            if (b'"' in piece and not quotes) or lone_cr:
                return None
            pieces.append((offset, offset + cut, line, rows_in(piece)))
            offset += cut
            line += piece.count(b"\n")
    return [p for p in pieces if p[3]]


def _piece_bytes(name: str, path: str, piece: Piece) -> bytes:
    """A piece's bytes, checked as text (NUL bytes, UTF-8) with the file's own lines."""
    start, end, line, _ = piece
    with open(path, "rb") as handle:
        handle.seek(start)
        raw = handle.read(end - start)
    if b"\x00" in raw:
        raise binary_data(name, raw, first_line=line)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        at = line + raw.count(b"\n", 0, exc.start)
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise InputError(
            f"{name}:{at}:{column}",
            f"byte 0x{byte} is not UTF-8 text; save the file as UTF-8 (or as .npy)",
        ) from None
    return raw


def _text_piece(name: str, path: str, head: TextSource, piece: Piece) -> Source:
    raw = _piece_bytes(name, path, piece)
    source = parse_text(name, raw, header=False, delimiter=head.delimiter or ",")
    return replace(source, line_offset=piece[2] - 1)


def _json_piece(name: str, path: str, key: str | None, piece: Piece) -> Source:
    source = parse_table(name, _piece_bytes(name, path, piece), "ndjson", key)
    assert source.lines is not None
    return replace(source, lines=[n + piece[2] - 1 for n in source.lines])


def _slice(name: str, path: str, kind: str, key: str | None, start: int, rows: int) -> Source:
    import polars as pl

    scan = pl.scan_parquet(path) if kind == "parquet" else pl.scan_ipc(path)
    source = FrameSource.of(name, scan.slice(start, rows).collect(), key)
    return replace(source, row_offset=start)


def text_stream(path: str, head: TextSource) -> ShardStream | None:
    """A large CSV/TSV in pieces, or ``None`` when it must be read whole."""
    from . import data_columns

    if head.delimiter is None:
        return None  # runs of blanks: the whole-file reader
    offset = _line_start(path, head.first_line)
    pieces = line_pieces(path, offset, head.first_line, arrays.BLOCK_BYTES)
    if not pieces:
        return None
    columns, _ = data_columns(head)
    parts = [
        WholeShard(path, piece[3], partial(_text_piece, path, path, head, piece), columns)
        for piece in pieces
    ]
    header = None if head.header is None else [head.header[c] for c in columns]
    return ShardStream(path, parts, len(columns), head.dtype, header, sharded=False)


def json_stream(path: str, key: str | None) -> ShardStream | None:
    """A large NDJSON file in pieces of lines, or ``None`` (a quote is normal in JSON, so
    only a lone CR sends it to the whole-file reader)."""
    pieces = line_pieces(path, 0, 1, arrays.BLOCK_BYTES, quotes=True)
    if not pieces:
        return None
    loaders = [partial(_json_piece, path, path, key, piece) for piece in pieces]
    return _stream(path, loaders, [piece[3] for piece in pieces])


def table_stream(path: str, kind: str, key: str | None) -> ShardStream | None:
    """A large Parquet or Arrow IPC file in slices of rows."""
    import polars as pl

    scan = pl.scan_parquet(path) if kind == "parquet" else pl.scan_ipc(path)
    total = int(scan.select(pl.len()).collect().item())
    if total == 0:
        return None
    first = _slice(path, path, kind, key, 0, 1)
    assert isinstance(first, FrameSource)
    step = max(1, arrays.BLOCK_BYTES // (8 * max(1, len(first.matrix_columns))))
    starts = range(0, total, step)
    loaders = [partial(_slice, path, path, kind, key, a, min(step, total - a)) for a in starts]
    return _stream(path, loaders, [min(step, total - a) for a in starts])


def _stream(path: str, loaders: Sequence[Callable[[], Source]], rows: list[int]) -> ShardStream:
    first = loaders[0]()
    assert isinstance(first, FrameSource)
    columns = first.matrix_columns
    parts = [WholeShard(path, n, load, columns) for load, n in zip(loaders, rows, strict=True)]
    header = None if first.header is None else [first.header[c] for c in columns]
    return ShardStream(path, parts, len(columns), first.dtype, header, sharded=False)


def _line_start(path: str, line: int) -> int:
    """The byte offset where 1-based ``line`` starts."""
    if line <= 1:
        return 0
    with open(path, "rb") as handle:
        seen, offset = 1, 0
        while seen < line:
            block = handle.read(1 << 16)
            if not block:
                return os.path.getsize(path)
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

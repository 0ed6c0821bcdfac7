"""Bytes → arrays: one module per family of formats, and :func:`read` choosing among them.

- :mod:`.text`: CSV, TSV and whitespace tables (positions as ``FILE:LINE:COLUMN``);
- :mod:`.arrays`: ``.npy`` and ``.npz`` (``FILE: row R, column C``), large ``.npy`` streamed;
- :mod:`.base`: the :class:`Source` protocol every reader gives, and the value checks;
- :mod:`.formats`: which format a file is, from its first bytes and its name.

A new format is a new module here that gives a :class:`Source`, and a line in :func:`parse`.
Nothing here unpickles: ``.npy``/``.npz`` are read with ``allow_pickle=False``.

A reader's module is loaded when first needed (start-up, DESIGN §6): the names this package
gives from one (``readers.TextSource``, ``from .readers import NpyStream``) load it when
asked for, a file's format is told by :mod:`.formats` before any reader loads (``softmax``
of a small CSV loads no reader but :mod:`.text`), and a single file is never looked at as
shards.
"""

from __future__ import annotations

import importlib
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import numpy as np

from xent_cli.errors import InputError, MissingInputError
from xent_cli.options import DELIMITER_AUTO

from .base import (
    Positions,
    Source,
    Where,
    array_where,
    check_not_all_masked,
    check_values,
    from_root,
    pandas_index,
    position_where,
    scratch_file,
)
from .compressed import MAGIC as COMPRESSED
from .compressed import compression, decompress, inner_name
from .formats import (
    ARROW_MAGIC,
    NPY_MAGIC,
    PARQUET_MAGIC,
    ZIP_MAGIC,
    looks_like_ndjson,
    looks_like_safetensors,
    table_kind,
)

if TYPE_CHECKING:
    from .arrays import ArraySource, NpyStream, PackedNpyStream, open_npy
    from .shards import Shards, ShardStream, SideColumns, WholeShard
    from .tables import FrameSource
    from .text import TextSource, pandas_names, parse_number, parse_text

    Stream = NpyStream | ShardStream  # rows read a block at a time

__all__ = [
    "ArraySource",
    "FrameSource",
    "NpyStream",
    "PackedNpyStream",
    "Positions",
    "ShardStream",
    "Shards",
    "SideColumns",
    "Source",
    "Stream",
    "TextSource",
    "Where",
    "WholeShard",
    "array_where",
    "check_not_all_masked",
    "check_values",
    "data_columns",
    "open_npy",
    "open_shards",
    "open_stream",
    "pandas_index",
    "pandas_names",
    "parse",
    "parse_number",
    "parse_text",
    "position_where",
    "read",
    "read_bytes",
    "spooled_stdin",
    "stdin_named",
]

MODULES = ("arrays", "safetensors", "shards", "tables", "text")  # readers.text loads it
HOMES = {  # the names given from a reader's module, loaded when one is asked for
    "ArraySource": "arrays",
    "NpyStream": "arrays",
    "PackedNpyStream": "arrays",
    "open_npy": "arrays",
    "FrameSource": "tables",
    "ShardStream": "shards",
    "Shards": "shards",
    "SideColumns": "shards",
    "WholeShard": "shards",
    "TextSource": "text",
    "pandas_names": "text",
    "parse_number": "text",
    "parse_text": "text",
}


def __getattr__(name: str) -> Any:
    """A reader's module (:data:`MODULES`), a name it gives (:data:`HOMES`) or ``Stream``,
    the module loaded now; kept here after."""
    if name in MODULES:
        found: Any = importlib.import_module(f"{__name__}.{name}")
    elif name in HOMES:
        found = getattr(importlib.import_module(f"{__name__}.{HOMES[name]}"), name)
    elif name == "Stream":
        from .arrays import NpyStream
        from .shards import ShardStream

        found = NpyStream | ShardStream
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = found
    return found


STDIN = "-"
STDIN_NAME = "<stdin>"
EMPTY_ZIP = b"PK\x05\x06"  # a zip's end record alone: an archive with no members
PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")
HEAD_BYTES = 1 << 20  # of a larger file only this much is read before parsing
FOREIGN = (  # formats xent does not read, told by their first bytes
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file, which xent does not read: save the array with np.save"),
)


def read_bytes(path: str, stdin: BinaryIO | None) -> tuple[str, bytes]:
    """The display name and bytes of ``path`` (``-`` is stdin)."""
    if path == STDIN:
        if stdin is None:  # <&-
            raise MissingInputError(f"{STDIN_NAME}: standard input is closed")
        try:
            return STDIN_NAME, _read_all(stdin, STDIN_NAME)
        except OSError as exc:  # 0>file: open for writing only
            raise MissingInputError(f"{STDIN_NAME}: cannot read ({exc.strerror or exc})") from None
    try:
        with open(path, "rb") as handle:
            return path, _read_all(handle, path)
    except FileNotFoundError:
        raise MissingInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise MissingInputError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise MissingInputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise MissingInputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _read_all(handle: BinaryIO, name: str) -> bytes:
    """All of ``handle``, unless its first block shows binary data that no format xent reads
    holds (NUL bytes in what is not .npy, .npz or a pickle): then an error at once, so that
    /dev/zero or a device never fills memory (DESIGN §5)."""
    first = handle.read(1 << 16)
    if b"\x00" in first and not _binary_format(first, name):
        from .text import binary_data

        raise binary_data(name, first)
    return first + handle.read()


def _binary_format(head: bytes, name: str) -> bool:
    """Whether ``head`` starts a binary format xent reads (or one it names: :data:`FOREIGN`),
    or ``name`` says one."""
    others = (m for m, _ in (*COMPRESSED, *FOREIGN))
    magic = (NPY_MAGIC, ZIP_MAGIC, EMPTY_ZIP, *PICKLE_MAGIC, PARQUET_MAGIC, ARROW_MAGIC, *others)
    return head.startswith(magic) or looks_like_safetensors(head) or _binary_by_name(name)


def parse(
    name: str,
    data: bytes,
    *,
    key: str | None = None,
    class_names: Sequence[str] | None = None,
    path: str | None = None,
    size: int = -1,
    delimiter: str = DELIMITER_AUTO,
) -> Source:
    """Parse bytes by their content: ``.npy``, ``.npz``, Parquet, Arrow and compressed
    streams by magic number, tables by suffix (or a first ``{``: NDJSON), else text.

    With ``size`` larger than ``len(data)`` (a large file at ``path``), ``data`` is only
    its start: enough for text, and other formats are read from ``path``. Only the reader
    of the format found is loaded.
    """
    partial = size > len(data) and path is not None
    whole: bytes | str = path if partial and path is not None else data
    packed = compression(data[:8])
    if packed is not None and _binary(data[:4096]):
        inner = decompress(name, whole, packed)
        kind = table_kind(inner_name(name), inner[:8])
        if kind is not None or looks_like_ndjson(inner[:4096]):
            from .tables import parse_table

            return parse_table(name, inner, kind or "ndjson", key)
        return parse(name, inner, key=key, class_names=class_names, delimiter=delimiter)
    if data.startswith(ZIP_MAGIC):  # from its path, the archive's one member is read
        from .arrays import parse_npz

        return parse_npz(name, whole, key)
    if Path(name).suffix.lower() == ".safetensors" or looks_like_safetensors(data):
        from .safetensors import parse_safetensors

        return parse_safetensors(name, whole, key)  # from its path, the one tensor is read
    kind = table_kind(name, data[:8])
    if data.startswith((PARQUET_MAGIC, ARROW_MAGIC)) and not _binary(data[:4096]):
        kind = table_kind(name, b"")  # text that starts so (a header "PAR1,…"), unless named
    if kind is not None or (looks_like_ndjson(data[:4096]) and not data.startswith(NPY_MAGIC)):
        from .tables import parse_table

        return parse_table(name, whole, kind or "ndjson", key)
    if partial and path is not None and data.startswith(NPY_MAGIC):
        data, size = Path(path).read_bytes(), -1
    suffix = Path(name).suffix.lower()
    if data.startswith(NPY_MAGIC):
        from .arrays import parse_npy

        return parse_npy(name, data)
    if suffix == ".npy":
        raise InputError(name, "is not a .npy file (it does not start with the NumPy magic bytes)")
    if suffix == ".npz":
        if data.startswith(EMPTY_ZIP):
            raise InputError(name, "is an empty .npz (a zip archive holding no arrays)")
        raise InputError(name, "is not a .npz file (it is not a zip archive)")
    if data.startswith(PICKLE_MAGIC):
        if suffix in (".pt", ".pth"):
            from .arrays import TORCH_FILE

            raise InputError(name, TORCH_FILE)
        raise InputError(
            name, "looks like a Python pickle; xent never unpickles (save with np.save)"
        )
    for magic, what in FOREIGN:
        if data.startswith(magic) and _binary(data[:4096]):
            raise InputError(name, f"is {what}")
    from .text import parse_text

    return parse_text(
        name, data, class_names=class_names, path=path, size=size, delimiter=delimiter
    )


def _binary_by_name(name: str) -> bool:
    """Whether ``name``'s suffix says a binary format (an Arrow stream has no magic number).

    >>> _binary_by_name("run.arrows"), _binary_by_name("w.safetensors"), _binary_by_name("p.csv")
    (True, True, False)
    """
    kind = table_kind(name, b"")
    return kind in ("parquet", "arrow", "arrow stream") or name.lower().endswith(".safetensors")


def _binary(head: bytes) -> bool:
    """Whether the start of a file is not text: a NUL byte, or bytes that are not UTF-8.

    >>> _binary(b"PAR1,x\\n1,2\\n"), _binary(b"PAR1\\xa0\\x15\\x04\\x15\\x02abc")
    (False, True)
    """
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start < len(head) - 3  # not a character cut at the end of the block
    return False


def read(
    path: str,
    *,
    stdin: BinaryIO | None = None,
    key: str | None = None,
    class_names: Sequence[str] | None = None,
    delimiter: str = DELIMITER_AUTO,
) -> Source:
    """Read and parse one input (``-`` is stdin; a glob or a directory is its shards, joined
    in natural order); text with ``delimiter`` (or sniffed)."""
    paths = _shard_paths(path)
    if paths is not None:
        from .shards import Shards

        parts = [
            read(part, key=key, class_names=class_names, delimiter=delimiter) for part in paths
        ]
        return Shards(path, parts)
    if path != STDIN and os.path.isfile(path):
        size = os.path.getsize(path)
        if size > HEAD_BYTES:
            head = _read_head(path)
            # text with its header and a first row in the head; other formats from the path
            if head.count(b"\n") >= 2 or _binary(head[:4096]):
                return parse(
                    path,
                    head,
                    key=key,
                    class_names=class_names,
                    path=path,
                    size=size,
                    delimiter=delimiter,
                )
    name, data = read_bytes(path, stdin)  # small enough to parse from memory
    return parse(name, data, key=key, class_names=class_names, delimiter=delimiter)


def _shard_paths(spec: str) -> list[str] | None:
    """The files a glob or a directory names (:func:`.shards.shard_paths`); ``None`` for one
    file or ``-``, told without loading the shard reader."""
    if spec == STDIN or os.path.isfile(spec):
        return None
    from .shards import shard_paths

    return shard_paths(spec)


def _read_head(path: str, size: int | None = None) -> bytes:
    """The first ``size`` bytes of ``path`` (:data:`HEAD_BYTES` unless said)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(HEAD_BYTES if size is None else size)
    except OSError:
        return b""  # read_bytes names the problem


def open_shards(spec: str, key: str | None, delimiter: str = DELIMITER_AUTO) -> ShardStream | None:
    """A stream over the prediction shards a glob or a directory names (``None``: ``spec``
    is one file): large arrays in their row blocks, other shards read whole in turn."""
    paths = _shard_paths(spec)
    if paths is None:
        return None
    from .shards import Part, Shape, ShardStream, WholeShard, same_shape

    parts: list[Part] = []
    shapes: list[Shape] = []
    for path in paths:

        def again(path: str = path) -> Source:
            return read(path, key=key, delimiter=delimiter)

        stream = open_stream(path, key, delimiter)
        if stream is not None:
            part: Part = stream
            positions = tuple(getattr(stream, "positions", ()))
            shape = Shape(stream.name, stream.n_columns, stream.header, stream.dtype, positions)
        else:
            source = again()
            columns, _ = data_columns(source)
            part = WholeShard(source.name, source.n_rows, again, columns)
            header = None if source.header is None else [source.header[c] for c in columns]
            positions = tuple(getattr(source, "positions", ()))
            shape = Shape(source.name, len(columns), header, source.dtype, positions)
        if shapes:
            same_shape(shapes[0], shape)
        shapes.append(shape)
        parts.append(part)
    dtype = np.dtype(np.result_type(*(shape.dtype for shape in shapes)))
    first = shapes[0]
    return ShardStream(spec, parts, first.n_columns, dtype, first.header, positions=first.positions)


def data_columns(source: Source) -> tuple[list[int], bool]:
    """The columns that hold data, and whether pandas' index was left out: a table's
    matrix (DESIGN §9), every column but the index ``DataFrame.to_csv()`` writes (§2)."""
    tables = _loaded("tables")  # not loaded: no table was read
    index = pandas_index(source)
    if tables is not None and isinstance(source, tables.FrameSource):
        columns: Sequence[int] = source.matrix_columns
    else:
        columns = range(source.n_columns)
    return [c for c in columns if not (index and c == 0)], index


def spooled_stdin(stdin: BinaryIO) -> tuple[str | None, BinaryIO]:
    """Standard input, when it holds an array (``.npy`` or ``.npz``, by its first bytes),
    copied a MiB at a time to a scratch file (removed at exit) to be read as a file in
    blocks, and that file's path; else ``None`` and standard input as it was (its first
    bytes read here put back in front)."""
    import io

    try:
        head = stdin.read(len(NPY_MAGIC))
    except OSError as exc:  # 0>file: open for writing only
        raise MissingInputError(f"{STDIN_NAME}: cannot read ({exc.strerror or exc})") from None
    if not (head.startswith(NPY_MAGIC) or head.startswith(ZIP_MAGIC)):
        return None, io.BufferedReader(_Rejoined(head, stdin))

    def fill(out: BinaryIO) -> None:
        out.write(head)
        while True:
            try:
                chunk = stdin.read(1 << 20)
            except OSError as exc:
                raise MissingInputError(
                    f"{STDIN_NAME}: cannot read ({exc.strerror or exc})"
                ) from None
            if not chunk:
                return
            out.write(chunk)

    path = scratch_file(".npz" if head.startswith(ZIP_MAGIC) else ".npy", STDIN_NAME, fill)
    return path, io.BufferedReader(_Spooled(path))


class _Spooled(io.RawIOBase):
    """Standard input copied to the file at ``path``, read from its start (a file opened
    for each read: nothing is left open)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            got = handle.readinto(buffer)
        self.offset += got
        return got


Named = TypeVar("Named", "NpyStream", "Stream")


class _Rejoined(io.RawIOBase):
    """``head`` (read already) followed by what ``rest`` still holds."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            size = min(len(buffer), len(self.head))
            buffer[:size] = self.head[:size]
            self.head = self.head[size:]
            return size
        data = self.rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def stdin_named(stream: Named, path: str) -> Named:
    """A stream over the scratch file at ``path`` that holds standard input, named as
    standard input in every message."""
    from dataclasses import replace

    return replace(stream, name=stream.name.replace(path, STDIN_NAME, 1))


def open_stream(path: str, key: str | None, delimiter: str = DELIMITER_AUTO) -> Stream | None:
    """A stream over a large input of predictions, read a block of rows at a time: an array
    (``.npy``, an ``.npz`` member, a ``.safetensors`` tensor), text or NDJSON in pieces of
    lines, Parquet or Arrow IPC in slices of rows; ``None`` for what is read whole (and for
    what is not a regular file: a pipe's bytes, once read here, would be gone for the
    whole-file reader). A reader's module loads only for a file it may stream."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return None
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        return None  # a pipe, or a file xent may not read: the whole-file reader says so
    first = _read_head(path, 4096)
    if _array_file(path, first):
        from . import arrays

        stream: Stream | None = arrays.open_array_stream(path, key)
        if stream is not None:
            return stream
    if compression(first[:8]) is None and _read_whole(size):
        return None  # small and plain: read whole (a compressed one is judged unpacked)
    from . import arrays, chunks  # chunks imports polars' reader only for tables
    from .text import TextSource

    head = _read_head(path)
    kind = table_kind(path, head[:8])
    if kind in ("parquet", "arrow"):  # by its name, maybe packed: then unpacked whole
        large = size > arrays.STREAM_BYTES and compression(head[:8]) is None
        return chunks.table_stream(path, kind, key) if large else None
    packed = compression(head[:8]) if _binary(head[:4096]) else None
    located = from_root(path)  # read where a Dask worker's directory is not
    data: chunks.Bytes = chunks.FileBytes(located)
    if packed is not None:  # text or NDJSON inside, unpacked as it is read: by what it holds
        data = chunks.PackedBytes(located, packed, path)
        head = data.read(0, HEAD_BYTES)
        if len(head) < HEAD_BYTES and len(head) <= arrays.STREAM_BYTES:
            return None  # less than a MiB unpacked: read whole
        kind = table_kind(inner_name(path), head[:8])
    elif size <= arrays.STREAM_BYTES or _binary(head[:4096]):
        return None
    if b"\r" in head and b"\r" in head.replace(b"\r\n", b""):
        return None  # a lone CR ends a line: the whole-file reader knows (universal newlines)
    head = head[: head.rfind(b"\n") + 1]  # whole lines: a cut one would mislead the checks
    if kind == "ndjson" or looks_like_ndjson(head[:4096]):
        return chunks.json_stream(path, key, data)
    if kind is not None or _binary(head[:4096]) or not head:
        return None
    source = parse(path, head, delimiter=delimiter)
    return chunks.text_stream(path, source, data) if isinstance(source, TextSource) else None


def _array_file(name: str, head: bytes) -> bool:
    """Whether a file is one :func:`.arrays.open_array_stream` may stream: ``.npy`` or
    ``.npz`` by its magic number, ``.safetensors`` by its name or its first bytes."""
    if head.startswith((NPY_MAGIC, ZIP_MAGIC)):
        return True
    return name.lower().endswith(".safetensors") or looks_like_safetensors(head)


def _read_whole(size: int) -> bool:
    """Whether a file of ``size`` bytes is read whole, not streamed: at most
    :data:`.arrays.STREAM_BYTES`, read now (a test sets it). A file of at most
    :data:`HEAD_BYTES` is told so without loading :mod:`.arrays`: until that module is
    loaded, the value is its own default, which is larger."""
    if size <= HEAD_BYTES and _loaded("arrays") is None:
        return True
    from . import arrays

    return size <= arrays.STREAM_BYTES


def _loaded(name: str) -> ModuleType | None:
    """The reader module ``name`` if something has loaded it, else ``None``: looking does
    not load it."""
    return sys.modules.get(f"{__name__}.{name}")

"""Compressed inputs: gzip, bzip2, xz and zstd streams, told by their magic numbers and
unpacked for the reader of what they hold (text, NDJSON, ``.npy``, …).

Unpacking goes block by block, and binary data that no reader takes is refused from the
first block (DESIGN §5), as for a plain file. zstd comes from ``compression.zstd`` (Python
3.14) or the ``zstandard`` package, the others from the standard library.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from xent_cli.errors import InputError

from .base import short

MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
SUFFIXES = (".gz", ".bz2", ".xz", ".zst")
BLOCK = 1 << 20
BINARY_INSIDE = (b"\x93NUMPY", b"PK\x03\x04", b"PAR1", b"ARROW1")  # NUL bytes are theirs


def compression(head: bytes) -> str | None:
    """The compression ``head`` (a file's first bytes) starts with, or ``None``.

    >>> compression(b"\\x1f\\x8b\\x08"), compression(b"0.5,1.5")
    ('gzip', None)
    """
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    return None


def inner_name(name: str) -> str:
    """The name without its compression suffix, which says what the stream holds.

    >>> inner_name("run.jsonl.gz"), inner_name("p.csv")
    ('run.jsonl', 'p.csv')
    """
    path = Path(name)
    return str(path.with_suffix("")) if path.suffix.lower() in SUFFIXES else name


def blocks(kind: str, raw: IO[bytes]) -> Iterator[bytes]:
    """The unpacked bytes of the stream ``raw``, a block at a time; a stream that ends early
    raises EOFError."""
    if kind == "zstd":
        yield from _zstd_blocks(raw)
        return
    if kind == "gzip":
        import gzip

        stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw)
    elif kind == "bzip2":
        import bz2

        stream = bz2.BZ2File(raw)
    else:
        import lzma

        stream = lzma.LZMAFile(raw)
    with stream:
        while block := stream.read(BLOCK):
            yield block


def _zstd_blocks(raw: IO[bytes]) -> Iterator[bytes]:
    """zstd frames one after another (``zstandard``'s stream reader would end a truncated
    stream without a word: here an unfinished frame is an EOFError)."""
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+

        with zstd.ZstdFile(raw) as stream:
            while block := stream.read(BLOCK):
                yield block
        return
    except ImportError:
        import zstandard

    unpacker = zstandard.ZstdDecompressor().decompressobj()
    inside = False  # a frame begun and not finished
    while chunk := raw.read(BLOCK):
        while chunk:
            yield unpacker.decompress(chunk)
            inside = not unpacker.eof
            if inside:
                break
            chunk = unpacker.unused_data  # the next frame's start
            unpacker = zstandard.ZstdDecompressor().decompressobj()
    if inside:
        raise EOFError("the stream ends inside a frame")


def decompress(name: str, data: bytes | str, kind: str) -> bytes:
    """All of a compressed stream (``data``: its bytes, or its path) unpacked.

    The first block is checked before the rest is unpacked: NUL bytes in what is not a
    ``.npy`` or ``.npz`` are refused at once, so a bomb of zeros never fills memory.
    """
    from .text import binary_data

    raw: IO[bytes] = io.BytesIO(data) if isinstance(data, bytes) else open(data, "rb")
    parts: list[bytes] = []
    try:
        with raw:
            for block in filter(None, blocks(kind, raw)):
                if not parts and b"\x00" in block and not block.startswith(BINARY_INSIDE):
                    raise binary_data(name, block)
                parts.append(block)
    except InputError:
        raise
    except Exception as exc:  # OSError, EOFError, zstandard's ZstdError, …
        raise broken(name, kind, exc) from None
    return b"".join(parts)


def broken(name: str, kind: str, exc: Exception) -> InputError:
    """The error for a stream that does not unpack (truncated, damaged)."""
    return InputError(name, f"is not a valid {kind} stream ({short(exc)})")

"""Formats told from a file's first bytes and its name, without loading their readers.

:func:`~xent_cli.readers.parse` and :func:`~xent_cli.readers.open_stream` choose a reader
with these, so a small CSV loads neither :mod:`.arrays`, :mod:`.safetensors` nor
:mod:`.tables` (start-up, DESIGN §6). Nothing here imports numpy.
"""

from __future__ import annotations

from pathlib import Path

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"  # a zip's first member: an .npz (or torch.save's archive)
PARQUET_MAGIC = b"PAR1"
ARROW_MAGIC = b"ARROW1"
SUFFIXES = {  # the table formats a name says (an Arrow stream has no magic number)
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
    ".arrows": "arrow stream",
    ".jsonl": "ndjson",
    ".ndjson": "ndjson",
}
LENGTH_BYTES = 8  # a safetensors header's length, a little-endian u64
MAX_HEADER_BYTES = 100_000_000  # the safetensors reference implementation's MAX_HEADER_SIZE
JSON_SPACE = b" \t\r\n"


def table_kind(name: str, head: bytes) -> str | None:
    """Which table format ``head`` (a file's first bytes) is, by its magic number, else by
    the name's suffix (a compression suffix left aside); ``None``: not a table.

    >>> table_kind("x", b"PAR1..."), table_kind("run.jsonl.gz", b"{"), table_kind("p.csv", b"1")
    ('parquet', 'ndjson', None)
    """
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if head.startswith(ARROW_MAGIC):
        return "arrow"
    path = Path(name)
    if path.suffix.lower() in (".gz", ".bz2", ".xz", ".zst"):
        path = path.with_suffix("")
    return SUFFIXES.get(path.suffix.lower())


def looks_like_ndjson(head: bytes) -> bool:
    """Text whose first non-blank character opens a JSON object: one object per line.

    >>> looks_like_ndjson(b'\\n {"logits": [1, 2]}'), looks_like_ndjson(b"0.5,1.5")
    (True, False)
    """
    return head.lstrip().startswith(b"{")


def looks_like_safetensors(head: bytes) -> bool:
    """Whether a file's first bytes are a safetensors header: a length of at most 100 MB
    (so bytes 4–7 are zero: no text starts so), then JSON whitespace and ``{``.

    >>> looks_like_safetensors(b"\\x10\\x00\\x00\\x00\\x00\\x00\\x00\\x00{}" + b" " * 14)
    True
    >>> looks_like_safetensors(b"1,2\\n3,4\\n"), looks_like_safetensors(b"\\x93NUMPY\\x01\\x00v")
    (False, False)
    """
    if len(head) <= LENGTH_BYTES:
        return False
    length = int.from_bytes(head[:LENGTH_BYTES], "little")
    if not 2 <= length <= MAX_HEADER_BYTES:
        return False
    return head[LENGTH_BYTES : LENGTH_BYTES + length].lstrip(JSON_SPACE)[:1] == b"{"

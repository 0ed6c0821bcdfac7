"""Large ``.npy`` predictions read in row blocks into reused buffers, so memory stays bounded.

A memory map would not do: every page it touches counts in the process's resident set.
Each worker thread owns one buffer and fills it with ``os.preadv``, which releases the GIL,
so reading one block overlaps computing another.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .readers import array_where

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

STREAM_BYTES = 64 << 20  # .npy files larger than this are streamed
BLOCK_BYTES = 8 << 20  # about 8 MiB of rows a block
_local = threading.local()


@dataclass
class NpyStream:
    """A 1-D or 2-D numeric ``.npy`` on disk, read a block of rows at a time."""

    name: str
    path: str
    offset: int  # where the data starts
    n_rows: int
    n_columns: int
    dtype: np.dtype[np.generic]
    header: list[str] | None = None

    def where(self, row: int, column: int | None = None) -> str:
        """Where a 0-based cell is, as the array reader says it (1-based)."""
        return array_where(self.name, row, column)

    def where_end(self) -> str:
        return array_where(self.name, self.n_rows, None)

    @property
    def row_bytes(self) -> int:
        return self.n_columns * self.dtype.itemsize

    def blocks(self) -> list[tuple[int, int]]:
        """Row ranges of about :data:`BLOCK_BYTES` each."""
        step = max(1, BLOCK_BYTES // max(1, self.row_bytes))
        return [(start, min(self.n_rows, start + step)) for start in range(0, self.n_rows, step)]

    def read(self, start: int, stop: int) -> FloatArray:
        """Rows ``start:stop`` as float64, read into this thread's reused buffer."""
        size = (stop - start) * self.row_bytes
        buffer: bytearray | None = getattr(_local, "buffer", None)
        if buffer is None or len(buffer) < size:
            buffer = bytearray(size)
            _local.buffer = buffer
        view = memoryview(buffer)[:size]
        descriptor = os.open(self.path, os.O_RDONLY)
        try:
            done = 0
            while done < size:
                got = os.preadv(
                    descriptor, [view[done:]], self.offset + start * self.row_bytes + done
                )
                if got == 0:
                    raise EOFError
                done += got
        finally:
            os.close(descriptor)
        raw = np.frombuffer(view, dtype=self.dtype).reshape(stop - start, self.n_columns)
        if self.dtype == np.float64 and self.dtype.isnative:
            return raw
        return raw.astype(np.float64)


def open_npy(path: str, name: str) -> NpyStream | None:
    """A stream over ``path`` when it is a large, plain numeric ``.npy``; else ``None``.

    Anything unusual (small files, Fortran order, pickles, other dtypes, a damaged
    header) goes to the whole-file reader, which reports the errors.
    """
    try:
        if os.path.getsize(path) <= STREAM_BYTES:
            return None
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            else:
                return None
            offset = handle.tell()
    except (OSError, ValueError):
        return None
    if fortran or dtype.kind not in "biuf" or dtype.hasobject or len(shape) not in (1, 2):
        return None
    n_rows = int(shape[0])
    n_columns = 1 if len(shape) == 1 else int(shape[1])
    if n_rows == 0 or n_columns == 0:
        return None
    if os.path.getsize(path) < offset + n_rows * n_columns * dtype.itemsize:
        return None  # truncated: the whole-file reader says so
    return NpyStream(name, path, offset, n_rows, n_columns, dtype)

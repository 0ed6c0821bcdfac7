"""Row chunks on both cores: numpy's ufuncs release the GIL, so two threads overlap.

Every kernel of xent is row-local, so computing it chunk by chunk gives the same bits as
one call on the whole array; chunks of a few thousand rows also keep temporaries in cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

CHUNK_ELEMENTS = 1 << 18  # 256k values (2 MiB): measured best on 1M×10 (benchmarks/)
_POOL: ThreadPoolExecutor | None = None
SMALL = 1 << 16  # below this many values, threads cost more than they save


def threads() -> int:
    """Worker threads: the cores this process may use, at most 2 (XENT_THREADS overrides)."""
    wanted = os.environ.get("XENT_THREADS")
    if wanted and wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(2, available))


def bounds(n_rows: int, n_columns: int) -> list[tuple[int, int]]:
    """Row ranges of about :data:`CHUNK_ELEMENTS` values each.

    >>> bounds(10, 1 << 17)
    [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
    """
    step = max(1, CHUNK_ELEMENTS // max(1, n_columns))
    return [(start, min(n_rows, start + step)) for start in range(0, n_rows, step)]


def map_rows(kernel: Callable[..., FloatArray], matrix: FloatArray, *row_arrays: Any) -> FloatArray:
    """``kernel(matrix, *row_arrays)`` computed on row chunks in parallel, results joined.

    >>> from xent_cli.losses import sparse_softmax_ce_with_logits as ce
    >>> z = np.zeros((5, 2)); c = np.zeros(5, dtype=np.int64)
    >>> map_rows(ce, z, c).round(6).tolist()
    [0.693147, 0.693147, 0.693147, 0.693147, 0.693147]
    """
    n = matrix.shape[0]
    if matrix.size < SMALL or threads() == 1:
        return kernel(matrix, *row_arrays)
    pieces = bounds(n, matrix.shape[1] if matrix.ndim > 1 else 1)

    def run(piece: tuple[int, int]) -> FloatArray:
        start, stop = piece
        return kernel(matrix[start:stop], *(array[start:stop] for array in row_arrays))

    parts: Sequence[FloatArray] = list(pool().map(run, pieces))
    return np.concatenate(parts)


def pool() -> ThreadPoolExecutor:
    """The process's worker pool, made on first use."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=threads(), thread_name_prefix="xent")
    return _POOL


def stop() -> None:
    """Drop queued work (Ctrl-C): running blocks finish, nothing new starts."""
    global _POOL
    if _POOL is not None:
        _POOL.shutdown(wait=False, cancel_futures=True)
        _POOL = None  # a later call (the Python API, tests) gets a fresh pool

"""Row blocks on both cores: numpy's ufuncs release the GIL, so two threads overlap.

Every kernel of xent is row-local, so computing it block by block gives the same bits as
one call on the whole array; blocks of a few thousand rows also keep temporaries in cache.
:func:`run_blocks` is the one runner: the engine hands it every pass over the rows.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

T = TypeVar("T")
Progress = Callable[[int], None]  # told how many more rows are done

CHUNK_ELEMENTS = 1 << 18  # 256k values (2 MiB): measured best on 1M×10 (benchmarks/)
SMALL = 1 << 16  # below this many values, threads cost more than they save
_POOL: ThreadPoolExecutor | None = None


def threads() -> int:
    """Worker threads: the cores this process may use, at most 2; XENT_THREADS chooses
    another number, up to the cores (more only costs memory: a buffer each)."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    wanted = os.environ.get("XENT_THREADS")
    if wanted and wanted.isdigit() and int(wanted) > 0:
        return min(int(wanted), max(1, available))
    return max(1, min(2, available))


def bounds(n_rows: int, n_columns: int) -> list[tuple[int, int]]:
    """Row ranges of about :data:`CHUNK_ELEMENTS` values each; one range when the whole is
    small or there is one thread.

    >>> bounds(10, 1 << 17)[:3], bounds(10, 3)
    ([(0, 2), (2, 4), (4, 6)], [(0, 10)])
    """
    if n_rows * n_columns < SMALL or threads() == 1:
        return [(0, n_rows)]
    step = max(1, CHUNK_ELEMENTS // max(1, n_columns))
    return [(start, min(n_rows, start + step)) for start in range(0, n_rows, step)]


class Engine(Protocol):
    """Somewhere else to run the blocks (``--engine dask``): the results in block order."""

    def run(
        self,
        work: Callable[[int, int], T],
        pieces: list[tuple[int, int]],
        progress: Progress | None,
        parallel: bool,
    ) -> list[T]: ...


_ENGINE: Engine | None = None


@contextlib.contextmanager
def engine(chosen: Engine | None) -> Iterator[None]:
    """Run the passes over rows on ``chosen`` (``None``: this process's threads) within."""
    global _ENGINE
    previous, _ENGINE = _ENGINE, chosen
    try:
        yield
    finally:
        _ENGINE = previous


def distributed() -> bool:
    """Whether the passes run on an engine of other processes, maybe other machines
    (``--engine dask``), which may not read this machine's temporary files."""
    return _ENGINE is not None


def run_blocks(
    work: Callable[[int, int], T],
    pieces: list[tuple[int, int]],
    progress: Progress | None = None,
    *,
    parallel: bool = True,
    local: bool = False,
) -> list[T]:
    """``work(start, stop)`` for every row range, on the pool (in order on this thread
    without ``parallel``), or on the :func:`engine` chosen (unless ``local``: work that
    is no pass over the input's rows); the results in row order.

    ``progress`` hears of each block's rows as its result lands.

    >>> run_blocks(lambda start, stop: stop - start, [(0, 3), (3, 10)])
    [3, 7]
    """
    if _ENGINE is not None and not local:
        return _ENGINE.run(work, pieces, progress, parallel)

    def one(piece: tuple[int, int]) -> T:
        return work(*piece)

    results: Iterable[T] = map(one, pieces)
    if parallel and len(pieces) > 1:
        try:
            results = pool().map(one, pieces)
        except RuntimeError:  # "can't start new thread" (a thread or memory limit): this one
            stop()
    collected = []
    for result, (first, end) in zip(results, pieces, strict=True):
        collected.append(result)
        if progress is not None:
            progress(end - first)
    return collected


def pool() -> ThreadPoolExecutor:
    """The process's worker pool, made on first use."""
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor  # 3 ms: not for a small input

        _POOL = ThreadPoolExecutor(max_workers=threads(), thread_name_prefix="xent")
    return _POOL


def stop() -> None:
    """Drop queued work (Ctrl-C): running blocks finish, nothing new starts."""
    global _POOL
    if _POOL is not None:
        _POOL.shutdown(wait=False, cancel_futures=True)
        _POOL = None  # a later call (the Python API, tests) gets a fresh pool

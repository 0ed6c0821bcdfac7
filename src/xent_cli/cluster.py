"""Beyond one machine (DESIGN §12): the passes over rows as tasks on a ``dask.distributed``
cluster, with the same kernels, merged in block order, so every number is the local one.

Each task is one row block (of a shard, or of one large array): the worker opens the file
by its path and reads just that block, so the paths must be visible to the workers. Pass 1
(the detection evidence) and pass 2 (the losses) are each one map over the blocks; the
client decides between them and gathers the results in block order. Without
``--scheduler`` a :class:`~distributed.LocalCluster` of two workers is started in this process
(threads: numpy releases the GIL, and nothing has to start or be pickled) and shut down
with xent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import MissingInputError, UnavailableError, UsageError

if TYPE_CHECKING:
    from .parallel import Progress

T = TypeVar("T")

INSTALL = "pip install 'xent[dask]'"
ADDRESS_VARIABLE = "DASK_SCHEDULER_ADDRESS"


def _distributed() -> Any:
    """``dask.distributed``, or exit 69 naming the extra that adds it."""
    try:
        import distributed
    except ImportError:
        raise UnavailableError(
            f"--engine dask needs dask.distributed, which is not installed: {INSTALL}"
        ) from None
    return distributed


class DaskEngine:
    """The blocks of every pass as tasks of one ``dask.distributed`` client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def run(
        self,
        work: Callable[[int, int], T],
        pieces: list[tuple[int, int]],
        progress: Progress | None,
        parallel: bool = True,
    ) -> list[T]:
        """``work`` on each block as a task; the results in block order. An error in a
        task is raised here as the worker raised it (a file and row, never a remote
        traceback), the first in block order; Ctrl-C cancels the tasks not yet done."""
        # blocks unpacked as they are read go in order, in one task
        count = TASKS_A_WORKER * max(1, self.workers()) if parallel else 1
        groups = _groups(pieces, count)
        try:
            with warnings.catch_warnings():  # an input read whole travels in the graph
                warnings.filterwarnings("ignore", message="Sending large graph")
                futures = self.client.map(_call, [work] * len(groups), groups, pure=False)
        except TypeError as error:  # distributed could not serialise the work
            raise UsageError(
                f"--engine dask cannot send this input's work to the workers ({error.args[0]}); "
                "give --engine local"
            ) from None
        results: list[T] = []
        try:
            for future, group in zip(futures, groups, strict=True):
                results.extend(future.result())  # in block order: the first error first
                if progress is not None:
                    progress(group[-1][1] - group[0][0])
        except BaseException:
            self.client.cancel(futures)
            raise
        return results

    def workers(self) -> int:
        """The cluster's workers now."""
        return len(self.client.scheduler_info(n_workers=-1).get("workers", {}))


TASKS_A_WORKER = 4  # tasks per worker and pass: few (each costs ms), enough to balance


def _groups(pieces: list[tuple[int, int]], count: int) -> list[list[tuple[int, int]]]:
    """``pieces`` cut into at most ``count`` runs of consecutive blocks, in order.

    >>> _groups([(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)], 2)
    [[(0, 1), (1, 2), (2, 3)], [(3, 4), (4, 5)]]
    """
    size = -(-len(pieces) // max(1, count))
    return [pieces[start : start + size] for start in range(0, len(pieces), size)]


def _call(work: Callable[[int, int], T], group: list[tuple[int, int]]) -> list[T]:
    """A task: its blocks one after another (memory: one block at a time). A file the
    worker cannot open (another machine's file system) is one line naming it."""
    try:
        return [work(*piece) for piece in group]
    except OSError as error:
        name = error.filename or "an input"
        raise MissingInputError(
            f"a Dask worker cannot read {name} ({error.strerror or error}): the workers "
            "read the inputs themselves, at the same paths"
        ) from None


@contextlib.contextmanager
def dask_engine(scheduler: str | None, workers: int = 2) -> Iterator[DaskEngine]:
    """A client of the cluster at ``scheduler`` (else ``$DASK_SCHEDULER_ADDRESS``, else a
    :class:`LocalCluster` of ``workers`` single-thread workers in this process, shut down
    on leaving: no worker outlives xent)."""
    distributed = _distributed()
    address = scheduler or os.environ.get(ADDRESS_VARIABLE) or None
    quiet = {"silence_logs": logging.ERROR}
    with contextlib.ExitStack() as stack:
        if address is None:
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=False,  # threads of this process: no worker to start
                    dashboard_address=":0",  # any free port: 8787 may be taken
                    **quiet,
                )
            )
            client = stack.enter_context(distributed.Client(cluster))
        else:
            client = stack.enter_context(_connect(distributed, address))
        yield DaskEngine(client)


def _connect(distributed: Any, address: str) -> Any:
    """A client of the scheduler at ``address`` with a worker, or a one-line error saying
    why not (a scheduler without workers would wait for ever)."""
    try:
        client = distributed.Client(address, timeout="5s")
    except (OSError, TimeoutError, ValueError) as error:
        raise UnavailableError(f"--scheduler {address}: cannot connect ({error})") from None
    try:
        client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
    except TimeoutError:
        client.close()
        raise UnavailableError(
            f"--scheduler {address}: no worker joined it within {WAIT_FOR_WORKERS} s; "
            "start one with: dask worker " + address
        ) from None
    return client


WAIT_FOR_WORKERS = 10  # seconds

"""``-o/--output FILE``: a command's rows (or matrix) in the format FILE's extension names,
written whole or not at all.

The text formats are the chunks :func:`xent_cli.writer.chunks` writes on standard output,
byte for byte (``-o out.csv`` holds what ``-f csv`` prints); ``.npy`` is the array itself
(written a block at a time, from both cores, each block where it belongs in the file);
``.parquet`` is the same columns, written by polars (imported only here).

:class:`AtomicFile` writes a temporary file beside FILE, on the same file system, and
renames it over FILE only when everything is written and on the disk (``fsync``): an error,
a full disk, Ctrl-C or ``kill`` leaves neither a partial FILE nor the temporary file, and an
existing FILE is replaced only on success.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from .errors import ExitCode, UsageError, XentError, polars_module
from .options import Format

if TYPE_CHECKING:
    from typing import Protocol

    from .blocks import ArrayBlocks
    from .writer import Column, Frame, Report

    class RowsReport(Report, Protocol):
        """A report whose rows (or matrix) can go to a file: also as an array (``.npy``)."""

        def array(self) -> ArrayBlocks:
            """The per-row values (or the matrix) as an array made a block at a time."""
            ...


SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".npy": "npy",
    ".parquet": "parquet",
}
STDOUT = "-"
PARQUET_CELLS = 1 << 20  # values a Parquet row group of a streamed matrix
WRITE_BEHIND = 16 << 20  # a .npy's written bytes are sent to the disk in strides of this


class OutputError(XentError):
    """The output file cannot be written (a missing directory, a full disk): exit 74."""

    exit_code = ExitCode.OUTPUT


def output_format(path: str) -> str:
    """The format ``-o path`` names by its extension (any case); else a usage error that
    names the ones there are.

    >>> output_format("probs.NPY"), output_format("runs/losses.csv")
    ('npy', 'csv')
    >>> output_format("losses.txt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    xent_cli.errors.UsageError: -o losses.txt: ... use .csv, .tsv, .json, .jsonl, .npy or ...
    """
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        names = list(SUFFIXES)
        listed = ", ".join(names[:-1]) + f" or {names[-1]}"
        raise UsageError(
            f"-o {path}: the extension names no output format; use {listed} (- is standard output)"
        )
    return SUFFIXES[suffix]


class _Terminated(BaseException):
    """SIGTERM or SIGHUP while a file is written: clean up, then end by that signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(signum)


def _reason(error: OSError) -> str:
    """An operating-system error as a few words.

    >>> _reason(OSError(28, "No space left on device"))
    'No space left on device'
    """
    return error.strerror or str(error)


class AtomicFile:
    """A temporary file beside ``path``, renamed over it when the ``with`` block ends well.

    Made when the command starts, before any input is read, so that a directory that does
    not exist or cannot be written is said at once (exit 74), not after the work. The
    temporary file is hidden (``.NAME.xxxxxxxx.tmp``), made with the mode a new file gets
    (or the mode of the FILE it replaces), written, ``fsync``'d, closed and renamed over
    FILE (``os.replace``: atomic on one file system). A symbolic link FILE is followed:
    the file it names is replaced.
    """

    def __init__(self, path: str) -> None:
        self.path = path  # as the user wrote it, for messages
        target = os.path.realpath(path) if os.path.islink(path) else path
        self.target = target
        directory = os.path.dirname(target) or "."
        if os.path.isdir(target):
            raise OutputError(f"cannot write {path}: it is a directory")
        if not os.path.isdir(directory):
            what = "not a directory" if os.path.exists(directory) else "no such directory"
            raise OutputError(f"cannot write {path}: {directory}: {what}")
        mode: int | None = None
        if os.path.exists(target):
            if not os.access(target, os.W_OK):
                raise OutputError(f"cannot write {path}: permission denied")
            mode = stat.S_IMODE(os.stat(target).st_mode)
        base = os.path.basename(target)[:200]  # room for the suffix within NAME_MAX
        while True:
            temporary = os.path.join(directory, f".{base}.{os.urandom(4).hex()}.tmp")
            try:
                self.fd: int | None = os.open(
                    temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666
                )
            except FileExistsError:
                continue
            except OSError as error:
                raise OutputError(f"cannot write {path}: {_reason(error)}") from None
            break
        self.temporary = temporary
        self._handlers: dict[int, Any] = {}
        try:
            if mode is not None:
                os.fchmod(self.fd, mode)
        except OSError:
            pass  # the mode of a file we may not chmod: the new file keeps the default

    # -- writing --------------------------------------------------------------------------

    def _failed(self, error: OSError) -> OutputError:
        return OutputError(f"cannot write {self.path}: {_reason(error)}")

    def write(self, data: bytes | memoryview) -> None:
        """Append ``data`` (all of it)."""
        view = memoryview(data).cast("B")
        assert self.fd is not None
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as error:
            raise self._failed(error) from None

    def write_at(self, data: bytes | memoryview, offset: int) -> None:
        """Write ``data`` at ``offset`` (from any thread: ``os.pwrite`` releases the GIL)."""
        view = memoryview(data).cast("B")
        assert self.fd is not None
        try:
            while view:
                written = os.pwrite(self.fd, view, offset)
                view, offset = view[written:], offset + written
        except OSError as error:
            raise self._failed(error) from None

    def write_behind(self, offset: int, length: int) -> None:
        """Start putting bytes already written on the disk now, so the ``fsync`` at the end
        has little left to wait for (Linux: ``posix_fadvise(DONTNEED)`` starts the
        writeback of a range; the pages still being written stay cached). Advice only."""
        advise = getattr(os, "posix_fadvise", None)
        if advise is not None and self.fd is not None:
            try:
                advise(self.fd, offset, length, os.POSIX_FADV_DONTNEED)
            except OSError:
                pass

    # -- ending ---------------------------------------------------------------------------

    def commit(self) -> None:
        """On the disk, closed, renamed over FILE; the directory's entry synced too."""
        assert self.fd is not None
        try:
            os.fsync(self.fd)
            fd, self.fd = self.fd, None
            os.close(fd)
            os.replace(self.temporary, self.target)
        except OSError as error:
            self.discard()
            raise self._failed(error) from None
        try:
            directory = os.open(os.path.dirname(self.target) or ".", os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(directory)
        except OSError:
            pass  # some file systems cannot sync a directory: the rename is done
        finally:
            os.close(directory)

    def discard(self) -> None:
        """Close and remove the temporary file; FILE is as it was."""
        if self.fd is not None:
            fd, self.fd = self.fd, None
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.unlink(self.temporary)
        except OSError:
            pass

    def __enter__(self) -> AtomicFile:
        """SIGTERM and SIGHUP (where not ignored) clean up before they end the process."""
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGHUP):
                if signal.getsignal(signum) is signal.SIG_DFL:
                    self._handlers[signum] = signal.signal(signum, _terminated)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if error is None:
                self.commit()
            else:
                self.discard()
        finally:
            for signum, handler in self._handlers.items():
                signal.signal(signum, handler)
            self._handlers = {}
        if isinstance(error, _Terminated):  # end as the signal would have: its status
            readers = sys.modules.get("xent_cli.readers.base")  # its scratch files, if any
            if readers is not None:
                readers.remove_scratch()
            os.kill(os.getpid(), error.signum)


# -- the formats ------------------------------------------------------------------------------


def write(
    report: RowsReport, kind: str, sink: AtomicFile, progress: Callable[[int], None] | None = None
) -> None:
    """``report``'s rows (or matrix) into ``sink`` as ``kind`` (see :func:`output_format`).

    ``progress`` hears of the rows of a ``.npy`` as they are written; the text formats and
    Parquet tell the report's own progress as its rows are made.
    """
    from .writer import chunks

    if kind == "npy":
        write_npy(report.array(), sink, progress)
    elif kind == "parquet":
        write_parquet(report.table(), sink)
    else:
        for chunk in chunks(report, Format(kind)):
            sink.write(chunk.encode("utf-8", "replace"))


def npy_header(dtype: Any, shape: tuple[int, ...]) -> bytes:
    """The ``.npy`` header ``np.save`` writes for a C-ordered array of ``dtype``, ``shape``.

    >>> import io, numpy as np
    >>> saved = io.BytesIO(); np.save(saved, np.zeros((2, 3)))
    >>> saved.getvalue().startswith(npy_header(np.dtype(np.float64), (2, 3)))
    True
    """
    import io

    import numpy as np

    header = io.BytesIO()
    layout = {
        "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
        "fortran_order": False,
        "shape": shape,
    }
    np.lib.format.write_array_header_1_0(header, layout)
    return header.getvalue()


def write_npy(
    array: ArrayBlocks, sink: AtomicFile, progress: Callable[[int], None] | None = None
) -> None:
    """The header first (the shape is known), then every block of rows at its offset, made
    and written on the worker threads (``os.pwrite``), so both cores work and the file is
    never held in memory; every :data:`WRITE_BEHIND` bytes written in order are sent on to
    the disk, so that the ``fsync`` at the end has little left to wait for."""
    import numpy as np

    from .blocks import in_order

    dtype = np.dtype(array.dtype).newbyteorder("<")
    header = npy_header(dtype, array.shape)
    sink.write(header)
    start_of_data = len(header)

    def written(start: int, stop: int) -> tuple[int, int]:
        rows = np.ascontiguousarray(array.rows(start, stop), dtype=dtype)
        sink.write_at(rows.data, start_of_data + start * array.row_bytes)
        return start, stop

    behind = start_of_data  # bytes before this are on their way to the disk
    # closed however the loop ends (Ctrl-C here too): no worker writes once the file is shut
    with contextlib.closing(
        in_order(written, array.pieces, parallel=not array.sequential)
    ) as blocks:
        for start, stop in blocks:
            if progress is not None:
                progress(stop - start)
            end = start_of_data + stop * array.row_bytes  # every row before stop is written
            if end - behind >= WRITE_BEHIND:
                sink.write_behind(behind, end - behind)
                behind = end


def unique_names(names: list[str]) -> list[str]:
    """Column names made distinct for a table format (a CSV header may repeat a name), as
    pandas reads them: ``a, a.1, a.2``.

    >>> unique_names(["a", "b", "a", "a"])
    ['a', 'b', 'a.1', 'a.2']
    """
    seen: set[str] = set()
    unique = []
    for name in names:
        chosen, count = name, 0
        while chosen in seen:
            count += 1
            chosen = f"{name}.{count}"
        seen.add(chosen)
        unique.append(chosen)
    return unique


def _polars() -> Any:
    return polars_module("writing .parquet")


def _polars_type(polars: Any, column: Column) -> Any:
    """The Parquet column type of a streamed column, known before its first value."""
    from .writer import Categories, Floats, Integers

    if isinstance(column, Floats):
        return polars.Float64
    if isinstance(column, Integers) or (isinstance(column, Categories) and column.names is None):
        return polars.Int64
    if isinstance(column, Categories):
        return polars.String
    return None


def write_parquet(frame: Frame, sink: AtomicFile) -> None:
    """``frame``'s columns as a Parquet file; a streamed frame (``softmax`` of a large
    input) a row group at a time, its memory a few row groups."""
    polars = _polars()
    names = unique_names([name for column in frame.columns for name in column.headings()])

    def data(block: Frame) -> Any:
        columns = [one for column in block.columns for one in column.split()]
        series = [
            polars.Series(name, column.array(), strict=False)
            for name, column in zip(names, columns, strict=True)
        ]
        return polars.DataFrame(series)

    from .writer import StreamedFrame

    types = [_polars_type(polars, one) for column in frame.columns for one in column.split()]
    register = _io_source(polars)
    failed: list[BaseException] = []  # what reading the input raised inside polars' sink

    def source(*_: Any) -> Iterator[Any]:
        try:
            for block in frame.blocks():
                yield data(block)
        except GeneratorExit:
            raise
        except BaseException as error:
            failed.append(error)
            raise

    try:
        if not isinstance(frame, StreamedFrame) or register is None or None in types:
            whole = [data(block) for block in frame.blocks()]
            polars.concat(whole).write_parquet(sink.temporary)
            return
        schema = dict(zip(names, types, strict=True))
        rows = max(1, PARQUET_CELLS // max(1, len(names)))
        register(source, schema=schema).sink_parquet(sink.temporary, row_group_size=rows)
    except (XentError, KeyboardInterrupt, MemoryError):
        raise
    except Exception as error:  # polars' own: a full disk, a file too large, …
        if failed:
            raise failed[0] from None
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else "failed"
        raise OutputError(f"cannot write {sink.path}: {reason[:160]}") from None


def _io_source(polars: Any) -> Any:
    """polars' Python IO source (a lazy frame made from a generator), where it has one."""
    try:
        from polars.io.plugins import register_io_source
    except ImportError:
        return None
    return register_io_source

"""Error types that carry their exit code, so the CLI maps them in one place."""

from __future__ import annotations

import errno
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Exit statuses of xent (DESIGN §5), named once."""

    OK = 0
    WORSE = 1  # xent diff --fail-if-worse: the new model is worse beyond the interval
    USAGE = 2  # bad options or arguments
    DATA = 65  # os.EX_DATAERR: the input is malformed
    NO_INPUT = 66  # os.EX_NOINPUT: a file is missing or unreadable
    UNAVAILABLE = 69  # os.EX_UNAVAILABLE: a library a format or an engine needs is missing
    OS_ERROR = 71  # os.EX_OSERR: out of memory, or another operating-system limit
    OUTPUT = 74  # os.EX_IOERR: the output could not be written (a full disk)
    INTERRUPTED = 130  # Ctrl-C


WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})  # errors only a write gives


def write_failure(error: OSError) -> str:
    """The one line for output that could not be written.

    >>> write_failure(OSError(28, "No space left on device"))
    'cannot write the output: No space left on device'
    """
    return f"cannot write the output: {error.strerror}"


def memory_failure(error: MemoryError) -> str:
    """The one line for memory the work could not get, and how to need less.

    >>> memory_failure(MemoryError("Unable to allocate 745. GiB for an array"))[:49]
    'cannot allocate 745 GiB (out of memory, or over a'
    >>> memory_failure(MemoryError())[:40]
    'cannot allocate memory (out of memory, o'
    """
    import re

    size = re.search(r"allocate ([\d.]+) (\w+)", str(error))  # numpy's "745. GiB"
    what = f"{size.group(1).rstrip('.')} {size.group(2)}" if size else "memory"
    return (
        f"cannot allocate {what} (out of memory, or over a memory limit); one thread "
        "(XENT_THREADS=1) and -r mean or -r sum need the least, or give a smaller input"
    )


def is_write_failure(error: OSError) -> bool:
    """An error only a write gives (a full disk), not one naming an input file."""
    return error.errno in WRITE_ERRNOS and error.filename is None


class XentError(Exception):
    """An error the user can fix; the CLI prints ``xent: <message>`` and exits."""

    exit_code: ExitCode = ExitCode.DATA

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(XentError):
    """Options or arguments that do not fit together."""

    exit_code = ExitCode.USAGE


class MissingInputError(XentError):
    """An input file that does not exist or cannot be read."""

    exit_code = ExitCode.NO_INPUT


class ScratchError(XentError):
    """The temporary directory cannot hold a file the tool makes for itself (a full disk)."""

    exit_code = ExitCode.OS_ERROR


class InputError(XentError):
    """Malformed input data; ``where`` is ``FILE:LINE:COLUMN`` or ``FILE: row R, column C``."""

    exit_code = ExitCode.DATA

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.what = message

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str]]:
        """Pickled as its two parts (a worker of ``--engine dask`` raises it remotely).

        >>> import pickle
        >>> pickle.loads(pickle.dumps(InputError("z.npy: row 2", "value is NaN"))).message
        'z.npy: row 2: value is NaN'
        """
        return (type(self), (self.where, self.what))


class WorseError(XentError):
    """``xent diff --fail-if-worse`` found B worse beyond the interval (exit 1); the
    message says by how much."""

    exit_code = ExitCode.WORSE


class UnavailableError(XentError):
    """A library a format or an engine needs is not installed (exit 69; the message names
    the ``pip install`` that adds it)."""

    exit_code = ExitCode.UNAVAILABLE


def polars_module(what: str) -> Any:
    """polars, imported for ``what`` (``"reading Parquet"``), or a one-line 69."""
    try:
        import polars
    except ImportError:
        raise UnavailableError(
            f"{what} needs polars, which is not installed: pip install polars"
        ) from None
    return polars

"""What every reader gives: a :class:`Source` of cells that knows where each cell is, and
the checks every array of numbers goes through (with the cell named when one fails)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, BinaryIO, Protocol

import numpy as np

from xent_cli.errors import InputError, ScratchError

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

Where = Callable[[int, "int | None"], str]  # a 0-based (row, column) → "FILE:LINE:COL" etc.


SCRATCH: list[str] = []  # files the tool made for itself, removed when it ends


def scratch_file(suffix: str, what: str, fill: Callable[[BinaryIO], None]) -> str:
    """The path of a new file of the tool's own (in the temporary directory), which
    ``fill`` writes; removed when the process ends (:func:`remove_scratch`), at exit or on
    SIGTERM or SIGHUP. A full disk is one line naming ``what`` was being copied there."""
    import atexit
    import tempfile

    try:
        descriptor, path = tempfile.mkstemp(prefix="xent-", suffix=suffix)
    except OSError as error:
        raise _no_scratch(what, error) from None
    if not SCRATCH:
        atexit.register(remove_scratch)
        _remove_on_signals()
    SCRATCH.append(path)
    try:
        with os.fdopen(descriptor, "wb") as out:
            fill(out)
    except OSError as error:
        raise _no_scratch(what, error) from None
    return path


def _no_scratch(what: str, error: OSError) -> ScratchError:
    import tempfile

    reason = error.strerror or str(error)
    return ScratchError(
        f"cannot copy {what} to the temporary directory {tempfile.gettempdir()} to read it in "
        f"blocks ({reason}); set TMPDIR to a directory with room for it"
    )


def _remove_on_signals() -> None:
    """SIGTERM and SIGHUP (where left at their default) remove the scratch files, then end
    the process as they would have."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def removed_then_ended(signum: int, frame: object) -> None:
        remove_scratch()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, removed_then_ended)


def remove_scratch() -> None:
    """Remove the files :func:`scratch_file` made (``entry.leave`` ends the process with
    ``os._exit``, which runs no ``atexit``: it calls this first)."""
    while SCRATCH:
        try:
            os.unlink(SCRATCH.pop())
        except OSError:
            pass


def from_root(path: str) -> str:
    """``path`` from the file system's root, for a reader that opens it again elsewhere (a
    Dask worker has a working directory of its own): a relative one joined to this one as
    it is, ``..`` left for the kernel to resolve after a symlinked directory (``abspath``
    would drop it by text, and another file is read).

    >>> from_root("/data/z.npy"), from_root("link/../z.npy").endswith("/link/../z.npy")
    ('/data/z.npy', True)
    """
    return path if os.path.isabs(path) else os.path.join(os.getcwd(), path)


class Positions(Protocol):
    """An input's shape, dtype and the place of each cell, as error messages name it."""

    name: str
    header: list[str] | None

    @property
    def n_rows(self) -> int: ...

    @property
    def n_columns(self) -> int: ...

    @property
    def dtype(self) -> np.dtype[np.generic]: ...

    def where(self, row: int, column: int | None = None) -> str:
        """Where a 0-based data cell is, for an error message."""
        ...

    def where_end(self) -> str:
        """The place just past the last row (for 'labels end after …' errors)."""
        ...


class Source(Positions, Protocol):
    """A parsed input: a grid of cells that can be read as numbers or as strings."""

    def numbers(self, columns: Sequence[int] | None = None, *, allow_minus_inf: bool) -> FloatArray:
        """The chosen columns (default all) as an (n_rows, len(columns)) float64 array."""
        ...

    def strings(self, column: int) -> list[str]:
        """One column as text, for labels given as class names."""
        ...

    def is_numeric(self, column: int) -> bool:
        """True when ``column`` holds numbers (not class names)."""
        ...


def array_where(name: str, row: int, column: int | None) -> str:
    """A 0-based cell of an array, as messages say it: ``NAME: row R, column C`` (1-based).

    >>> array_where("z.npy", 0, 2), array_where("z.npy", 4, None)
    ('z.npy: row 1, column 3', 'z.npy: row 5')
    """
    if column is None:
        return f"{name}: row {row + 1}"
    return f"{name}: row {row + 1}, column {column + 1}"


def position_where(name: str, positions: Sequence[int], index: int, column: int | None) -> str:
    """A 0-based cell of predictions with positions (DESIGN §8), as messages say it: the
    flat ``index`` over rows and positions in C order, and the class (1-based).

    >>> position_where("lm.npy", (7,), 9, 4), position_where("seg.npy", (3, 5), 16, None)
    ('lm.npy: row 2, position 3, class 5', 'seg.npy: row 2, position (1, 2)')
    """
    per_row = math.prod(positions)
    row, within = divmod(index, per_row)
    place = [int(i) + 1 for i in np.unravel_index(within, tuple(positions))]
    shown = str(place[0]) if len(place) == 1 else "(" + ", ".join(map(str, place)) + ")"
    where = f"{name}: row {row + 1}, position {shown}"
    return where if column is None else f"{where}, class {column + 1}"


def check_values(
    values: FloatArray,
    where: Where,
    *,
    allow_minus_inf: bool,
    row_offset: int = 0,
) -> None:
    """No NaN, no +∞ (and no −∞ unless allowed) in a block of rows that starts at ``row_offset``."""
    finite = np.isfinite(values)
    if finite.all():
        return
    allowed = finite | np.isneginf(values) if allow_minus_inf else finite
    rows, cols = np.nonzero(~allowed)
    if rows.size:
        row, col = int(rows[0]), int(cols[0])
        value = float(values[row, col])
        what = "NaN" if math.isnan(value) else ("+∞" if value > 0 else "−∞")
        hint = "; only −∞ (a masked class) is allowed" if what == "+∞" and allow_minus_inf else ""
        raise InputError(where(row + row_offset, col), f"value is {what}{hint}")


def check_not_all_masked(values: FloatArray, where: Where, row_offset: int = 0) -> None:
    """A row of nothing but −∞ has no softmax: say which row it is.

    Only rows whose first score is −∞ can be such a row, so only those are looked at whole.

    >>> check_not_all_masked(np.array([[0.0, -np.inf], [-np.inf, 1.0]]), lambda r, c: "")
    >>> check_not_all_masked(np.array([[0.0, 1.0], [-np.inf, -np.inf]]), lambda r, c: f"row {r}")
    Traceback (most recent call last):
    xent_cli.errors.InputError: row 1: every score in this row is −∞ (nothing left to predict)
    """
    candidates = np.flatnonzero(np.isneginf(values[:, 0]))
    masked = np.isneginf(values[candidates]).all(axis=1)
    if masked.any():
        row = int(candidates[np.argmax(masked)])
        raise InputError(
            where(row + row_offset, None), "every score in this row is −∞ (nothing left to predict)"
        )


PANDAS_INDEX_NAMES = ("", "Unnamed: 0")  # the header cell pandas writes over its index


def pandas_index(source: Source) -> bool:
    """Whether the first column is the index ``DataFrame.to_csv()`` writes: an unnamed
    header cell over distinct whole numbers: 0, 1, …, N−1, or what a split or a filter left
    of them (DESIGN §2)."""
    header = source.header
    if header is None or source.n_columns < 2 or header[0] not in PANDAS_INDEX_NAMES:
        return False
    try:
        first = source.numbers([0], allow_minus_inf=False)[:, 0]
    except InputError:
        return False  # not a column of numbers: reading the file says what is wrong
    whole = bool((first == np.floor(first)).all())
    return whole and len(np.unique(first)) == len(first)


def short(exc: BaseException) -> str:
    """What went wrong, in a few words (never an exception's class name).

    >>> short(EOFError()), short(ValueError("bad\\nworse"))
    ('it ends early', 'bad')
    """
    if not str(exc).strip():
        return "it ends early" if isinstance(exc, EOFError) else "it does not read"
    return str(exc).strip().splitlines()[0][:120]


def chosen(name: str, names: Sequence[str], key: str | None, what: str) -> str:
    """The member ``key`` names (an ``.npz`` array, a tensor), or the only one: a usage
    error that lists them (the first 20) when ``key`` names none, or is needed and missing.

    >>> chosen("z.npz", ["logits"], None, "array")
    'logits'
    >>> chosen("z.npz", ["a", "b"], None, "array")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    xent_cli.errors.UsageError: z.npz holds several arrays (a, b); choose one with --key NAME ...
    """
    from xent_cli.errors import UsageError

    if key is None:
        if len(names) != 1:
            raise UsageError(
                f"{name} holds several {what}s ({listing(names)}); choose one with --key NAME "
                "(of LABELS: --label-key NAME)"
            )
        return names[0]
    if key not in names:
        raise UsageError(f"{name} has no {what} {key!r}; it holds: {listing(names)}")
    return key


def listing(names: Sequence[str], shown: int = 20) -> str:
    """Names for a message: the first ``shown``, and how many there are in all.

    >>> listing(["a", "b"]), listing([str(k) for k in range(30)], 2)
    ('a, b', '0, 1, … (30 in all)')
    """
    names = list(names)
    text = ", ".join(names[:shown])
    return text if len(names) <= shown else f"{text}, … ({len(names):,} in all)"

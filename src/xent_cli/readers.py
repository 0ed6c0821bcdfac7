"""Bytes → arrays: CSV, TSV, whitespace text, ``.npy`` and ``.npz`` from files or stdin.

Every source keeps what it needs to point at a cell, so a later check can say
``FILE:LINE:COLUMN: what is wrong`` (text) or ``FILE: row R, column C: what is wrong``
(arrays), 1-based as GNU tools do.  Nothing here unpickles: ``.npy``/``.npz`` are read
with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

import numpy as np

from .errors import InputError, MissingInputError, UsageError

STDIN = "-"
STDIN_NAME = "<stdin>"
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")
PLAIN_INF = frozenset({"inf", "+inf", "infinity", "+infinity"})
MINUS_INF = frozenset({"-inf", "-infinity"})
FAST_BYTES = 4 << 20  # text inputs larger than this go to polars when the fast extra is there
FAST_BYTES_LOADED = 64 << 10  # once polars is imported, it reads smaller files too
HEAD_BYTES = 1 << 20  # of a larger file only this much is read before parsing


if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]


class Source(Protocol):
    """A parsed input: a grid of cells that can be read as numbers or as strings."""

    name: str
    header: list[str] | None
    n_rows: int
    n_columns: int
    dtype: np.dtype[np.generic]

    def where(self, row: int, column: int | None = None) -> str:
        """Where a 0-based data cell is, for an error message."""
        ...

    def numbers(self, columns: Sequence[int] | None = None, *, allow_minus_inf: bool) -> FloatArray:
        """The chosen columns (default all) as an (n_rows, len(columns)) float64 array."""
        ...

    def strings(self, column: int) -> list[str]:
        """One column as text, for labels given as class names."""
        ...

    def is_numeric(self, column: int) -> bool:
        """True when ``column`` holds numbers (not class names)."""
        ...


# What np.loadtxt accepts as a float: ASCII decimal notation, inf/infinity, nan; not
# Python's extras (``1_000``, non-ASCII digits), so both parsers agree on every cell.
_NUMBER = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)", re.IGNORECASE | re.ASCII
)


def parse_number(text: str) -> float | None:
    """The float a cell holds, or ``None`` when it is not a number.

    >>> parse_number(" 1.5e3 "), parse_number("-inf"), parse_number("1_0"), parse_number("")
    (1500.0, -inf, None, None)
    """
    stripped = text.strip(" \t")
    return float(stripped) if _NUMBER.fullmatch(stripped) else None


def _is_number(text: str) -> bool:
    return parse_number(text) is not None


def _split_line(line: str, delimiter: str | None) -> list[str]:
    """Split one line into stripped cells; quotes are honoured for ',' and tab."""
    if delimiter is None:
        return line.split()
    if '"' in line:
        import csv

        return [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter))]
    return [cell.strip() for cell in line.split(delimiter)]


def _sniff_delimiter(name: str, first_line: str) -> str | None:
    """',' or tab by extension, else by what the first line holds; ``None`` is whitespace."""
    suffix = Path(name).suffix.lower()
    tabs, commas = first_line.count("\t"), first_line.count(",")
    if suffix in {".tsv", ".tab"} and (tabs or not commas):
        return "\t"
    if suffix == ".csv" and (commas or not tabs):
        return ","
    if tabs > commas:
        return "\t"
    if commas:
        return ","
    if len(first_line.split()) > 1:
        return None
    return ","


@dataclass
class TextSource:
    """CSV/TSV/whitespace text, kept as bytes: numbers go straight to ``np.loadtxt``.

    The whole text is decoded and split into lines only when a bad cell must be found
    (with its line and column) or labels are read as class names.
    """

    name: str
    head: bytes  # all of the input, or (``path`` set) the start of a large file
    first_line: int  # the 1-based line number of the first data row
    delimiter: str | None
    header: list[str] | None
    n_columns: int
    first_row: list[str]  # the cells of the first data row
    path: str | None = None  # a regular file np.loadtxt may read itself (fastest)
    dtype: np.dtype[np.generic] = field(default_factory=lambda: np.dtype(np.float64))
    size: int = -1  # bytes in the whole input (-1: ``len(head)``)
    _cells: dict[int, list[str]] = field(default_factory=dict, repr=False)
    _split: tuple[list[str], list[int]] | None = field(default=None, repr=False)
    _row_count: int | None = field(default=None, repr=False)

    @property
    def data(self) -> bytes:
        """All the bytes (a large file is read in full only on the error path)."""
        if self.size > len(self.head) and self.path is not None:
            self.head = Path(self.path).read_bytes()
            self.size = len(self.head)
        return self.head

    @property
    def n_bytes(self) -> int:
        return self.size if self.size >= 0 else len(self.head)

    def _lines(self) -> tuple[list[str], list[int]]:
        if self._split is None:
            lines: list[str] = []
            numbers: list[int] = []
            text = _decode(self.name, self.data)
            for index, raw in enumerate(text.split("\n"), start=1):
                if index < self.first_line:
                    continue
                line = raw.rstrip("\r")
                if line.strip():
                    lines.append(line)
                    numbers.append(index)
            self._split = (lines, numbers)
        return self._split

    @property
    def lines(self) -> list[str]:
        """The non-blank data lines."""
        return self._lines()[0]

    @property
    def line_numbers(self) -> list[int]:
        """The 1-based line number of each data line."""
        return self._lines()[1]

    @property
    def n_rows(self) -> int:
        if self._row_count is None:
            self._row_count = len(self.lines)
        return self._row_count

    def cells(self, row: int) -> list[str]:
        """The stripped cells of data row ``row`` (cached: error paths ask twice)."""
        if row not in self._cells:
            self._cells[row] = _split_line(self.lines[row], self.delimiter)
        return self._cells[row]

    def _char_column(self, row: int, column: int) -> int:
        """1-based character column where cell ``column`` of ``row`` starts."""
        line = self.lines[row]
        if self.delimiter is None:
            position = 0
            for index, token in enumerate(line.split()):
                position = line.index(token, position)
                if index == column:
                    return position + 1
                position += len(token)
            return len(line) + 1
        position = 0
        for _ in range(column):
            found = line.find(self.delimiter, position)
            if found < 0:
                return len(line) + 1
            position = found + 1
        while position < len(line) and line[position] in " \t" and line[position] != self.delimiter:
            position += 1
        return position + 1

    def where(self, row: int, column: int | None = None) -> str:
        line = self.line_numbers[row]
        char = 1 if column is None else self._char_column(row, column)
        return f"{self.name}:{line}:{char}"

    def where_end(self) -> str:
        """The position just past the last data line (for 'missing rows' errors)."""
        last = self.line_numbers[-1] if self.line_numbers else 1
        return f"{self.name}:{last + 1}:1"

    def _check_widths(self) -> None:
        for row in range(self.n_rows):
            cells = self.cells(row)
            if len(cells) != self.n_columns:
                what = "header" if self.header is not None else "first row"
                raise InputError(
                    self.where(row, min(len(cells), self.n_columns)),
                    f"row has {len(cells)} fields but the {what} has {self.n_columns}",
                )

    def _bad_cell(self, row: int, column: int, *, allow_minus_inf: bool) -> InputError | None:
        text = self.cells(row)[column]
        where = self.where(row, column)
        if text == "":
            return InputError(where, f"field {column + 1} is empty, not a number")
        value = parse_number(text)
        if value is None:
            return InputError(where, f"field {column + 1} is {text!r}, not a number")
        lowered = text.lower()
        if math.isnan(value):
            return InputError(
                where, f"field {column + 1} is {text!r} (NaN); every value must be a number"
            )
        if math.isinf(value):
            if lowered in PLAIN_INF:
                return InputError(
                    where, f"field {column + 1} is +∞; only −∞ (a masked class) is allowed"
                )
            if lowered in MINUS_INF:
                if allow_minus_inf:
                    return None
                return InputError(where, f"field {column + 1} is −∞, which is not allowed here")
            return InputError(
                where,
                f"field {column + 1} is {text!r}, which overflows float64"
                + ("; write -inf for a masked class" if value < 0 and allow_minus_inf else ""),
            )
        return None

    def _first_bad(self, columns: Sequence[int], *, allow_minus_inf: bool) -> InputError | None:
        for row in range(self.n_rows):
            for column in columns:
                error = self._bad_cell(row, column, allow_minus_inf=allow_minus_inf)
                if error is not None:
                    return error
        return None

    def _parse(self, lines: Any, chosen: list[int], every: bool, **options: Any) -> FloatArray:
        values: FloatArray = np.loadtxt(
            lines,
            delimiter=self.delimiter,
            dtype=np.float64,
            ndmin=2,
            usecols=None if every else chosen,  # usecols would let longer rows through
            comments=None,
            **options,
        )
        return values

    def numbers(self, columns: Sequence[int] | None = None, *, allow_minus_inf: bool) -> FloatArray:
        chosen = list(range(self.n_columns)) if columns is None else list(columns)
        every = chosen == list(range(self.n_columns))
        fast = self._polars(chosen) if every else None
        try:  # the file or bytes as they are (np.loadtxt skips empty lines, as xent does)
            values = (
                fast
                if fast is not None
                else self._parse(
                    self.path if self.path is not None else io.BytesIO(self.head),
                    chosen,
                    every,
                    skiprows=self.first_line - 1,
                    encoding="utf-8-sig",
                    quotechar='"' if b'"' in self.head else None,  # a later quote: slow path
                )
            )
        except (ValueError, UnicodeDecodeError):
            values = self._numbers_by_line(chosen, every, allow_minus_inf=allow_minus_inf)
        if values.shape[1] != len(chosen):
            self._check_widths()
            raise InputError(self.where(0), "could not read the rows as a table of numbers")
        self._row_count = int(values.shape[0])
        if not every:
            self._check_widths()
        nonfinite = ~np.isfinite(values)
        if nonfinite.any():
            rows, cols = np.nonzero(nonfinite)
            for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
                error = self._bad_cell(row, chosen[col], allow_minus_inf=allow_minus_inf)
                if error is not None:
                    raise error
        return values

    def _polars(self, chosen: list[int]) -> FloatArray | None:
        """The ``fast`` extra: polars' parser for large inputs, or ``None`` to use numpy's.

        Anything polars does not read cleanly (a blank or short line, a non-number, bad
        UTF-8) gives ``None``: the numpy path then reads it, or names the bad cell.
        """
        loaded = "polars" in sys.modules  # its import (~0.3 s) is paid already
        small = self.n_bytes < (FAST_BYTES_LOADED if loaded else FAST_BYTES)
        if self.delimiter is None or small or os.environ.get("XENT_NO_FAST"):
            return None
        try:
            import polars as pl
        except ImportError:
            return None
        try:
            frame = pl.read_csv(
                self.path if self.path is not None else io.BytesIO(self.head),
                has_header=False,
                skip_rows=self.first_line - 1,
                separator=self.delimiter,
                quote_char='"',
                infer_schema=False,
                schema_overrides=[pl.Float64] * len(chosen),
                truncate_ragged_lines=False,
            )
            if frame.width != len(chosen) or frame.null_count().sum_horizontal().item():
                return None
            values: FloatArray = np.ascontiguousarray(frame.to_numpy(order="c"), dtype=np.float64)
        except Exception:  # any failure of the optional reader means: use numpy
            return None
        return values

    def _numbers_by_line(
        self, chosen: list[int], every: bool, *, allow_minus_inf: bool
    ) -> FloatArray:
        """The slow path: line by line, so that a bad cell is found with its position."""
        try:
            values = self._parse(self.lines, chosen, every, quotechar='"')
        except ValueError:
            self._check_widths()
            error = self._first_bad(chosen, allow_minus_inf=allow_minus_inf)
            raise error or InputError(self.where(0), "could not read the rows as numbers") from None
        if values.shape[0] != len(self.lines):
            raise InputError(self.where(0), "could not read the rows as a table of numbers")
        return values

    def strings(self, column: int) -> list[str]:
        self._check_widths()
        return [self.cells(row)[column] for row in range(self.n_rows)]

    def is_numeric(self, column: int) -> bool:
        """Judged by the first data row: a later non-number is then an error with its place."""
        return column < len(self.first_row) and _is_number(self.first_row[column])


def array_where(name: str, row: int, column: int | None) -> str:
    """A 0-based cell of an array, as messages say it: ``NAME: row R, column C`` (1-based).

    >>> array_where("z.npy", 0, 2), array_where("z.npy", 4, None)
    ('z.npy: row 1, column 3', 'z.npy: row 5')
    """
    if column is None:
        return f"{name}: row {row + 1}"
    return f"{name}: row {row + 1}, column {column + 1}"


@dataclass
class ArraySource:
    """A 1-D or 2-D array from ``.npy``/``.npz``; 1-D arrays are one column."""

    name: str
    array: np.ndarray
    header: list[str] | None = None

    @property
    def n_rows(self) -> int:
        return int(self.array.shape[0])

    @property
    def n_columns(self) -> int:
        return 1 if self.array.ndim == 1 else int(self.array.shape[1])

    @property
    def dtype(self) -> np.dtype[np.generic]:
        return self.array.dtype

    def where(self, row: int, column: int | None = None) -> str:
        return array_where(self.name, row, column)

    def where_end(self) -> str:
        return array_where(self.name, self.n_rows, None)

    def _matrix(self) -> np.ndarray:
        return self.array.reshape(-1, 1) if self.array.ndim == 1 else self.array

    def numbers(self, columns: Sequence[int] | None = None, *, allow_minus_inf: bool) -> FloatArray:
        matrix = self._matrix()
        if matrix.dtype.kind not in "biuf":
            raise InputError(self.where(0), f"holds {matrix.dtype} values, not numbers")
        if columns is not None:
            matrix = matrix[:, list(columns)]
        values = np.asarray(matrix, dtype=np.float64)
        check_values(values, self.where, allow_minus_inf=allow_minus_inf)
        return values

    def strings(self, column: int) -> list[str]:
        matrix = self._matrix()
        return [str(value) for value in matrix[:, column].tolist()]

    def is_numeric(self, column: int) -> bool:
        return self.array.dtype.kind in "biuf"


def check_values(
    values: FloatArray,
    where: Callable[[int, int | None], str],
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
        hint = "; only −∞ (a masked class) is allowed" if what == "+∞" else ""
        raise InputError(where(row + row_offset, col), f"value is {what}{hint}")


def _decode(name: str, data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise InputError(
            f"{name}:{line}:{column}",
            f"byte 0x{byte} is not UTF-8 text; save the file as UTF-8 (or as .npy)",
        ) from None
    return text.removeprefix("\ufeff")


def _first_nonblank(name: str, data: bytes, start: int, line: int) -> tuple[str, int, int] | None:
    """The first non-blank line at byte ``start`` or after: (text, its line number, end).

    ``line`` is the number of the line at ``start``; only that line is decoded.

    >>> _first_nonblank("x", b"\\n  \\na,b\\r\\n1,2", 0, 1)
    ('a,b', 3, 8)
    """
    position = start
    while position < len(data):
        end = data.find(b"\n", position)
        end = len(data) if end < 0 else end
        raw = data[position:end]
        if raw.strip():
            try:
                text = raw.decode("utf-8").removeprefix("\ufeff").rstrip("\r")
            except UnicodeDecodeError:
                _decode(name, data)  # raises with the line and column
                raise
            if text.strip():
                return text, line, end
        position, line = end + 1, line + 1
    return None


def parse_text(
    name: str,
    data: bytes,
    *,
    class_names: Sequence[str] | None = None,
    path: str | None = None,
    size: int = -1,
) -> TextSource:
    """Parse delimited text into a :class:`TextSource`.

    A header is the first row when one of its cells is not a number; in a one-column
    file of class names, when the first row is not one of ``class_names``.  Passing
    ``class_names`` (even empty) marks a labels file, whose single row is data, not a header.
    ``path`` names a regular file holding ``data``, which ``np.loadtxt`` reads fastest;
    with ``size`` larger than ``len(data)``, ``data`` is just its start.

    >>> source = parse_text("p.csv", b"cat,dog\\r\\n0.5,1.5\\r\\n\\r\\n")
    >>> source.header, source.n_rows, source.numbers(allow_minus_inf=True).tolist()
    (['cat', 'dog'], 1, [[0.5, 1.5]])
    """
    if b"\x00" in data[:4096]:
        nul_line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise InputError(
            f"{name}:{nul_line}:1", "binary data (NUL bytes), not CSV/TSV text or .npy"
        )
    first = _first_nonblank(name, data, 0, 1)
    if first is None:
        raise InputError(f"{name}:1:1", "the input is empty (no rows)")
    line, number, end = first
    delimiter = _sniff_delimiter(name, line)
    cells = _split_line(line, delimiter)
    following = _first_nonblank(name, data, end + 1, number + 1)
    header: list[str] | None = None
    if not all(_is_number(cell) for cell in cells):
        known = set(class_names or ())
        lone_row = class_names is not None and following is None  # labels: a lone row is data
        if not (len(cells) == 1 and cells[0] in known) and not lone_row:
            header = cells
    if header is None:
        return TextSource(name, data, 1, delimiter, None, len(cells), cells, path, size=size)
    if following is None:
        raise InputError(f"{name}:{number + 1}:1", "there is a header but no data rows")
    first_row = _split_line(following[0], delimiter)
    return TextSource(
        name, data, number + 1, delimiter, header, len(header), first_row, path, size=size
    )


def _check_array(name: str, array: np.ndarray) -> ArraySource:
    if array.dtype.kind == "O":
        raise InputError(name, "holds Python objects (a pickle); xent never unpickles")
    if array.dtype.kind not in "biufUS":
        raise InputError(name, f"holds {array.dtype} values, not numbers or class names")
    if array.ndim == 0:
        raise InputError(name, "is a single value (0-D); give a 1-D or 2-D array")
    if array.ndim > 2:
        shape = "×".join(str(n) for n in array.shape)
        raise InputError(name, f"is {array.ndim}-D (shape {shape}); give a 1-D or 2-D array")
    if array.shape[0] == 0 or (array.ndim == 2 and array.shape[1] == 0):
        raise InputError(name, f"is empty (shape {array.shape})")
    if array.dtype.kind == "S":
        array = np.char.decode(array, "utf-8", errors="replace")
    return ArraySource(name=name, array=array)


def parse_npy(name: str, data: bytes) -> ArraySource:
    """Read a ``.npy`` image (pickles refused) into an :class:`ArraySource`."""
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _unreadable(name, ".npy", exc) from None
    return _check_array(name, array)


def _unreadable(name: str, kind: str, exc: Exception) -> InputError:
    """What numpy could not load: a pickle (refused), or a damaged ``kind`` file.

    >>> _unreadable("x.npy", ".npy", ValueError("Object arrays cannot be loaded")).message
    'x.npy: holds Python objects (a pickle); xent never unpickles'
    """
    text = str(exc).lower()
    if isinstance(exc, ValueError) and ("pickle" in text or "object" in text):
        return InputError(name, "holds Python objects (a pickle); xent never unpickles")
    return InputError(name, f"is not a valid {kind} file ({_short(exc)})")


def parse_npz(name: str, data: bytes, key: str | None) -> ArraySource:
    """Read one array (``key``, or the only one) of a ``.npz`` archive, pickles refused."""
    import zipfile  # only archives need it: keeps start-up short

    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            keys = list(archive.files)
            if key is None:
                if len(keys) != 1:
                    listed = ", ".join(keys) or "none"
                    raise UsageError(
                        f"{name} holds several arrays ({listed}); choose one with --key NAME"
                    )
                key = keys[0]
            elif key not in keys:
                listed = ", ".join(keys) or "none"
                raise UsageError(f"{name} has no array {key!r}; it holds: {listed}")
            array = archive[key]
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise _unreadable(name, ".npz", exc) from None
    return _check_array(f"{name}[{key}]", array)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def read_bytes(path: str, stdin: BinaryIO | None) -> tuple[str, bytes]:
    """The display name and bytes of ``path`` (``-`` is stdin)."""
    if path == STDIN:
        if stdin is None:  # <&-
            raise MissingInputError(f"{STDIN_NAME}: standard input is closed")
        return STDIN_NAME, stdin.read()
    file = Path(path)
    try:
        return path, file.read_bytes()
    except FileNotFoundError:
        raise MissingInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise MissingInputError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise MissingInputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise MissingInputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def parse(
    name: str,
    data: bytes,
    *,
    key: str | None = None,
    class_names: Sequence[str] | None = None,
    path: str | None = None,
    size: int = -1,
) -> TextSource | ArraySource:
    """Parse bytes by their content: ``.npy`` and ``.npz`` by magic number, else text.

    With ``size`` larger than ``len(data)`` (a large file at ``path``), ``data`` is only
    its start: enough for text, and binary formats are read whole.
    """
    if size > len(data) and path is not None and data.startswith((NPY_MAGIC, ZIP_MAGIC)):
        data, size = Path(path).read_bytes(), -1
    suffix = Path(name).suffix.lower()
    if data.startswith(NPY_MAGIC):
        return parse_npy(name, data)
    if data.startswith(ZIP_MAGIC):
        return parse_npz(name, data, key)
    if suffix == ".npy":
        raise InputError(name, "is not a .npy file (it does not start with the NumPy magic bytes)")
    if suffix == ".npz":
        raise InputError(name, "is not a .npz file (it is not a zip archive)")
    if data.startswith(PICKLE_MAGIC):
        raise InputError(
            name, "looks like a Python pickle; xent never unpickles (save with np.save)"
        )
    return parse_text(name, data, class_names=class_names, path=path, size=size)


def read(
    path: str,
    *,
    stdin: BinaryIO | None = None,
    key: str | None = None,
    class_names: Sequence[str] | None = None,
) -> TextSource | ArraySource:
    """Read and parse one input (``-`` is stdin)."""
    if path != STDIN and os.path.isfile(path):
        size = os.path.getsize(path)
        if size > HEAD_BYTES:
            head = _read_head(path)
            if head.count(b"\n") >= 2:  # the header and a first row are in it
                return parse(path, head, key=key, class_names=class_names, path=path, size=size)
    name, data = read_bytes(path, stdin)  # small enough to parse from memory
    return parse(name, data, key=key, class_names=class_names)


def _read_head(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError:
        return b""  # read_bytes names the problem

"""Delimited text: CSV, TSV and whitespace-separated tables, from files or stdin.

Every source keeps what it needs to point at a cell, so a later check can say
``FILE:LINE:COLUMN: what is wrong`` (1-based, as GNU tools do). Fields are quoted as RFC
4180 has it: a quoted field may hold the delimiter, ``""`` for a quote, and line breaks;
its blanks are kept, while an unquoted field is stripped.
"""

from __future__ import annotations

import io
import math
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from xent_cli.errors import InputError
from xent_cli.options import DELIMITER_AUTO, DELIMITER_BLANKS
from xent_cli.parallel import threads

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    LineNumbers = Sequence[int] | npt.NDArray[np.int64]  # each data line's 1-based number

os.environ.setdefault("POLARS_MAX_THREADS", str(threads()))  # read at polars' import
AUTO = DELIMITER_AUTO  # the delimiter: sniffed from the first lines
BLANKS = DELIMITER_BLANKS  # the delimiter: runs of spaces and tabs
BOOLEANS = frozenset({"true", "false"})
PLAIN_INF = frozenset({"inf", "+inf", "infinity", "+infinity"})
MINUS_INF = frozenset({"-inf", "-infinity"})
FAST_BYTES = 4 << 20  # text inputs larger than this go to polars when the fast extra is there
POLARS_COLUMNS = 10_000  # wider rows go to numpy's reader (polars' memory grows with width)
FAST_BYTES_LOADED = 64 << 10  # once polars is imported, it reads smaller files too


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


_DECIMAL_COMMA = re.compile(r"\s*[-+]?\d+,\d+(?:[eE][-+]?\d+)?\s*")


def decimal_comma(text: str) -> bool:
    """Whether a cell is a number written with a decimal comma (``0,5``): data a header
    must not swallow, and a mistake worth naming.

    >>> decimal_comma("0,5"), decimal_comma("-1,25e-3"), decimal_comma("cat"), decimal_comma("1")
    (True, True, False, False)
    """
    return _DECIMAL_COMMA.fullmatch(text) is not None


def _split_line(line: str, delimiter: str | None) -> list[str]:
    r"""Split one record into cells: unquoted cells stripped, quoted ones as written.

    >>> _split_line(' a , b ', ",")
    ['a', 'b']
    >>> _split_line('"a,b", c ," d","x\ny"', ",")
    ['a,b', 'c', ' d', 'x\ny']
    >>> _split_line('13",15"', ",")  # a quote inside a field does not quote it
    ['13"', '15"']
    """
    if delimiter is None:
        return line.split()
    if '"' in line:
        return _scan(line, delimiter)[0]
    return [cell.strip() for cell in line.split(delimiter)]


def _scan(line: str, delimiter: str) -> tuple[list[str], bool]:
    """The cells of a record with quoted fields (RFC 4180), and whether it stops inside one.

    A field is quoted when its first non-blank character is ``"``; then ``""`` is a quote
    and what stands between the quotes is kept as it is, delimiters and line breaks too.
    A record that stops inside a quoted field goes on with the next line.

    >>> _scan('"a""b", c', ","), _scan('x,"two', ",")
    ((['a"b', 'c'], False), (['x', 'two'], True))
    """
    cells: list[str] = []
    position, length = 0, len(line)
    while True:
        start = position
        while start < length and line[start] in " \t" and line[start] != delimiter:
            start += 1
        if start < length and line[start] == '"':
            pieces: list[str] = []
            cursor = start + 1
            while True:
                close = line.find('"', cursor)
                if close < 0:  # not closed: the record goes on
                    pieces.append(line[cursor:])
                    cells.append("".join(pieces))
                    return cells, True
                pieces.append(line[cursor:close])
                if line.startswith('"', close + 1):
                    pieces.append('"')
                    cursor = close + 2
                else:
                    cursor = close + 1
                    break
            end = line.find(delimiter, cursor)
            cells.append("".join(pieces) + line[cursor : length if end < 0 else end].strip())
        else:
            end = line.find(delimiter, position)
            cells.append(line[position : length if end < 0 else end].strip())
        if end < 0:
            return cells, False
        position = end + 1


def _open_quote(record: str, delimiter: str | None) -> bool:
    """Whether ``record`` stops inside a quoted field, so its next line belongs to it."""
    return delimiter is not None and '"' in record and _scan(record, delimiter)[1]


QUOTED = r'"(?:[^"]|"")*"'  # a quoted field's text (compiled when a line holds a quote)


def _sniff_delimiter(name: str, first_line: str, second_line: str | None = None) -> str | None:
    r"""',' or tab by extension, else by what the first line holds outside quoted text: a
    comma, a tab or a semicolon (where it holds several, the one the next line holds as
    often, else the most frequent); ``None`` is runs of blanks. Decimal commas are not
    guessed.

    >>> _sniff_delimiter("-", "a,b\tc,d\te", "0.2\t0.3\t0.5"), _sniff_delimiter("-", "1 2")
    ('\t', None)
    >>> _sniff_delimiter("p.csv", "0.5;1.5"), _sniff_delimiter("-", "a;b,c;d", "1;2;3")
    (';', ';')
    """
    suffix = Path(name).suffix.lower()
    counts = _delimiters(first_line)
    found = [d for d in DELIMITERS if counts[d]]
    if suffix in {".tsv", ".tab"} and (counts["\t"] or not found):
        return "\t"
    if suffix == ".csv" and (counts[","] or not found):
        return ","
    if len(found) > 1 and second_line is not None:
        following = _delimiters(second_line)
        steady = [d for d in found if following[d] == counts[d]]
        if len(steady) == 1:
            return steady[0]
    if found == ["\t"] and _blank_runs(first_line, second_line):
        return None
    if found:
        return max(found, key=lambda d: counts[d])  # ties: the first of DELIMITERS
    if len(first_line.split()) > 1:
        return None
    return ","


DELIMITERS = (",", "\t", ";")


def _blank_runs(first_line: str, second_line: str | None) -> bool:
    """Whether tabs are some of the blanks between fields, not the delimiter: the data
    line (the second, or the first alone) has more fields by blanks than by tabs."""
    probe = first_line if second_line is None else second_line
    return len(probe.split()) != probe.count("\t") + 1


def _delimiters(line: str) -> dict[str, int]:
    """How often each delimiter stands outside quoted text."""
    bare = re.sub(QUOTED, "", line) if '"' in line else line
    return {delimiter: bare.count(delimiter) for delimiter in DELIMITERS}


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
    integer_header: bool = False  # the header is pandas' 0,1,…,K−1: could be a row of data
    line_offset: int = 0  # lines of the file before ``head`` (a piece of a large file)
    _cells: dict[int, list[str]] = field(default_factory=dict, repr=False)
    _split: tuple[Sequence[str], LineNumbers] | None = field(default=None, repr=False)
    _row_count: int | None = field(default=None, repr=False)
    _last_line: int = field(default=1, repr=False)  # the last line of the last record

    def reread(self, *, header: bool) -> TextSource:
        """The same text read with its first row as a header (``True``) or as data."""
        delimiter = BLANKS if self.delimiter is None else self.delimiter
        return parse_text(
            self.name, self.head, path=self.path, size=self.size, header=header, delimiter=delimiter
        )

    @property
    def data(self) -> bytes:
        """All the bytes (a large file is read in full only on the error path)."""
        if self.size > len(self.head) and self.path is not None:
            self.head = universal_newlines(Path(self.path).read_bytes())
            self.size = len(self.head)
        return self.head

    @property
    def n_bytes(self) -> int:
        return self.size if self.size >= 0 else len(self.head)

    def _lines(self) -> tuple[Sequence[str], LineNumbers]:
        if self._split is None:
            lines: list[str] = []
            numbers: list[int] = []
            data = self.data
            decode(self.name, data)  # UTF-8 throughout, or an error at the bad byte
            start = self.first_line - 1
            if b'"' not in data or self.delimiter is None:  # a record is a line: fast
                kept = LineIndex.of(data, start)
                self._last_line = int(kept.numbers[-1]) if len(kept) else 1
                self._split = (kept, kept.numbers)
                return self._split
            physical = data.decode("utf-8").removeprefix("\ufeff").split("\n")
            index = start
            while index < len(physical):
                line = physical[index].rstrip("\r")
                number = index + 1
                while _open_quote(line, self.delimiter):  # a line break inside quotes
                    if index + 1 >= len(physical):
                        raise _unclosed(self.name, number)
                    index += 1
                    line += "\n" + physical[index].rstrip("\r")
                if line.strip():
                    lines.append(line)
                    numbers.append(number)
                    self._last_line = index + 1
                index += 1
            self._split = (lines, numbers)
        return self._split

    @property
    def lines(self) -> Sequence[str]:
        """The non-blank data records (a record spans lines where a quoted field does)."""
        return self._lines()[0]

    @property
    def line_numbers(self) -> LineNumbers:
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
        line = self.line_numbers[row] + self.line_offset
        char = 1 if column is None else self._char_column(row, column)
        return f"{self.name}:{line}:{char}"

    def where_end(self) -> str:
        """The position just past the last data line (for 'missing rows' errors)."""
        self._lines()
        return f"{self.name}:{self._last_line + 1 + self.line_offset}:1"

    def _check_widths(self, rows: range | None = None) -> None:
        for row in range(self.n_rows) if rows is None else rows:
            cells = _split_line(self.lines[row], self.delimiter)  # counted, let go: no cache
            if len(cells) != self.n_columns:
                what = "header" if self.header is not None else "first row"
                raise InputError(
                    self.where(row, min(len(cells), self.n_columns)),
                    f"row has {len(cells)} fields but the {what} has {self.n_columns}",
                )

    def _bad_cell(
        self, row: int, column: int, *, allow_minus_inf: bool, cells: list[str] | None = None
    ) -> InputError | None:
        cells = self.cells(row) if cells is None else cells
        if column >= len(cells):  # a short row (a line of blanks only, as NBSP): said so
            self._check_widths(range(row, row + 1))
            return InputError(self.where(row), f"row has no field {column + 1}")
        text = cells[column]
        where = self.where(row, column)
        if text == "":
            return InputError(where, f"field {column + 1} is empty, not a number")
        value = parse_number(text)
        if value is None:
            hint = "; a decimal comma? write it with '.'" if decimal_comma(text) else ""
            return InputError(where, f"field {column + 1} is {_shown(text)}, not a number{hint}")
        lowered = text.lower()
        if math.isnan(value):
            return InputError(
                where, f"field {column + 1} is {_shown(text)} (NaN); every value must be a number"
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
                f"field {column + 1} is {_shown(text)}, which overflows float64"
                + ("; write -inf for a masked class" if value < 0 and allow_minus_inf else ""),
            )
        return None

    def _first_bad(
        self, columns: Sequence[int], *, allow_minus_inf: bool, rows: range | None = None
    ) -> InputError | None:
        for row in range(self.n_rows) if rows is None else rows:
            cells = _split_line(self.lines[row], self.delimiter)  # not cached: one at a time
            for column in columns:
                error = self._bad_cell(row, column, allow_minus_inf=allow_minus_inf, cells=cells)
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
        wide = len(chosen) > POLARS_COLUMNS  # polars takes minutes and GBs on such rows
        if self.delimiter is None or small or wide or os.environ.get("XENT_NO_FAST"):
            return None
        if not room_for_polars(self.n_bytes):
            return None
        try:
            import polars as pl
        except ImportError:
            return None
        source = self.path if self.path is not None else io.BytesIO(self.head)
        options: dict[str, Any] = {
            "has_header": False,
            "separator": self.delimiter,
            "quote_char": '"',
            "infer_schema": False,
            "schema_overrides": [pl.Float64] * len(chosen),
            "truncate_ragged_lines": False,
        }
        try:
            try:  # the header's lines skipped as lines: quotes in it must not mislead polars
                frame = pl.read_csv(source, skip_lines=self.first_line - 1, **options)
            except TypeError:  # a polars without skip_lines: its skip_rows follows quotes
                if self.header is not None and any('"' in n or "\n" in n for n in self.header):
                    return None
                frame = pl.read_csv(source, skip_rows=self.first_line - 1, **options)
            if frame.width != len(chosen) or frame.null_count().sum_horizontal().item():
                return None
            values: FloatArray = np.ascontiguousarray(frame.to_numpy(order="c"), dtype=np.float64)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # any failure of polars (a Rust panic too): numpy
            interrupted(error)
            return None
        return values

    def _numbers_by_line(
        self, chosen: list[int], every: bool, *, allow_minus_inf: bool
    ) -> FloatArray:
        """The slow path: a block of lines at a time, so that a bad cell is found with its
        position by looking at the lines of the one block that failed."""
        lines = self.lines
        parts = []
        for start in range(0, max(1, len(lines)), ROWS_A_BLOCK):
            stop = min(len(lines), start + ROWS_A_BLOCK)
            block: Any = (
                io.BytesIO(lines.block(start, stop))
                if isinstance(lines, LineIndex)
                else lines[start:stop]
            )
            try:
                values = self._parse(block, chosen, every, quotechar='"', encoding="utf-8")
            except ValueError:
                rows = range(start, stop)
                self._check_widths(rows)
                error = self._first_bad(chosen, allow_minus_inf=allow_minus_inf, rows=rows)
                raise error or InputError(
                    self.where(start), "could not read the rows as numbers"
                ) from None
            if values.shape[0] != stop - start:
                raise InputError(self.where(start), "could not read the rows as a table of numbers")
            parts.append(values)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def strings(self, column: int) -> list[str]:
        self._check_widths()
        return [self.cells(row)[column] for row in range(self.n_rows)]

    def is_numeric(self, column: int) -> bool:
        """Judged by the first data row: a later non-number is then an error with its place."""
        return column < len(self.first_row) and _is_number(self.first_row[column])


_LONE_CR = re.compile(rb"\r(?!\n)")


def universal_newlines(data: bytes) -> bytes:
    """A lone CR ends a line, as LF and CRLF do: Python's text mode, pandas and
    ``np.loadtxt`` of a file read it so, and so every size and source reads the same rows
    (old Mac files, a stray CR; a quoted field's CR becomes LF too, as in text mode).

    >>> universal_newlines(b"a,b\\r1,2\\r\\n3,4\\r")
    b'a,b\\n1,2\\r\\n3,4\\n'
    """
    return _LONE_CR.sub(b"\n", data) if b"\r" in data else data


POLARS_ADDRESS_SPACE = 2 << 30  # polars' import reserves ~0.5 GB, a read ~1.3 GB + 3× the file


def room_for_polars(size: int) -> bool:
    """Whether the process's address-space limit (``ulimit -v``, ``prlimit --as`` or
    ``--data``) leaves polars room: it reserves address space up front and, refused,
    aborts the process (SIGABRT: no exception to catch). Under a tighter limit numpy's
    reader reads the text, in less memory.
    """
    import resource

    limits = [resource.getrlimit(kind)[0] for kind in (resource.RLIMIT_AS, resource.RLIMIT_DATA)]
    needed = POLARS_ADDRESS_SPACE + 4 * size
    return all(limit == resource.RLIM_INFINITY or limit >= needed for limit in limits)


def interrupted(error: BaseException) -> None:
    """Ctrl-C while polars works reaches it as a Python error inside Rust, which panics:
    a panic that says so is the interrupt, raised again (else the read would go on)."""
    if "KeyboardInterrupt" in str(error):
        raise KeyboardInterrupt from None


def _shown(text: str, limit: int = 40) -> str:
    """A cell as a message quotes it: in quotes, cut short past ``limit`` characters.

    >>> _shown("oops"), _shown("9" * 50)
    ("'oops'", "'9999999999999999999999999999999999999999…' (50 characters)")
    """
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}"[:-1] + f"…' ({len(text):,} characters)"


ROWS_A_BLOCK = 1 << 16  # lines parsed at a time where the whole would not parse
BLANK_BYTES = np.zeros(256, dtype=np.uint8)
BLANK_BYTES[[9, 10, 11, 12, 13, 32]] = 1  # what str.strip() takes away, in ASCII


def nonblank_lines(
    data: bytes,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    """Where each non-blank line of ``data`` starts and ends (a BOM and a final line break
    left out), its 1-based number, and how many line breaks ``data`` holds.

    >>> starts, ends, numbers, breaks = nonblank_lines(b"\\xef\\xbb\\xbf\\n1,2\\n \\n3\\r\\n")
    >>> starts.tolist(), ends.tolist(), numbers.tolist(), breaks
    ([4, 10], [7, 12], [2, 4], 4)
    """
    codes = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(codes == 10)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [codes.size]))
    if data.startswith(b"\xef\xbb\xbf"):
        starts[0] = min(3, int(ends[0]))
    inside = starts < ends  # an empty line, or the "line" after a final break, is blank
    kept = np.zeros(starts.size, dtype=bool)
    if inside.any():
        first = BLANK_BYTES[codes[starts[inside]]] == 0
        if first.all():  # every line starts with a byte that is not blank: a quick answer
            kept[inside] = True
        else:
            filled = 1 - BLANK_BYTES[codes]  # 1 where a byte is not blank
            kept[inside] = np.maximum.reduceat(filled, starts[inside]) > 0
    numbers = np.arange(1, starts.size + 1)
    return starts[kept], ends[kept], numbers[kept], int(breaks.size)


class LineIndex(Sequence[str]):
    """The non-blank lines of a text, kept as offsets into its bytes: 16 bytes a line, not
    a Python string each (6 million lines took 1.6 GB as a list), decoded when asked for."""

    def __init__(
        self,
        data: bytes,
        starts: npt.NDArray[np.int64],
        ends: npt.NDArray[np.int64],
        numbers: npt.NDArray[np.int64],
    ) -> None:
        self.data, self.starts, self.ends, self.numbers = data, starts, ends, numbers

    @classmethod
    def of(cls, data: bytes, skip: int) -> LineIndex:
        """The non-blank lines of ``data`` after its first ``skip`` lines (a BOM dropped)."""
        starts, ends, numbers, _ = nonblank_lines(data)
        kept = numbers > skip
        return cls(data, starts[kept], ends[kept], numbers[kept])

    def __len__(self) -> int:
        return int(self.starts.size)

    def block(self, start: int, stop: int) -> bytes:
        """The bytes of lines ``start:stop``, one line each (blank lines between left out:
        a parser would not skip one of blanks)."""
        if stop <= start:
            return b""
        if int(self.numbers[stop - 1] - self.numbers[start]) == stop - start - 1:
            return self.data[int(self.starts[start]) : int(self.ends[stop - 1])]
        pieces = zip(self.starts[start:stop].tolist(), self.ends[start:stop].tolist(), strict=True)
        return b"\n".join(self.data[a:b] for a, b in pieces)

    @overload
    def __getitem__(self, row: int) -> str: ...

    @overload
    def __getitem__(self, row: slice) -> list[str]: ...

    def __getitem__(self, row: int | slice) -> str | list[str]:
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        start, end = int(self.starts[row]), int(self.ends[row])
        return self.data[start:end].decode("utf-8").rstrip("\r")


def decode(name: str, data: bytes, first_line: int = 1) -> str:
    """``data`` as text, or an error at its first byte that is not UTF-8 (``data`` starts
    at line ``first_line`` of the file)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + first_line
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise InputError(
            f"{name}:{line}:{column}",
            f"byte 0x{byte} is not UTF-8 text; save the file as UTF-8 (or as .npy)",
        ) from None
    return text.removeprefix("\ufeff")


def _line_text(name: str, data: bytes, start: int, end: int) -> str:
    """The text of the line at bytes ``start:end`` (a bad byte is named with its place)."""
    try:
        return data[start:end].decode("utf-8").removeprefix("\ufeff").rstrip("\r")
    except UnicodeDecodeError:
        decode(name, data)  # raises with the line and column
        raise


def _first_record(
    name: str, data: bytes, start: int, line: int, delimiter: str | None
) -> tuple[str, int, int, int] | None:
    """The first non-blank record at byte ``start`` or after: (text, its first line number,
    the byte where it ends, its last line number). A record is a line, or several where a
    quoted field holds a line break (with ``delimiter`` None: always one line).

    ``line`` is the number of the line at ``start``; only the record's lines are decoded.

    >>> _first_record("x", b"\\n  \\na,b\\r\\n1,2", 0, 1, ",")
    ('a,b', 3, 8, 3)
    >>> _first_record("x", b'"a\\nb",c\\n1,2', 0, 1, ",")
    ('"a\\nb",c', 1, 7, 2)
    """
    position = start
    while position < len(data):
        end = data.find(b"\n", position)
        end = len(data) if end < 0 else end
        if data[position:end].strip():
            text = _line_text(name, data, position, end)
            if text.strip():
                last = line
                while _open_quote(text, delimiter):
                    if end >= len(data):
                        raise _unclosed(name, line)
                    following = data.find(b"\n", end + 1)
                    following = len(data) if following < 0 else following
                    text += "\n" + _line_text(name, data, end + 1, following)
                    end, last = following, last + 1
                return text, line, end, last
        position, line = end + 1, line + 1
    return None


def _unclosed(name: str, line: int) -> InputError:
    return InputError(
        f"{name}:{line}:1", 'a quoted field starts on this line and is never closed (no closing ")'
    )


def pandas_names(cells: list[str], *, floats: bool = True) -> bool:
    """Whether a row is pandas' names for unnamed columns, ``0,1,…,K−1`` (with ``floats``
    also ``0.0,1.0,…``, as a header of float class labels such as scikit-learn's
    ``classes_`` writes).

    >>> pandas_names(["0", "1", "2"]), pandas_names(["0.0", "1.0"]), pandas_names(["1"])
    (True, True, False)
    >>> pandas_names(["0.0"], floats=False)
    False
    """
    return all(cell == str(k) or (floats and cell == f"{k}.0") for k, cell in enumerate(cells))


def binary_data(name: str, head: bytes, first_line: int = 1) -> InputError:
    """The error for bytes with a NUL in them where text was expected, at its line
    (``head`` starts at line ``first_line``)."""
    at = head.index(b"\x00")
    line = head.count(b"\n", 0, at) + first_line
    column = at - (head.rfind(b"\n", 0, at) + 1) + 1
    return InputError(
        f"{name}:{line}:{column}", "binary data (NUL bytes), not CSV/TSV text or .npy"
    )


def parse_text(
    name: str,
    data: bytes,
    *,
    class_names: Sequence[str] | None = None,
    path: str | None = None,
    size: int = -1,
    header: bool | None = None,
    delimiter: str = AUTO,
) -> TextSource:
    """Parse delimited text into a :class:`TextSource`.

    A header is the first row when one of its cells is not a number; in a one-column
    file of class names, when the first row is not one of ``class_names``.  Passing
    ``class_names`` (even empty) marks a labels file, whose single row is data, not a header.
    In predictions, a first row of exactly ``0,1,…,K−1`` (pandas' names for unnamed
    columns) is a header too, marked ``integer_header`` (the row counts may yet say it is
    data). ``header`` True or False decides instead of the rules; ``delimiter`` (one
    character, or :data:`BLANKS`) instead of sniffing.
    ``path`` names a regular file holding ``data``, which ``np.loadtxt`` reads fastest;
    with ``size`` larger than ``len(data)``, ``data`` is just its start.

    >>> source = parse_text("p.csv", b"cat,dog\\r\\n0.5,1.5\\r\\n\\r\\n")
    >>> source.header, source.n_rows, source.numbers(allow_minus_inf=True).tolist()
    (['cat', 'dog'], 1, [[0.5, 1.5]])
    """
    if b"\x00" in data[:4096]:
        raise binary_data(name, data)
    data = universal_newlines(data)
    first = _first_record(name, data, 0, 1, None)
    if first is None:
        raise InputError(f"{name}:1:1", "the input is empty (no rows)")
    line, number, end, last = first
    second = _first_record(name, data, end + 1, number + 1, None)
    if delimiter == AUTO:
        separator = _sniff_delimiter(name, line, None if second is None else second[0])
    else:
        separator = None if delimiter == BLANKS else delimiter
    if _open_quote(line, separator):  # a header whose quoted names hold line breaks
        line, number, end, last = _first_record(name, data, 0, 1, separator) or first
    cells = _split_line(line, separator)
    following = _first_record(name, data, end + 1, last + 1, separator)
    # one column's "0.0", or two columns' "0.0,1.0" (a row of probabilities certain of
    # class 1), is data more likely than names: only "0" and "0,1" are pandas' there
    integers = header is None and pandas_names(cells, floats=len(cells) > 2)
    if header is None:
        header = False
        values = (
            cells if class_names is None else [c for c in cells if c.lower() not in BOOLEANS]
        )  # in labels, true and false are values
        # a name makes a header; numbers with a decimal comma are data, whose error names them
        if not all(_is_number(cell) or decimal_comma(cell) for cell in values):
            known = set(class_names or ())
            lone_row = class_names is not None and following is None  # labels: lone row is data
            header = not (len(cells) == 1 and cells[0] in known) and not lone_row
        elif integers and class_names is None and following is not None:
            header = True  # pandas' 0,1,…,K−1
        else:
            integers = False
    if not header:
        return TextSource(name, data, 1, separator, None, len(cells), cells, path, size=size)
    if following is None:
        raise InputError(f"{name}:{last + 1}:1", "there is a header but no data rows")
    first_row = _split_line(following[0], separator)
    return TextSource(
        name,
        data,
        last + 1,
        separator,
        cells,
        len(cells),
        first_row,
        path,
        size=size,
        integer_header=integers,
    )

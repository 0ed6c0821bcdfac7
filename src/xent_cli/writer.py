"""One writer for every machine format, and the one dispatcher all output goes through.

Every command's output is a :class:`Report`: a Rich view for a person, a :class:`Frame` of
named columns for CSV/TSV (and JSONL), and a JSON document. :func:`emit` picks the format;
:func:`delimited` writes every CSV/TSV line, quoting as RFC 4180 requires; JSON never holds
``NaN``/``Infinity`` (such values are ``null``, and the report says so). Floats are written
as ``repr`` of the float64: exact round-trips. A large CSV/TSV table (a per-row listing of
1M rows) is written by polars' CSV writer, in Rust on every core, with the same bytes
(:func:`polars_chunk`; polars' float text put right to ``repr``'s: :func:`repr_series`). A
frame may be made a block of rows at a time (:class:`StreamedFrame`: ``softmax`` of a file
larger than memory), and a JSON list of rows (:class:`Rows`) is then written a chunk at a
time too, with the bytes ``json.dumps`` gives. ``-o FILE`` (:mod:`xent_cli.output`) writes
the same chunks to a file.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .options import Format

if TYPE_CHECKING:  # Report is a protocol for the type checker: no start-up cost
    from typing import Protocol

    import numpy.typing as npt
    from rich.console import Console
    from typing_extensions import Self

    class Report(Protocol):
        """One command's output, ready for every format."""

        def show(self, console: Console) -> None:
            """Print the view for a person (Rich tables and pictures)."""
            ...

        def table(self) -> Frame:
            """The columns of the CSV/TSV output."""
            ...

        def document(self) -> Any:
            """The JSON output."""
            ...

        def records(self) -> Frame | Rows | Iterable[Any]:
            """The JSONL output: a value a line, a :class:`Frame` (an object a row), or
            :class:`Rows` (a list a row)."""
            ...

        def messages(self, fmt: Format, *, stderr_is_tty: bool) -> list[str]:
            """Lines for stderr that go with the output in ``fmt``: warnings, and lines
            only for a person reading a terminal's stderr (``stderr_is_tty``)."""
            ...

    class LateMessages(Protocol):
        """A report of rows made while they are written: what it found out is told after."""

        def late_messages(self, fmt: Format) -> list[str]:
            """Lines for stderr once the output in ``fmt`` is written (a streamed matrix
            knows whether it held −∞ only then)."""
            ...

    from .terminal import Terminal

DELIMITERS = {Format.csv: ",", Format.tsv: "\t"}
CHUNK_ROWS = 1 << 16  # rows formatted at a time: memory for text is bounded by a chunk
CHUNK_CELLS = 1 << 18  # and cells: a chunk of a wide matrix (1000 columns) has fewer rows
# cells from which a CSV/TSV table is written by polars: importing it (~0.1 s) costs what
# formatting about this many cells in Python does (0.1-0.3 µs a cell); below, never imported
POLARS_CELLS = 1 << 19


def chunk_rows(n_columns: int) -> int:
    """Rows in a chunk of ``n_columns`` columns: :data:`CHUNK_ROWS`, fewer for wide tables.

    >>> chunk_rows(4), chunk_rows(1000)
    (65536, 262)
    """
    return max(1, min(CHUNK_ROWS, CHUNK_CELLS // max(1, n_columns)))


def quote(text: str, delimiter: str) -> str:
    """A field as RFC 4180 writes it: in quotes, a quote doubled, when it holds the
    delimiter, a quote or a line break, or starts or ends with a blank (which a reader that
    trims fields, as xent's does, would lose); else as it is.

    >>> quote("a,b", ","), quote('a"b', ","), quote("cat", ","), quote(" a", ",")
    ('"a,b"', '"a""b"', 'cat', '" a"')
    >>> quote("a,b", "\\t"), quote("a\\tb", "\\t")
    ('a,b', '"a\\tb"')
    """
    if (
        delimiter in text
        or '"' in text
        or "\n" in text
        or "\r" in text
        or (text and (text[0].isspace() or text[-1].isspace()))
    ):
        return '"' + text.replace('"', '""') + '"'
    return text


def json_number(value: float) -> float | None:
    """A float for JSON, or ``None`` (null) when it is not finite.

    >>> json_number(0.5), json_number(float("-inf"))
    (0.5, None)
    """
    return float(value) if math.isfinite(value) else None


class Column:
    """A named column of a machine table: its cells as delimited text and as JSON values.

    (Plain classes, not dataclasses: every command that writes imports this module, and
    each dataclass costs start-up time.)
    """

    def __init__(self, name: str, cells: Any) -> None:
        self.name = name
        self.cells = cells  # a 1-D array, a range or a sequence

    def __len__(self) -> int:
        return len(self.cells)

    def part(self, start: int, stop: int) -> Self:
        """The rows ``start:stop`` of this column."""
        other = copy.copy(self)
        other.cells = self.cells[start:stop]
        return other

    def texts(self, delimiter: str) -> list[str]:
        """Each cell as it stands in a CSV/TSV line (quoted where it must be)."""
        raise NotImplementedError

    def series(self, polars: Any, delimiter: str) -> Any:
        """The cells as a polars Series that polars' CSV writer, quoting nothing, writes as
        :meth:`texts` (a null is an empty field). Here the texts themselves; the columns of
        numbers give their values, or text polars made (:func:`polars_chunk`)."""
        return polars.Series(self.texts(delimiter), dtype=polars.String)

    def values(self) -> list[Any]:
        """Each cell as a JSON value."""
        raise NotImplementedError

    def json_texts(self) -> list[str]:
        """Each cell as JSON text (``json.dumps`` of :meth:`values`, made faster below)."""
        import json

        return [json.dumps(value, ensure_ascii=False) for value in self.values()]

    def array(self) -> Any:
        """The cells as a column of a binary table (Parquet): a typed numpy array, or a
        list of values (text, or values of mixed kinds)."""
        return self.values()

    @property
    def width(self) -> int:
        """The columns of a table this stands for: one."""
        return 1

    def headings(self) -> list[str]:
        """The names of the columns this stands for (a header's fields)."""
        return [self.name]

    def split(self) -> list[Column]:
        """This as columns of one value a row (Parquet's columns)."""
        return [self]


class FloatRows(Column):
    """A float64 matrix as one column of rows: a wide matrix (``softmax`` of 100k classes)
    is formatted a row at a time, not a :class:`Floats` object a class (one row of 5M
    classes took 48 s and 5.8 GB that way). Text as :class:`Floats` writes it.

    >>> rows = FloatRows(["a", "b"], np.array([[0.5, float("inf")], [0.25, 0.75]]))
    >>> rows.texts(","), rows.json_texts(), rows.headings()
    (['0.5,inf', '0.25,0.75'], ['0.5, null', '0.25, 0.75'], ['a', 'b'])
    """

    def __init__(self, names: list[str], cells: Any) -> None:
        super().__init__("", cells)
        self._names = names

    @property
    def width(self) -> int:
        return len(self._names)

    def headings(self) -> list[str]:
        return self._names

    def _texts(self, separator: str, null: bool) -> list[str]:
        values = np.asarray(self.cells, dtype=np.float64)
        flat = list(map(repr, values.ravel().tolist()))
        if null:  # JSON has no Infinity
            for index in np.flatnonzero(~np.isfinite(values.ravel())).tolist():
                flat[index] = "null"
        k = max(1, self.width)
        return [separator.join(flat[start : start + k]) for start in range(0, len(flat), k)]

    def texts(self, delimiter: str) -> list[str]:
        return self._texts(delimiter, null=False)

    def series(self, polars: Any, delimiter: str) -> Any:
        if not self.width:
            return super().series(polars, delimiter)
        values = np.asarray(self.cells, dtype=np.float64).reshape(-1, self.width)
        texts = repr_series(polars, values.ravel())
        return texts.reshape(values.shape).arr.join(delimiter)

    def json_texts(self) -> list[str]:
        """Each row's cells as the inside of a JSON list (:meth:`Frame.row_texts` adds
        the brackets)."""
        return self._texts(", ", null=True)

    def values(self) -> list[Any]:
        import json

        return [json.loads(f"[{text}]") for text in self.json_texts()]

    def split(self) -> list[Column]:
        values = np.asarray(self.cells, dtype=np.float64).reshape(-1, self.width)
        return [Floats(name, values[:, k]) for k, name in enumerate(self._names)]


class Floats(Column):
    """float64 values: exact ``repr`` text (``inf`` stays ``inf``); ``null`` in JSON when
    not finite. Made a whole column at a time (about 0.3 µs a cell; by polars, for a large
    table, 0.03 µs: :meth:`series`).

    >>> Floats("p", [0.1, float("inf")]).texts(","), Floats("p", [0.1, float("inf")]).values()
    (['0.1', 'inf'], [0.1, None])
    """

    def texts(self, delimiter: str) -> list[str]:
        return list(map(repr, np.asarray(self.cells, dtype=np.float64).tolist()))

    def series(self, polars: Any, delimiter: str) -> Any:
        return repr_series(polars, np.asarray(self.cells, dtype=np.float64))

    def values(self) -> list[Any]:
        floats = np.asarray(self.cells, dtype=np.float64)
        if np.isfinite(floats).all():
            return list(floats.tolist())
        return [json_number(value) for value in floats.tolist()]

    def json_texts(self) -> list[str]:
        floats = np.asarray(self.cells, dtype=np.float64)
        texts = list(map(repr, floats.tolist()))
        for index in np.flatnonzero(~np.isfinite(floats)).tolist():
            texts[index] = "null"
        return texts

    def array(self) -> Any:
        return np.asarray(self.cells, dtype=np.float64)  # ±∞ kept: Parquet has them


class OptionalFloats(Floats):
    """float64 values where NaN stands for *no value* (the mean of nothing): an empty
    CSV/TSV field, ``null`` in JSON and Parquet; other values as :class:`Floats` writes them.

    >>> column = OptionalFloats("loss", [0.5, float("nan"), float("inf")])
    >>> column.texts(","), column.values(), column.json_texts()
    (['0.5', '', 'inf'], [0.5, None, None], ['0.5', 'null', 'null'])
    """

    def texts(self, delimiter: str) -> list[str]:
        floats = np.asarray(self.cells, dtype=np.float64)
        texts = list(map(repr, floats.tolist()))
        for index in np.flatnonzero(np.isnan(floats)).tolist():
            texts[index] = ""
        return texts

    def series(self, polars: Any, delimiter: str) -> Any:
        floats = np.asarray(self.cells, dtype=np.float64)
        texts = repr_series(polars, floats)
        missing = np.flatnonzero(np.isnan(floats))
        return texts.scatter(missing, None) if missing.size else texts

    def array(self) -> Any:
        floats = np.asarray(self.cells, dtype=np.float64)
        return np.ma.masked_array(floats, mask=np.isnan(floats))  # masked: a Parquet null


class Integers(Column):
    """Whole numbers (row indices, counts, 0/1 labels).

    >>> Integers("row", range(3)).texts(",")
    ['0', '1', '2']
    """

    def values(self) -> list[Any]:
        return list(np.asarray(self.cells, dtype=np.int64).tolist())

    def texts(self, delimiter: str) -> list[str]:
        return list(map(str, self.values()))

    def series(self, polars: Any, delimiter: str) -> Any:
        return polars.Series(np.asarray(self.cells, dtype=np.int64))

    def json_texts(self) -> list[str]:
        return self.texts(",")

    def array(self) -> Any:
        return np.asarray(self.cells, dtype=np.int64)


class Categories(Column):
    """Class indices shown by name: each name is quoted once, then looked up per row.

    An index without a name (an ignored label such as −100, or no names at all) is shown
    as its number: text in CSV, and in JSON a string when the other cells are names.

    >>> column = Categories("target", [1, 0, -100], ["a,b", "c"])
    >>> column.texts(","), column.values()
    (['c', '"a,b"', '-100'], ['c', 'a,b', '-100'])
    >>> Categories("target", [2, 0], None).values()
    [2, 0]
    >>> Categories("target", [0, 100_000_000], ["a"]).texts(",")  # an ignored label
    ['a', '100000000']
    """

    def __init__(self, name: str, cells: Any, names: Sequence[str] | None) -> None:
        super().__init__(name, cells)
        self.names = names  # the name of each index; None: indices are shown as numbers

    def _lookup(self, shown: list[Any], missing: Callable[[int], Any]) -> list[Any]:
        """Each code's entry of ``shown``, or ``missing(code)`` outside it. The codes of
        classes without names are added to ``shown`` once each while there are few (not an
        ignored label of 10⁸: memory stays bounded by the rows)."""
        array = np.asarray(self.cells, dtype=np.int64)
        codes = array.tolist()
        top, bottom = int(array.max(initial=-1)), int(array.min(initial=0))
        if len(shown) <= top <= len(codes) + len(shown):
            shown = shown + [missing(k) for k in range(len(shown), top + 1)]
        if bottom >= 0 and top < len(shown):
            return list(map(shown.__getitem__, codes))
        count = len(shown)
        return [shown[k] if 0 <= k < count else missing(k) for k in codes]

    def texts(self, delimiter: str) -> list[str]:
        return self._lookup([quote(name, delimiter) for name in self.names or ()], str)

    def series(self, polars: Any, delimiter: str) -> Any:
        codes = np.asarray(self.cells, dtype=np.int64)
        if not self.names:
            return polars.Series(codes)
        shown = polars.Series([quote(name, delimiter) for name in self.names], dtype=polars.String)
        named = np.flatnonzero((codes >= 0) & (codes < len(shown)))
        if named.size == codes.size:
            return shown.gather(codes)
        texts = polars.Series(codes).cast(polars.String)  # unnamed classes as their numbers
        return texts.scatter(named, shown.gather(codes[named])) if named.size else texts

    def values(self) -> list[Any]:
        if self.names is None:
            return list(np.asarray(self.cells, dtype=np.int64).tolist())
        return self._lookup(list(self.names), str)

    def json_texts(self) -> list[str]:
        if self.names is None:
            return self.texts(",")
        import json

        return self._lookup(
            [json.dumps(name, ensure_ascii=False) for name in self.names],
            lambda k: json.dumps(str(k)),
        )

    def array(self) -> Any:
        if self.names is None:
            return np.asarray(self.cells, dtype=np.int64)
        return self.values()  # names, and the numbers of unnamed classes as text


class Values(Column):
    """Any JSON-able values, for short tables: numbers (floats exact), text (quoted where
    needed), booleans (``true``/``false``) and ``None`` (an empty field, ``null``).

    >>> Values("x", [1.5, None, True, "a,b", 3]).texts(",")
    ['1.5', '', 'true', '"a,b"', '3']
    """

    def texts(self, delimiter: str) -> list[str]:
        return [_text(cell, delimiter) for cell in self.cells]

    def values(self) -> list[Any]:
        return [json_number(c) if isinstance(c, float) else c for c in self.cells]


def _text(cell: Any, delimiter: str) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float):
        return repr(cell)
    return quote(str(cell), delimiter)


class Frame:
    """Named columns of equal length; ``header``: whether CSV/TSV starts with their names."""

    def __init__(self, columns: list[Column], header: bool = True) -> None:
        self.columns = columns
        self.header = header

    @property
    def n_rows(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def parts(self) -> Iterator[Frame]:
        """The frame in chunks of :func:`chunk_rows` rows (headers stay with the whole)."""
        step = chunk_rows(sum(column.width for column in self.columns))
        for start in range(0, self.n_rows, step):
            stop = start + step
            yield Frame([column.part(start, stop) for column in self.columns], self.header)

    def records(self) -> Iterator[dict[str, Any]]:
        """One JSON object a row, keyed by the column names."""
        names = [column.name for column in self.columns]
        for row in zip(*(column.values() for column in self.columns), strict=True):
            yield dict(zip(names, row, strict=True))

    def json_lines(self) -> list[str]:
        """:meth:`records` as JSON text, a line each (``json.dumps``'s spacing), made a
        column at a time: each name and class name is encoded once.

        >>> Frame([Integers("row", [0]), Categories("target", [0], ['a"b'])]).json_lines()
        ['{"row": 0, "target": "a\\\\"b"}']
        """
        import json

        keys = [json.dumps(c.name, ensure_ascii=False).replace("%", "%%") for c in self.columns]
        template = "{" + ", ".join(f"{key}: %s" for key in keys) + "}"
        texts = [column.json_texts() for column in self.columns]
        return [template % row for row in zip(*texts, strict=True)]

    def rows(self) -> list[list[Any]]:
        """One JSON list a row."""
        return [list(row) for row in zip(*(c.values() for c in self.columns), strict=True)]

    def row_texts(self, flat: bool = False) -> list[str]:
        """Each row as JSON text: a list of its cells (``json.dumps``'s spacing), or
        (``flat``) its one cell.

        >>> Frame([Floats("a", [0.5]), Floats("b", [float("-inf")])]).row_texts()
        ['[0.5, null]']
        """
        texts = [column.json_texts() for column in self.columns]
        if flat:
            (only,) = texts
            return only
        return ["[" + ", ".join(row) + "]" for row in zip(*texts, strict=True)]

    def blocks(self) -> Iterator[Frame]:
        """The rows as frames of rows in order: here the whole."""
        yield self


class StreamedFrame(Frame):
    """A frame made a block of rows at a time, so that it is never whole in memory.

    ``columns`` name the columns (their cells are empty); ``make()`` gives the blocks, in
    row order, as frames of the same columns. Each block is written in chunks of
    :func:`chunk_rows` rows, as a whole frame is; the bytes are the same.
    """

    def __init__(
        self,
        columns: list[Column],
        header: bool,
        n_rows: int,
        make: Callable[[], Iterator[Frame]],
    ) -> None:
        super().__init__(columns, header)
        self._n_rows = n_rows
        self._make = make

    @property
    def n_rows(self) -> int:
        return self._n_rows

    def blocks(self) -> Iterator[Frame]:
        return self._make()

    def parts(self) -> Iterator[Frame]:
        for block in self._make():
            yield from block.parts()

    def records(self) -> Iterator[dict[str, Any]]:
        for block in self._make():
            yield from block.records()

    def json_lines(self) -> list[str]:
        raise TypeError("a streamed frame is written a part at a time (parts())")

    def column(self, index: int) -> StreamedFrame:
        """The frame of its column ``index`` alone, made from the same blocks."""

        def make() -> Iterator[Frame]:
            for block in self._make():
                yield Frame([block.columns[index]], self.header)

        return StreamedFrame([self.columns[index]], self.header, self._n_rows, make)

    def rows(self) -> list[list[Any]]:
        raise TypeError("a streamed frame is written a part at a time (parts())")


class Rows:
    """A JSON list with an element per row of ``frame``: the list of the row's cells, or
    (``flat``) its one cell. :func:`chunks` writes it a part at a time, as ``json.dumps``
    of the whole list would (``-f json``), or an element a line (``-f jsonl``).

    >>> "".join(_json_list(Rows(Frame([Integers("a", [1, 2]), Integers("b", [3, 4])]))))
    '[[1, 3], [2, 4]]'
    """

    def __init__(self, frame: Frame, flat: bool = False) -> None:
        self.frame = frame
        self.flat = flat

    def texts(self) -> Iterator[list[str]]:
        """The JSON text of each row, a part of the frame at a time."""
        for part in self.frame.parts():
            yield part.row_texts(self.flat)


def delimited(table: Frame, delimiter: str) -> str:
    """The table as CSV/TSV text, a line a row, every field quoted as RFC 4180 requires.

    >>> print(delimited(Frame([Values("class", ["a,b", 'a"b'])]), ","), end="")
    class
    "a,b"
    "a""b"
    >>> delimited(Frame([Values("x", [""])], header=False), ",")  # a lone empty field
    '""\\n'
    """
    return "".join(delimited_chunks(table, delimiter))


def delimited_chunks(table: Frame, delimiter: str) -> Iterator[str]:
    """:func:`delimited` a chunk of rows at a time (the header with the first); the chunks
    of a table of :data:`POLARS_CELLS` cells or more made by polars (:func:`polars_chunk`)."""
    if not table.columns:
        return
    if table.header:
        names = [name for column in table.columns for name in column.headings()]
        yield _line([quote(name, delimiter) for name in names], delimiter)
    polars = _polars_for(table)
    for part in table.parts():
        if polars is not None:
            try:
                with interrupt_after():
                    chunk = polars_chunk(polars, part, delimiter)
            except UnicodeEncodeError:  # a lone surrogate (argv's bytes that are not UTF-8)
                polars = None  # in a name: polars holds only UTF-8; Python writes the rest
            else:
                yield chunk
                continue
        texts = [column.texts(delimiter) for column in part.columns]
        if len(texts) == 1:  # a lone empty field is quoted, or its line would be blank
            lines = [text or '""' for text in texts[0]]
        else:
            lines = list(map(delimiter.join, zip(*texts, strict=True)))
        del texts  # the columns' texts go before the chunk's text is made
        yield "\n".join(lines) + "\n"


def _line(fields: list[str], delimiter: str) -> str:
    return (delimiter.join(fields) if len(fields) > 1 else fields[0] or '""') + "\n"


# -- large tables: polars' CSV writer ----------------------------------------------------------


def _polars_for(table: Frame) -> Any:
    """polars, to write ``table``'s CSV/TSV: when it has :data:`POLARS_CELLS` cells or more,
    polars is installed and its float text is made ``repr``'s here (:func:`polars_writes_repr`);
    else ``None`` (Python writes it, and polars is not imported)."""
    if table.n_rows * sum(column.width for column in table.columns) < POLARS_CELLS:
        return None
    try:
        import polars
    except ImportError:
        return None
    with interrupt_after():
        return polars if polars_writes_repr(polars) else None


@contextlib.contextmanager
def interrupt_after() -> Iterator[None]:
    """Ctrl-C held while the block runs, then raised: a KeyboardInterrupt raised inside
    polars' Rust comes out as another error (a TypeError, a panic) with a traceback. Only
    the main thread hears signals, and only Python's own handler raises one: elsewhere, or
    where SIGINT is ignored (a shell's background job), nothing changes.
    """
    import signal
    import threading

    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield  # elsewhere, or Ctrl-C ignored (a background job) or handled otherwise
        return
    heard: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: heard.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if heard:
        raise KeyboardInterrupt


def polars_chunk(polars: Any, part: Frame, delimiter: str) -> str:
    """The lines of ``part`` as the Python path of :func:`delimited_chunks` writes them,
    made by polars' CSV writer from each column's :meth:`Column.series` (numbers and
    their text in Rust, on every core: 1M rows of ``row,loss,predicted,target`` in about
    0.1 s, not 0.6 s). Every field comes quoted as it must be, so polars quotes none.

    >>> import polars
    >>> part = Frame([Integers("row", [0, 1]), Floats("loss", [1e-05, float("inf")])])
    >>> polars_chunk(polars, part, ",") == delimited(Frame(part.columns, header=False), ",")
    True
    """
    series = [column.series(polars, delimiter) for column in part.columns]
    null = ""
    if len(series) == 1:  # a lone empty field is quoted, or its line would be blank
        null = '""'
        if series[0].dtype == polars.String:
            series[0] = series[0].replace("", '""')
    frame = polars.DataFrame({str(k): one for k, one in enumerate(series)})
    text: str = frame.write_csv(
        include_header=False,
        separator=delimiter,
        line_terminator="\n",
        quote_style="never",
        null_value=null,
    )
    return text


def repr_series(polars: Any, values: npt.NDArray[np.float64]) -> Any:
    """``repr`` of each float64, as a polars String Series made in Rust (~0.03 µs a value;
    ``repr`` takes 0.3 µs).

    polars writes the shortest digits that read back as the same float, as ``repr`` does
    (both round correctly: Ryū, and David Gay's ``dtoa``), laid out as ``repr`` lays them
    out but for what is put right here: ``NaN`` (``nan``); decimal exponent −5 written out
    (``0.0000123``, not ``1.23e-05``); a one-digit exponent not padded (``2e-7``, not
    ``2e-07``). Which cells those are, numpy tells from the values: a float below the
    float ``1e-05`` has shortest digits below 10⁻⁵ (reading rounds monotonically), so the
    comparisons with 1e-4, 1e-5 and 1e-9 split the exponents exactly. A column of losses
    of 10⁻⁴ and more has none of them, and costs only those comparisons.

    >>> import polars
    >>> values = np.array([0.1, 1e-05, -1.5e-05, 2e-07, 1e-10, 1e16, -0.0, float("nan")])
    >>> repr_series(polars, values).to_list()
    ['0.1', '1e-05', '-1.5e-05', '2e-07', '1e-10', '1e+16', '-0.0', 'nan']
    """
    texts = polars.Series(values).cast(polars.String)
    magnitude = np.abs(values)
    exponent_5 = np.flatnonzero((magnitude >= 1e-5) & (magnitude < 1e-4))
    if exponent_5.size:  # 0.0000123 → 1.23e-05, 0.00001 → 1e-05
        written_out = texts.gather(exponent_5)
        moved = written_out.str.replace(r"^(-?)0\.0000([1-9])(\d*)$", "${1}${2}.${3}e-05")
        texts.scatter(exponent_5, moved.str.replace(".e", "e", literal=True))
    one_digit = np.flatnonzero((magnitude >= 1e-9) & (magnitude < 1e-5))
    if one_digit.size:  # 2e-7 → 2e-07
        texts.scatter(one_digit, texts.gather(one_digit).str.replace("e-", "e-0", literal=True))
    nan = np.flatnonzero(np.isnan(values))
    if nan.size:
        texts.scatter(nan, "nan")
    return texts


# the floats at each edge of repr's layout (and of polars' corrected one, repr_series)
PROBE = (
    *(0.0, -0.0, 0.1, 1.0, -2.5, 1 / 3, 123456.789, 1e15, 9999999999999998.0, 1e16, 1.5e300),
    *(1.7976931348623157e308, 0.0001, 9.999999999999999e-05, 1e-05, -1.5e-05, 1e-06),
    *(9.99999999999999e-06, 2.5e-07, 1e-09, 9.999999999999999e-10, 1e-10, 1.25e-100),
    *(2.2250738585072014e-308, 5e-324, -5e-324, math.inf, -math.inf, math.nan),
)


@functools.cache
def polars_writes_repr(polars: Any) -> bool:
    """Whether :func:`repr_series` gives ``repr`` of :data:`PROBE` with this polars (its
    layout of floats has changed over versions, ``1e20`` once): if not, Python writes."""
    return bool(repr_series(polars, np.array(PROBE)).to_list() == list(map(repr, PROBE)))


def text(report: Report, fmt: Format) -> str:
    """``report`` in a machine format (``csv``, ``tsv``, ``json``, ``jsonl``)."""
    return "".join(chunks(report, fmt))


def chunks(report: Report, fmt: Format) -> Iterator[str]:
    """:func:`text` in pieces of about :data:`CHUNK_ROWS` rows, so that a large output is
    never whole in memory and a closed pipe stops the work early."""
    if fmt in DELIMITERS:
        yield from delimited_chunks(report.table(), DELIMITERS[fmt])
        return
    import json  # only JSON output needs it: keeps start-up short

    if fmt is Format.json:
        document = report.document()
        if isinstance(document, Rows):
            yield from _json_list(document)
            yield "\n"
        elif isinstance(document, dict) and any(isinstance(v, Rows) for v in document.values()):
            yield from _json_object(document)
            yield "\n"
        else:
            yield json.dumps(document, ensure_ascii=False, allow_nan=False) + "\n"
        return
    records = report.records()
    if isinstance(records, Rows):
        for texts in records.texts():
            if texts:
                yield "\n".join(texts) + "\n"
        return
    if isinstance(records, Frame):
        for part in records.parts():
            yield "\n".join(part.json_lines()) + "\n"
        return
    batch: list[str] = []
    for record in records:
        batch.append(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
        if len(batch) == CHUNK_ROWS:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def _json_list(rows: Rows) -> Iterator[str]:
    """``json.dumps`` of the list of every row, a part at a time: ``[``, the rows separated
    by ``, ``, ``]``."""
    opened = False
    for texts in rows.texts():
        if texts:
            yield (", " if opened else "[") + ", ".join(texts)
            opened = True
    yield "]" if opened else "[]"


def _json_object(document: dict[str, Any]) -> Iterator[str]:
    """``json.dumps`` of an object some of whose values are :class:`Rows` (lists of a
    value a row, each written a part at a time: a pass over the rows each).

    >>> "".join(_json_object({"a": 1, "b": Rows(Frame([Integers("b", [2, 3])]), flat=True)}))
    '{"a": 1, "b": [2, 3]}'
    """
    import json

    for number, (key, value) in enumerate(document.items()):
        yield ("{" if number == 0 else ", ") + json.dumps(key, ensure_ascii=False) + ": "
        if isinstance(value, Rows):
            yield from _json_list(value)
        else:
            yield json.dumps(value, ensure_ascii=False, allow_nan=False)
    yield "}" if document else "{}"


def late_messages(report: Report, fmt: Format) -> list[str]:
    """What ``report`` has to say once its output in ``fmt`` is written (see
    :class:`LateMessages`); nothing for most reports."""
    late = getattr(report, "late_messages", None)
    return list(late(fmt)) if late is not None else []


def emit(report: Report, fmt: Format, terminal: Terminal, *, quiet: bool = False) -> None:
    """Every command's output: the messages on stderr (unless ``quiet``), then the view
    on a terminal or the machine format on stdout.

    On a terminal too narrow for a table (``COLUMNS=0``, a split pane; see
    :data:`~xent_cli.render.MIN_TABLE_WIDTH`) the output is the report's CSV, as ``-f csv``
    writes it, and a terminal's stderr says why in one line.
    """
    chosen = terminal.format_for(fmt)
    narrow = terminal.narrow(fmt) if chosen is Format.csv else None
    if not quiet:
        for message in report.messages(chosen, stderr_is_tty=terminal.stderr_is_tty):
            terminal.say(message)
        if narrow is not None and terminal.stderr_is_tty:
            from .render import MIN_TABLE_WIDTH

            terminal.say(
                f"the terminal is {narrow} columns wide, tables need {MIN_TABLE_WIDTH}; writing CSV"
            )
    if chosen is Format.table:
        report.show(terminal.console())
        return
    for chunk in chunks(report, chosen):
        terminal.write(chunk)
    if not quiet:
        for message in late_messages(report, chosen):
            terminal.say(message)

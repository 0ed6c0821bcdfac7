"""One writer for every machine format, and the one dispatcher all output goes through.

Every command's output is a :class:`Report`: a Rich view for a person, a :class:`Frame` of
named columns for CSV/TSV (and JSONL), and a JSON document. :func:`emit` picks the format;
:func:`delimited` writes every CSV/TSV line, quoting as RFC 4180 requires; JSON never holds
``NaN``/``Infinity`` (such values are ``null``, and the report says so). Floats are written
as ``repr`` of the float64: exact round-trips.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .options import Format

if TYPE_CHECKING:
    from rich.console import Console

    from .terminal import Terminal

DELIMITERS = {Format.csv: ",", Format.tsv: "\t"}


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
    """A named column of a machine table: its cells as delimited text and as JSON values."""

    name: str

    def texts(self, delimiter: str) -> list[str]:
        """Each cell as it stands in a CSV/TSV line (quoted where it must be)."""
        raise NotImplementedError

    def values(self) -> list[Any]:
        """Each cell as a JSON value."""
        raise NotImplementedError


@dataclass
class Floats(Column):
    """float64 values: exact ``repr`` text (``inf`` stays ``inf``); ``null`` in JSON when
    not finite. Made a whole column at a time (about 0.3 µs a cell).

    >>> Floats("p", [0.1, float("inf")]).texts(","), Floats("p", [0.1, float("inf")]).values()
    (['0.1', 'inf'], [0.1, None])
    """

    name: str
    cells: Any  # a 1-D float array or a sequence of floats

    def texts(self, delimiter: str) -> list[str]:
        return list(map(repr, np.asarray(self.cells, dtype=np.float64).tolist()))

    def values(self) -> list[Any]:
        floats = np.asarray(self.cells, dtype=np.float64)
        if np.isfinite(floats).all():
            return list(floats.tolist())
        return [json_number(value) for value in floats.tolist()]


@dataclass
class Integers(Column):
    """Whole numbers (row indices, counts, 0/1 labels).

    >>> Integers("row", range(3)).texts(",")
    ['0', '1', '2']
    """

    name: str
    cells: Any  # a 1-D integer array or a sequence of ints

    def values(self) -> list[Any]:
        return list(np.asarray(self.cells, dtype=np.int64).tolist())

    def texts(self, delimiter: str) -> list[str]:
        return list(map(str, self.values()))


@dataclass
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

    name: str
    codes: Any  # a 1-D integer array or a list of ints
    names: Sequence[str] | None  # the name of each index; None: indices are shown as numbers

    def _codes(self) -> list[int]:
        return list(np.asarray(self.codes, dtype=np.int64).tolist())

    def _lookup(self, shown: list[Any], codes: list[int], missing: Any) -> list[Any]:
        """Each code's entry of ``shown``, or ``missing(code)`` outside it. The codes of
        classes without names are added to ``shown`` once each while there are few (not an
        ignored label of 10⁸: memory stays bounded by the rows)."""
        top = max(codes, default=-1)
        if len(shown) <= top <= len(codes) + len(shown):
            shown = shown + [missing(k) for k in range(len(shown), top + 1)]
        if min(codes, default=0) >= 0 and top < len(shown):
            return list(map(shown.__getitem__, codes))
        count = len(shown)
        return [shown[k] if 0 <= k < count else missing(k) for k in codes]

    def texts(self, delimiter: str) -> list[str]:
        names = [quote(name, delimiter) for name in self.names or ()]
        return self._lookup(names, self._codes(), str)

    def values(self) -> list[Any]:
        if self.names is None:
            return self._codes()
        return self._lookup(list(self.names), self._codes(), str)


@dataclass
class Values(Column):
    """Any JSON-able values, for short tables: numbers (floats exact), text (quoted where
    needed), booleans (``true``/``false``) and ``None`` (an empty field, ``null``).

    >>> Values("x", [1.5, None, True, "a,b", 3]).texts(",")
    ['1.5', '', 'true', '"a,b"', '3']
    """

    name: str
    cells: Sequence[Any]

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


@dataclass
class Frame:
    """Named columns of equal length; ``header``: whether CSV/TSV starts with their names."""

    columns: list[Column] = field(default_factory=list)
    header: bool = True

    def records(self) -> Iterator[dict[str, Any]]:
        """One JSON object a row, keyed by the column names."""
        names = [column.name for column in self.columns]
        for row in zip(*(column.values() for column in self.columns), strict=True):
            yield dict(zip(names, row, strict=True))

    def rows(self) -> list[list[Any]]:
        """One JSON list a row."""
        return [list(row) for row in zip(*(c.values() for c in self.columns), strict=True)]


def delimited(table: Frame, delimiter: str) -> str:
    """The table as CSV/TSV text, a line a row, every field quoted as RFC 4180 requires.

    >>> print(delimited(Frame([Values("class", ["a,b", 'a"b'])]), ","), end="")
    class
    "a,b"
    "a""b"
    >>> delimited(Frame([Values("x", [""])], header=False), ",")  # a lone empty field
    '""\\n'
    """
    if not table.columns:
        return ""
    names = [quote(column.name, delimiter) for column in table.columns]
    texts = [column.texts(delimiter) for column in table.columns]
    if len(texts) == 1:  # a lone empty field is quoted, or its line would be blank
        lines = [text or '""' for text in (names if table.header else []) + texts[0]]
    else:
        lines = [delimiter.join(names)] if table.header else []
        lines.extend(map(delimiter.join, zip(*texts, strict=True)))
    return "\n".join(lines) + "\n"


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

    def records(self) -> Iterable[Any]:
        """The JSONL output, a value a line."""
        ...

    def messages(self, fmt: Format) -> list[str]:
        """Lines for stderr (warnings) that go with the output in ``fmt``."""
        ...


def text(report: Report, fmt: Format) -> str:
    """``report`` in a machine format (``csv``, ``tsv``, ``json``, ``jsonl``)."""
    if fmt in DELIMITERS:
        return delimited(report.table(), DELIMITERS[fmt])
    import json  # only JSON output needs it: keeps start-up short

    if fmt is Format.json:
        return json.dumps(report.document(), ensure_ascii=False, allow_nan=False) + "\n"
    return "".join(
        json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"
        for record in report.records()
    )


def emit(report: Report, fmt: Format, terminal: Terminal, *, quiet: bool = False) -> None:
    """Every command's output: the messages on stderr (unless ``quiet``), then the view
    on a terminal or the machine format on stdout."""
    chosen = terminal.format_for(fmt)
    if not quiet:
        for message in report.messages(chosen):
            terminal.say(message)
    if chosen is Format.table:
        report.show(terminal.console())
        return
    terminal.write(text(report, chosen))

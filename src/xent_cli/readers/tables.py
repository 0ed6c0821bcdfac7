"""Tables: Parquet, Arrow IPC (Feather v2) and NDJSON (JSON Lines), read with polars.

A table's columns are cells as a CSV's are, named by the column names: ``--label-column``,
``--id-column``, ``--weight-column`` and ``--drop`` take them. Its matrix of predictions
(DESIGN §9) is a list or fixed-size-list column, one vector per row (``--key`` names it; a
table with one such column needs no ``--key``), or else its numeric columns, in order.

polars is imported here only: a CSV or ``.npy`` never loads it (start-up, DESIGN §6).
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xent_cli.errors import InputError, UsageError, polars_module

from .base import check_values, short
from .text import interrupted

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

KINDS = {
    "parquet": "Parquet",
    "arrow": "Arrow IPC",
    "arrow stream": "Arrow IPC",
    "ndjson": "NDJSON",
}
INDEX_COLUMN = "__index_level_0__"  # pandas' index, stored by to_parquet when it is not 0…N−1


def parse_table(
    name: str,
    data: bytes | str,
    kind: str,
    key: str | None,
    *,
    first_line: int = 1,
    like: FrameSource | None = None,
) -> FrameSource:
    """Read a whole table (``data``: its bytes, or its path) into a :class:`FrameSource`.

    A piece of a large NDJSON file starts at line ``first_line``, and must hold the columns
    of the first piece, ``like`` (matched by name: the order of a line's keys is free).
    """
    import io

    pl = polars_module(f"reading {KINDS[kind]}")
    if kind == "ndjson":
        data = data if isinstance(data, bytes) else Path(data).read_bytes()
        data = data.removeprefix(b"\xef\xbb\xbf")  # a BOM, as in text
        if not data.strip():
            raise InputError(f"{name}:{first_line}:1", "the input is empty (no rows)")
    source: Any = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        if kind == "parquet":
            frame = pl.read_parquet(source)
        elif kind == "arrow":
            try:
                frame = pl.read_ipc(source)
            except Exception:  # an Arrow stream named .arrow/.ipc: no file footer
                if isinstance(source, io.BytesIO):
                    source.seek(0)
                frame = pl.read_ipc_stream(source)
        elif kind == "arrow stream":
            frame = pl.read_ipc_stream(source)
        else:
            frame = pl.read_ndjson(source, infer_schema_length=None)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # polars' errors (a Rust panic too): the file is damaged
        interrupted(exc)
        if kind == "ndjson":
            bad = _bad_json_line(name, data, first_line)
            raise bad or _unreadable(name, kind, exc) from None
        raise _unreadable(name, kind, exc) from None
    lines = None
    if kind == "ndjson":
        lines = [n + first_line - 1 for n in _json_lines(data)]
    return FrameSource.of(name, frame, key, lines=lines, like=like)


def _unreadable(name: str, kind: str, exc: BaseException) -> InputError:
    return InputError(name, f"is not a readable {KINDS[kind]} file ({short(exc)})")


def _json_lines(data: bytes | str) -> list[int]:
    """The 1-based line of each object of an NDJSON text (blank lines hold none)."""
    raw = data if isinstance(data, bytes) else Path(data).read_bytes()
    return [n + 1 for n, line in enumerate(raw.split(b"\n")) if line.strip()]


def _no_constant(text: str) -> float:
    """NaN and Infinity are not JSON (Python's json reads them; polars does not)."""
    raise ValueError(f"{text} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} overflows float64")
    return value


def _bad_json_line(name: str, data: bytes | str, first_line: int = 1) -> InputError | None:
    """The first line of an NDJSON text that is not one JSON object, named with its line
    (``data`` starts at line ``first_line``)."""
    import json  # only an error path needs it

    raw = data if isinstance(data, bytes) else Path(data).read_bytes()
    for number, line in enumerate(raw.split(b"\n"), start=first_line):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_constant=_no_constant, parse_float=_finite)
        except (ValueError, UnicodeDecodeError) as error:
            unicode = isinstance(error, UnicodeDecodeError)
            detail = "not UTF-8 text" if unicode else getattr(error, "msg", None) or str(error)
            return InputError(f"{name}:{number}:1", f"not a JSON object ({detail})")
        if not isinstance(value, dict):
            what = type(value).__name__.replace("dict", "object").replace("list", "array")
            return InputError(f"{name}:{number}:1", f"is a JSON {what}, not an object")
    return None


@dataclass
class FrameSource:
    """A table as a grid of cells: its scalar columns, and the matrix column's elements.

    ``cells[c]`` is (column name, element) for grid column ``c``: element ``None`` for a
    scalar column, ``k`` for the k-th value of the list column that holds the predictions.
    """

    name: str
    frame: Any  # a polars DataFrame
    cells: list[tuple[str, int | None]]
    matrix_columns: list[int]  # the grid columns that hold the predictions (DESIGN §9)
    lines: list[int] | None = None  # NDJSON: each row's line
    row_offset: int = 0  # rows of the file before this slice of it
    # column names; a list column's elements are named 0, 1, …, K−1 (class indices)
    header: list[str] | None = None
    key: str | None = None  # the list (or single) column chosen as the predictions
    _lists: dict[str, FloatArray] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls,
        name: str,
        frame: Any,
        key: str | None,
        *,
        lines: list[int] | None = None,
        row_offset: int = 0,
        like: FrameSource | None = None,
    ) -> FrameSource:
        """The grid of ``frame``: its predictions in ``key`` (a list column, or a scalar
        column alone), else in its one list column, else in its numeric columns.

        A later piece or slice of a large file (rows from ``row_offset``; ``lines`` its
        own) is read ``like`` the first: the same columns, by name, and list widths.
        """
        import polars as pl

        def place(row: int) -> str:
            return _place(name, lines, row + row_offset) + (":" if lines else ",")

        if frame.height == 0 or frame.width == 0:
            raise InputError(name, f"is empty ({frame.height} rows, {frame.width} columns)")
        if like is not None:
            frame = _columns_like(frame, like, place(0))
            key = like.key
        lists = [c for c, t in frame.schema.items() if isinstance(t, (pl.List, pl.Array))]
        if key is not None and key not in frame.columns:
            listed = ", ".join(frame.columns)
            raise UsageError(f"{name} has no column {key!r}; it has: {listed}")
        if key is None and len(lists) > 1:
            listed = ", ".join(lists)
            raise UsageError(f"{name} has several list columns ({listed}); choose one with --key")
        chosen = key if key is not None else (lists[0] if lists else None)
        widths = collections.Counter(n for n, k in (like.cells if like else []) if k is not None)
        cells: list[tuple[str, int | None]] = []
        matrix: list[int] = []
        for column, dtype in frame.schema.items():
            if isinstance(dtype, (pl.List, pl.Array)):
                if column != chosen:
                    continue  # another list column: not cells of this grid
                width = _list_width(frame, column, place, widths.get(column) or None)
                matrix.extend(range(len(cells), len(cells) + width))
                cells.extend((column, k) for k in range(width))
                continue
            if column == chosen or (chosen is None and _holds_numbers(frame[column])):
                if column != INDEX_COLUMN:
                    matrix.append(len(cells))
            cells.append((column, None))
        if like is not None:
            if cells != like.cells:  # a list column all null here, say
                raise InputError(place(0).rstrip(",:"), "its columns differ from row 1's")
            matrix = like.matrix_columns  # a column all null here is numeric there
        header = [column if k is None else str(k) for column, k in cells]
        return cls(name, frame, cells, matrix, lines, row_offset, header, key=chosen)

    def choices(self) -> list[str]:
        """The columns that could hold numbers a row: list columns and numeric ones."""
        return [
            name
            for name, dtype in self.frame.schema.items()
            if name != INDEX_COLUMN and (hasattr(dtype, "inner") or _numeric(dtype))
        ]

    def vectors(self, columns: Sequence[int]) -> bool:
        """Whether ``columns`` are elements of a list column (whose classes have no names)."""
        return any(self.cells[c][1] is not None for c in columns)

    @property
    def n_rows(self) -> int:
        return int(self.frame.height)

    @property
    def n_columns(self) -> int:
        return len(self.cells)

    @property
    def dtype(self) -> np.dtype[np.generic]:
        """float32 (or float16) when every prediction column is; else float64."""
        kinds = {_float_kind(self._polars_type(c)) for c in self.matrix_columns}
        narrow = [k for k in kinds if k is not None]
        if narrow and len(narrow) == len(kinds):
            return np.dtype(max(narrow, key=lambda t: np.dtype(t).itemsize))
        return np.dtype(np.float64)

    def _polars_type(self, column: int) -> Any:
        name, element = self.cells[column]
        dtype = self.frame.schema[name]
        return dtype.inner if element is not None else dtype

    def where(self, row: int, column: int | None = None) -> str:
        """``FILE: row R, column 'y'`` (``FILE:LINE: …`` for NDJSON), or ``element K of 'z'``."""
        place = _place(self.name, self.lines, row + self.row_offset)
        if column is None:
            return place
        name, element = self.cells[column]
        cell = f"column {name!r}" if element is None else f"element {element + 1} of {name!r}"
        return f"{place}{':' if self.lines else ','} {cell}"

    def where_end(self) -> str:
        return f"{self.name}: row {self.row_offset + self.n_rows + 1}"

    def numbers(self, columns: Sequence[int] | None = None, *, allow_minus_inf: bool) -> FloatArray:
        chosen = list(range(self.n_columns)) if columns is None else list(columns)
        parts = [self._column(c) for c in chosen]
        values = np.ascontiguousarray(np.column_stack(parts), dtype=np.float64)
        check_values(
            values,
            lambda r, c: self.where(r, None if c is None else chosen[c]),
            allow_minus_inf=allow_minus_inf,
        )
        return values

    def _column(self, column: int) -> FloatArray:
        name, element = self.cells[column]
        if element is not None:
            if name not in self._lists:
                self._lists[name] = self._list_matrix(name)
            return self._lists[name][:, element]
        series = self.frame[name]
        self._no_nulls(series, column)
        if str(series.dtype) == "String":  # numbers and text mixed (NDJSON): the text is wrong
            parsed = series.cast(_float64(), strict=False)
            if parsed.null_count():
                row = int(parsed.is_null().arg_max() or 0)
                text = str(series[row])
                raise InputError(self.where(row, column), f"{text[:40]!r} is not a number")
            series = parsed
        elif not _numeric(series.dtype):
            raise InputError(self.where(0, column), f"holds {series.dtype} values, not numbers")
        return np.asarray(series.cast(_float64()).to_numpy(), dtype=np.float64)

    def _list_matrix(self, name: str) -> FloatArray:
        """A list column as a rows × K float64 matrix (its width checked at :meth:`of`)."""
        import polars as pl

        series = self.frame[name]
        inner = series.dtype.inner
        first = next(c for c, (n, k) in enumerate(self.cells) if n == name and k == 0)
        if not _numeric(inner):
            raise InputError(self.where(0, first), f"holds {inner} values, not numbers")
        flat = series.explode() if isinstance(series.dtype, pl.List) else series.arr.explode()
        if flat.null_count():
            width = sum(1 for n, _ in self.cells if n == name)
            at = int(flat.is_null().arg_max() or 0)
            raise InputError(self.where(at // width, first + at % width), "is missing (null)")
        values = flat.cast(_float64()).to_numpy()
        return np.asarray(values, dtype=np.float64).reshape(self.n_rows, -1)

    def _no_nulls(self, series: Any, column: int) -> None:
        if series.null_count():
            row = int(series.is_null().arg_max() or 0)
            raise InputError(self.where(row, column), "is missing (null)")

    def strings(self, column: int) -> list[str]:
        name, element = self.cells[column]
        series = self.frame[name]
        self._no_nulls(series, column)
        if element is not None:
            return [str(v) for v in self._column(column).tolist()]
        return [
            str(value).lower() if isinstance(value, bool) else str(value)
            for value in series.to_list()
        ]

    def is_numeric(self, column: int) -> bool:
        return _numeric(self._polars_type(column))


def _place(name: str, lines: list[int] | None, row: int) -> str:
    """A 0-based row as messages name it: ``FILE: row R``, or ``FILE:LINE`` in NDJSON."""
    return f"{name}:{lines[row]}" if lines else f"{name}: row {row + 1}"


def _list_width(frame: Any, column: str, place: Callable[[int], str], width: int | None) -> int:
    """The one length of every list in ``column`` (``width``: the first piece's); a row
    whose list differs is an error, named by ``place``."""
    import polars as pl

    dtype = frame.schema[column]
    lengths = (
        np.full(frame.height, dtype.size)
        if isinstance(dtype, pl.Array)
        else frame[column].list.len().fill_null(-1).to_numpy()
    )
    expected = int(lengths[0]) if width is None else width
    odd = np.flatnonzero(lengths != expected)
    if expected < 0 or odd.size:
        row = 0 if expected < 0 else int(odd[0])
        got = int(lengths[row])
        held = (
            "is missing (null)" if got < 0 else f"holds {got} values, but row 1's holds {expected}"
        )
        raise InputError(f"{place(row)} column {column!r}", held)
    return expected


def _columns_like(frame: Any, like: FrameSource, where: str) -> Any:
    """``frame``'s columns in the order of ``like``'s (NDJSON keys come in any order); a
    column missing or more is an error at ``where``, the piece's first row."""
    names = list(like.frame.columns)
    missing = [n for n in names if n not in frame.columns]
    more = [n for n in frame.columns if n not in names]
    if missing or more:
        said = f"no {', '.join(map(repr, missing))}" if missing else ""
        said += ("; " if said else "") + (f"also {', '.join(map(repr, more))}" if more else "")
        raise InputError(where.rstrip(",:"), f"its columns differ from row 1's ({said})")
    return frame.select(names)


def _holds_numbers(series: Any) -> bool:
    """Whether a column is one of the predictions when no list column is: numbers, or text
    that mixes numbers and words (NDJSON's 0.9 and "x" in one column): that one stays, so
    that the word is an error at its row, not the column silently left out. Text of words
    only (ids, class names), or of numbers only, is not predictions.

    >>> import polars as pl
    >>> _holds_numbers(pl.Series([0.5, 1.0])), _holds_numbers(pl.Series(["0.5", "x"]))
    (True, True)
    >>> _holds_numbers(pl.Series(["img-1", "img-2"])), _holds_numbers(pl.Series(["17", "18"]))
    (False, False)
    """
    if _numeric(series.dtype):
        return True
    if str(series.dtype) != "String":
        return False
    unparsed = series.cast(_float64(), strict=False).null_count() - series.null_count()
    return bool(0 < unparsed < series.len() - series.null_count())


def _numeric(dtype: Any) -> bool:
    return bool(dtype.is_numeric())


def _float_kind(dtype: Any) -> type | None:
    """numpy's float32 or float16 for polars' (their tolerance of sums, DESIGN §2); else None."""
    return {"Float32": np.float32, "Float16": np.float16}.get(str(dtype))


def _float64() -> Any:
    import polars as pl

    return pl.Float64

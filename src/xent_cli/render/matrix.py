"""``xent softmax`` and ``xent sigmoid`` → their reports: a probability table with bars
and the winner in bold for a person; the N×K matrix (or the argmax classes) for a pipe."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from xent_cli.blocks import ArrayBlocks
from xent_cli.options import Format
from xent_cli.writer import (
    Categories,
    Column,
    FloatRows,
    Floats,
    Frame,
    Rows,
    StreamedFrame,
    chunk_rows,
)

from . import HEAD_ROWS, TAIL_ROWS, human, plain, shown_rows

if TYPE_CHECKING:
    import numpy.typing as npt
    from rich.console import Console

    from xent_cli.transform import Transformed


BAR_WIDTH = 8
BAR_BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(probability: float, width: int = BAR_WIDTH) -> str:
    """A bar of ``width`` cells for a probability, in eighths of a cell, on a dotted track.

    >>> bar(1.0, 4), bar(0.5, 4), bar(0.0, 4), bar(0.3, 4)
    ('████', '██··', '····', '█▎··')
    """
    eighths = round(max(0.0, min(1.0, probability)) * width * 8)
    full, part = divmod(eighths, 8)
    filled = "█" * full + (BAR_BLOCKS[part] if part else "")
    return filled + "·" * (width - len(filled))


def bar_markup(probability: float, width: int = BAR_WIDTH) -> str:
    """:func:`bar` in Rich markup: the filled part in colour, the track dim."""
    text = bar(probability, width)
    filled = text.rstrip("·")
    return f"[cyan]{filled}[/][dim]{text[len(filled) :]}[/]"


def shown_columns(k: int, limit: int) -> list[int]:
    """The class columns a terminal table shows: all, or the first ``limit − 1`` and the last.

    >>> shown_columns(3, limit=8), shown_columns(20, limit=4)
    ([0, 1, 2], [0, 1, 2, 19])
    """
    if k <= limit:
        return list(range(k))
    return [*range(limit - 1), k - 1]


def _layout(k: int, width: int, bars: bool, overhead: int) -> tuple[int, int]:
    """(bar width, class columns shown) so that a table of K classes fits ``width``.

    Each class cell is a number (up to 9 characters), maybe a bar, and 3 of padding and
    border; ``overhead`` is what the other columns take.

    >>> _layout(3, 80, True, 18), _layout(30, 100, True, 18), _layout(30, 100, False, 18)
    ((6, 3), (4, 4), (0, 6))
    """
    room = max(width - overhead, 24)
    for bar_width in (8, 6, 4) if bars else ():
        cell = 9 + 1 + bar_width + 3
        if k * cell <= room or bar_width == 4:
            return bar_width, max(2, min(k, room // cell))
    return 0, max(2, min(k, room // 12))


def probability_table(
    values: npt.NDArray[np.float64],
    names: list[str],
    *,
    bars: bool,
    winners: npt.NDArray[np.int64] | None,
    width: int = 100,
    n_rows: int | None = None,
) -> Any:
    """A Rich table with a column per class (as many as fit ``width``), bars and the winner.

    ``values`` (and ``winners``) hold the rows :func:`~xent_cli.render.shown_rows` shows of
    ``n_rows`` (all of them when ``n_rows`` is not given), in order.
    """
    from rich.table import Table

    k = values.shape[1]
    n = values.shape[0] if n_rows is None else n_rows
    shown = [row for row in shown_rows(n) if row is not None]
    position_of = {row: position for position, row in enumerate(shown)}
    overhead = 7 + (11 if winners is not None else 0)  # row column, borders, argmax
    bar_width, limit = _layout(k, width, bars, overhead)
    columns = shown_columns(k, limit)
    table = Table(header_style="bold")
    table.add_column("row", justify="right", style="dim", no_wrap=True)
    for position, column in enumerate(columns):
        if position and column != columns[position - 1] + 1:
            table.add_column("…", justify="center", no_wrap=True)
        table.add_column(plain(names[column]), justify="left", no_wrap=True)
    if winners is not None:
        table.add_column("argmax", justify="left", style="bold", no_wrap=True)
    if len(columns) < k:
        table.caption = f"{k - len(columns):,} of {k:,} classes not shown"
    for row in shown_rows(n):
        if row is None:
            table.add_row(*["⋮"] * len(table.columns), style="dim")
            hidden = f"{n - HEAD_ROWS - TAIL_ROWS:,} of {n:,} rows"
            table.caption = (
                f"{hidden} not shown"
                if table.caption is None
                else (f"{hidden} and {table.caption}")
            )
            continue
        at = position_of[row]
        cells = [str(row)]
        for position, column in enumerate(columns):
            if position and column != columns[position - 1] + 1:
                cells.append("…")
            value = float(values[at, column])
            text = f"{human(value, 4 if bar_width else 6):>9}"
            if bar_width:
                text = f"{text} {bar_markup(value, bar_width)}"
            if winners is not None and column == winners[at]:
                text = f"[bold green]{text}[/]"
            cells.append(text)
        if winners is not None:
            cells.append(plain(names[int(winners[at])]))
        table.add_row(*cells)
    return table


def argmax_table(
    classes: list[str],
    probabilities: npt.NDArray[np.float64],
    *,
    log: bool,
    n_rows: int | None = None,
) -> Any:
    """A Rich table of each row's winning class and its probability (or log-probability);
    ``classes`` and ``probabilities`` hold the rows shown of ``n_rows`` (default: all)."""
    from rich.table import Table

    table = Table(header_style="bold")
    table.add_column("row", justify="right", style="dim")
    table.add_column("argmax", style="bold")
    table.add_column("log p" if log else "p", justify="right")
    n = len(classes) if n_rows is None else n_rows
    at = 0
    for row in shown_rows(n):
        if row is None:
            table.add_row("⋮", "⋮", "⋮", style="dim")
            table.caption = f"{n - HEAD_ROWS - TAIL_ROWS:,} of {n:,} rows not shown"
            continue
        value = float(probabilities[at])
        shown = human(value, 6) if log else f"{human(value, 4):>9} {bar_markup(value)}"
        table.add_row(str(row), plain(classes[at]), shown)
        at += 1
    return table


def _shown(matrix: Transformed) -> tuple[list[int], npt.NDArray[np.float64], Any]:
    """The rows a terminal shows, their values and their winners: only those are made."""
    rows = [row for row in shown_rows(matrix.n_rows) if row is not None]
    values, winners = matrix.rows(rows)
    return rows, values, winners


WIDE = 1024  # classes past which a matrix is written a row at a time (writer.FloatRows)


class MatrixReport:
    """The N×K matrix of ``softmax``/``sigmoid``: CSV/TSV with a header only when the input
    had one, JSON a list of rows, JSONL a row a line; ``bars`` on the terminal table.

    The matrix is made a block of rows at a time as it is written (``progress`` hears of
    each block), never whole; a terminal's table makes only the rows it shows.
    """

    def __init__(
        self, matrix: Transformed, bars: bool, progress: Callable[[int], None] | None = None
    ) -> None:
        self.matrix = matrix
        self.bars = bars
        self.progress = progress
        self.infinite = False  # a value written was ±∞ (JSON writes null): found while writing

    def show(self, console: Console) -> None:
        matrix = self.matrix
        _, values, winners = _shown(matrix)
        console.print(
            probability_table(
                values,
                matrix.names,
                bars=self.bars,
                winners=winners,
                width=console.width,
                n_rows=matrix.n_rows,
            )
        )

    def _columns(self, values: npt.NDArray[np.float64] | None = None) -> list[Column]:
        names = self.matrix.names
        if len(names) > WIDE:  # one column of rows, not a column object a class
            return [FloatRows(names, np.empty((0, len(names))) if values is None else values)]
        if values is None:
            return [Floats(name, []) for name in names]
        return [Floats(name, values[:, k]) for k, name in enumerate(names)]

    def _frames(self) -> Iterator[Frame]:
        matrix = self.matrix
        for block in matrix.blocks(chunk_rows(matrix.n_columns) * matrix.n_columns, self.progress):
            values = block.values
            assert values is not None
            if not self.infinite and not bool(np.isfinite(values).all()):
                self.infinite = True
            yield Frame(self._columns(values), matrix.header is not None)

    def table(self) -> Frame:
        return StreamedFrame(
            self._columns(), self.matrix.header is not None, self.matrix.n_rows, self._frames
        )

    def document(self) -> Rows:
        return Rows(self.table())

    def records(self) -> Rows:
        return Rows(self.table())

    def array(self) -> ArrayBlocks:
        """The matrix as float64 rows, for a ``.npy`` (a block in each thread's buffer)."""
        matrix = self.matrix

        def values(start: int, stop: int) -> npt.NDArray[np.float64]:
            made = matrix.block(start, stop, reuse=True).values
            assert made is not None
            return made

        return ArrayBlocks(
            np.dtype(np.float64),
            (matrix.n_rows, matrix.n_columns),
            matrix.pieces(),
            values,
            sequential=matrix.scores.sequential,
        )

    def messages(self, fmt: Format, *, stderr_is_tty: bool) -> list[str]:
        return []

    def late_messages(self, fmt: Format) -> list[str]:
        if fmt in (Format.json, Format.jsonl) and self.infinite:
            return ["warning: −∞ values are written as null (JSON has no Infinity)"]
        return []


class ArgmaxReport:
    """``softmax --argmax``: the winning class of each row (bare lines in CSV/TSV, by name
    when the input had a header), and on a terminal its probability (or log-probability)."""

    def __init__(
        self,
        matrix: Transformed,
        log: bool,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.matrix = matrix
        self.log = log
        self.progress = progress

    def _column(self, winners: Any = ()) -> Categories:
        return Categories("argmax", winners, self.matrix.header)

    def show(self, console: Console) -> None:
        matrix = self.matrix
        _, values, winners = _shown(matrix)
        assert winners is not None
        classes = [matrix.names[int(w)] for w in winners]
        picked = values[np.arange(len(classes)), winners]
        console.print(argmax_table(classes, picked, log=self.log, n_rows=matrix.n_rows))

    def _frames(self) -> Iterator[Frame]:
        for block in self.matrix.blocks(progress=self.progress, values=False, winners=True):
            yield Frame([self._column(block.winners)], header=False)

    def table(self) -> Frame:
        return StreamedFrame([self._column()], False, self.matrix.n_rows, self._frames)

    def document(self) -> Rows:
        return Rows(self.table(), flat=True)

    def records(self) -> Rows:
        return Rows(self.table(), flat=True)

    def array(self) -> ArrayBlocks:
        """The winning class index of each row (int64), for a ``.npy``."""
        matrix = self.matrix

        def winners(start: int, stop: int) -> npt.NDArray[np.int64]:
            found = matrix.block(start, stop, values=False, winners=True).winners
            assert found is not None
            return found

        return ArrayBlocks(
            np.dtype(np.int64),
            (matrix.n_rows,),
            matrix.pieces(),
            winners,
            sequential=matrix.scores.sequential,
        )

    def messages(self, fmt: Format, *, stderr_is_tty: bool) -> list[str]:
        return []

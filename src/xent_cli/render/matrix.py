"""``xent softmax`` and ``xent sigmoid`` → their reports: a probability table with bars
and the winner in bold for a person; the N×K matrix (or the argmax classes) for a pipe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from xent_cli.options import Format
from xent_cli.writer import Categories, Floats, Frame

from . import HEAD_ROWS, TAIL_ROWS, human, plain, shown_rows

if TYPE_CHECKING:
    import numpy.typing as npt
    from rich.console import Console

    from xent_cli.transform import Matrix


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
) -> Any:
    """A Rich table with a column per class (as many as fit ``width``), bars and the winner."""
    from rich.table import Table

    n, k = values.shape
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
        cells = [str(row)]
        for position, column in enumerate(columns):
            if position and column != columns[position - 1] + 1:
                cells.append("…")
            value = float(values[row, column])
            text = f"{human(value, 4 if bar_width else 6):>9}"
            if bar_width:
                text = f"{text} {bar_markup(value, bar_width)}"
            if winners is not None and column == winners[row]:
                text = f"[bold green]{text}[/]"
            cells.append(text)
        if winners is not None:
            cells.append(plain(names[int(winners[row])]))
        table.add_row(*cells)
    return table


def argmax_table(classes: list[str], probabilities: npt.NDArray[np.float64], *, log: bool) -> Any:
    """A Rich table of each row's winning class and its probability (or log-probability)."""
    from rich.table import Table

    table = Table(header_style="bold")
    table.add_column("row", justify="right", style="dim")
    table.add_column("argmax", style="bold")
    table.add_column("log p" if log else "p", justify="right")
    n = len(classes)
    for row in shown_rows(n):
        if row is None:
            table.add_row("⋮", "⋮", "⋮", style="dim")
            table.caption = f"{n - HEAD_ROWS - TAIL_ROWS:,} of {n:,} rows not shown"
            continue
        value = float(probabilities[row])
        shown = human(value, 6) if log else f"{human(value, 4):>9} {bar_markup(value)}"
        table.add_row(str(row), plain(classes[row]), shown)
    return table


@dataclass
class MatrixReport:
    """The N×K matrix of ``softmax``/``sigmoid``: CSV/TSV with a header only when the input
    had one, JSON a list of rows, JSONL a row a line; ``bars`` on the terminal table."""

    matrix: Matrix
    bars: bool

    def show(self, console: Console) -> None:
        matrix = self.matrix
        console.print(
            probability_table(
                matrix.values,
                matrix.names,
                bars=self.bars,
                winners=matrix.winners,
                width=console.width,
            )
        )

    def table(self) -> Frame:
        values = self.matrix.values
        columns = [Floats(name, values[:, k]) for k, name in enumerate(self.matrix.names)]
        return Frame(list(columns), header=self.matrix.header is not None)

    def document(self) -> list[list[Any]]:
        return self.table().rows()

    def records(self) -> list[list[Any]]:
        return self.table().rows()

    def messages(self, fmt: Format, *, stderr_is_tty: bool) -> list[str]:
        if fmt in (Format.json, Format.jsonl) and not bool(np.isfinite(self.matrix.values).all()):
            return ["warning: −∞ values are written as null (JSON has no Infinity)"]
        return []


@dataclass
class ArgmaxReport:
    """``softmax --argmax``: the winning class of each row (bare lines in CSV/TSV, by name
    when the input had a header), and on a terminal its probability (or log-probability)."""

    matrix: Matrix
    log: bool

    def _column(self) -> Categories:
        assert self.matrix.winners is not None
        return Categories("argmax", self.matrix.winners, self.matrix.header)

    def show(self, console: Console) -> None:
        matrix = self.matrix
        winners = matrix.winners
        assert winners is not None
        classes = [matrix.names[int(w)] for w in winners]
        picked = matrix.values[np.arange(len(classes)), winners]
        console.print(argmax_table(classes, picked, log=self.log))

    def table(self) -> Frame:
        return Frame([self._column()], header=False)

    def document(self) -> list[Any]:
        return self._column().values()

    def records(self) -> list[Any]:
        return self._column().values()

    def messages(self, fmt: Format, *, stderr_is_tty: bool) -> list[str]:
        return []

"""Results → output: each command's :class:`~xent_cli.writer.Report`, one module each.

- :mod:`.compute`: ``xent compute`` (per-row table, summary, histogram, worst rows, confusion);
- :mod:`.matrix`: ``xent softmax`` and ``xent sigmoid`` (probability tables with bars, argmax);
- :mod:`.compare`: ``xent compute --compare``;
- :mod:`.explain`: ``xent explain``.

Each report builds its Rich view, its columns (a :class:`~xent_cli.writer.Frame`) and JSON;
:func:`xent_cli.writer.emit` chooses among them. Shared here: how numbers and long listings
are shown to a person.
"""

from __future__ import annotations

import math

HEAD_ROWS = 10
TAIL_ROWS = 5

# The narrowest terminal the Rich views are drawn on; on a narrower one (COLUMNS=0 included:
# Rich then draws nothing at all) the output is the CSV of ``-f csv``. Rich fits a table to
# the width by cutting cells short ("0.2…"), so the minimum is what the widest common view
# needs to show its numbers whole: ``compute``'s per-row table (row, loss, predicted, target,
# p(target), ✓), drawn for the samples and for two-class inputs, shows every six-digit loss
# from 52 to 55 columns and cuts nothing, headers included, from 56. (softmax/sigmoid and
# explain need 33 to 41; an ``--id-column`` or long class names need more, and are cut.)
MIN_TABLE_WIDTH = 56


def shown_rows(n: int, head: int = HEAD_ROWS, tail: int = TAIL_ROWS) -> list[int | None]:
    """Row indices to show for ``n`` rows; ``None`` marks the gap of a shortened listing.

    >>> shown_rows(3)
    [0, 1, 2]
    >>> shown_rows(100, head=2, tail=1)
    [0, 1, None, 99]
    """
    if n <= head + tail + 1:
        return list(range(n))
    return [*range(head), None, *range(n - tail, n)]


def human(value: float, digits: int = 6) -> str:
    """A float for a person: ``digits`` significant digits, ∞ as a symbol.

    >>> human(0.47901069674771036), human(4.248354255291589e-18), human(float("inf"))
    ('0.479011', '4.24835e-18', '∞')
    """
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if math.isnan(value):
        return "NaN"
    return f"{value:.{digits}g}"


def plain(text: str) -> str:
    """Text a Rich table shows as written: ``[bold]`` in a class name is not markup.

    >>> plain("[bold]cat")
    '\\\\[bold]cat'
    """
    from rich.markup import escape  # rich is imported only when a table is drawn

    return escape(text)

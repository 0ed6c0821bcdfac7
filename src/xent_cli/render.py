"""Results → text: Rich tables for a person, CSV/TSV/JSON/JSONL for a pipeline.

Machine formats print every float as ``repr`` of the float64 (an exact round-trip);
JSON never holds ``NaN``/``Infinity``: such values become ``null`` and a note says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt


if TYPE_CHECKING:
    from rich.console import Console

    from .compute import Comparison, Result

Format = Literal["table", "csv", "tsv", "json", "jsonl"]
Reduction = Literal["none", "mean", "sum"]
HEAD_ROWS = 10
TAIL_ROWS = 5
NULL_NOTE = "infinite losses are written as null (JSON has no Infinity)"


def number(value: float) -> str:
    """The exact, round-trip text of a float64 (``repr``), as machine formats print it.

    >>> number(0.1), number(2000.0), number(float("inf"))
    ('0.1', '2000.0', 'inf')
    """
    return repr(float(value))


def json_number(value: float) -> float | None:
    """A float for JSON, or ``None`` (null) when it is not finite."""
    return float(value) if math.isfinite(value) else None


def _column_text(result: Result, values: Any, *, names: bool) -> list[str]:
    """A predicted or target column as text: class names, indices, or exact floats."""
    if values.dtype.kind == "f":
        return list(map(repr, values.tolist()))
    count = int(values.max(initial=-1)) + 1  # class indices: each text made once, then looked up
    if names and result.class_names is not None:
        texts = [result.class_label(k) for k in range(count)]
    else:
        texts = list(map(str, range(count)))
    if values.min(initial=0) >= 0:
        return list(map(texts.__getitem__, values.tolist()))
    return [texts[k] if k >= 0 else str(k) for k in values.tolist()]  # an ignored label: −100


def _single_label(result: Result) -> bool:
    return result.predicted is not None and result.target is not None


def _binary(result: Result) -> bool:
    return result.decision.row.per_column


def delimited_rows(result: Result, delimiter: str, rows: list[int] | None = None) -> Iterator[str]:
    """Lines of ``row,loss[,predicted,target]``, header first; ``rows`` picks and orders them.

    Columns are formatted whole (``map(repr, …)``): about 1 µs a row.
    """
    single = _single_label(result)
    yield delimiter.join(["row", "loss", "predicted", "target"] if single else ["row", "loss"])
    order = np.arange(result.rows) if rows is None else np.asarray(rows, dtype=np.int64)
    columns = [list(map(str, order.tolist())), list(map(repr, result.losses[order].tolist()))]
    if single:
        assert result.predicted is not None
        assert result.target is not None
        names = not _binary(result)
        columns.append(_column_text(result, np.asarray(result.predicted)[order], names=names))
        columns.append(_column_text(result, np.asarray(result.target)[order], names=names))
    yield from map(delimiter.join, zip(*columns, strict=True))


def _labels_json(result: Result, values: Any) -> list[Any]:
    if _binary(result):
        return [
            float(v) if isinstance(v, (float, np.floating)) else int(v) for v in values.tolist()
        ]
    return [result.class_label(int(v)) if result.class_names else int(v) for v in values.tolist()]


def summary_object(result: Result, reduction: Reduction) -> dict[str, Any]:
    """The JSON object of ``compute``: loss, reduction, rows, mean, sum, losses, …"""
    decision = result.decision
    notes: list[str] = []
    obj: dict[str, Any] = {
        "loss": decision.loss,
        "reduction": reduction,
        "rows": result.rows,
        "mean": json_number(result.mean),
        "sum": json_number(result.total),
    }
    if reduction != "none":
        obj["value"] = obj[reduction]
    if result.accuracy is not None:
        obj["accuracy"] = result.accuracy
    obj["perplexity"] = json_number(result.perplexity)
    obj["unit"] = result.unit
    if result.ignored is not None:
        obj["ignored"] = result.ignored_count
    settings = result.settings
    if settings is not None:
        options = {
            "label_smoothing": settings.label_smoothing or None,
            "class_weights": list(settings.class_weights) if settings.class_weights else None,
            "ignore_index": settings.ignore_index,
            "pos_weight": list(settings.pos_weight) if settings.pos_weight else None,
            "focal_gamma": settings.focal_gamma,
            "focal_alpha": settings.focal_alpha,
            "like": None if settings.like == "xent" else settings.like,
        }
        chosen = {name: value for name, value in options.items() if value is not None}
        if chosen:
            obj["options"] = chosen
    obj["reason"] = decision.reason
    obj["outputs"] = "scores" if decision.row.from_scores else "probabilities"
    obj["targets"] = "hard" if decision.hard else "soft"
    obj["multilabel"] = decision.multilabel
    if reduction == "none":
        obj["losses"] = [json_number(v) for v in result.losses.tolist()]
        if result.predicted is not None and result.target is not None:
            obj["predicted"] = _labels_json(result, result.predicted)
            obj["target"] = _labels_json(result, result.target)
    if not np.isfinite(result.losses).all():
        notes.append(NULL_NOTE)
    if result.warnings:
        notes.extend(result.warnings)
    if notes:
        obj["notes"] = notes
    return obj


def json_lines(result: Result, rows: list[int] | None = None) -> Iterator[dict[str, Any]]:
    """One object a row: ``{"row", "loss"[, "predicted", "target"]}``; ``rows`` picks them."""
    single = _single_label(result)
    predicted = _labels_json(result, result.predicted) if single else None
    target = _labels_json(result, result.target) if single else None
    losses = result.losses.tolist()
    for row in range(len(losses)) if rows is None else rows:
        item: dict[str, Any] = {"row": row, "loss": json_number(losses[row])}
        if predicted is not None and target is not None:
            item["predicted"] = predicted[row]
            item["target"] = target[row]
        yield item


def machine_text(
    result: Result,
    fmt: Format,
    reduction: Reduction,
    *,
    top: int = 0,
    show_confusion: bool = False,
) -> str:
    """The whole output of ``compute`` in a machine format, ending with a newline.

    ``top`` keeps only the K worst rows, worst first; ``show_confusion`` prints the
    confusion counts instead of rows (CSV/TSV) or adds them (JSON).
    """
    rows = worst_rows(result, top) if top else None
    if fmt in ("csv", "tsv"):
        delimiter = "," if fmt == "csv" else "\t"
        if show_confusion:
            return confusion_text(result, delimiter)
        if reduction != "none":
            return number(result.mean if reduction == "mean" else result.total) + "\n"
        return "\n".join(delimited_rows(result, delimiter, rows)) + "\n"
    import json  # only JSON output needs it: keeps start-up short

    if fmt == "json" or reduction != "none":
        obj = summary_object(result, reduction)
        if rows is not None:
            obj["worst"] = list(json_lines(result, rows))
        if show_confusion:
            found = confusion(result)
            obj["confusion"] = (
                None if found is None else {"labels": found[0], "matrix": found[1].tolist()}
            )
        return json.dumps(obj, ensure_ascii=False, allow_nan=False) + "\n"
    return "".join(json.dumps(item, allow_nan=False) + "\n" for item in json_lines(result, rows))


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


def _target_text(result: Result, row: int) -> str:
    assert result.target is not None
    value = result.target[row]
    if isinstance(value, (float, np.floating)):
        return human(float(value), 4)
    return str(int(value)) if _binary(result) else result.class_label(int(value))


def _predicted_text(result: Result, row: int) -> str:
    assert result.predicted is not None
    value = int(result.predicted[row])
    return str(value) if _binary(result) else result.class_label(value)


def rows_table(result: Result) -> Any:
    """A Rich table of the per-row losses, shortened for long inputs."""
    from rich.table import Table

    single = _single_label(result)
    correct = result.correct
    table = Table(header_style="bold")
    table.add_column("row", justify="right", style="dim")
    table.add_column(f"loss ({result.unit})", justify="right")
    if single:
        table.add_column("predicted", justify="right")
        table.add_column("target", justify="right")
    if result.target_probability is not None:
        table.add_column("p(target)", justify="right")
    if correct is not None:
        table.add_column("", justify="center")
    for row in shown_rows(result.rows):
        if row is None:
            hidden = result.rows - HEAD_ROWS - TAIL_ROWS
            table.add_row(*["⋮"] * len(table.columns), style="dim")
            table.caption = f"{hidden:,} of {result.rows:,} rows not shown (-f csv lists them all)"
            continue
        cells = [str(row), human(float(result.losses[row]))]
        if single:
            cells += [_predicted_text(result, row), _target_text(result, row)]
        if result.target_probability is not None:
            probability = float(result.target_probability[row])
            cells.append("—" if math.isnan(probability) else human(probability, 4))
        if correct is not None:
            if result.ignored is not None and result.ignored[row]:
                cells.append("[dim]–[/]")
            else:
                cells.append("[green]✓[/]" if correct[row] else "[red]✗[/]")
        table.add_row(*cells)
    return table


def summary_table(result: Result) -> Any:
    """A Rich grid: the loss and why, rows, mean, sum, accuracy, perplexity."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    decision = result.decision
    grid.add_row("loss", f"[cyan]{decision.loss}[/]")
    grid.add_row("why", decision.reason.rsplit(" → ", 1)[0])
    grid.add_row("rows", f"{result.rows:,}")
    grid.add_row("mean", f"{human(result.mean, 10)} {result.unit}")
    grid.add_row("sum", f"{human(result.total, 10)} {result.unit}")
    if result.ignored_count:
        grid.add_row(
            "ignored", f"{result.ignored_count:,} rows (--ignore-index), left out of the mean"
        )
    if result.accuracy is not None:
        correct = result.correct
        assert correct is not None
        grid.add_row(
            "accuracy", f"{result.accuracy:.2%} ({int(correct.sum()):,} of {result.rows:,})"
        )
    grid.add_row("perplexity", human(result.perplexity, 6))
    return grid


def print_table(
    console: Console,
    result: Result,
    reduction: Reduction,
    *,
    top: int = 0,
    show_confusion: bool = False,
) -> None:
    """The per-row table (unless reduced), the summary, a histogram of the losses, the
    ``top`` worst rows and, asked for, the confusion counts."""
    if reduction == "none":
        console.print(rows_table(result))
        console.print()
    console.print(summary_table(result))
    spread = histogram(result.losses)
    if spread is not None:
        console.print(f"\n[bold]losses ({result.unit})[/]")
        console.print(spread)
    if top:
        console.print()
        console.print(top_table(result, top))
    if show_confusion:
        console.print()
        console.print(confusion_table(result))


def matrix_text(
    values: npt.NDArray[np.float64], fmt: Format, header: list[str] | None
) -> tuple[str, bool]:
    """An N×K matrix in a machine format, and whether a non-finite value became ``null``.

    CSV/TSV carry a header line only when the input had one; JSON is a list of rows and
    JSONL one row a line.

    >>> matrix_text(np.array([[0.25, 0.75]]), "csv", ["a", "b"])
    ('a,b\\n0.25,0.75\\n', False)
    >>> matrix_text(np.array([[0.0, -np.inf]]), "json", None)
    ('[[0.0, null]]\\n', True)
    """
    rows = values.tolist()
    if fmt in ("csv", "tsv"):
        delimiter = "," if fmt == "csv" else "\t"
        lines = [delimiter.join(header)] if header is not None else []
        lines.extend(delimiter.join(map(repr, row)) for row in rows)
        return "\n".join(lines) + "\n", False
    import json  # only JSON output needs it: keeps start-up short

    nulls = not bool(np.isfinite(values).all())
    cleaned = [[json_number(v) for v in row] for row in rows] if nulls else rows
    if fmt == "json":
        return json.dumps(cleaned) + "\n", nulls
    return "".join(json.dumps(row) + "\n" for row in cleaned), nulls


def labels_text(classes: list[str], fmt: Format, numeric: bool) -> str:
    """One class a row (``--argmax``): bare lines, a JSON list, or a JSON value a line."""
    import json  # only JSON output needs it: keeps start-up short

    values: list[Any] = [int(c) for c in classes] if numeric else classes
    if fmt == "json":
        return json.dumps(values, ensure_ascii=False) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in values)
    return "".join(f"{c}\n" for c in classes)


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
        table.add_column(names[column], justify="left", no_wrap=True)
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
            cells.append(names[int(winners[row])])
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
        table.add_row(str(row), classes[row], shown)
    return table


def relative_difference(value: float | None, exact: float | None) -> float | None:
    """See :func:`xent_cli.compute.relative_difference` (one definition, imported late)."""
    from .compute import relative_difference as difference

    return difference(value, exact)


def _exact(rows: list[Comparison]) -> float | None:
    return next((row.value for row in rows if row.framework == "exact"), None)


def comparison_objects(rows: list[Comparison]) -> list[dict[str, Any]]:
    """Each framework's mean, its relative difference from the exact value, and why.

    ``mean`` is null where the framework has no equivalent (``applicable`` false) and
    where the mean is infinite (JSON has no Infinity).
    """
    exact = _exact(rows)
    return [
        {
            "framework": row.framework,
            "call": row.call,
            "applicable": row.value is not None,
            "mean": None if row.value is None else json_number(row.value),
            "relative_difference": relative_difference(row.value, exact),
            "why": row.why,
        }
        for row in rows
    ]


def comparison_text(rows: list[Comparison], fmt: Format) -> str:
    """``--compare`` as CSV/TSV (framework,call,mean,relative_difference,why) or JSON."""
    import json  # only JSON output needs it: keeps start-up short

    if fmt == "json":
        return json.dumps({"compare": comparison_objects(rows)}, ensure_ascii=False) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in comparison_objects(rows))
    import csv
    import io

    exact = _exact(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
    writer.writerow(["framework", "call", "mean", "relative_difference", "why"])
    for row in rows:
        difference = relative_difference(row.value, exact)
        writer.writerow(
            [
                row.framework,
                row.call,
                "" if row.value is None else number(row.value),
                "" if difference is None else number(difference),
                row.why,
            ]
        )
    return buffer.getvalue()


def comparison_table(rows: list[Comparison]) -> Any:
    """A Rich table: framework, call, mean, relative difference from exact, why."""
    from rich.markup import escape
    from rich.table import Table

    exact = _exact(rows)
    table = Table(
        header_style="bold", title="What each framework reports (mean)", title_justify="left"
    )
    table.add_column("framework · call", overflow="fold")
    table.add_column("mean", justify="right", no_wrap=True)
    table.add_column("vs exact", justify="right", no_wrap=True)
    table.add_column("why")
    for row in rows:
        mean = "n/a" if row.value is None else human(row.value, 12)
        difference = relative_difference(row.value, exact)
        shown = "—" if difference is None else ("0" if difference == 0 else f"{difference:.1e}")
        name = (
            f"[bold green]{row.framework}[/]"
            if row.framework == "exact"
            else f"[bold]{row.framework}[/]"
        )
        table.add_row(f"{name}\n[dim]{escape(row.call)}[/]", mean, shown, escape(row.why))
    table.caption = (
        "float64 throughout; frameworks computing in float32 differ by a further ~1e-7 relative"
    )
    return table


def worst_rows(result: Result, count: int) -> list[int]:
    """The ``count`` rows with the largest loss, worst first (ties: earlier rows first)."""
    order = np.argsort(-result.losses, kind="stable")
    return [int(row) for row in order[:count]]


def top_table(result: Result, count: int) -> Any:
    """A Rich table of the ``count`` worst rows: where a model is most wrong."""
    from rich.table import Table

    rows = worst_rows(result, count)
    table = Table(title=f"the {len(rows)} worst rows", title_justify="left", header_style="bold")
    table.add_column("row", justify="right", style="dim")
    table.add_column(f"loss ({result.unit})", justify="right")
    single = _single_label(result)
    if single:
        table.add_column("predicted", justify="right")
        table.add_column("target", justify="right")
    if result.target_probability is not None:
        table.add_column("p(target)", justify="right")
    for row in rows:
        cells = [str(row), human(float(result.losses[row]))]
        if single:
            cells += [_predicted_text(result, row), _target_text(result, row)]
        if result.target_probability is not None:
            cells.append(human(float(result.target_probability[row]), 4))
        table.add_row(*cells)
    return table


def histogram(losses: npt.NDArray[np.float64], bins: int = 8, width: int = 30) -> Any:
    """A text histogram of the finite per-row losses (a Rich grid), or ``None`` for one value.

    >>> histogram(np.array([1.0])) is None
    True
    """
    from rich.table import Table

    finite = losses[np.isfinite(losses)]
    if finite.size < 2 or float(finite.min()) == float(finite.max()):
        return None
    counts, edges = np.histogram(finite, bins=bins)
    most = int(counts.max())
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", style="dim")
    grid.add_column()
    grid.add_column(justify="right", style="dim")
    for count, low, high in zip(
        counts.tolist(), edges[:-1].tolist(), edges[1:].tolist(), strict=True
    ):
        length = round(width * count / most) if most else 0
        shown = "█" * length if length or not count else "▏"
        grid.add_row(f"{human(low, 3)}–{human(high, 3)}", f"[cyan]{shown}[/]", f"{count:,}")
    return grid


def confusion(result: Result) -> tuple[list[str], npt.NDArray[np.int64]] | None:
    """Class labels and confusion counts (rows: target, columns: predicted); hard targets only."""
    if result.correct is None or result.predicted is None or result.target is None:
        return None
    predicted = np.asarray(result.predicted, dtype=np.int64)
    target = np.asarray(result.target, dtype=np.int64)
    keep = np.ones(target.shape, dtype=bool) if result.ignored is None else ~result.ignored
    k = int(max(predicted.max(initial=0), target[keep].max(initial=0))) + 1
    if result.class_names is not None:
        k = max(k, len(result.class_names))
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (target[keep], predicted[keep]), 1)
    names = [str(i) if _binary(result) else result.class_label(i) for i in range(k)]
    return names, matrix


def confusion_table(result: Result) -> Any:
    """The confusion counts as a Rich table, the diagonal (right answers) in green."""
    from rich.table import Table

    found = confusion(result)
    if found is None:
        return "[dim]no confusion matrix: the targets are not hard single labels[/]"
    names, matrix = found
    table = Table(title="confusion counts", title_justify="left", header_style="bold")
    table.add_column("target ↓ predicted →", style="bold")
    for name in names:
        table.add_column(name, justify="right")
    for i, name in enumerate(names):
        cells = [
            (f"[green]{count:,}[/]" if i == j else (f"[red]{count:,}[/]" if count else "[dim]0[/]"))
            for j, count in enumerate(matrix[i].tolist())
        ]
        table.add_row(name, *cells)
    return table


def confusion_text(result: Result, delimiter: str) -> str:
    """The confusion counts as CSV/TSV: a header of predicted classes, a row per target."""
    found = confusion(result)
    if found is None:
        return ""
    names, matrix = found
    lines = [delimiter.join(["target", *names])]
    lines.extend(
        delimiter.join([name, *map(str, row)])
        for name, row in zip(names, matrix.tolist(), strict=True)
    )
    return "\n".join(lines) + "\n"

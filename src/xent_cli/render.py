"""Results → text: Rich tables for a person, CSV/TSV/JSON/JSONL for a pipeline.

Machine formats print every float as ``repr`` of the float64 (an exact round-trip);
JSON never holds ``NaN``/``Infinity``: such values become ``null`` and a note says so.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .compute import Result

if TYPE_CHECKING:
    from rich.console import Console

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


def _cell(result: Result, values: Any, row: int, *, names: bool) -> str:
    value = values[row]
    if isinstance(value, (float, np.floating)):
        return number(float(value))
    return result.class_label(int(value)) if names else str(int(value))


def _single_label(result: Result) -> bool:
    return result.predicted is not None and result.target is not None


def _binary(result: Result) -> bool:
    return result.decision.row.per_column


def delimited_rows(result: Result, delimiter: str) -> Iterator[str]:
    """Lines of ``row,loss[,predicted,target]``, header first."""
    single = _single_label(result)
    names = not _binary(result)
    yield delimiter.join(["row", "loss", "predicted", "target"] if single else ["row", "loss"])
    losses = result.losses.tolist()
    if not single:
        for row, loss in enumerate(losses):
            yield f"{row}{delimiter}{loss!r}"
        return
    predicted, target = result.predicted, result.target
    assert predicted is not None
    assert target is not None
    for row, loss in enumerate(losses):
        yield delimiter.join(
            (
                str(row),
                repr(loss),
                _cell(result, predicted, row, names=names),
                _cell(result, target, row, names=names),
            )
        )


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
    obj["unit"] = "nats"
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


def json_lines(result: Result) -> Iterator[dict[str, Any]]:
    """One object a row: ``{"row", "loss"[, "predicted", "target"]}``."""
    single = _single_label(result)
    predicted = _labels_json(result, result.predicted) if single else None
    target = _labels_json(result, result.target) if single else None
    for row, loss in enumerate(result.losses.tolist()):
        item: dict[str, Any] = {"row": row, "loss": json_number(loss)}
        if predicted is not None and target is not None:
            item["predicted"] = predicted[row]
            item["target"] = target[row]
        yield item


def machine_text(result: Result, fmt: Format, reduction: Reduction) -> str:
    """The whole output of ``compute`` in a machine format, ending with a newline."""
    if fmt in ("csv", "tsv"):
        if reduction != "none":
            return number(result.mean if reduction == "mean" else result.total) + "\n"
        return "\n".join(delimited_rows(result, "," if fmt == "csv" else "\t")) + "\n"
    if fmt == "json":
        return (
            json.dumps(summary_object(result, reduction), ensure_ascii=False, allow_nan=False)
            + "\n"
        )
    if reduction != "none":
        return (
            json.dumps(summary_object(result, reduction), ensure_ascii=False, allow_nan=False)
            + "\n"
        )
    return "".join(json.dumps(item, allow_nan=False) + "\n" for item in json_lines(result))


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
    table.add_column("loss (nats)", justify="right")
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
            cells.append(human(float(result.target_probability[row]), 4))
        if correct is not None:
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
    grid.add_row("mean", f"{human(result.mean, 10)} nats")
    grid.add_row("sum", f"{human(result.total, 10)} nats")
    if result.accuracy is not None:
        correct = result.correct
        assert correct is not None
        grid.add_row(
            "accuracy", f"{result.accuracy:.2%} ({int(correct.sum()):,} of {result.rows:,})"
        )
    grid.add_row("perplexity", human(result.perplexity, 6))
    return grid


def print_table(console: Console, result: Result, reduction: Reduction) -> None:
    """Print the per-row table (unless reduced) and the summary to ``console``."""
    if reduction == "none":
        console.print(rows_table(result))
        console.print()
    console.print(summary_table(result))

"""``xent compute`` → its report: the per-row table, the summary, a histogram of the
losses, the worst rows and the confusion counts; CSV/TSV/JSON/JSONL of the same."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from xent_cli.blocks import ArrayBlocks
from xent_cli.options import Format, Reduction
from xent_cli.writer import Categories, Column, Floats, Frame, Integers, Values, json_number

from . import HEAD_ROWS, TAIL_ROWS, human, plain, shown_rows

if TYPE_CHECKING:
    import numpy.typing as npt
    from rich.console import Console

    from xent_cli.detection import Decision
    from xent_cli.result import Confusion, Result

NULL_NOTE = "infinite losses are written as null (JSON has no Infinity)"
MATRIX_CLASSES = 1000  # CSV/TSV/JSON: the K×K matrix up to 10⁶ cells; above, a row per pair
TABLE_CLASSES = 20  # on a terminal: the K×K matrix up to 20 classes, if it fits its width;
TOP_CONFUSIONS = 20  # else this many confusions, the most frequent first
NAN_NOTE = "the mean and the perplexity are NaN (nothing left to average), written as null"


def _label_column(name: str, result: Result, values: Any) -> Column:
    """A predicted or target column: class names (or indices), 0/1, or [0,1] floats."""
    if values.dtype.kind == "f":
        return Floats(name, values)
    if result.binary:
        return Integers(name, values)
    return Categories(name, values, result.class_names)


def outputs_name(decision: Decision) -> str:
    """What the predictions held, as JSON says it."""
    if decision.log_probs:
        return "log-probabilities"
    return "scores" if decision.row.from_scores else "probabilities"


def rows_columns(result: Result, rows: list[int] | None = None) -> Frame:
    """``row,loss[,predicted,target]`` for every row, or for ``rows`` in that order."""
    order = np.arange(result.rows) if rows is None else np.asarray(rows, dtype=np.int64)
    columns: list[Column] = [Integers("row", order)]
    if result.ids is not None:
        ids = result.ids
        columns.append(Values("id", [ids[k] for k in order.tolist()]))
    columns.append(Floats("loss", result.losses[order]))
    if result.predicted is not None and result.target is not None:
        columns.append(_label_column("predicted", result, np.asarray(result.predicted)[order]))
        columns.append(_label_column("target", result, np.asarray(result.target)[order]))
    return Frame(columns)


def confusion_columns(result: Result, found: Confusion | None = None) -> Frame:
    """The confusion counts: up to :data:`MATRIX_CLASSES` classes, a ``target`` column of
    class names, then a column per predicted class; with more, ``target,predicted,count``,
    a line per pair that occurs (:func:`confusion_pairs`). No columns for targets that are
    not hard single labels."""
    found = result.confusion() if found is None else found
    if found is None:
        return Frame([])
    if found.classes > MATRIX_CLASSES:
        return confusion_pairs(result, found)
    names, matrix = found.labels, found.matrix()
    counts: list[Column] = [Integers(name, matrix[:, j]) for j, name in enumerate(names)]
    return Frame([Values("target", names), *counts])


def confusion_pairs(result: Result, found: Confusion) -> Frame:
    """``target,predicted,count``: the confusion counts in long form, a row per pair that
    occurs (the diagonal too), by target then predicted: at most a row per counted row,
    whatever K."""
    return Frame(
        [
            _label_column("target", result, found.target),
            _label_column("predicted", result, found.predicted),
            Integers("count", found.count),
        ]
    )


def confusion_object(result: Result, found: Confusion | None) -> dict[str, Any] | None:
    """The confusion counts in JSON: ``labels`` and the K×K ``matrix`` up to
    :data:`MATRIX_CLASSES` classes; with more, ``classes`` (K) and ``pairs``, an object
    ``{target, predicted, count}`` per pair that occurs."""
    if found is None:
        return None
    if found.classes <= MATRIX_CLASSES:
        return {"labels": found.labels, "matrix": found.matrix().tolist()}
    return {"classes": found.classes, "pairs": list(confusion_pairs(result, found).records())}


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
        obj["accuracy"] = json_number(result.accuracy)
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
            "like": None if settings.like is None else settings.like.value,
            "sample_weights": settings.sample_weights,
            "weight_column": settings.weight_column,
        }
        chosen = {name: value for name, value in options.items() if value is not None}
        if chosen:
            obj["options"] = chosen
    obj["reason"] = decision.reason
    obj["outputs"] = outputs_name(decision)
    obj["targets"] = "hard" if decision.hard else "soft"
    obj["multilabel"] = decision.multilabel
    if reduction is Reduction.none:
        if result.ids is not None:
            obj["id"] = result.ids
        obj["losses"] = [json_number(v) for v in result.losses.tolist()]
        if result.predicted is not None and result.target is not None:
            obj["predicted"] = _label_column("", result, result.predicted).values()
            obj["target"] = _label_column("", result, result.target).values()
    if not np.isfinite(result.losses).all():
        notes.append(NULL_NOTE)
    if math.isnan(result.mean):
        notes.append(NAN_NOTE)
    if result.warnings:
        notes.extend(result.warnings)
    if result.clipping_note is not None:
        notes.append(result.clipping_note)
    if notes:
        obj["notes"] = notes
    return obj


def _target_text(result: Result, row: int) -> str:
    assert result.target is not None
    value = result.target[row]
    if isinstance(value, (float, np.floating)):
        return human(float(value), 4)
    return str(int(value)) if result.binary else plain(result.class_label(int(value)))


def _predicted_text(result: Result, row: int) -> str:
    assert result.predicted is not None
    value = int(result.predicted[row])
    return str(value) if result.binary else plain(result.class_label(value))


def _id(result: Result, row: int) -> list[str]:
    """The row's identifier cell (``--id-column``), or none."""
    return [] if result.ids is None else [plain(result.ids[row])]


def rows_table(result: Result) -> Any:
    """A Rich table of the per-row losses, shortened for long inputs."""
    from rich.table import Table

    single = result.single_label
    correct = result.correct
    table = Table(header_style="bold")
    table.add_column("row", justify="right", style="dim")
    if result.ids is not None:
        table.add_column("id", justify="left")
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
        cells = [str(row), *_id(result, row), human(float(result.losses[row]))]
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
        weighted = " rows, weighted by sample" if result.weights is not None else ""
        shown = f"({result.correct_count:,} of {result.counted_rows:,}{weighted})"
        share = "—" if math.isnan(result.accuracy) else f"{result.accuracy:.2%}"
        grid.add_row("accuracy", f"{share} {shown}")
    grid.add_row("perplexity", human(result.perplexity, 6))
    return grid


def top_table(result: Result, count: int) -> Any:
    """A Rich table of the ``count`` worst rows: where a model is most wrong."""
    from rich.table import Table

    rows = result.worst_rows(count)
    table = Table(title=f"the {len(rows)} worst rows", title_justify="left", header_style="bold")
    table.add_column("row", justify="right", style="dim")
    if result.ids is not None:
        table.add_column("id", justify="left")
    table.add_column(f"loss ({result.unit})", justify="right")
    single = result.single_label
    if single:
        table.add_column("predicted", justify="right")
        table.add_column("target", justify="right")
    if result.target_probability is not None:
        table.add_column("p(target)", justify="right")
    for row in rows:
        cells = [str(row), *_id(result, row), human(float(result.losses[row]))]
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


def confusion_table(
    result: Result, found: Confusion | None = None, console: Console | None = None
) -> Any:
    """The confusion counts as a Rich table, the diagonal (right answers) in green; with
    more than :data:`TABLE_CLASSES` classes, or a matrix too wide for ``console`` to draw
    without cutting its counts, the most frequent confusions instead."""
    from rich.measure import Measurement
    from rich.table import Table

    found = result.confusion() if found is None else found
    if found is None:
        return "[dim]no confusion matrix: the targets are not hard single labels[/]"
    if found.classes > TABLE_CLASSES:
        return most_confused_table(found)
    names, matrix = found.labels, found.matrix()
    table = Table(title="confusion counts", title_justify="left", header_style="bold")
    table.add_column("target ↓ predicted →", style="bold")
    for name in names:
        table.add_column(plain(name), justify="right")
    for i, name in enumerate(names):
        cells = [
            (f"[green]{count:,}[/]" if i == j else (f"[red]{count:,}[/]" if count else "[dim]0[/]"))
            for j, count in enumerate(matrix[i].tolist())
        ]
        table.add_row(plain(name), *cells)
    if console is not None:
        unlimited = console.options.update_width(1 << 20)
        if Measurement.get(console, unlimited, table).minimum > console.width:
            return most_confused_table(found)
    return table


def most_confused_table(found: Confusion) -> Any:
    """The top of a matrix too wide to show: the :data:`TOP_CONFUSIONS` most frequent
    (target, predicted) pairs off the diagonal, largest first, each with its share of the
    target's rows; then how many pairs are not shown."""
    from rich.console import Group
    from rich.table import Table

    classes, confusions = f"{found.classes:,} classes", found.confusions
    counted, right = int(found.count.sum()), found.right
    if not confusions:
        return f"[bold]confusion counts[/] of {classes}: no confusions, {right:,} rows right"
    shown = found.most_confused(TOP_CONFUSIONS)
    per_target = np.bincount(found.target, weights=found.count, minlength=found.classes)
    table = Table(header_style="bold")
    table.add_column("target", style="bold")
    table.add_column("predicted")
    table.add_column("count", justify="right", style="red")
    table.add_column("of target", justify="right", style="dim")
    for i in shown.tolist():
        target, predicted, count = (int(a[i]) for a in (found.target, found.predicted, found.count))
        share = f"{count / per_target[target]:.1%}"
        table.add_row(
            plain(found.labels[target]), plain(found.labels[predicted]), f"{count:,}", share
        )
    hidden = confusions - len(shown)
    return Group(
        f"[bold]confusion counts[/] of {classes}: the {len(shown):,} most frequent confusions "
        f"(target ≠ predicted) of {_pairs(confusions)}",
        table,
        f"[dim]{_pairs(hidden)} not shown (-f csv has every count); "
        f"{right:,} of {counted:,} counted rows right[/]",
    )


def _pairs(count: int) -> str:
    return f"{count:,} pair" if count == 1 else f"{count:,} pairs"


@dataclass
class ComputeReport:
    """What ``xent compute`` prints: rows, or the bare mean/sum in CSV; ``top`` keeps only
    the K worst rows, worst first; ``show_confusion`` prints the confusion counts instead
    of rows (CSV/TSV) or adds them (JSON, the table)."""

    result: Result
    reduction: Reduction
    top: int = 0
    show_confusion: bool = False

    def _rows(self) -> list[int] | None:
        return self.result.worst_rows(self.top) if self.top else None

    def show(self, console: Console) -> None:
        """The per-row table (unless reduced), the summary, a histogram of the losses, the
        worst rows and, asked for, the confusion counts."""
        result = self.result
        if self.reduction is Reduction.none:
            console.print(rows_table(result))
            console.print()
        console.print(summary_table(result))
        spread = histogram(result.losses)
        if spread is not None:
            console.print(f"\n[bold]losses ({result.unit})[/]")
            console.print(spread)
        if self.top:
            console.print()
            console.print(top_table(result, self.top))
        if self.show_confusion:
            console.print()
            console.print(confusion_table(result, self._confusion, console))

    @cached_property
    def _confusion(self) -> Confusion | None:
        """The confusion counts, counted once for every format and message."""
        return self.result.confusion() if self.show_confusion else None

    def table(self) -> Frame:
        if self.show_confusion:
            return confusion_columns(self.result, self._confusion)
        if self.reduction is not Reduction.none:
            value = self.result.mean if self.reduction is Reduction.mean else self.result.total
            return Frame([Floats(self.reduction.value, [value])], header=False)
        return rows_columns(self.result, self._rows())

    def document(self) -> dict[str, Any]:
        obj = summary_object(self.result, self.reduction)
        if self.top:
            obj["worst"] = list(rows_columns(self.result, self._rows()).records())
        if self.show_confusion:
            obj["confusion"] = confusion_object(self.result, self._confusion)
        return obj

    def _confusion_printed(self, fmt: Format) -> bool:
        """Whether ``fmt`` prints the confusion counts: CSV/TSV (instead of rows), JSON, and
        JSONL where its one line is the summary (not a line per row)."""
        if fmt is Format.jsonl:
            return self.reduction is not Reduction.none
        return fmt is not Format.table

    def records(self) -> Frame | list[Any]:
        if self.reduction is not Reduction.none:
            return [self.document()]
        return rows_columns(self.result, self._rows())

    def array(self) -> ArrayBlocks:
        """The per-row losses (float64, 1-D in row order), for a ``.npy``."""
        losses = self.result.losses
        return ArrayBlocks(
            np.dtype(np.float64), (len(losses),), [(0, len(losses))], lambda a, b: losses[a:b]
        )

    def messages(self, fmt: Format, *, stderr_is_tty: bool) -> list[str]:
        """The warnings; and the reason line on a terminal's stderr, whatever stdout is
        (DESIGN §2), not in a log file or a pipe."""
        lines = [f"warning: {warning}" for warning in self.result.warnings]
        if self.show_confusion and self._confusion is None:
            lines.append("warning: no confusion counts: the targets are not hard single labels")
        elif self.show_confusion and self._confusion_printed(fmt):
            assert self._confusion is not None
            if self._confusion.classes > MATRIX_CLASSES:
                lines.append(
                    f"confusion counts of {self._confusion.classes:,} classes (more than "
                    f"{MATRIX_CLASSES:,}): target,predicted,count for each pair that occurs, "
                    "not the K×K matrix"
                )
        if self.result.clipping_note is not None:
            lines.append(self.result.clipping_note)
        if stderr_is_tty:
            lines.append(self.result.decision.reason)
        return lines

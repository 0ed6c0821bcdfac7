"""``xent compute`` → its report: the per-row table, the summary (with the figures of
DESIGN §10: Brier, ECE, log-loss reduction, accuracy at k), a histogram of the losses, the
worst rows, the confusion counts and the per-class table; CSV/TSV/JSON/JSONL of the same.

Predictions with positions (rank ≥ 3, DESIGN §8) list their *counted* positions
(``row,position,…``) or, with ``-r row``, each row's mean over them; a person sees a table of
the rows' means and perplexities, and the worst positions with ``--top``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from xent_cli.blocks import ArrayBlocks
from xent_cli.options import Format, Reduction
from xent_cli.writer import (
    Categories,
    Column,
    Floats,
    Frame,
    Integers,
    OptionalFloats,
    Rows,
    StreamedFrame,
    Values,
    json_number,
)

from . import HEAD_ROWS, TAIL_ROWS, human, plain, shown_rows

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy.typing as npt
    from rich.console import Console

    from xent_cli.detection import Decision
    from xent_cli.evaluation import PerClass
    from xent_cli.result import Confusion, Entries, Result, RowMeans, Summarised
    from xent_cli.totals import Totals

NULL_NOTE = "infinite losses are written as null (JSON has no Infinity)"
MATRIX_CLASSES = 1000  # CSV/TSV/JSON: the K×K matrix up to 10⁶ cells; above, a row per pair
TABLE_CLASSES = 20  # on a terminal: the K×K matrix up to 20 classes, if it fits its width;
TOP_CONFUSIONS = 20  # else this many confusions, the most frequent first
OVERFLOW_NOTE = (
    "a perplexity, exp(mean loss in nats), is past the largest float (a mean above ~709 "
    "nats): written as null"
)
NAN_NOTE = "the mean and the perplexity are NaN (nothing left to average), written as null"
EMPTY_ROW_NOTE = (
    "a row with no counted position has a null loss and perplexity (the mean of nothing)"
)
PERPLEXITY_DEFINITION = (
    "exp of the mean loss in nats over the counted positions (token-level: Hugging Face's "
    "loss, torchmetrics' Perplexity)"
)
ROW_PERPLEXITY_DEFINITION = (
    "mean of each row's perplexity (Hugging Face evaluate's mean_perplexity)"
)
LISTINGS = (Reduction.none, Reduction.row)  # the reductions that list rows (or positions)
BRIER_DEFINITIONS = {  # by prediction columns: one, two, or K ≥ 3
    1: "mean (p − y)²: 0 is perfect, 1 the worst (scikit-learn's brier_score_loss)",
    2: "½·mean Σₖ (pₖ − yₖ)², the one-column score: 0 is perfect, 1 the worst "
    "(scikit-learn's brier_score_loss)",
    3: "mean Σₖ (pₖ − yₖ)², y one-hot: 0 is perfect, 2 the worst (scikit-learn's brier_score_loss)",
}
ECE_DEFINITION = (
    "expected calibration error: Σ (n/N)·|accuracy − confidence| over 15 equal-width bins "
    "{of}; 0 is calibrated (torchmetrics)"
)
LOG_LOSS_REDUCTION_DEFINITION = (
    "1 − log loss / the log loss of predicting the labels' class frequencies (the plain "
    "−log p of the target, whatever the options): 1 is perfect, 0 "
    "no better (scikit-learn's d2_log_loss_score)"
)
ACCURACY_AT_DEFINITION = (
    "share of counted {entries} whose target is among the {k} highest-scored classes, ties "
    "counting for it (scikit-learn's top_k_accuracy_score)"
)
UNDEFINED_FIGURES = {  # why a figure of DESIGN §10 is NaN (or −∞), for JSON's notes
    "brier": "no counted row",
    "ece": "no counted row",
    "log_loss_reduction": (
        "fewer than two counted rows, or every counted row has the same target, so "
        "predicting the labels' frequencies loses nothing"
    ),
    "accuracy_at_k": "no counted row",
}
PER_CLASS_NULL_NOTE = (
    "per_class: null where a class is never a target (loss, recall, mean_p) or never "
    "predicted (precision)"
)


def label_column(name: str, result: Summarised, values: Any) -> Column:
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


def listing_reduction(result: Summarised, reduction: Reduction) -> Reduction:
    """``reduction`` as ``result`` reads it: ``-r row`` of predictions without positions
    (rank ≤ 2) is ``-r none`` (DESIGN §8), every output byte for byte."""
    if reduction is Reduction.row and result.layout is None:
        return Reduction.none
    return reduction


def _place_columns(result: Summarised, order: npt.NDArray[np.int64]) -> list[Column]:
    """Where each entry ``order`` names lies: its ``row`` (and ``id``); of predictions with
    positions, its row and the ``position`` of its scored label within the row."""
    layout = result.layout
    if layout is not None:
        return [
            Integers("row", layout.row_of(order)),
            Integers("position", layout.position_of(order)),
        ]
    columns: list[Column] = [Integers("row", order)]
    if result.ids is not None:
        ids = result.ids
        columns.append(Values("id", [ids[k] for k in order.tolist()]))
    return columns


def rows_columns(result: Result) -> Frame:
    """``row,loss[,predicted,target]`` for every row; of predictions with positions
    ``row,position,loss[,predicted,target]`` for every counted position."""
    return entries_frame(result, result.entries(result.listed))


def entries_frame(result: Summarised, entries: Entries) -> Frame:
    """``row,loss[,predicted,target]`` of ``entries`` (of predictions with positions,
    ``row,position,…``), in their order."""
    labels = None
    if entries.predicted is not None and entries.target is not None:
        labels = (entries.predicted, entries.target)
    return Frame(entry_columns(result, entries.index, entries.losses, labels))


def entry_columns(
    result: Summarised,
    order: npt.NDArray[np.int64],
    losses: npt.NDArray[np.float64],
    labels: tuple[Any, Any] | None,
) -> list[Column]:
    """The columns of a listing of the entries ``order`` names (rows, or flat positions):
    where each lies, its loss and (single labels) its predicted and target ``labels``."""
    columns = [*_place_columns(result, order), Floats("loss", losses)]
    if labels is not None:
        columns.append(label_column("predicted", result, labels[0]))
        columns.append(label_column("target", result, labels[1]))
    return columns


def positions_listing(totals: Totals) -> StreamedFrame:
    """``row,position,loss,predicted,target`` for every counted position of totals
    reduced in blocks, made again a block at a time (:class:`xent_cli.totals.Listing`)."""
    listing = totals.listing
    if listing is None:
        raise ValueError("totals of a bare number: totals(..., Asked(detail=True))")
    empty = np.zeros(0, dtype=np.int64)

    def frames() -> Iterator[Frame]:
        for found in listing.blocks():
            labels = (found.predicted, found.target)
            yield Frame(entry_columns(totals, found.positions, found.losses, labels))

    columns = entry_columns(totals, empty, np.zeros(0), (empty, empty))
    return StreamedFrame(columns, True, totals.counted_rows, frames)


def row_means_columns(means: RowMeans) -> Frame:
    """``row,loss,positions,perplexity`` (``-r row``, DESIGN §8): each row's mean loss over
    its counted positions, their count and exp(mean in nats); a row with none keeps its
    line, its loss and perplexity empty (``null`` in JSON)."""
    return Frame(
        [
            Integers("row", np.arange(len(means.loss))),
            OptionalFloats("loss", means.loss),
            Integers("positions", means.positions),
            OptionalFloats("perplexity", means.perplexity),
        ]
    )


def listed_losses(result: Result) -> npt.NDArray[np.float64]:
    """The losses a listing shows, in its order: every row's; of predictions with positions,
    the counted positions' (the ignored and unscored left out)."""
    return result.losses if result.layout is None else result.losses[result.listed]


def confusion_columns(result: Summarised, found: Confusion | None = None) -> Frame:
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


def confusion_pairs(result: Summarised, found: Confusion) -> Frame:
    """``target,predicted,count``: the confusion counts in long form, a row per pair that
    occurs (the diagonal too), by target then predicted: at most a row per counted row,
    whatever K."""
    return Frame(
        [
            label_column("target", result, found.target),
            label_column("predicted", result, found.predicted),
            Integers("count", found.count),
        ]
    )


def confusion_object(result: Summarised, found: Confusion | None) -> dict[str, Any] | None:
    """The confusion counts in JSON: ``labels`` and the K×K ``matrix`` up to
    :data:`MATRIX_CLASSES` classes; with more, ``classes`` (K) and ``pairs``, an object
    ``{target, predicted, count}`` per pair that occurs."""
    if found is None:
        return None
    if found.classes <= MATRIX_CLASSES:
        return {"labels": found.labels, "matrix": found.matrix().tolist()}
    return {"classes": found.classes, "pairs": list(confusion_pairs(result, found).records())}


def per_class_frame(classes: Column, found: PerClass) -> Frame:
    """``class,count,loss,recall,precision,mean_p``: a line per class (``classes`` names
    them); an empty field (JSON ``null``) where a value is NaN (a class never a target, or
    never predicted)."""
    return Frame(
        [
            classes,
            Integers("count", found.count),
            OptionalFloats("loss", found.loss),
            OptionalFloats("recall", found.recall),
            OptionalFloats("precision", found.precision),
            OptionalFloats("mean_p", found.mean_p),
        ]
    )


def per_class_columns(result: Summarised, found: PerClass | None) -> Frame:
    """The per-class table of ``result`` (classes by name, else index; binary: 0 and 1);
    no columns for targets that are not hard single labels."""
    if found is None:
        return Frame([])
    return per_class_frame(label_column("class", result, found.classes), found)


def per_class_object(frame: Frame) -> list[dict[str, Any]] | None:
    """The per-class table in JSON: an object a class (``None``: no table)."""
    return list(frame.records()) if frame.columns else None


def _has_nan(found: PerClass | None) -> bool:
    """Whether a value of the per-class table is NaN (a class never a target, or never
    predicted)."""
    if found is None:
        return False
    values = (found.loss, found.recall, found.precision, found.mean_p)
    return any(bool(np.isnan(column).any()) for column in values)


def class_texts(result: Summarised, classes: npt.NDArray[np.int64]) -> list[str]:
    """Each class as a person reads it: its name, else its index (binary: 0 and 1)."""
    return [str(c) if result.binary else result.class_label(c) for c in classes.tolist()]


@dataclass(frozen=True)
class Figures:
    """The summary's figures beyond the mean (DESIGN §10), each ``None`` where it does not
    apply: targets that are not single labels (or not evaluated); ``accuracy_at_k`` also
    without ``--accuracy-at K`` or without a rank (soft binary targets)."""

    brier: float | None = None
    ece: float | None = None
    log_loss_reduction: float | None = None
    accuracy_at_k: float | None = None
    k: int | None = None

    @classmethod
    def of(cls, result: Summarised, k: int | None = None) -> Figures:
        """The figures of ``result``, and the share of rows whose target ranks in the top
        ``k`` when ``k`` is given."""
        return cls(
            brier=result.brier,
            ece=result.ece,
            log_loss_reduction=result.log_loss_reduction,
            accuracy_at_k=None if k is None else result.accuracy_at(k),
            k=k,
        )

    def present(self) -> dict[str, float]:
        """The figures that apply, by JSON key, in the summary's order."""
        figures = {
            "brier": self.brier,
            "ece": self.ece,
            "log_loss_reduction": self.log_loss_reduction,
            "accuracy_at_k": self.accuracy_at_k,
        }
        return {key: value for key, value in figures.items() if value is not None}


def figures_object(figures: Figures) -> dict[str, Any]:
    """The figures in JSON: each that applies (``null`` when not finite), and ``k`` beside
    ``accuracy_at_k``.

    >>> figures_object(Figures(brier=0.25, accuracy_at_k=float("nan"), k=5))
    {'brier': 0.25, 'accuracy_at_k': None, 'k': 5}
    """
    obj: dict[str, Any] = {key: json_number(v) for key, v in figures.present().items()}
    if "accuracy_at_k" in obj:
        obj["k"] = figures.k
    return obj


def figure_notes(figures: Figures) -> list[str]:
    """Why a figure is ``null`` in JSON, a line for each that is not finite.

    >>> figure_notes(Figures(brier=0.5, log_loss_reduction=float("nan")))[0][:40]
    'log_loss_reduction is undefined here (fe'
    """
    return [
        f"{key} is −∞ (the mean loss is infinite, or every counted row has one target, "
        "which its frequency predicts at no loss), written as null"
        if value == -math.inf
        else f"{key} is undefined here ({UNDEFINED_FIGURES[key]}), written as null"
        for key, value in figures.present().items()
        if not math.isfinite(value)
    ]


def in_blocks(result: Summarised) -> Totals | None:
    """``result`` when it is totals reduced in blocks (no value a position); ``None`` for
    a :class:`Result` (the totals module is not loaded for one)."""
    from xent_cli.result import Result

    if isinstance(result, Result):
        return None
    from xent_cli.totals import Totals

    assert isinstance(result, Totals)
    return result


def whole(result: Summarised) -> Result:
    """``result`` with a value a row or position, which listings of positions, the worst
    ones and the confusion counts read (not totals reduced in blocks)."""
    from xent_cli.result import Result

    if not isinstance(result, Result):
        raise ValueError("totals reduced in blocks hold no value a position")
    return result


def summary_object(
    result: Summarised,
    reduction: Reduction,
    means: RowMeans | None = None,
    figures: Figures | None = None,
) -> dict[str, Any]:
    """The JSON object of ``compute``: loss, reduction, rows, positions, mean, sum, the
    figures of DESIGN §10 that apply, losses, … (``means``: the rows' means of predictions
    with positions, if already computed; ``figures``: the figures, if already computed)."""
    figures = Figures.of(result) if figures is None else figures
    decision = result.decision
    reduction = listing_reduction(result, reduction)
    obj: dict[str, Any] = {
        "loss": decision.loss,
        "reduction": reduction,
        "rows": result.row_count,
        "positions": result.counted_rows,
        "mean": json_number(result.mean),
        "sum": json_number(result.total),
    }
    if reduction not in LISTINGS:
        obj["value"] = obj[reduction]
    if result.accuracy is not None:
        obj["accuracy"] = json_number(result.accuracy)
    obj["perplexity"] = json_number(result.perplexity)
    row_perplexity_mean = result.row_perplexity_mean
    if row_perplexity_mean is not None:
        obj["row_perplexity_mean"] = json_number(row_perplexity_mean)
    obj.update(figures_object(figures))
    obj["unit"] = result.unit
    obj.update(_left_out(result))
    options = _options_object(result)
    if options:
        obj["options"] = options
    obj["reason"] = decision.reason
    obj["outputs"] = outputs_name(decision)
    obj["targets"] = "hard" if decision.hard else "soft"
    obj["multilabel"] = decision.multilabel
    if reduction is Reduction.none:
        obj.update(_listing_object(result))
    elif reduction is Reduction.row:
        means = result.row_means() if means is None else means
        obj.update(_row_means_object(means))
    notes = _notes(result, means if reduction is Reduction.row else None)
    notes.extend(figure_notes(figures))
    if notes:
        obj["notes"] = notes
    return obj


def _options_object(result: Summarised) -> dict[str, Any]:
    """The framework options chosen (those not left at their default), for JSON."""
    settings = result.settings
    if settings is None:
        return {}
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
    return {name: value for name, value in options.items() if value is not None}


def unscored_count(result: Summarised) -> int:
    """The positions ``--shift`` leaves without a label to score (each row's last along
    the first position axis); 0 without positions or a shift."""
    layout = result.layout
    return layout.rows * layout.step if layout is not None and layout.shift else 0


def _left_out(result: Summarised) -> dict[str, int]:
    """What JSON says was left out of the mean: ``ignored`` rows (``--ignore-index``); of
    predictions with positions, the ``ignored`` ones and the ``unscored`` ones (``--shift``)
    apart."""
    if not result.leaves_out:
        return {}
    if result.layout is None:
        return {"ignored": result.ignored_count}
    counts: dict[str, int] = {}
    unscored = unscored_count(result)
    if result.settings is not None and result.settings.ignore_index is not None:
        counts["ignored"] = result.ignored_count - unscored  # a position may be both
    if result.layout.shift:
        counts["unscored"] = unscored
    return counts


def _listing_object(result: Summarised) -> dict[str, list[Any] | Rows]:
    """JSON's lists of ``-r none``, an entry a listed row: ``losses`` (and ``id``,
    ``predicted``, ``target``); of predictions with positions also ``row`` and
    ``position``, an entry a counted position (of totals reduced in blocks, each list
    made again a block at a time as it is written: :class:`~xent_cli.writer.Rows`)."""
    keys = {"loss": "losses"}
    totals = in_blocks(result)
    frame = rows_columns(whole(result)) if totals is None else positions_listing(totals)
    listing: dict[str, list[Any] | Rows] = {}
    for at, column in enumerate(frame.columns):
        if column.name != "row" or result.layout is not None:
            name = keys.get(column.name, column.name)
            if isinstance(frame, StreamedFrame):
                listing[name] = Rows(frame.column(at), flat=True)
            else:
                listing[name] = column.values()
    return listing


def _row_means_object(means: RowMeans) -> dict[str, list[Any]]:
    """JSON's lists of ``-r row``: each row's mean loss (``losses``), its counted positions
    (``row_positions``) and perplexity (``row_perplexity``); ``null`` for a row with none."""
    keys = {"loss": "losses", "positions": "row_positions", "perplexity": "row_perplexity"}
    return {
        keys[column.name]: column.values()
        for column in row_means_columns(means).columns
        if column.name in keys
    }


def _notes(result: Summarised, means: RowMeans | None) -> list[str]:
    """What JSON's ``notes`` say: why values are null, warnings, clipping."""
    notes: list[str] = []
    if not result.all_finite:
        notes.append(NULL_NOTE)
    if math.isnan(result.mean):
        notes.append(NAN_NOTE)
    elif _overflows(result, means):
        notes.append(OVERFLOW_NOTE)
    if means is not None and not means.positions.all():
        notes.append(EMPTY_ROW_NOTE)
    notes.extend(result.warnings)
    if result.clipping_note is not None:
        notes.append(result.clipping_note)
    return notes


def _overflows(result: Summarised, means: RowMeans | None) -> bool:
    """Whether a perplexity of finite losses is past the largest float (JSON's null)."""
    if math.isinf(result.perplexity) and math.isfinite(result.mean):
        return True
    row_mean = result.row_perplexity_mean
    if row_mean is not None and math.isinf(row_mean):
        return True
    if means is None:
        return False
    return bool((np.isinf(means.perplexity) & np.isfinite(means.loss)).any())


def _target_text(result: Summarised, value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return human(float(value), 4)
    return str(int(value)) if result.binary else plain(result.class_label(int(value)))


def _predicted_text(result: Summarised, value: Any) -> str:
    return str(int(value)) if result.binary else plain(result.class_label(int(value)))


def _place_cells(result: Summarised, index: int) -> list[str]:
    """Where entry ``index`` lies, as :func:`_entry_table`'s first cells: its row (and
    ``--id-column`` identifier); of predictions with positions, its row and the position of
    its scored label."""
    layout = result.layout
    if layout is None:
        return [str(index)] if result.ids is None else [str(index), plain(result.ids[index])]
    flat = np.array([index], dtype=np.int64)
    return [str(int(layout.row_of(flat)[0])), str(int(layout.position_of(flat)[0]))]


def _missing_or(value: float, digits: int = 6) -> str:
    """A value for a person, or a dash where there is none (NaN: nothing to average)."""
    return "—" if math.isnan(value) else human(value, digits)


def _entry_table(result: Summarised, entries: Entries, title: str | None = None) -> Any:
    """An empty Rich table with the columns of a listing of rows (of sequences: positions):
    row (and id, or position), loss, predicted and target (single labels), p(target)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("row", justify="right", style="dim")
    if result.layout is not None:
        table.add_column("position", justify="right", style="dim")
    elif result.ids is not None:
        table.add_column("id", justify="left")
    table.add_column(f"loss ({result.unit})", justify="right")
    if result.single_label:
        table.add_column("predicted", justify="right")
        table.add_column("target", justify="right")
    if entries.probability is not None:
        table.add_column("p(target)", justify="right")
    return table


def _entry_cells(result: Summarised, entries: Entries, at: int) -> list[str]:
    """The cells of ``entries``' entry ``at`` in the columns of :func:`_entry_table`."""
    cells = [*_place_cells(result, int(entries.index[at])), human(float(entries.losses[at]))]
    if result.single_label:
        assert entries.predicted is not None
        assert entries.target is not None
        predicted, target = entries.predicted[at], entries.target[at]
        cells += [_predicted_text(result, predicted), _target_text(result, target)]
    if entries.probability is not None:
        cells.append(_missing_or(float(entries.probability[at]), 4))
    return cells


def _add_gap(table: Any, total: int, listing: str, entries: str = "rows") -> None:
    """The ⋮ line of a shortened table, and a caption saying what is not shown and where
    it all is."""
    hidden = total - HEAD_ROWS - TAIL_ROWS
    table.add_row(*["⋮"] * len(table.columns), style="dim")
    table.caption = f"{hidden:,} of {total:,} {entries} not shown ({listing} lists them all)"


def rows_table(result: Result) -> Any:
    """A Rich table of the per-row losses, shortened for long inputs."""
    rows = shown_rows(result.rows)
    entries = result.entries(np.array([row for row in rows if row is not None], dtype=np.int64))
    table = _entry_table(result, entries)
    correct = result.correct
    if correct is not None:
        table.add_column("", justify="center")
    at = 0
    for row in rows:
        if row is None:
            _add_gap(table, result.rows, "-f csv")
            continue
        cells = _entry_cells(result, entries, at)
        at += 1
        if correct is not None:
            if result.ignored is not None and result.ignored[row]:
                cells.append("[dim]–[/]")
            else:
                cells.append("[green]✓[/]" if correct[row] else "[red]✗[/]")
        table.add_row(*cells)
    return table


def row_means_table(result: Summarised, means: RowMeans) -> Any:
    """A Rich table of each row's mean loss over its counted positions, their count and
    its perplexity (predictions with positions), shortened for many rows; a dash for a row
    with no counted position."""
    from rich.table import Table

    table = Table(header_style="bold")
    table.add_column("row", justify="right", style="dim")
    table.add_column(f"loss ({result.unit})", justify="right")
    table.add_column("positions", justify="right")
    table.add_column("perplexity", justify="right")
    rows = len(means.loss)
    for row in shown_rows(rows):
        if row is None:
            _add_gap(table, rows, "-f csv -r row")
            continue
        loss, perplexity = float(means.loss[row]), float(means.perplexity[row])
        positions = int(means.positions[row])
        table.add_row(str(row), _missing_or(loss), f"{positions:,}", _missing_or(perplexity))
    return table


def summary_table(result: Summarised) -> Any:
    """A Rich grid: the loss and why, rows (and positions), mean, sum, accuracy,
    perplexity (and, of predictions with positions, what it is, and the rows' mean)."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    decision = result.decision
    grid.add_row("loss", f"[cyan]{decision.loss}[/]")
    grid.add_row("why", decision.reason.rsplit(" → ", 1)[0])
    grid.add_row("rows", f"{result.row_count:,}")
    if result.layout is not None:
        grid.add_row("positions", _positions_text(result))
    grid.add_row("mean", f"{human(result.mean, 10)} {result.unit}")
    grid.add_row("sum", f"{human(result.total, 10)} {result.unit}")
    if result.ignored_count and result.layout is None:
        grid.add_row(
            "ignored", f"{result.ignored_count:,} rows (--ignore-index), left out of the mean"
        )
    if result.accuracy is not None:
        grid.add_row("accuracy", _accuracy_text(result))
    grid.add_row("perplexity", human(result.perplexity, 6))
    row_perplexity_mean = result.row_perplexity_mean
    if row_perplexity_mean is not None:
        grid.add_row("", f"[dim]{PERPLEXITY_DEFINITION}[/]")
        grid.add_row("row perplexity mean", _missing_or(row_perplexity_mean))
        grid.add_row(
            "", f"[dim]{ROW_PERPLEXITY_DEFINITION}, over the rows with a counted position[/]"
        )
    return grid


def _positions_text(result: Summarised) -> str:
    """The counted positions of all, and how many were left out and why."""
    unscored = unscored_count(result)
    ignored = result.ignored_count - unscored
    left_out = []
    if ignored:
        left_out.append(f"{ignored:,} ignored (--ignore-index)")
    if unscored:
        left_out.append(f"{unscored:,} unscored (--shift: no next label)")
    counted = f"{result.counted_rows:,} counted of {result.rows:,}"
    return f"{counted}: {', '.join(left_out)}" if left_out else counted


def _accuracy_text(result: Summarised) -> str:
    """The accuracy as a share, and of how many counted rows (or positions)."""
    assert result.accuracy is not None
    return _share_text(result, result.accuracy, result.correct_count or 0)


def _entries(result: Summarised) -> str:
    """What a summary counts: rows, or the positions of predictions with positions."""
    return "rows" if result.layout is None else "positions"


def _share_text(result: Summarised, share: float, count: int) -> str:
    """A share of the counted rows (or positions) as a percentage, and ``count`` of how
    many (weighted: the share weighs each by its sample weight)."""
    entries = _entries(result)
    if result.weights is not None:
        counted = f" {entries}, weighted by sample"
    else:
        counted = "" if result.layout is None else f" {entries}"
    shown = f"({count:,} of {result.counted_rows:,}{counted})"
    return f"{_percent(share)} {shown}"


def _percent(share: float) -> str:
    """A share for a person, or a dash where there is none (NaN)."""
    return "—" if math.isnan(share) else f"{share:.2%}"


def figures_table(result: Summarised, figures: Figures) -> Any:
    """A Rich grid of the figures of DESIGN §10 that apply, each with a dim line saying
    what it is (as the perplexity of sequences has); ``None`` when none applies."""
    from rich.table import Table

    rows = _figure_rows(result, figures)
    if not rows:
        return None
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value, definition in rows:
        grid.add_row(label, value)
        grid.add_row("", f"[dim]{definition}[/]")
    return grid


def _figure_rows(result: Summarised, figures: Figures) -> list[tuple[str, str, str]]:
    """(label, value, what it is) for each figure that applies."""
    rows = []
    if figures.brier is not None:
        rows.append(("brier", _missing_or(figures.brier), _brier_definition(result)))
    if figures.ece is not None:
        of = "of p, against y" if result.binary else "of the top probability"
        rows.append(("ece", _missing_or(figures.ece), ECE_DEFINITION.format(of=of)))
    if figures.log_loss_reduction is not None:
        value = _missing_or(figures.log_loss_reduction)
        rows.append(("log-loss reduction", value, LOG_LOSS_REDUCTION_DEFINITION))
    if figures.accuracy_at_k is not None and figures.k is not None:
        k = figures.k
        shown = _share_text(result, figures.accuracy_at_k, result.top_k_count(k))
        definition = ACCURACY_AT_DEFINITION.format(entries=_entries(result), k=k)
        rows.append((f"top-{k} accuracy", shown, definition))
    return rows


def _brier_definition(result: Summarised) -> str:
    """What the Brier score is for this many prediction columns."""
    return BRIER_DEFINITIONS[min(result.score_columns, 3)]


def top_table(result: Summarised, count: int) -> Any:
    """A Rich table of the ``count`` worst rows (of sequences: counted positions): where a
    model is most wrong."""
    worst = result.worst(count)
    entries = "rows" if result.layout is None else "positions"
    table = _entry_table(result, worst, title=f"the {len(worst)} worst {entries}")
    for at in range(len(worst)):
        table.add_row(*_entry_cells(result, worst, at))
    return table


def _histogram_title(result: Summarised, count: int) -> str:
    """What the histogram counts: the rows' losses, or the counted positions'."""
    if result.layout is None:
        return f"losses ({result.unit})"
    return f"losses of the {count:,} counted positions ({result.unit})"


def histogram(losses: npt.NDArray[np.float64], bins: int = 8, width: int = 30) -> Any:
    """A text histogram of the finite per-row losses (a Rich grid), or ``None`` for one value.

    >>> histogram(np.array([1.0])) is None
    True
    """
    finite = losses[np.isfinite(losses)]
    if finite.size < 2 or float(finite.min()) == float(finite.max()):
        return None
    counts, edges = np.histogram(finite, bins=bins)
    return histogram_of(counts, edges, width)


def histogram_of(
    counts: npt.NDArray[np.int64], edges: npt.NDArray[np.float64], width: int = 30
) -> Any:
    """A text histogram (a Rich grid) of ``counts[i]`` values in [edges[i], edges[i + 1])."""
    from rich.table import Table

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
    result: Summarised, found: Confusion | None = None, console: Console | None = None
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


def per_class_table(
    found: PerClass, names: list[str], unit: str, listing: str, title: str | None = "per class"
) -> Any:
    """A Rich table of the per-class figures, a line per class (``names``, in the order of
    ``found``), shortened for many classes (``listing`` lists them all); a dash where a
    class is never a target (or never predicted: precision)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("class", style="bold")
    table.add_column("count", justify="right")
    table.add_column(f"loss ({unit})", justify="right")
    table.add_column("recall", justify="right")
    table.add_column("precision", justify="right")
    table.add_column("mean p", justify="right")
    for index in shown_rows(len(names)):
        if index is None:
            _add_gap(table, len(names), listing, "classes")
            continue
        table.add_row(
            plain(names[index]),
            f"{int(found.count[index]):,}",
            _missing_or(float(found.loss[index])),
            _percent(float(found.recall[index])),
            _percent(float(found.precision[index])),
            _missing_or(float(found.mean_p[index]), 4),
        )
    return table


def result_per_class_table(result: Summarised, found: PerClass | None) -> Any:
    """:func:`per_class_table` of ``result``, or a line saying why there is none."""
    if found is None:
        return "[dim]no per-class table: the targets are not hard single labels[/]"
    names = class_texts(result, found.classes)
    return per_class_table(found, names, result.unit, "-f csv --per-class")


def summary_printed(fmt: Format, reduction: Reduction) -> bool:
    """Whether ``compute``'s output in ``fmt`` holds its summary, and so the figures of
    DESIGN §10 (worth their pass over the rows only then): the table on a terminal, JSON,
    and JSONL where its one line is the summary; never CSV/TSV (rows, or a bare number).

    >>> summary_printed(Format.json, Reduction.none), summary_printed(Format.csv, Reduction.mean)
    (True, False)
    """
    if fmt is Format.jsonl:
        return reduction not in LISTINGS
    return fmt in (Format.table, Format.json)


@dataclass
class ComputeReport:
    """What ``xent compute`` prints: rows (of sequences: counted positions, or with
    ``-r row`` each row's mean), or the bare mean/sum in CSV; ``top`` keeps only the K worst
    rows (positions), worst first; ``show_confusion`` prints the confusion counts instead
    of rows (CSV/TSV) or adds them (JSON, the table), and ``show_per_class`` the per-class
    table (CSV/TSV, and JSONL's lines, instead of rows; with ``--confusion``, CSV/TSV show
    the confusion counts). The summary (table, JSON) holds the figures of DESIGN §10 that
    apply, and the share of rows whose target ranks in the top ``accuracy_at``."""

    result: Result | Totals  # totals: of predictions with positions reduced in blocks
    reduction: Reduction
    top: int = 0
    show_confusion: bool = False
    show_per_class: bool = False
    accuracy_at: int | None = None

    def __post_init__(self) -> None:
        self.reduction = listing_reduction(self.result, self.reduction)

    def _whole(self) -> Result:
        return whole(self.result)

    @cached_property
    def _worst(self) -> Entries:
        """The ``top`` worst rows (positions), found once for every format."""
        return self.result.worst(self.top)

    @cached_property
    def _row_means(self) -> RowMeans | None:
        """Each row's mean over its positions (predictions with positions), computed once."""
        return None if self.result.layout is None else self.result.row_means()

    def show(self, console: Console) -> None:
        """The per-row table (unless reduced), the summary, a histogram of the losses, the
        worst rows and, asked for, the confusion counts."""
        result = self.result
        if self.reduction in LISTINGS:
            means = self._row_means
            shown = row_means_table(result, means) if means else rows_table(self._whole())
            console.print(shown)
            console.print()
        console.print(summary_table(result))
        figures = figures_table(result, self._figures)
        if figures is not None:
            console.print("\n[bold]how good the probabilities are[/]")
            console.print(figures)
        self._show_histogram(console)
        if self.top:
            console.print()
            console.print(top_table(self.result, self.top))
        if self.show_confusion:
            console.print()
            console.print(confusion_table(self.result, self._confusion, console))
        if self.show_per_class:
            console.print()
            console.print(result_per_class_table(self.result, self._per_class))

    def _show_histogram(self, console: Console) -> None:
        """The histogram of the listed losses, where there is more than one value."""
        result = self.result
        totals = in_blocks(result)
        if totals is None:
            losses = listed_losses(whole(result))
            count, spread = len(losses), histogram(losses)
        else:  # counted in a second pass over the blocks
            found = totals.spread
            count = totals.counted_rows
            spread = None if found is None else histogram_of(found.counts, found.edges)
        if spread is not None:
            console.print(f"\n[bold]{_histogram_title(result, count)}[/]")
            console.print(spread)

    @cached_property
    def _confusion(self) -> Confusion | None:
        """The confusion counts, counted once for every format and message."""
        return self.result.confusion() if self.show_confusion else None

    @cached_property
    def _per_class(self) -> PerClass | None:
        """The per-class table, computed once for every format and message."""
        return self.result.per_class() if self.show_per_class else None

    @cached_property
    def _figures(self) -> Figures:
        """The figures of DESIGN §10, computed once for the table and JSON."""
        return Figures.of(self.result, self.accuracy_at)

    def _instead_of_rows(self) -> Frame | None:
        """What CSV/TSV print instead of rows, asked for: the confusion counts, or the
        per-class table."""
        if self.show_confusion:
            return confusion_columns(self.result, self._confusion)
        if self.show_per_class:
            return per_class_columns(self.result, self._per_class)
        return None

    def _listing(self) -> Frame:
        """The columns of a listing (CSV/TSV, JSONL, ``-o``): the worst rows or positions
        (``--top``), each row's mean (``-r row`` of sequences), or every listed entry."""
        if self.reduction is Reduction.row and not self.top:
            assert self._row_means is not None
            return row_means_columns(self._row_means)
        in_blocks = self._positions_in_blocks()
        if in_blocks is not None and not self.top:
            return positions_listing(in_blocks)
        if self.top:
            return entries_frame(self.result, self._worst)
        return rows_columns(self._whole())

    def table(self) -> Frame:
        instead = self._instead_of_rows()
        if instead is not None:
            return instead
        if self.reduction not in LISTINGS:
            value = self.result.mean if self.reduction is Reduction.mean else self.result.total
            return Frame([Floats(self.reduction.value, [value])], header=False)
        return self._listing()

    def document(self) -> dict[str, Any]:
        means = self._row_means if self.reduction is Reduction.row else None
        obj = summary_object(self.result, self.reduction, means, self._figures)
        if self.top:
            obj["worst"] = list(entries_frame(self.result, self._worst).records())
        if self.show_confusion:
            obj["confusion"] = confusion_object(self.result, self._confusion)
        if self.show_per_class:
            found = per_class_columns(self.result, self._per_class)
            obj["per_class"] = per_class_object(found)
            if _has_nan(self._per_class):
                obj.setdefault("notes", []).append(PER_CLASS_NULL_NOTE)
        return obj

    def _confusion_printed(self, fmt: Format) -> bool:
        """Whether ``fmt`` prints the confusion counts: CSV/TSV (instead of rows), JSON, and
        JSONL where its one line is the summary (not a line per row)."""
        if fmt is Format.jsonl:
            return self.reduction not in LISTINGS
        return fmt is not Format.table

    def records(self) -> Frame | list[Any]:
        """JSONL: the summary's one line (``-r mean|sum``); else a line per row, or with
        ``--per-class`` a line per class."""
        if self.reduction not in LISTINGS:
            return [self.document()]
        if self.show_per_class:
            return per_class_columns(self.result, self._per_class)
        return self._listing()

    def _listed(self) -> npt.NDArray[np.float64]:
        """The losses the listing (without ``--top``) holds: each row's or counted
        position's, or with ``-r row`` each row's mean (NaN: no counted position)."""
        if self.reduction is Reduction.row:
            assert self._row_means is not None
            return self._row_means.loss
        return listed_losses(self._whole())

    def _positions_in_blocks(self) -> Totals | None:
        """The totals reduced in blocks whose positions the listing is (made again), or
        ``None``: a listing of a Result's rows or positions, or of each row's mean."""
        return in_blocks(self.result) if self.reduction is Reduction.none else None

    def array(self) -> ArrayBlocks:
        """The losses the CSV lists (float64, 1-D in row, or row-then-position, order),
        for a ``.npy``: each row's mean with ``-r row``."""
        totals = self._positions_in_blocks()
        if totals is not None and totals.listing is not None:
            listing = totals.listing
            shape = (totals.counted_rows,)
            pieces, sequential = listing.listed_pieces, listing.stream.sequential
            return ArrayBlocks(np.dtype(np.float64), shape, pieces, listing.losses, sequential)
        losses = self._listed()
        return ArrayBlocks(
            np.dtype(np.float64), (len(losses),), [(0, len(losses))], lambda a, b: losses[a:b]
        )

    def listing_size(self) -> str:
        """How many lines the listing (without ``--top``) holds, for "wrote … to FILE":
        rows, or counted positions."""
        in_blocks = self._positions_in_blocks()
        count = len(self._listed()) if in_blocks is None else in_blocks.counted_rows
        per_position = self.reduction is Reduction.none and self.result.layout is not None
        entries = "positions" if per_position else "rows"
        return f"{count:,} {entries}"

    def messages(self, fmt: Format, *, stderr_is_tty: bool) -> list[str]:
        """The warnings; and the reason line on a terminal's stderr, whatever stdout is
        (DESIGN §2), not in a log file or a pipe."""
        lines = [f"warning: {warning}" for warning in self.result.warnings]
        if self.show_per_class and self._per_class is None:
            lines.append("warning: no per-class table: the targets are not hard single labels")
        lines.extend(self._accuracy_at_messages(fmt))
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

    def _accuracy_at_messages(self, fmt: Format) -> list[str]:
        """Why ``--accuracy-at`` shows nothing: ``fmt`` prints no summary, or the targets
        have no rank (not hard single labels)."""
        if self.accuracy_at is None:
            return []
        if not summary_printed(fmt, self.reduction):
            return [accuracy_at_unprinted(fmt)]
        from xent_cli.evaluation import single_label

        scored = self.result.evaluated or not single_label(self.result.decision)
        if scored and self._figures.accuracy_at_k is None:
            return ["warning: no accuracy at k: the targets are not hard single labels"]
        return []


def accuracy_at_unprinted(fmt: Format) -> str:
    """The warning when ``--accuracy-at`` is asked of a format that prints no summary."""
    return (
        f"warning: --accuracy-at is a figure of the summary, which -f {fmt.value} "
        "does not print here: -f json, or the table on a terminal, shows it"
    )

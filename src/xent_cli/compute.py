"""Read → decide → compute: the engine behind ``xent compute``, free of terminals and Typer."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

import numpy as np

from . import losses
from .conventions import Convention, binary_neglog, class_neglog
from .errors import InputError, UsageError, XentError
from .readers import ArraySource, TextSource, check_values, parse_number, read
from .stream import NpyStream, open_npy
from .table import Decision, Labels, Outputs, Summary, Targets, Task, decide, tolerance_for
from .transform import check_not_all_masked

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]
    Kernel = Callable[[FloatArray, FloatArray, float], FloatArray]

Source = TextSource | ArraySource
Base = Literal["e", "2", "10"]
UNITS: dict[str, str] = {"e": "nats", "2": "bits", "10": "dits"}


def _binary(p: FloatArray, y: FloatArray, eps: float) -> FloatArray:
    return losses.mean_over_columns(losses.binary_ce(p, y, eps))


def _sigmoid(z: FloatArray, y: FloatArray, eps: float) -> FloatArray:
    return losses.mean_over_columns(losses.sigmoid_ce_with_logits(z, y))


KERNELS: dict[str, Kernel] = {
    "binary-ce": _binary,
    "categorical-ce": losses.categorical_ce,
    "sparse-categorical-ce": losses.sparse_categorical_ce,
    "sigmoid-ce-with-logits": _sigmoid,
    "softmax-ce-with-logits": lambda z, y, eps: losses.softmax_ce_with_logits(z, y),
    "sparse-softmax-ce-with-logits": lambda z, c, eps: losses.sparse_softmax_ce_with_logits(z, c),
}


@dataclass
class Settings:
    """What the user chose; ``auto`` leaves it to detection."""

    outputs: Outputs = "auto"
    targets: Targets = "auto"
    task: Task = "auto"
    loss: str | None = None
    epsilon: float = losses.DEFAULT_EPSILON
    key: str | None = None
    label_key: str | None = None
    label_column: str | None = None
    label_smoothing: float = 0.0
    class_weights: tuple[float, ...] | None = None
    ignore_index: int | None = None
    pos_weight: tuple[float, ...] | None = None
    base: Base = "e"
    focal_gamma: float | None = None
    focal_alpha: float | None = None
    like: Convention = "xent"

    @property
    def plain(self) -> bool:
        """No option that changes the kernel: the fast default kernels apply."""
        return (
            self.label_smoothing == 0
            and self.class_weights is None
            and self.pos_weight is None
            and self.focal_gamma is None
            and self.like == "xent"
        )

    def check(self) -> None:
        """Option values that are out of range are usage errors (exit 2)."""
        if not 0.0 <= self.epsilon < 0.5:
            raise UsageError(f"--epsilon must be in [0, 0.5), not {self.epsilon}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise UsageError(f"--label-smoothing must be in [0, 1), not {self.label_smoothing}")
        for name, values in (
            ("--class-weights", self.class_weights),
            ("--pos-weight", self.pos_weight),
        ):
            if values is not None and not all(math.isfinite(v) and v >= 0 for v in values):
                raise UsageError(f"{name} must be finite and ≥ 0")
        if self.focal_gamma is not None and not (
            math.isfinite(self.focal_gamma) and self.focal_gamma >= 0
        ):
            raise UsageError(f"--focal-gamma must be ≥ 0, not {self.focal_gamma}")
        if self.focal_alpha is not None:
            if self.focal_gamma is None:
                raise UsageError("--focal-alpha needs --focal-gamma")
            if not 0.0 <= self.focal_alpha <= 1.0:
                raise UsageError(f"--focal-alpha must be in [0, 1], not {self.focal_alpha}")


@dataclass
class Inputs:
    """Predictions and labels as arrays, with their sources for error positions.

    A large ``.npy`` is not loaded: ``stream`` reads it in row blocks and ``predictions``
    is then an empty placeholder.
    """

    predictions: FloatArray
    labels: Labels
    pred_source: Source | NpyStream
    class_names: list[str] | None
    pred_columns: list[int] | None = None
    stream: NpyStream | None = None

    @property
    def n_rows(self) -> int:
        return self.stream.n_rows if self.stream is not None else int(self.predictions.shape[0])

    def pred_where(self, row: int, column: int | None = None) -> str:
        if column is not None and self.pred_columns is not None:
            column = self.pred_columns[column]
        return self.pred_source.where(row, column)


@dataclass
class Result:
    """Per-row losses and what a person or a script wants to see beside them."""

    decision: Decision
    losses: FloatArray
    class_names: list[str] | None
    predicted: npt.NDArray[np.generic] | None  # class index, or 0/1 for binary
    target: npt.NDArray[np.generic] | None  # class index, or the 0/1/[0,1] binary target
    target_probability: FloatArray | None  # model's probability of the (hard) target
    warnings: list[str] = field(default_factory=list)
    denominators: FloatArray | None = None  # what each row adds to the mean's divisor
    ignored: npt.NDArray[np.bool_] | None = None  # rows left out (--ignore-index)
    base: Base = "e"
    settings: Settings | None = None

    @property
    def rows(self) -> int:
        return int(self.losses.shape[0])

    @property
    def unit(self) -> str:
        return UNITS[self.base]

    @property
    def mean(self) -> float:
        """Σ losses / Σ divisors: the plain mean, or PyTorch's Σ w·ℓ / Σ w with weights."""
        if self.denominators is None:
            return float(self.losses.mean())
        return float(self.losses.sum() / self.denominators.sum())

    @property
    def total(self) -> float:
        return float(self.losses.sum())

    @property
    def ignored_count(self) -> int:
        return 0 if self.ignored is None else int(self.ignored.sum())

    @property
    def correct(self) -> npt.NDArray[np.bool_] | None:
        if not self.decision.hard or self.predicted is None or self.target is None:
            return None
        return np.asarray(self.predicted == self.target)

    @property
    def accuracy(self) -> float | None:
        """The share of hard-target rows whose predicted class is the target (ignored rows out)."""
        correct = self.correct
        if correct is None:
            return None
        if self.ignored is not None:
            correct = correct[~self.ignored]
        return float(correct.mean())

    @property
    def perplexity(self) -> float:
        """exp of the mean loss in nats (= base^mean in the chosen unit); ``inf`` on overflow."""
        mean = self.mean * math.log(float(self.base)) if self.base != "e" else self.mean
        return math.exp(mean) if mean < 709.0 else math.inf

    def class_label(self, index: int) -> str:
        """A class's name from the predictions' header, else its index."""
        if self.class_names is not None and 0 <= index < len(self.class_names):
            return self.class_names[index]
        return str(index)


def _column_index(spec: str, source: Source) -> int:
    """``--label-column``: a header name, or a 0-based index (negative counts from the end)."""
    if source.header is not None and spec in source.header:
        return source.header.index(spec)
    try:
        index = int(spec)
    except ValueError:
        names = ", ".join(source.header) if source.header else "the file has no header"
        raise UsageError(
            f"--label-column {spec!r} names no column of {source.name} ({names})"
        ) from None
    width = source.n_columns
    if not -width <= index < width:
        raise UsageError(
            f"--label-column {index} is out of range: {source.name} has {width} columns"
        )
    return index % width


def _labels_from(
    source: Source,
    column: int | None,
    class_names: list[str] | None,
    columns: list[int] | None = None,
) -> Labels:
    """Labels from ``column`` of ``source`` (class names or numbers), or all its columns."""

    def where(row: int, col: int | None = None) -> str:
        if column is not None:
            return source.where(row, column)
        if col is not None and columns is not None:
            col = columns[col]
        return source.where(row, col)

    if column is None and source.n_columns > 1:
        matrix = source.numbers(allow_minus_inf=False)
        return Labels(matrix=matrix, where=where, dtype=source.dtype)
    index = 0 if column is None else column
    if source.is_numeric(index):
        matrix = source.numbers([index], allow_minus_inf=False)
        return Labels(matrix=matrix, where=where, dtype=source.dtype)
    names = source.strings(index)
    if not class_names:
        first = next(row for row, name in enumerate(names) if parse_number(name) is None)
        raise InputError(
            where(first, None),
            f"label {names[first]!r} is not a number, and the predictions have no header "
            "naming the classes",
        )
    lookup = {name: position for position, name in reversed(list(enumerate(class_names)))}
    indices = np.empty(len(names), dtype=np.int64)
    for row, name in enumerate(names):
        position = lookup.get(name)
        if position is None:
            shown = ", ".join(class_names[:12]) + (", …" if len(class_names) > 12 else "")
            raise InputError(
                where(row, None), f"unknown class name {name!r}; the classes are: {shown}"
            )
        indices[row] = position
    return Labels(indices=indices, named=True, where=where, dtype=source.dtype)


def load(
    predictions: str,
    labels: str | None,
    settings: Settings,
    stdin: BinaryIO | None = None,
    *,
    stream: bool = False,
) -> Inputs:
    """Read both inputs and check that they line up row for row.

    With ``stream``, a large ``.npy`` of predictions is left on disk for :func:`compute`
    to read in blocks (bounded memory).
    """
    if predictions == "-" and labels == "-":
        raise UsageError("only one input can be standard input (-)")
    streamed = None
    if stream and predictions != "-" and settings.label_column is None and labels is not None:
        streamed = open_npy(predictions, predictions)
    if streamed is not None:
        assert labels is not None
        label_source = read(labels, stdin=stdin, key=settings.label_key, class_names=[])
        label_set = _labels_from(label_source, None, None)
        _check_counts(streamed.n_rows, label_source, streamed.name)
        placeholder = np.empty((0, streamed.n_columns))
        return Inputs(placeholder, label_set, streamed, None, stream=streamed)
    pred_source = read(predictions, stdin=stdin, key=settings.key)
    if settings.label_column is not None:
        if labels is not None:
            raise UsageError("give either LABELS or --label-column, not both")
        label_index = _column_index(settings.label_column, pred_source)
        columns = [c for c in range(pred_source.n_columns) if c != label_index]
        if not columns:
            raise UsageError(f"{pred_source.name} has no prediction columns besides the labels")
        values = pred_source.numbers(columns, allow_minus_inf=True)
        header = pred_source.header
        class_names = [header[c] for c in columns] if header is not None else None
        label_set = _labels_from(pred_source, label_index, class_names)
        return Inputs(values, label_set, pred_source, class_names, columns)
    if labels is None:
        raise UsageError("missing LABELS: give a labels file (or - for stdin), or --label-column")
    values = pred_source.numbers(allow_minus_inf=True)
    # a header names classes only when there are K ≥ 2 of them
    class_names = pred_source.header if values.shape[1] > 1 else None
    label_source = read(labels, stdin=stdin, key=settings.label_key, class_names=class_names or [])
    label_set = _labels_from(label_source, None, class_names)
    _check_counts(values.shape[0], label_source, pred_source.name)
    return Inputs(values, label_set, pred_source, class_names)


def _check_counts(n: int, label_source: Source, predictions_name: str) -> None:
    m = label_source.n_rows
    if m < n:
        raise InputError(
            label_source.where_end(),
            f"labels end after {_rows(m)}, but {predictions_name} has {_rows(n)} of predictions",
        )
    if m > n:
        raise InputError(
            label_source.where(n, None),
            f"{_rows(m)} of labels, but {predictions_name} has {_rows(n)} of predictions",
        )


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _predicted(decision: Decision, predictions: FloatArray) -> npt.NDArray[np.generic] | None:
    if decision.multilabel:
        return None
    if predictions.shape[1] == 1:
        threshold = 0.0 if decision.row.from_scores else 0.5
        above: IntArray = (predictions[:, 0] > threshold).astype(np.int64)
        return above
    best: IntArray = np.argmax(predictions, axis=1).astype(np.int64)
    return best


def _target(decision: Decision) -> npt.NDArray[np.generic] | None:
    targets = decision.targets
    if decision.multilabel:
        return None
    if decision.row.sparse:
        return targets
    if decision.row.per_column:
        column = targets[:, 0]
        return column.astype(np.int64) if decision.hard else column
    best: IntArray = np.argmax(targets, axis=1).astype(np.int64)
    return best


def _target_probability(
    decision: Decision, predictions: FloatArray, plain_losses: FloatArray | None = None
) -> FloatArray | None:
    """The model's probability of each row's hard target (softmax or sigmoid of the scores).

    ``plain_losses`` are the rows' plain −log p of the target, when already computed.
    """
    if not decision.hard or decision.multilabel:
        return None
    row = decision.row
    if row.per_column:
        y = decision.targets[:, 0]
        p = losses.sigmoid(predictions[:, 0]) if row.from_scores else predictions[:, 0]
        q = losses.sigmoid(-predictions[:, 0]) if row.from_scores else 1.0 - predictions[:, 0]
        return np.where(y == 1, p, q)
    indices = decision.targets if row.sparse else np.argmax(decision.targets, axis=1)
    if row.from_scores:
        if plain_losses is None:
            plain_losses = losses.sparse_softmax_ce_with_logits(predictions, indices)
        return np.exp(-plain_losses)
    return np.take_along_axis(predictions, np.asarray(indices).reshape(-1, 1), axis=1)[:, 0]


def _ignore(labels: Labels, index: int | None) -> tuple[Labels, npt.NDArray[np.bool_] | None]:
    """Labels with ``--ignore-index`` rows set to class 0 for detection, and their mask."""
    if index is None:
        return labels, None
    if labels.indices is not None:
        mask = labels.indices == index
        if not mask.any():
            return labels, mask
        return replace(labels, indices=np.where(mask, 0, labels.indices)), mask
    assert labels.matrix is not None
    if labels.matrix.shape[1] != 1:
        raise UsageError("--ignore-index applies to class-index labels (one label per row)")
    mask = labels.matrix[:, 0] == index
    if not mask.any():
        return labels, mask
    return replace(labels, matrix=np.where(mask[:, None], 0.0, labels.matrix)), mask


def _weights(values: tuple[float, ...] | None, k: int, what: str) -> FloatArray | None:
    if values is None:
        return None
    if len(values) == 1 and what == "--pos-weight":
        return np.full(k, values[0])
    if len(values) != k:
        raise UsageError(f"{what} has {len(values)} values but there are {k} prediction columns")
    return np.asarray(values, dtype=np.float64)


def row_losses(
    decision: Decision,
    predictions: FloatArray,
    settings: Settings,
    dtype: np.dtype[np.generic],
    convention: Convention = "xent",
) -> tuple[FloatArray, FloatArray | None]:
    """Per-row losses and their divisors for the mean (``None``: each row counts 1)."""
    row = decision.row
    if settings.plain and convention == "xent":
        kernel = KERNELS[decision.loss]
        return kernel(predictions, decision.targets, settings.epsilon), None  # type: ignore[arg-type]
    k = predictions.shape[1]
    class_weights = _weights(settings.class_weights, k, "--class-weights")
    focal = {"focal_gamma": settings.focal_gamma, "focal_alpha": settings.focal_alpha}
    if row.per_column:
        if row.from_scores:
            neg_log_p, neg_log_not_p = losses.softplus(-predictions), losses.softplus(predictions)
        else:
            neg_log_p, neg_log_not_p = binary_neglog(
                predictions, convention, settings.epsilon, dtype
            )
        pos_weight = _weights(settings.pos_weight, k, "--pos-weight")
        combined = losses.combine_binary(
            neg_log_p,
            neg_log_not_p,
            decision.targets,  # type: ignore[arg-type]
            smoothing=settings.label_smoothing,
            pos_weight=1.0 if pos_weight is None else pos_weight,
            class_weights=class_weights,
            **focal,
        )
        return combined, None
    if settings.pos_weight is not None:
        raise UsageError(
            "--pos-weight applies to binary and multi-label outputs (a sigmoid per column)"
        )
    if row.from_scores:
        neglog = losses.class_neglog_from_scores(predictions)
    else:
        neglog = class_neglog(predictions, convention, settings.epsilon, dtype, sparse=row.sparse)
    combined = losses.combine_classes(
        neglog,
        decision.targets,
        sparse=row.sparse,
        smoothing=settings.label_smoothing,
        class_weights=class_weights,
        **focal,
    )
    divisors = None
    if row.sparse and class_weights is not None and convention not in ("keras", "tf"):
        divisors = class_weights[np.asarray(decision.targets, dtype=np.int64)]  # PyTorch's Σ w_y
    return combined, divisors


Progress = Callable[[int], None]  # told how many more rows are done


def _in_order(results: Any, sizes: list[int], progress: Progress | None) -> list[Any]:
    """Collect results of ``pool.map`` in order, reporting each block's rows as it lands."""
    collected = []
    for result, size in zip(results, sizes, strict=True):
        collected.append(result)
        if progress is not None:
            progress(size)
    return collected


def _decide(
    evidence: FloatArray | Summary, labels: Labels, inputs: Inputs, settings: Settings
) -> Decision:
    return decide(
        evidence,
        labels,
        pred_where=inputs.pred_where,
        pred_dtype=inputs.pred_source.dtype,
        outputs=settings.outputs,
        targets=settings.targets,
        task=settings.task,
        loss=settings.loss,
    )


def _checked_block(stream: NpyStream, start: int, stop: int) -> FloatArray:
    """Rows ``start:stop`` of a stream, every value checked (errors name the global row)."""
    block = stream.read(start, stop)
    check_values(block, stream.where, allow_minus_inf=True, row_offset=start)
    if stream.n_columns > 1:  # one column: −∞ is a score, σ(−∞) = 0
        check_not_all_masked(block, lambda row, column: stream.where(row + start, column))
    return block


@dataclass
class StreamPass:
    """One pass over a stream: the summary for detection, and the blocks computed with the
    loss that its first block decided (``None`` where that block decided nothing)."""

    summary: Summary
    guess: Decision | None
    blocks: list[Block] | None

    def blocks_for(self, decision: Decision) -> list[Block] | None:
        """The blocks, if they were computed with the kernel ``decision`` asks for."""
        guess = self.guess
        if guess is None or self.blocks is None:
            return None
        same = (
            guess.row == decision.row
            and guess.hard == decision.hard
            and np.array_equal(guess.targets, decision.targets)
        )
        return self.blocks if same else None


def _stream_pass(
    inputs: Inputs, settings: Settings, detail: bool, progress: Progress | None = None
) -> StreamPass:
    """Pass 1 over a streamed file: check every value and summarise it for detection.

    The loss is guessed from the first block and computed in the same pass; when the
    whole file decides the same, the file is not read again.
    """
    from .parallel import pool

    stream = inputs.stream
    assert stream is not None
    labels, _ = _ignore(inputs.labels, settings.ignore_index)
    dtype = inputs.pred_source.dtype
    tolerance = tolerance_for(stream.n_columns, dtype, labels)
    pieces = stream.blocks()
    first = Summary.of(_checked_block(stream, *pieces[0]), tolerance, row_offset=0)
    try:
        guess: Decision | None = _decide(first, labels, inputs, settings)
    except XentError:  # the whole file may still decide: it says so after the pass
        guess = None

    def summarise(piece: tuple[int, int]) -> tuple[Summary, Block | None]:
        start, stop = piece
        block = _checked_block(stream, start, stop)
        summary = Summary.of(block, tolerance, row_offset=start)
        if guess is None:
            return summary, None
        try:
            return summary, _block(guess, block, start, stop, settings, dtype, detail)
        except XentError:  # only the guess objects: the decided loss may not
            return summary, None

    parts: list[tuple[Summary, Block | None]] = _in_order(
        pool().map(summarise, pieces), [b - a for a, b in pieces], progress
    )
    summary = parts[0][0]
    for part, _ in parts[1:]:
        summary = summary.merge(part)
    blocks = [block for _, block in parts if block is not None]
    return StreamPass(summary, guess, blocks if len(blocks) == len(parts) else None)


def decide_for(
    inputs: Inputs, settings: Settings, summary: Summary | None = None
) -> tuple[Decision, npt.NDArray[np.bool_] | None]:
    """Detection (DESIGN §2) on ``inputs``, with ``--ignore-index`` rows set aside.

    A streamed file is decided from its ``summary`` (see :func:`_stream_pass`).
    """
    labels, ignored = _ignore(inputs.labels, settings.ignore_index)
    evidence: FloatArray | Summary
    if inputs.stream is not None:
        if summary is None:
            raise ValueError("a streamed file is decided from its summary")
        evidence = summary
    else:
        if inputs.predictions.shape[1] > 1:  # one column: −∞ is a score, σ(−∞) = 0
            check_not_all_masked(inputs.predictions, inputs.pred_where)
        evidence = inputs.predictions
    decision = _decide(evidence, labels, inputs, settings)
    if ignored is not None:
        if not decision.row.sparse:
            raise UsageError(
                f"--ignore-index applies to class-index targets, not to {decision.loss}"
            )
        if ignored.all():
            raise InputError(
                inputs.labels.where(0, 0),
                f"every row has the ignored label {settings.ignore_index}; "
                "there is no loss to average",
            )
    return decision, ignored


@dataclass
class Block:
    """The per-row results of one block of rows."""

    losses: FloatArray
    divisors: FloatArray | None
    predicted: npt.NDArray[np.generic] | None
    probability: FloatArray | None
    sums_off: bool  # rows not summing to 1 within scikit-learn's tolerance


def _block(
    decision: Decision,
    values: FloatArray,
    start: int,
    stop: int,
    settings: Settings,
    dtype: np.dtype[np.generic],
    detail: bool,
) -> Block:
    """Everything computed for rows ``start:stop`` (``values`` holds just those rows)."""
    part = replace(decision, targets=decision.targets[start:stop])
    row_values, divisors = row_losses(part, values, settings, dtype, settings.like)
    sums_off = False
    if settings.like == "sklearn" and not decision.row.per_column:
        from .conventions import sklearn_epsilon

        rtol = math.sqrt(sklearn_epsilon(dtype))
        sums_off = not np.allclose(values.sum(axis=1), 1.0, rtol=rtol)
    return Block(
        row_values,
        divisors,
        _predicted(part, values) if detail else None,
        _target_probability(part, values, row_values if settings.plain else None)
        if detail
        else None,
        sums_off,
    )


def _blocks(
    inputs: Inputs,
    decision: Decision,
    settings: Settings,
    detail: bool,
    progress: Progress | None = None,
) -> list[Block]:
    """Pass over the rows in blocks (on both cores), from memory or from the stream."""
    from .parallel import SMALL, bounds, pool, threads

    dtype = inputs.pred_source.dtype
    stream = inputs.stream
    if stream is not None:

        def streamed(piece: tuple[int, int]) -> Block:
            start, stop = piece
            return _block(decision, stream.read(start, stop), start, stop, settings, dtype, detail)

        pieces = stream.blocks()
        return _in_order(pool().map(streamed, pieces), [b - a for a, b in pieces], progress)
    predictions = inputs.predictions
    n, k = predictions.shape
    if predictions.size < SMALL or threads() == 1:
        return [_block(decision, predictions, 0, n, settings, dtype, detail)]

    def in_memory(piece: tuple[int, int]) -> Block:
        start, stop = piece
        return _block(decision, predictions[start:stop], start, stop, settings, dtype, detail)

    pieces = bounds(n, k)
    return _in_order(pool().map(in_memory, pieces), [b - a for a, b in pieces], progress)


def _joined(parts: list[FloatArray | None] | list[npt.NDArray[np.generic] | None]) -> Any:
    if any(part is None for part in parts):
        return None
    return np.concatenate(parts)  # type: ignore[arg-type]


def compute(
    inputs: Inputs, settings: Settings, *, detail: bool = True, progress: Progress | None = None
) -> Result:
    """Decide the loss for ``inputs`` and compute it row by row.

    Without ``detail`` (a bare mean or sum is all that is wanted) the predicted classes
    and target probabilities are not computed. ``progress`` hears of every block done,
    of two passes over a streamed file (the second is skipped, and reported done at once,
    when the loss its first block decided is the loss the whole file decides).
    """
    settings.check()
    first_pass = None
    if inputs.stream is not None:
        first_pass = _stream_pass(inputs, settings, detail, progress)
    decision, ignored = decide_for(inputs, settings, first_pass.summary if first_pass else None)
    warnings = list(decision.warnings)
    if settings.like == "sklearn":
        from .conventions import not_applicable

        reason = not_applicable(
            "sklearn",
            from_scores=decision.row.from_scores,
            hard=decision.hard,
            multilabel=decision.multilabel,
        )
        if reason is not None:
            raise UsageError(f"--like sklearn: {reason}")
    blocks = first_pass.blocks_for(decision) if first_pass is not None else None
    if blocks is None:
        blocks = _blocks(inputs, decision, settings, detail, progress)
    elif progress is not None:
        progress(inputs.n_rows)  # the second pass was not needed
    if any(block.sums_off for block in blocks):
        warnings.append(
            "scikit-learn warns here: 'The y_pred values do not sum to one' "
            "(it does not renormalise them)"
        )
    losses_nats: FloatArray = np.concatenate([block.losses for block in blocks])
    divisors: FloatArray | None = _joined([block.divisors for block in blocks])
    predicted = _joined([block.predicted for block in blocks])
    probability: FloatArray | None = _joined([block.probability for block in blocks])
    target = _target(decision) if detail else None
    if ignored is not None and ignored.any():
        losses_nats = np.where(ignored, 0.0, losses_nats)
        divisors = np.where(ignored, 0.0, 1.0 if divisors is None else divisors)
        if target is not None:
            target = np.where(ignored, int(settings.ignore_index or 0), target)
        if probability is not None:
            probability = np.where(ignored, np.nan, probability)
    scale = 1.0 if settings.base == "e" else math.log(float(settings.base))
    return Result(
        decision=decision,
        losses=losses_nats / scale if scale != 1.0 else losses_nats,
        class_names=inputs.class_names,
        predicted=predicted,
        target=target,
        target_probability=probability,
        warnings=warnings,
        denominators=divisors,
        ignored=ignored,
        base=settings.base,
        settings=settings,
    )


@dataclass
class Comparison:
    """What one framework reports for the inputs (mean), or why it has no equivalent."""

    framework: str
    call: str
    value: float | None
    why: str


def relative_difference(value: float | None, exact: float | None) -> float | None:
    """|value − exact| / |exact|; 0 when equal (∞ = ∞ too); ``None`` where it has no meaning.

    >>> relative_difference(1.5, 1.0), relative_difference(math.inf, 1.0)
    (0.5, None)
    >>> relative_difference(math.inf, math.inf)
    0.0
    """
    if value is None or exact is None:
        return None
    if value == exact:
        return 0.0
    if not math.isfinite(value) or not math.isfinite(exact) or exact == 0:
        return None
    return abs(value - exact) / abs(exact)


def _differences(
    convention: Convention,
    decision: Decision,
    predictions: FloatArray,
    dtype: np.dtype[np.generic],
    settings: Settings,
) -> list[str]:
    """The conventions of ``convention`` that change the number on these very inputs."""
    from .conventions import KERAS_EPSILON, sklearn_epsilon

    row = decision.row
    notes: list[str] = []
    if not row.from_scores:
        p = predictions
        tolerance = 1e-12
        off = not row.per_column and bool((np.abs(p.sum(axis=1) - 1.0) > tolerance).any())
        if convention in ("keras", "tf"):
            if off:
                notes.append("renormalises each row by its sum")
            if ((p < KERAS_EPSILON) | (p > 1 - KERAS_EPSILON)).any():
                notes.append("clips p to [1e-7, 1 − 1e-7]")
            if row.per_column and convention == "tf":
                notes.append("adds 1e-7 inside the logs: log(p + 1e-7), log(1 − p + 1e-7)")
            elif row.per_column and ((p > KERAS_EPSILON) & (p < 1e-4)).any():
                notes.append("takes log(1 − p) of a rounded 1 − p (cancellation for small p)")
        elif convention == "torch":
            with np.errstate(divide="ignore"):
                tiny = (np.log(p) < -100) | (np.log1p(-p) < -100) if row.per_column else p == 0
            if tiny.any():
                notes.append(
                    "clamps each log at −100" if row.per_column else "no clipping: log 0 = −∞"
                )
        elif convention == "sklearn":
            eps = sklearn_epsilon(dtype)
            if ((p < eps) | (p > 1 - eps)).any():
                notes.append(f"clips p to [{eps:.3g}, 1 − {eps:.3g}] (machine epsilon)")
            if off:
                notes.append("warns that rows do not sum to 1; does not renormalise")
            if row.per_column and ((p > 0) & (p < 1e-4)).any():
                notes.append("takes log of a rounded 1 − p (cancellation for small p)")
    if settings.class_weights is not None and row.sparse and convention in ("keras", "tf"):
        notes.append("class weights: the mean divides by the row count, not by Σ w")
    return notes


def compare(inputs: Inputs, settings: Settings) -> list[Comparison]:
    """The mean each framework reports for ``inputs``, the exact value, and why they differ.

    Differences that come only from float32 arithmetic are not emulated: every number here
    is float64 with the framework's clipping, renormalising, clamping and reductions.
    """
    from .conventions import FRAMEWORKS, call, not_applicable

    settings.check()
    exact_settings = replace(settings, epsilon=0.0, like="xent")
    exact_result = compute(inputs, exact_settings)
    exact = exact_result.mean
    decision = exact_result.decision
    dtype = inputs.pred_source.dtype
    rows = [
        Comparison("exact", "xent --epsilon 0 (float64, no clipping)", exact, "the true value"),
    ]
    default = compute(inputs, replace(settings, like="xent")).mean
    clipped = not decision.row.from_scores and settings.epsilon > 0 and default != exact
    rows.append(
        Comparison(
            "xent",
            f"xent compute (ε = {settings.epsilon:g})",
            default,
            f"clips p to [{settings.epsilon:g}, 1 − {settings.epsilon:g}]"
            if clipped
            else "same as exact",
        )
    )
    for framework in FRAMEWORKS:
        reason = not_applicable(
            framework,
            from_scores=decision.row.from_scores,
            hard=decision.hard,
            multilabel=decision.multilabel,
        )
        if reason is not None:
            rows.append(Comparison(framework, call(framework, decision.loss), None, reason))
            continue
        value = compute(inputs, replace(settings, like=framework)).mean
        notes = _differences(framework, decision, inputs.predictions, dtype, settings)
        difference = relative_difference(value, exact)
        if difference == 0:
            why = "same as exact"  # its conventions do not touch these inputs
        elif notes:
            why = "; ".join(notes)
        elif difference is not None and difference < 1e-13:
            why = "rounding in another order (last digits only)"
        else:
            why = "fused with-logits form, exact" if decision.row.from_scores else "its own formula"
        rows.append(Comparison(framework, call(framework, decision.loss), value, why))
    return rows

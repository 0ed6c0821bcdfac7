"""Decide → compute: the engine behind ``xent compute``, free of files, terminals and Typer.

:func:`compute` takes loaded :class:`~inputs.Inputs`, decides the row of the decision table
(streamed files from a summary gathered in the same pass that checks their values), and
runs the row's kernel over row blocks on both cores, into a :class:`~result.Result`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from . import losses
from .conventions import (
    Convention,
    binary_neglog,
    class_neglog,
    epsilon_for,
    machine_epsilon,
    not_applicable,
)
from .detection import Decision, Summary, decide, tolerance_for
from .errors import UsageError, XentError
from .evaluation import RowScores, row_scores
from .inputs import Inputs, Labels
from .options import Like, Targets
from .parallel import Progress, bounds, run_blocks
from .readers import check_not_all_masked, check_values
from .result import SUMS_OFF, Result, scale_exponent
from .settings import Settings

if TYPE_CHECKING:
    import numpy.typing as npt

    from .readers import Stream

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]
    BoolArray = npt.NDArray[np.bool_]

T = TypeVar("T")


def predicted_classes(
    decision: Decision, predictions: FloatArray
) -> npt.NDArray[np.generic] | None:
    """Each row's predicted class (the highest-scored; one column: 1 above 0.5, or above 0
    of scores); ``None`` for multi-label rows."""
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
    picked = np.take_along_axis(predictions, np.asarray(indices).reshape(-1, 1), axis=1)[:, 0]
    return np.exp(picked) if decision.log_probs else picked


def without_ignored(
    labels: Labels, index: int | None
) -> tuple[Labels, npt.NDArray[np.bool_] | None]:
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
    weights = np.asarray(values, dtype=np.float64)
    return np.ldexp(weights, -weight_exponent(values)) if what == "--class-weights" else weights


def weight_exponent(weights: tuple[float, ...] | FloatArray | None) -> int:
    """e with the largest weight in [½, 1) once divided by 2^e: class weights are used so
    scaled, and losses and sums scaled back by 2^e at the end. A power of two scales
    exactly, so ordinary weights give the same bits; weights near the largest float no
    longer overflow w·ℓ or Σw, and subnormal ones keep their precision.

    >>> weight_exponent((1.0, 2.0, 3.0)), weight_exponent((1e308,)), weight_exponent(None)
    (2, 1024, 0)
    """
    if weights is None or len(weights) == 0:
        return 0
    return scale_exponent(float(np.max(np.abs(np.asarray(weights, dtype=np.float64)))))


def row_losses(
    decision: Decision,
    predictions: FloatArray,
    settings: Settings,
    dtype: np.dtype[np.generic],
    convention: Convention = None,
) -> tuple[FloatArray, FloatArray | None]:
    """Per-row losses and their divisors for the mean (``None``: each row counts 1).

    Without options, the table row's own kernel; with any, the general form from −log pₖ
    (or −log p and −log(1 − p) per column) that folds every option in.
    """
    row = decision.row
    if settings.plain and convention is None and not decision.log_probs:
        return row.kernel(predictions, decision.targets, settings.clipping), None
    k = predictions.shape[1]
    class_weights = _weights(settings.class_weights, k, "--class-weights")
    focal = {"focal_gamma": settings.focal_gamma, "focal_alpha": settings.focal_alpha}
    if row.per_column:
        if row.from_scores:
            neg_log_p, neg_log_not_p = losses.softplus(-predictions), losses.softplus(predictions)
        else:
            neg_log_p, neg_log_not_p = binary_neglog(
                predictions, convention, settings.clipping, dtype
            )
        pos_weight = _weights(settings.pos_weight, k, "--pos-weight")
        combined = losses.combine_binary(
            neg_log_p,
            neg_log_not_p,
            np.asarray(decision.targets, dtype=np.float64),
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
    elif decision.log_probs:  # −log pₖ as given: no clipping (PyTorch's NLLLoss)
        neglog = 0.0 - predictions  # log 1 = 0 gives 0, not −0.0
    else:
        neglog = class_neglog(predictions, convention, settings.clipping, dtype, sparse=row.sparse)
    combined = losses.combine_classes(
        neglog,
        decision.targets,
        sparse=row.sparse,
        smoothing=settings.label_smoothing,
        class_weights=class_weights,
        **focal,
    )
    divisors = None
    if row.sparse and class_weights is not None and convention not in (Like.keras, Like.tf):
        divisors = class_weights[np.asarray(decision.targets, dtype=np.int64)]  # PyTorch's Σ w_y
    return combined, divisors


def _decide(
    evidence: FloatArray | Summary,
    labels: Labels,
    inputs: Inputs,
    settings: Settings,
    check_indices: Callable[[], None] | None = None,
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
        notes=inputs.notes,
        as_given=settings.targets is Targets.soft
        or settings.loss is not None
        or settings.like in (Like.keras, Like.tf),
        check_indices=check_indices,
    )


def _summarised_block(
    stream: Stream, start: int, stop: int, tolerance: float
) -> tuple[FloatArray, Summary]:
    """Rows ``start:stop`` of a stream, every value checked (errors name the global row),
    and their summary for detection. One minimum and one maximum serve both: neither NaN
    nor +∞ among them, no value is either."""
    block = stream.read(start, stop)
    lowest, highest = float(block.min()), float(block.max())
    if math.isnan(lowest) or math.isnan(highest) or highest == math.inf:
        check_values(block, stream.where, allow_minus_inf=True, row_offset=start)
    if stream.n_columns > 1:  # one column: −∞ is a score, σ(−∞) = 0
        check_not_all_masked(block, stream.where, row_offset=start)
    return block, Summary.of(block, tolerance, start, (lowest, highest))


BlockWork = Callable[[Decision, "FloatArray", int, int], T]
"""What a pass does with a block of rows: ``work(decision, values, start, stop)`` with
``values`` the rows ``start:stop``, decided as ``decision`` says."""


@dataclass
class StreamPass(Generic[T]):
    """One pass over a stream: the summary for detection, and the blocks computed with the
    loss that its first block decided (``None`` where that block decided nothing)."""

    summary: Summary
    guess: Decision | None
    blocks: list[T] | None

    def blocks_for(self, decision: Decision) -> list[T] | None:
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
    inputs: Inputs, settings: Settings, work: BlockWork[T], progress: Progress | None = None
) -> StreamPass[T]:
    """Pass 1 over a streamed file: check every value and summarise it for detection.

    The loss is guessed from the first block and ``work`` done in the same pass; when the
    whole file decides the same, the file is not read again.
    """
    stream = inputs.stream
    assert stream is not None
    labels, _ = without_ignored(inputs.labels, settings.ignore_index)
    dtype = inputs.pred_source.dtype
    tolerance = tolerance_for(stream.n_columns, dtype, labels)
    pieces = stream.blocks()
    _, first = _summarised_block(stream, *pieces[0], tolerance)
    try:
        guess: Decision | None = _decide(first, labels, inputs, settings)
    except XentError:  # the whole file may still decide: it says so after the pass
        guess = None

    def summarise(start: int, stop: int) -> tuple[Summary, T | None]:
        block, summary = _summarised_block(stream, start, stop, tolerance)
        if guess is None:
            return summary, None
        try:
            with np.errstate(all="ignore"):  # a guess's kernel on rows it does not fit
                return summary, work(guess, block, start, stop)
        except XentError:  # only the guess objects: the decided loss may not
            return summary, None

    parts = run_blocks(summarise, pieces, progress, parallel=not stream.sequential)
    summary = parts[0][0]
    for part, _ in parts[1:]:
        summary = summary.merge(part)
    blocks = [block for _, block in parts if block is not None]
    return StreamPass(summary, guess, blocks if len(blocks) == len(parts) else None)


def decide_for(
    inputs: Inputs,
    settings: Settings,
    summary: Summary | None = None,
    check_indices: Callable[[], None] | None = None,
) -> tuple[Decision, npt.NDArray[np.bool_] | None]:
    """Detection (DESIGN §2) on ``inputs``, with ``--ignore-index`` rows set aside.

    A streamed file is decided from its ``summary`` (see :func:`_stream_pass`); labels
    read in blocks are checked as class indices by ``check_indices`` (see :func:`decide`).
    """
    labels, ignored = without_ignored(inputs.labels, settings.ignore_index)
    evidence: FloatArray | Summary
    if inputs.stream is not None:
        if summary is None:
            raise ValueError("a streamed file is decided from its summary")
        evidence = summary
    else:
        if inputs.predictions.shape[1] > 1:  # one column: −∞ is a score, σ(−∞) = 0
            check_not_all_masked(inputs.predictions, inputs.pred_where)
        evidence = inputs.predictions
    decision = _decide(evidence, labels, inputs, settings, check_indices)
    if ignored is not None:
        if not decision.row.sparse:
            raise UsageError(
                f"--ignore-index applies to class-index targets, not to {decision.loss}"
            )
    if inputs.unscored is not None:  # --shift: each row's last position has no label
        ignored = inputs.unscored if ignored is None else ignored | inputs.unscored
    return decision, ignored


@dataclass
class Block:
    """The per-row results of one block of rows."""

    losses: FloatArray
    divisors: FloatArray | None
    predicted: npt.NDArray[np.generic] | None
    probability: FloatArray | None
    sums_off: bool  # rows not summing to 1 within scikit-learn's tolerance
    clipped: int = 0  # probabilities outside [ε, 1 − ε] that xent's clipping moved
    scores: RowScores | None = None  # what each row adds to Brier, ECE, … (DESIGN §10)


def _clipped_at(settings: Settings, dtype: np.dtype[np.generic]) -> float:
    """The ε that the run's convention clips probabilities at (0: none; torch clamps logs)."""
    if settings.like is Like.sklearn:
        return machine_epsilon(dtype)
    if settings.like is Like.torch:
        return 0.0
    return settings.clipping  # xent's, or Keras's 1e-7 (auto under --like keras|tf)


def block_of(
    part: Decision,
    values: FloatArray,
    settings: Settings,
    dtype: np.dtype[np.generic],
    detail: bool,
    evaluate: bool = False,
) -> Block:
    """Everything computed for a block of rows: ``values``, decided as ``part`` says (its
    targets those rows'); with ``evaluate``, what each row adds to the figures of
    DESIGN §10."""
    row_values, divisors = row_losses(part, values, settings, dtype, settings.like)
    sums_off = False
    if settings.like is Like.sklearn and not part.row.per_column:
        rtol = math.sqrt(machine_epsilon(dtype))
        sums_off = not np.allclose(values.sum(axis=1), 1.0, rtol=rtol)
    # the table row's own kernel gave −log p of the target: the figures need not redo it
    row = part.row
    target_losses = row_values if settings.plain and row.sparse and row.from_scores else None
    clipped = 0
    epsilon = _clipped_at(settings, dtype)
    if not part.row.from_scores and not part.log_probs and epsilon > 0:
        clipped = int(np.count_nonzero(values < epsilon) + np.count_nonzero(values > 1 - epsilon))
    return Block(
        row_values,
        divisors,
        predicted_classes(part, values) if detail else None,
        _target_probability(part, values, row_values if settings.plain else None)
        if detail
        else None,
        sums_off,
        clipped,
        row_scores(part, values, part.targets, epsilon, target_losses) if evaluate else None,
    )


def _block_work(
    settings: Settings, dtype: np.dtype[np.generic], detail: bool, evaluate: bool
) -> BlockWork[Block]:
    """What :func:`compute` works out of each block: its :class:`Block`."""

    def work(decision: Decision, values: FloatArray, start: int, stop: int) -> Block:
        part = replace(decision, targets=decision.targets[start:stop])
        return block_of(part, values, settings, dtype, detail, evaluate)

    return work


def each_block(
    inputs: Inputs, decision: Decision, work: BlockWork[T], progress: Progress | None = None
) -> list[T]:
    """``work`` on every block of rows, on both cores, from memory or from the stream; the
    results in row order."""
    stream = inputs.stream
    if stream is not None:

        def streamed(start: int, stop: int) -> T:
            return work(decision, stream.read(start, stop), start, stop)

        return run_blocks(streamed, stream.blocks(), progress, parallel=not stream.sequential)
    predictions = inputs.predictions

    def in_memory(start: int, stop: int) -> T:
        return work(decision, predictions[start:stop], start, stop)

    return run_blocks(in_memory, bounds(*predictions.shape), progress)


def computed_blocks(
    inputs: Inputs,
    decision: Decision,
    settings: Settings,
    detail: bool,
    progress: Progress | None = None,
    evaluate: bool = False,
) -> list[Block]:
    """Every row's results, block by block on both cores, from memory or from the stream:
    the pass :func:`compute` runs once the loss is decided (``benchmarks/kernel.py`` times
    it alone)."""
    work = _block_work(settings, inputs.pred_source.dtype, detail, evaluate)
    return each_block(inputs, decision, work, progress)


def settled(inputs: Inputs, settings: Settings) -> Settings:
    """``settings`` checked, with ε decided for the predictions' dtype."""
    settings.check()
    epsilon = epsilon_for(settings.epsilon, settings.like, inputs.pred_source.dtype)
    return replace(settings, epsilon=epsilon)


def decided_blocks(
    inputs: Inputs,
    settings: Settings,
    work: BlockWork[T],
    progress: Progress | None = None,
    check_labels: Callable[[], None] | None = None,
) -> tuple[Decision, BoolArray | None, list[T]]:
    """Detection, and ``work`` on every block with the loss decided (a streamed file's
    blocks done in the pass that summarises it, when its first block decided the same);
    the decision, the rows left out (``--ignore-index``, ``--shift``) and the blocks'
    results in row order. ``progress`` hears of two passes over a streamed file.

    ``check_labels`` checks labels that ``inputs.labels`` holds only the start of (read in
    blocks) as class indices, where detection checks those, when the first pass's work
    failed somewhere."""
    first_pass = None
    if inputs.stream is not None:
        first_pass = _stream_pass(inputs, settings, work, progress)
    summary = first_pass.summary if first_pass is not None else None
    failed = first_pass is not None and first_pass.blocks is None  # a block's labels, maybe
    decision, ignored = decide_for(inputs, settings, summary, check_labels if failed else None)
    if settings.like is not None:
        reason = not_applicable(settings.like, decision)
        if reason is not None:
            raise UsageError(f"--like {settings.like.value}: {reason}")
    blocks = first_pass.blocks_for(decision) if first_pass is not None else None
    if blocks is None:
        blocks = each_block(inputs, decision, work, progress)
    elif progress is not None:
        progress(inputs.n_rows)  # the second pass was not needed
    return decision, ignored, blocks


def left_out(
    losses: FloatArray, divisors: FloatArray | None, ignored: BoolArray | None, exponent: int
) -> tuple[FloatArray, FloatArray | None]:
    """Losses with the rows left out (``ignored``) set to 0, and what each row adds to the
    mean's divisor: 0 for a row left out, its class weight or 1 for another (scaled by
    2^−``exponent`` as the losses are: Result.mean); as they were when none is left out."""
    if ignored is None or not ignored.any():
        return losses, divisors
    counted = math.ldexp(1.0, -exponent)
    return np.where(ignored, 0.0, losses), np.where(
        ignored, 0.0, counted if divisors is None else divisors
    )


def _joined(parts: Sequence[npt.NDArray[Any] | None]) -> Any:
    """The blocks' arrays end to end, or ``None`` where the blocks computed none."""
    present = [part for part in parts if part is not None]
    return np.concatenate(present) if len(present) == len(parts) else None


def compute(
    inputs: Inputs,
    settings: Settings,
    *,
    detail: bool = True,
    progress: Progress | None = None,
    evaluate: bool = False,
) -> Result:
    """Decide the loss for ``inputs`` and compute it row by row.

    Without ``detail`` (a bare mean or sum is all that is wanted) the predicted classes
    and target probabilities are not computed. ``progress`` hears of every block done,
    of two passes over a streamed file (the second is skipped, and reported done at once,
    when the loss its first block decided is the loss the whole file decides). With
    ``evaluate`` (and ``detail``), what the figures of DESIGN §10 need of each row.
    """
    if inputs.label_blocks is not None:
        raise ValueError("labels read in blocks give totals only: xent_cli.totals.totals")
    evaluate = evaluate and detail
    settings = settled(inputs, settings)
    work = _block_work(settings, inputs.pred_source.dtype, detail, evaluate)
    decision, ignored, blocks = decided_blocks(inputs, settings, work, progress)
    warnings = list(decision.warnings)
    if any(block.sums_off for block in blocks):
        warnings.append(SUMS_OFF)
    divisors: FloatArray | None = _joined([block.divisors for block in blocks])
    predicted = _joined([block.predicted for block in blocks])
    probability: FloatArray | None = _joined([block.probability for block in blocks])
    target = _target(decision) if detail else None
    exponent = weight_exponent(settings.class_weights)  # the losses are w/2^e · ℓ
    losses_nats, divisors = left_out(
        np.concatenate([block.losses for block in blocks]), divisors, ignored, exponent
    )
    if ignored is not None and ignored.any():
        if target is not None:
            target = np.where(ignored, int(settings.ignore_index or 0), target)
        if probability is not None:
            probability = np.where(ignored, np.nan, probability)
    scale = settings.base.log_e
    if scale != 1.0:
        losses_nats = losses_nats / scale
    with np.errstate(over="ignore"):  # a loss beyond the largest float is honestly inf
        shown = np.ldexp(losses_nats, exponent) if exponent else losses_nats
    return Result(
        decision=decision,
        losses=shown,
        scaled_losses=losses_nats if exponent else None,
        exponent=exponent,
        class_names=inputs.class_names,
        predicted=predicted,
        target=target,
        target_probability=probability,
        warnings=warnings,
        clipped=sum(block.clipped for block in blocks),
        ids=inputs.ids,
        weights=inputs.weights,
        denominators=divisors,
        ignored=ignored,
        base=settings.base,
        settings=settings,
        layout=inputs.layout,
        scores=_joined_scores([block.scores for block in blocks]),
    )


def _joined_scores(parts: list[RowScores | None]) -> RowScores | None:
    """The blocks' row scores end to end, or ``None`` where they have none."""
    present = [part for part in parts if part is not None]
    return RowScores.joined(present) if present and len(present) == len(parts) else None

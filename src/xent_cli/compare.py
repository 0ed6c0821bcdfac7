"""``--compare``: what each framework reports for the same inputs, the exact value, and why
they differ (each framework's conventions are in :mod:`conventions`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .compute import compute
from .conventions import (
    FRAMEWORKS,
    KERAS_EPSILON,
    epsilon_text,
    machine_epsilon,
    not_applicable,
)
from .inputs import Inputs
from .options import Like
from .settings import Settings

if TYPE_CHECKING:
    import numpy.typing as npt

    from .detection import Decision

    FloatArray = npt.NDArray[np.float64]


@dataclass
class Comparison:
    """What one framework reports for the inputs (mean), or why it has no equivalent."""

    framework: str
    call: str
    value: float | None
    why: str
    difference: float | None = None  # relative to the exact value (None: no meaning here)


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


KERAS_CLIPS = "clips p to [1e-7, 1 − 1e-7]"
RENORMALISES = "renormalises each row by its sum"


def _outside(p: FloatArray, epsilon: float) -> bool:
    """Whether clipping to [ε, 1 − ε] moves any of ``p``."""
    return bool(((p < epsilon) | (p > 1 - epsilon)).any())


def _keras_steps(p: FloatArray, decision: Decision, off: bool) -> list[str]:
    """What Keras does to these probabilities, in its order (its TensorFlow backend's
    ``keras/src/backend/tensorflow/nn.py``): sparse rows are clipped, then the logs go
    through a log-softmax, which renormalises the clipped row; categorical rows are
    divided by their sum, then clipped; binary columns are clipped alone."""
    row = decision.row
    if row.per_column:
        return [KERAS_CLIPS] if _outside(p, KERAS_EPSILON) else []
    if row.sparse:
        if _outside(p, KERAS_EPSILON):
            return [f"{KERAS_CLIPS}, then renormalises each row"]
        return [RENORMALISES] if off else []
    with np.errstate(invalid="ignore", divide="ignore"):
        clipped = _outside(p / p.sum(axis=1, keepdims=True), KERAS_EPSILON)
    if off and clipped:
        return [f"{RENORMALISES}, then {KERAS_CLIPS}"]
    return [RENORMALISES] if off else [KERAS_CLIPS] if clipped else []


def _differences(
    convention: Like,
    decision: Decision,
    predictions: FloatArray,
    dtype: np.dtype[np.generic],
    settings: Settings,
) -> list[str]:
    """The conventions of ``convention`` that change the number on these very inputs."""
    row = decision.row
    notes: list[str] = []
    if not row.from_scores and not decision.log_probs:  # log-probabilities: used as given
        p = predictions
        tolerance = 1e-12
        off = not row.per_column and bool((np.abs(p.sum(axis=1) - 1.0) > tolerance).any())
        if convention in (Like.keras, Like.tf):
            notes.extend(_keras_steps(p, decision, off))
            if row.per_column and convention is Like.tf:
                notes.append("adds 1e-7 inside the logs: log(p + 1e-7), log(1 − p + 1e-7)")
            elif row.per_column and ((p > KERAS_EPSILON) & (p < 1e-4)).any():
                notes.append("takes log(1 − p) of a rounded 1 − p (cancellation for small p)")
        elif convention is Like.torch:
            with np.errstate(divide="ignore"):
                tiny = (np.log(p) < -100) | (np.log1p(-p) < -100) if row.per_column else p == 0
            if tiny.any():
                notes.append(
                    "clamps each log at −100" if row.per_column else "no clipping: log 0 = −∞"
                )
        elif convention is Like.sklearn:
            eps = machine_epsilon(dtype)
            if _outside(p, eps):
                notes.append(f"clips p to [{eps:.3g}, 1 − {eps:.3g}] (machine epsilon)")
            if off:
                notes.append("warns that rows do not sum to 1; does not renormalise")
            if row.per_column and ((p > 0) & (p < 1e-4)).any():
                notes.append("takes log of a rounded 1 − p (cancellation for small p)")
    if settings.class_weights is not None and row.sparse and convention in (Like.keras, Like.tf):
        notes.append("class weights: the mean divides by the row count, not by Σ w")
    return notes


def compare(inputs: Inputs, settings: Settings) -> list[Comparison]:
    """The mean each framework reports for ``inputs``, the exact value, and why they differ.

    Differences that come only from float32 arithmetic are not emulated: every number here
    is float64 with the framework's clipping, renormalising, clamping and reductions.
    """
    settings.check()
    exact_settings = replace(settings, epsilon=0.0, like=None)
    exact_result = compute(inputs, exact_settings)
    exact = exact_result.mean
    decision = exact_result.decision
    dtype = inputs.pred_source.dtype
    rows = [
        Comparison("exact", "xent --epsilon 0 (float64, no clipping)", exact, "the true value"),
    ]
    default_result = compute(inputs, replace(settings, like=None))
    default = default_result.mean
    used = default_result.settings.clipping if default_result.settings else 0.0
    clipped = not decision.row.from_scores and used > 0 and default != exact
    epsilon = epsilon_text(used)
    why = f"clips p to [{epsilon}, 1 − {epsilon}]"
    if not decision.row.per_column:
        why += "; does not renormalise"
    rows.append(
        Comparison(
            "xent",
            f"xent compute (ε = {epsilon})",
            default,
            why if clipped else "same as exact",
        )
    )
    for framework in FRAMEWORKS:
        reason = not_applicable(framework, decision)
        if reason is not None:
            rows.append(Comparison(framework.value, decision.row.call(framework), None, reason))
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
        rows.append(Comparison(framework.value, decision.row.call(framework), value, why))
    return [replace(row, difference=relative_difference(row.value, exact)) for row in rows]

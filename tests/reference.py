"""Independent reference values: the losses of DESIGN §1 in mpmath at 60 digits.

Inputs are taken as the exact binary values of the float64s the tool sees, so the only
error left in a comparison is the tool's own.
"""

from __future__ import annotations

from collections.abc import Sequence

import mpmath as mp
import numpy as np

mp.mp.dps = 60


def _mpf(values: Sequence[float]) -> list[mp.mpf]:
    return [mp.mpf(float(v)) for v in values]


def logsumexp(scores: Sequence[float]) -> mp.mpf:
    z = [v for v in _mpf(scores) if v != mp.ninf]
    return mp.log(mp.fsum(mp.exp(v) for v in z))


def log_softmax(scores: Sequence[float]) -> list[mp.mpf]:
    lse = logsumexp(scores)
    return [mp.mpf(float(v)) - lse for v in scores]


def sparse_softmax_ce(scores: Sequence[float], label: int) -> mp.mpf:
    """logsumexp(z) − z_c, as log1p(Σ_{j≠c} e^(z_j − z_c)): 1 + e^-200 would need 90 digits."""
    z = _mpf(scores)
    if z[label] == mp.ninf:
        return mp.inf
    rest = mp.fsum(mp.exp(v - z[label]) for j, v in enumerate(z) if j != label and v != mp.ninf)
    return mp.log1p(rest)


def softmax_ce(scores: Sequence[float], target: Sequence[float]) -> mp.mpf:
    return mp.fsum(
        mp.mpf(float(y)) * sparse_softmax_ce(scores, k) for k, y in enumerate(target) if y != 0
    )


def sigmoid_ce(score: float, target: float) -> mp.mpf:
    z, y = mp.mpf(float(score)), mp.mpf(float(target))
    # −[y·log σ(z) + (1−y)·log σ(−z)], with log σ(z) = −log(1 + e^(−z))
    return y * mp.log1p(mp.exp(-z)) + (1 - y) * mp.log1p(mp.exp(z))


def clip(p: mp.mpf, epsilon: float) -> mp.mpf:
    if epsilon <= 0:
        return p
    low, high = mp.mpf(epsilon), mp.mpf(float(1.0 - epsilon))  # 1−ε as the float the tool uses
    return min(max(p, low), high)


def binary_ce(p: float, y: float, epsilon: float = 1e-7) -> mp.mpf:
    q, t = clip(mp.mpf(float(p)), epsilon), mp.mpf(float(y))
    total = mp.mpf(0)
    if t != 0:
        total -= t * mp.log(q)
    if t != 1:
        total -= (1 - t) * mp.log1p(-q)  # log(1 − q) would need 200+ digits for q ≈ 1e-206
    return total


def categorical_ce(
    probs: Sequence[float], target: Sequence[float], epsilon: float = 1e-7
) -> mp.mpf:
    return mp.fsum(
        -y * mp.log(clip(p, epsilon))
        for p, y in zip(_mpf(probs), _mpf(target), strict=True)
        if y != 0
    )


def relative_error(value: float, true: mp.mpf) -> float:
    if true == 0:
        return abs(value)
    return float(abs((mp.mpf(value) - true) / true))


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """pₖ = e^(zₖ − max z) / Σⱼ e^(zⱼ − max z) a row, the textbook formula in numpy (not
    xent's kernel)."""
    weights = np.exp(z - z.max(axis=1, keepdims=True))
    result: np.ndarray = weights / weights.sum(axis=1, keepdims=True)
    return result

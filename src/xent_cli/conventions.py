"""How each framework turns probabilities into −log p: clipping, renormalising, clamping.

From scores every framework uses an exact fused form (``tf.nn.*_with_logits``,
``torch.nn.CrossEntropyLoss``, ``BCEWithLogitsLoss``), so only probability inputs differ.
Each convention was read in the framework's own source:

- ``xent``: clip to [ε, 1 − ε] (``--epsilon``, default auto: the machine epsilon of the
  predictions' dtype, as scikit-learn's ``eps="auto"``), no renormalising,
  log(1 − p) as log1p(−p).
- ``keras`` (Keras 3 on its TensorFlow backend, ``keras/src/backend/tensorflow/nn.py``):
  categorical: p / Σp, then clip to [1e-7, 1 − 1e-7]; sparse: clip, then log, then a softmax
  over those logs (which renormalises the clipped row); binary: clip, then log p and
  log(1 − p), no renormalising. (Its JAX, NumPy and PyTorch backends take the sparse loss
  as the categorical one: p / Σp, then clip.)
- ``tf`` (TensorFlow 2 with Keras 2, ``tf.keras.backend``): as keras, but binary takes
  log(p + 1e-7) and log(1 − p + 1e-7) after clipping.
- ``torch``: ``NLLLoss`` on log p (no clipping; log 0 = −∞); ``BCELoss`` clamps each log
  at −100 (``aten/src/ATen/native/Loss.cpp``), with log1p(−p).
- ``sklearn`` (``sklearn.metrics.log_loss``): clip to [eps, 1 − eps], eps the machine
  epsilon of the input's dtype; a single column p becomes [1 − p, p]; no renormalising
  (a warning when rows do not sum to 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .losses import clip, neg_log
from .options import Like

if TYPE_CHECKING:
    import numpy.typing as npt

    from .detection import Decision

    FloatArray = npt.NDArray[np.float64]

Convention = Like | None  # None: xent's own
FRAMEWORKS: tuple[Like, ...] = (Like.keras, Like.tf, Like.torch, Like.sklearn)  # --compare's
KERAS_EPSILON = 1e-7  # keras.backend.epsilon(), fixed in its clipping
TORCH_LOG_FLOOR = -100.0


def epsilon_for(epsilon: float | None, like: Convention, dtype: np.dtype[np.generic]) -> float:
    """The ε that probabilities are clipped to [ε, 1 − ε] at: as given, or (auto) Keras's
    1e-7 under ``--like keras|tf``, else the machine epsilon of the predictions' dtype
    (scikit-learn's ``eps="auto"``).

    >>> epsilon_for(None, None, np.dtype(np.float32)), epsilon_for(None, Like.tf, np.dtype("f8"))
    (1.1920928955078125e-07, 1e-07)
    """
    if epsilon is not None:
        return epsilon
    if like in (Like.keras, Like.tf):
        return KERAS_EPSILON
    return machine_epsilon(dtype)


def epsilon_text(epsilon: float) -> str:
    """ε as messages show it.

    >>> epsilon_text(2.0**-52), epsilon_text(1e-7)
    ('2.2e-16', '1e-7')
    """
    return f"{epsilon:.2g}".replace("e-0", "e-")


def machine_epsilon(dtype: np.dtype[np.generic]) -> float:
    """scikit-learn's eps: the machine epsilon of the predictions' dtype (float64 if not float).

    >>> machine_epsilon(np.dtype(np.float32)) == float(np.finfo(np.float32).eps)
    True
    """
    if dtype == np.float32 or dtype == np.float16:
        return float(np.finfo(np.float32 if dtype == np.float32 else np.float16).eps)
    return float(np.finfo(np.float64).eps)


def class_neglog(
    probabilities: FloatArray,
    convention: Convention,
    epsilon: float,
    dtype: np.dtype[np.generic],
    *,
    sparse: bool,
) -> FloatArray:
    """−log pₖ for every class of probability rows, the way ``convention`` computes it.

    >>> p = np.array([[0.5, 0.25]])  # a row summing to 0.75
    >>> class_neglog(p, Like.keras, 1e-7, np.dtype(np.float64), sparse=False).round(6).tolist()
    [[0.405465, 1.098612]]
    >>> class_neglog(p, Like.torch, 1e-7, np.dtype(np.float64), sparse=True).round(6).tolist()
    [[0.693147, 1.386294]]
    """
    p = probabilities
    if convention is None:
        return neg_log(clip(p, epsilon))
    if convention is Like.torch:
        return neg_log(p)
    if convention is Like.sklearn:
        return neg_log(clip(p, machine_epsilon(dtype)))
    if sparse:  # keras, tf: clip, log, then log-softmax over the logs
        clipped = clip(p, KERAS_EPSILON)
        total: FloatArray = np.log(clipped.sum(axis=1, keepdims=True))
        return total - np.log(clipped)
    with np.errstate(invalid="ignore", divide="ignore"):
        renormalised = p / p.sum(axis=1, keepdims=True)
    return neg_log(clip(renormalised, KERAS_EPSILON))


def binary_neglog(
    probabilities: FloatArray, convention: Convention, epsilon: float, dtype: np.dtype[np.generic]
) -> tuple[FloatArray, FloatArray]:
    """(−log p, −log(1 − p)) element-wise, the way ``convention`` computes them.

    >>> a, b = binary_neglog(np.array([0.0]), Like.torch, 1e-7, np.dtype(np.float64))
    >>> a.tolist(), b.tolist()
    ([100.0], [0.0])
    """
    p = probabilities
    if convention is None:
        q = clip(p, epsilon)
        with np.errstate(divide="ignore"):
            return neg_log(q), -np.log1p(-q)
    if convention is Like.torch:
        with np.errstate(divide="ignore"):
            return (
                -np.maximum(np.log(p), TORCH_LOG_FLOOR),
                -np.maximum(np.log1p(-p), TORCH_LOG_FLOOR),
            )
    if convention is Like.sklearn:
        eps = machine_epsilon(dtype)
        return neg_log(clip(p, eps)), neg_log(clip(1.0 - p, eps))
    q = clip(p, KERAS_EPSILON)
    if convention is Like.tf:
        return neg_log(q + KERAS_EPSILON), neg_log(1.0 - q + KERAS_EPSILON)
    return neg_log(q), neg_log(1.0 - q)


def not_applicable(convention: Convention, decision: Decision) -> str | None:
    """Why ``convention`` has no equivalent for the decided loss, or ``None`` when it has one."""
    if decision.log_probs and convention in (Like.keras, Like.tf):
        return "Keras's cross-entropies take probabilities or scores, not log-probabilities"
    if convention is not Like.sklearn:
        return None
    if decision.log_probs:
        return "scikit-learn's log_loss takes probabilities, not log-probabilities"
    if decision.row.from_scores:
        return "scikit-learn's log_loss takes probabilities, not scores"
    if not decision.hard:
        return "scikit-learn's log_loss takes class labels, not soft targets"
    if decision.multilabel:
        return "scikit-learn's log_loss has no multi-label form"
    return None

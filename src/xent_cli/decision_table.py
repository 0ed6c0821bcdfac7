"""The decision table (DESIGN §1) as data: a row per loss, each with its kernel.

A new loss is a kernel in :mod:`losses` and a row here; detection (:mod:`detection`), the
CLI's ``--loss`` choices, ``--compare`` and ``xent explain`` read the rows. numpy-free: the
kernels import the numerics when they first run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .options import Like

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

Kernel = Callable[[Any, Any, float], "FloatArray"]


def _binary_ce(p: FloatArray, y: FloatArray, epsilon: float) -> FloatArray:
    from . import losses

    return losses.mean_over_columns(losses.binary_ce(p, y, epsilon))


def _categorical_ce(p: FloatArray, y: FloatArray, epsilon: float) -> FloatArray:
    from . import losses

    return losses.categorical_ce(p, y, epsilon)


def _sparse_categorical_ce(p: FloatArray, c: Any, epsilon: float) -> FloatArray:
    from . import losses

    return losses.sparse_categorical_ce(p, c, epsilon)


def _sigmoid_ce_with_logits(z: FloatArray, y: FloatArray, epsilon: float) -> FloatArray:
    from . import losses

    return losses.mean_over_columns(losses.sigmoid_ce_with_logits(z, y))


def _softmax_ce_with_logits(z: FloatArray, y: FloatArray, epsilon: float) -> FloatArray:
    from . import losses

    return losses.softmax_ce_with_logits(z, y)


def _sparse_softmax_ce_with_logits(z: FloatArray, c: Any, epsilon: float) -> FloatArray:
    from . import losses

    return losses.sparse_softmax_ce_with_logits(z, c)


@dataclass(frozen=True)
class LossRow:
    """One row of the decision table (DESIGN §1): when it applies, its formula, its names
    in the frameworks, its kernel and the framework calls ``--compare`` names."""

    name: str
    outcomes: str
    predictions: str
    targets: str
    formula: str
    tensorflow: str
    keras: str
    pytorch: str
    from_scores: bool
    sparse: bool
    per_column: bool  # sigmoid/binary: each column is its own yes/no question
    # the per-row loss without options: (predictions, targets, ε) → one float per row
    kernel: Kernel = field(compare=False, repr=False)
    # what each framework calls it, for --compare (none: it has no equivalent)
    calls: Mapping[Like, str] = field(compare=False, repr=False)

    def call(self, framework: Like) -> str:
        """The call of ``framework`` that computes this loss, or why there is none."""
        return self.calls.get(framework, "n/a: log_loss takes probabilities, not scores")


LOSS_ROWS: tuple[LossRow, ...] = (
    LossRow(
        name="binary-ce",
        outcomes="1 column per label",
        predictions="probability p",
        targets="any y ∈ [0,1]",
        formula="−[y·log p + (1−y)·log(1−p)]",
        tensorflow="tf.keras.losses.binary_crossentropy(y, p)",
        keras="keras.losses.BinaryCrossentropy()",
        pytorch="torch.nn.BCELoss()",
        from_scores=False,
        sparse=False,
        kernel=_binary_ce,
        calls={
            Like.keras: "keras.losses.BinaryCrossentropy()",
            Like.tf: "tf.keras.losses.binary_crossentropy (Keras 2)",
            Like.torch: "torch.nn.BCELoss()",
            Like.sklearn: "sklearn.metrics.log_loss(y, p)",
        },
        per_column=True,
    ),
    LossRow(
        name="categorical-ce",
        outcomes="K ≥ 2",
        predictions="probabilities",
        targets="soft (or one-hot)",
        formula="−Σₖ yₖ·log pₖ",
        tensorflow="tf.keras.losses.categorical_crossentropy(y, p)",
        keras="keras.losses.CategoricalCrossentropy()",
        pytorch="no built-in: -(y * p.log()).sum(dim=1)",
        from_scores=False,
        sparse=False,
        kernel=_categorical_ce,
        calls={
            Like.keras: "keras.losses.CategoricalCrossentropy()",
            Like.tf: "tf.keras.losses.categorical_crossentropy (Keras 2)",
            Like.torch: "-(y * p.log()).sum(1).mean()",
            Like.sklearn: "sklearn.metrics.log_loss(y.argmax(1), p)",
        },
        per_column=False,
    ),
    LossRow(
        name="sparse-categorical-ce",
        outcomes="K ≥ 2",
        predictions="probabilities",
        targets="hard index c",
        formula="−log p_c",
        tensorflow="tf.keras.losses.sparse_categorical_crossentropy(c, p)",
        keras="keras.losses.SparseCategoricalCrossentropy()",
        pytorch="torch.nn.NLLLoss() on p.log()",
        from_scores=False,
        sparse=True,
        kernel=_sparse_categorical_ce,
        calls={
            Like.keras: "keras.losses.SparseCategoricalCrossentropy()",
            Like.tf: "tf.keras.losses.sparse_categorical_crossentropy (Keras 2)",
            Like.torch: "torch.nn.NLLLoss()(p.log(), c)",
            Like.sklearn: "sklearn.metrics.log_loss(c, p)",
        },
        per_column=False,
    ),
    LossRow(
        name="sigmoid-ce-with-logits",
        outcomes="1 column per label",
        predictions="score z",
        targets="any y ∈ [0,1]",
        formula="max(z,0) − z·y + log(1+e^(−|z|))",
        tensorflow="tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z)",
        keras="keras.losses.BinaryCrossentropy(from_logits=True)",
        pytorch="torch.nn.BCEWithLogitsLoss()",
        from_scores=True,
        sparse=False,
        kernel=_sigmoid_ce_with_logits,
        calls={
            Like.keras: "keras.losses.BinaryCrossentropy(from_logits=True)",
            Like.tf: "tf.nn.sigmoid_cross_entropy_with_logits",
            Like.torch: "torch.nn.BCEWithLogitsLoss()",
        },
        per_column=True,
    ),
    LossRow(
        name="softmax-ce-with-logits",
        outcomes="K ≥ 2",
        predictions="scores",
        targets="soft (or one-hot)",
        formula="logsumexp(z) − Σₖ yₖ·zₖ",
        tensorflow="tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=z)",
        keras="keras.losses.CategoricalCrossentropy(from_logits=True)",
        pytorch="torch.nn.CrossEntropyLoss() with probability targets",
        from_scores=True,
        sparse=False,
        kernel=_softmax_ce_with_logits,
        calls={
            Like.keras: "keras.losses.CategoricalCrossentropy(from_logits=True)",
            Like.tf: "tf.nn.softmax_cross_entropy_with_logits",
            Like.torch: "torch.nn.CrossEntropyLoss() (probability targets)",
        },
        per_column=False,
    ),
    LossRow(
        name="sparse-softmax-ce-with-logits",
        outcomes="K ≥ 2",
        predictions="scores",
        targets="hard index c",
        formula="logsumexp(z) − z_c",
        tensorflow="tf.nn.sparse_softmax_cross_entropy_with_logits(labels=c, logits=z)",
        keras="keras.losses.SparseCategoricalCrossentropy(from_logits=True)",
        pytorch="torch.nn.CrossEntropyLoss() with class indices",
        from_scores=True,
        sparse=True,
        kernel=_sparse_softmax_ce_with_logits,
        calls={
            Like.keras: "SparseCategoricalCrossentropy(from_logits=True)",
            Like.tf: "tf.nn.sparse_softmax_cross_entropy_with_logits",
            Like.torch: "torch.nn.CrossEntropyLoss()",
        },
        per_column=False,
    ),
)
LOSS_NAMES: tuple[str, ...] = tuple(row.name for row in LOSS_ROWS)


def loss_row(name: str) -> LossRow:
    """The table row called ``name``."""
    for row in LOSS_ROWS:
        if row.name == name:
            return row
    raise UsageError(f"unknown loss {name!r}; choose one of: {', '.join(LOSS_NAMES)}")


def pick_row(*, from_scores: bool, per_column: bool, sparse: bool) -> LossRow:
    """The row for scores/probabilities, per-column/softmax and index/matrix targets."""
    for row in LOSS_ROWS:
        if (row.from_scores, row.per_column, row.sparse) == (from_scores, per_column, sparse):
            return row
    raise UsageError("no loss takes per-column outputs with class-index targets")

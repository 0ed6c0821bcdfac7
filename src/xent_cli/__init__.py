"""xent: pick the right cross-entropy for a model's outputs and labels, and compute it exactly.

The same engine as the ``xent`` command, for a notebook or a script::

    >>> from xent_cli import cross_entropy, softmax, sigmoid, choose_loss
    >>> cross_entropy([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]], [1, 2])
    0.8393433389787792
    >>> choose_loss([[0.5, 1.5, 0.1]], [1]).loss
    'sparse-softmax-ce-with-logits'

numpy is imported when a function is first called, not when the package is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .detection import Decision

__version__ = "0.1.0"
__all__ = ["__version__", "choose_loss", "cross_entropy", "sigmoid", "softmax"]


def _inputs(predictions: Any, labels: Any, class_names: list[str] | None) -> Any:
    """Arrays (or nested lists) → the engine's inputs, with array-style error positions."""
    import numpy as np

    from .inputs import Inputs, labels_from
    from .readers import ArraySource

    values = np.asarray(predictions)
    if values.ndim == 1:
        values = values.reshape(-1, 1)
    pred_source = ArraySource("predictions", values)
    scores = pred_source.numbers(allow_minus_inf=True)
    label_source = ArraySource("labels", np.asarray(labels))
    if label_source.n_rows != scores.shape[0]:
        from .errors import InputError

        raise InputError(
            "labels", f"{label_source.n_rows} rows of labels for {scores.shape[0]} of predictions"
        )
    label_set = labels_from(label_source, None, class_names)
    return Inputs(scores, label_set, pred_source, class_names)


def _settings(options: dict[str, Any]) -> Any:
    """Keyword arguments → the engine's :class:`~xent_cli.options.Settings` (names checked)."""
    from enum import Enum

    from .options import Base, Like, Outputs, Targets, Task, choice
    from .settings import Settings

    for name in ("class_weights", "pos_weight"):
        value = options.get(name)
        if value is not None:
            options[name] = tuple(
                float(v) for v in (value if hasattr(value, "__iter__") else [value])
            )
    if options.get("epsilon") is None:
        options.pop("epsilon", None)  # xent's default
    if options.get("like") == "xent":
        options["like"] = None  # xent's own number: the default
    if isinstance(options.get("base"), (int, float)):
        options["base"] = f"{options['base']:g}"  # 2, 10 and 2.0 name bases as "2" and "10" do
    kinds: dict[str, type[Enum]] = {
        "outputs": Outputs,
        "targets": Targets,
        "task": Task,
        "base": Base,
        "like": Like,
    }
    for name, kind in kinds.items():
        if options.get(name) is not None:
            options[name] = choice(kind, str(options[name]), name)
    return Settings(**options)


def cross_entropy(
    predictions: Any,
    labels: Any,
    *,
    reduction: str = "mean",
    loss: str | None = None,
    outputs: str = "auto",
    targets: str = "auto",
    task: str = "auto",
    epsilon: float | None = None,
    label_smoothing: float = 0.0,
    class_weights: Any = None,
    ignore_index: int | None = None,
    pos_weight: Any = None,
    base: str | int = "e",
    focal_gamma: float | None = None,
    focal_alpha: float | None = None,
    like: str | None = None,
    class_names: list[str] | None = None,
) -> float | npt.NDArray[np.float64]:
    """The cross-entropy of ``predictions`` against ``labels``, the loss chosen as ``xent`` does.

    ``predictions`` is N×K (or N for one output column), scores or probabilities;
    ``labels`` are class indices (or names, with ``class_names``), an N×K target matrix, or
    0/1 / [0,1] values for one column. The per-row loss is the table's formula, e.g.
    ``logsumexp(z) − z_c`` for scores and class indices; ``reduction="mean"`` divides by the
    row count (or by Σ w_y with class weights, as PyTorch does). The options take the names
    of ``xent compute``'s (:mod:`xent_cli.options`): ``reduction`` none/mean/sum, ``outputs``
    auto/scores/probs, ``targets`` auto/hard/soft, ``task`` auto/binary/multiclass/multilabel,
    ``base`` e/2/10, ``like`` keras/tf/torch/sklearn; ``epsilon`` clips probabilities to
    [ε, 1 − ε] (``None``: auto, the machine epsilon of the predictions' dtype, or 1e-7 with
    ``like="keras"``; 0: exact).

    Raises :class:`xent_cli.errors.XentError` for inputs that do not fit.

    >>> cross_entropy([[1000.0, -1000.0, 0.0]], [1])
    2000.0
    >>> cross_entropy([-40.0], [0])
    4.248354255291589e-18
    >>> cross_entropy([[2.0, 1.0, 0.1]], [0], label_smoothing=0.1)
    0.5136966829445002
    >>> rows = cross_entropy([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]], [1, 2], reduction="none")
    >>> rows.round(8).tolist()
    [0.4790107, 1.19967598]
    """
    from .compute import compute
    from .options import Reduction, choice

    reduced = choice(Reduction, reduction, "reduction")
    settings = _settings(
        {
            "outputs": outputs,
            "targets": targets,
            "task": task,
            "loss": loss,
            "epsilon": epsilon,
            "label_smoothing": label_smoothing,
            "class_weights": class_weights,
            "ignore_index": ignore_index,
            "pos_weight": pos_weight,
            "base": base,
            "focal_gamma": focal_gamma,
            "focal_alpha": focal_alpha,
            "like": like,
        }
    )
    result = compute(_inputs(predictions, labels, class_names), settings, detail=False)
    if reduced is Reduction.none:
        losses: npt.NDArray[np.float64] = result.losses
        return losses
    return result.mean if reduced is Reduction.mean else result.total


def choose_loss(
    predictions: Any,
    labels: Any,
    *,
    outputs: str = "auto",
    targets: str = "auto",
    task: str = "auto",
    class_names: list[str] | None = None,
) -> Decision:
    """The row of the decision table that fits these arrays, with the reason (DESIGN §2).

    >>> choice = choose_loss([[0.2, 0.7, 0.1]], [[0.0, 1.0, 0.0]])
    >>> choice.loss
    'categorical-ce'
    >>> choice.reason
    '3 classes · probabilities (rows sum to 1) · hard targets (one-hot rows) → categorical-ce'
    """
    from .compute import decide_for

    settings = _settings({"outputs": outputs, "targets": targets, "task": task})
    decision, _ = decide_for(_inputs(predictions, labels, class_names), settings)
    return decision


def softmax(scores: Any, *, temperature: float = 1.0, log: bool = False) -> npt.NDArray[np.float64]:
    """Row-wise softmax of z/T (or log-softmax, z − logsumexp(z)), exact for large |z|.

    >>> softmax([0.1, 0.3, 0.5, 0.9]).round(8).tolist()
    [0.16838508, 0.205666, 0.25120102, 0.37474789]
    >>> softmax([1000.0, 0.0], log=True).tolist()
    [0.0, -1000.0]
    """
    from .transform import scaled_softmax

    return scaled_softmax(scores, temperature=temperature, log=log, option="temperature")


def sigmoid(scores: Any) -> npt.NDArray[np.float64]:
    """Element-wise σ(z) = 1 / (1 + e^(−z)), exact in both tails.

    >>> sigmoid([-40.0, 0.0]).tolist()
    [4.248354255291589e-18, 0.5]
    """
    from . import losses

    return losses.sigmoid(scores)

"""Detection (DESIGN §2): every rule, every override, and the reason line."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from xent_cli.decision_table import LOSS_NAMES, LOSS_ROWS, loss_row
from xent_cli.detection import Decision, decide, sum_tolerance
from xent_cli.errors import InputError, UsageError
from xent_cli.inputs import Labels
from xent_cli.options import Outputs, Targets, Task

CHOICES = {"outputs": Outputs, "targets": Targets, "task": Task}

BINARY = "1 output column (binary)"
MULTI = "3 labels (multi-label)"


def where(row: int, column: int | None = None) -> str:
    return f"p.csv:{row + 1}:{1 if column is None else column + 1}"


def label_where(row: int, column: int | None = None) -> str:
    return f"y.csv:{row + 1}:{1 if column is None else column + 1}"


def run(predictions: Any, labels: Any, **options: Any) -> Decision:
    pred = np.asarray(predictions, dtype=np.float64)
    if pred.ndim == 1:
        pred = pred.reshape(-1, 1)
    lab = np.asarray(labels, dtype=np.float64)
    if lab.ndim == 1:
        lab = lab.reshape(-1, 1)
    chosen = {name: CHOICES[name](v) if name in CHOICES else v for name, v in options.items()}
    return decide(pred, Labels(matrix=lab, where=label_where), pred_where=where, **chosen)


SCORES = [[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]]
PROBS = [[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]]
UNNORMALISED = [[0.2, 0.3, 0.1], [0.5, 0.9, 0.25]]


@pytest.mark.parametrize(
    ("predictions", "labels", "loss", "reason"),
    [
        (
            SCORES,
            [1, 2],
            "sparse-softmax-ce-with-logits",
            "3 classes · scores (values outside [0,1]) · hard targets (integer labels)",
        ),
        (
            PROBS,
            [1, 0],
            "sparse-categorical-ce",
            "3 classes · probabilities (rows sum to 1) · hard targets (integer labels)",
        ),
        (
            SCORES,
            [[0, 1, 0], [0, 0, 1]],
            "softmax-ce-with-logits",
            "3 classes · scores (values outside [0,1]) · hard targets (one-hot rows)",
        ),
        (
            SCORES,
            [[0.1, 0.9, 0], [0.2, 0.2, 0.6]],
            "softmax-ce-with-logits",
            "3 classes · scores (values outside [0,1]) · soft targets (rows are distributions)",
        ),
        (
            PROBS,
            [[0, 1, 0], [1, 0, 0]],
            "categorical-ce",
            "3 classes · probabilities (rows sum to 1) · hard targets (one-hot rows)",
        ),
        (
            PROBS,
            [[0.5, 0.5, 0], [1, 0, 0]],
            "categorical-ce",
            "3 classes · probabilities (rows sum to 1) · soft targets (rows are distributions)",
        ),
        (
            [0.9, 0.2],
            [1, 0],
            "binary-ce",
            f"{BINARY} · probabilities (one column in [0,1]) · hard targets (labels in {{0,1}})",
        ),
        (
            [0.9, 0.2],
            [0.7, 0],
            "binary-ce",
            f"{BINARY} · probabilities (one column in [0,1]) · soft targets (labels in [0,1])",
        ),
        (
            [2.5, -1.0],
            [1, 0],
            "sigmoid-ce-with-logits",
            f"{BINARY} · scores (values outside [0,1]) · hard targets (labels in {{0,1}})",
        ),
        (
            [[2.5, -1.0, 0.3]],
            [[1, 1, 0]],
            "sigmoid-ce-with-logits",
            f"{MULTI} · scores (values outside [0,1]) · multi-hot targets",
        ),
        (
            UNNORMALISED,
            [[1, 1, 0], [0, 0, 0]],
            "binary-ce",
            f"{MULTI} · probabilities (values in [0,1], multi-hot labels) · multi-hot targets",
        ),
        (
            [[0.0, -np.inf, 0.5]],
            [0],
            "sparse-softmax-ce-with-logits",
            "3 classes · scores (−∞ entries) · hard targets (integer labels)",
        ),
    ],
)
def test_detection(predictions: Any, labels: Any, loss: str, reason: str) -> None:
    decision = run(predictions, labels)
    assert decision.loss == loss
    assert decision.reason.startswith(reason)
    assert decision.reason.endswith(f"→ {loss}")
    assert not decision.warnings


def test_values_in_unit_interval_not_summing_to_one_are_scores_with_a_warning() -> None:
    decision = run(UNNORMALISED, [0, 1])
    assert decision.loss == "sparse-softmax-ce-with-logits"
    assert "rows do not sum to 1" in decision.reason
    assert len(decision.warnings) == 1
    assert "--outputs probs" in decision.warnings[0]


def test_sums_to_one_tolerance() -> None:
    assert sum_tolerance(3, np.dtype(np.float64)) == 1e-6
    assert sum_tolerance(1000, np.dtype(np.float32)) == pytest.approx(1000 * 2.0**-23)
    near = [[0.2, 0.3, 0.5 + 9e-7]]
    assert run(near, [0]).loss == "sparse-categorical-ce"
    off = [[0.2, 0.3, 0.5 + 2e-6]]
    assert run(off, [0]).loss == "sparse-softmax-ce-with-logits"


def test_float32_softmax_over_many_classes_is_still_probabilities() -> None:
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(1000), size=4).astype(np.float32)
    drift = probs.astype(np.float64)
    drift[:, 0] += 5e-6  # more than 1e-6, less than K·ε(float32) ≈ 1.2e-4
    labels = Labels(matrix=np.zeros((4, 1)), where=label_where)
    decision = decide(drift, labels, pred_where=where, pred_dtype=np.dtype(np.float32))
    assert decision.loss == "sparse-categorical-ce"


@pytest.mark.parametrize(
    ("options", "loss"),
    [
        ({"outputs": "probs"}, "sparse-categorical-ce"),
        ({"outputs": "scores"}, "sparse-softmax-ce-with-logits"),
        ({"targets": "soft"}, "softmax-ce-with-logits"),
        ({"loss": "softmax-ce-with-logits"}, "softmax-ce-with-logits"),
        ({"loss": "sigmoid-ce-with-logits", "task": "multilabel"}, None),
    ],
)
def test_overrides_on_unnormalised_values(options: dict[str, str], loss: str | None) -> None:
    if loss is None:
        with pytest.raises(InputError, match="multi-label targets need a 3-column matrix"):
            run(UNNORMALISED, [0, 1], **options)
        return
    decision = run(UNNORMALISED, [0, 1], **options)
    assert decision.loss == loss


def test_forced_probabilities_that_do_not_sum_to_one_warn() -> None:
    decision = run(UNNORMALISED, [0, 1], outputs="probs")
    assert decision.warnings
    assert "not renormalised" in decision.warnings[0]


def test_soft_override_turns_indices_into_one_hot() -> None:
    decision = run(SCORES, [1, 2], targets="soft")
    assert decision.targets.tolist() == [[0, 1, 0], [0, 0, 1]]


def test_sparse_loss_override_turns_one_hot_into_indices() -> None:
    decision = run(SCORES, [[0, 1, 0], [0, 0, 1]], loss="sparse-softmax-ce-with-logits")
    assert decision.targets.tolist() == [1, 2]
    with pytest.raises(InputError, match=r"^y\.csv:1:1: target row is not one-hot"):
        run(SCORES, [[0.5, 0.5, 0], [0, 0, 1]], loss="sparse-softmax-ce-with-logits")


def test_task_overrides() -> None:
    assert run(SCORES, [[1, 1, 0], [0, 0, 1]], task="multilabel").loss == "sigmoid-ce-with-logits"
    assert run([[0.3], [0.8]], [1, 0], task="binary").loss == "binary-ce"
    with pytest.raises(UsageError, match="--task binary needs one prediction column"):
        run(SCORES, [1, 2], task="binary")
    with pytest.raises(UsageError, match="--task multiclass needs K ≥ 2"):
        run([0.3, 0.7], [1, 0], task="multiclass")
    with pytest.raises(UsageError, match="does not fit --task"):
        run(SCORES, [1, 2], task="multiclass", loss="binary-ce")
    with pytest.raises(UsageError, match="does not fit --outputs"):
        run(SCORES, [1, 2], outputs="probs", loss="softmax-ce-with-logits")


def test_outputs_probs_refuses_values_outside_the_unit_interval() -> None:
    with pytest.raises(
        InputError, match=r"^p\.csv:1:2: value 1\.5 is not a probability in \[0,1\]"
    ):
        run(SCORES, [1, 2], outputs="probs")
    with pytest.raises(InputError, match="use --loss sparse-softmax-ce-with-logits"):
        run(SCORES, [1, 2], loss="sparse-categorical-ce")


@pytest.mark.parametrize(
    ("predictions", "labels", "message"),
    [
        (
            SCORES,
            [1, 3],
            r"^y\.csv:2:1: label 3 is out of range for 3 classes \(valid: 0–2\); labels that name "
            r"the classes \(as 1…3 do\) are read with --classes$",
        ),
        (
            SCORES,
            [-1, 0],
            r"^y\.csv:1:1: label -1 is negative; class indices count from 0 \(labels that name "
            r"the classes, as −1 and 1 do, are read with --classes\)$",
        ),
        (SCORES, [1, 0.5], r"^y\.csv:2:1: label 0\.5 is not a class index"),
        ([[0.1, 0.9]], [0.3], r"soft binary targets need one prediction column"),
        ([0.9, 0.1], [1, 2], r"^y\.csv:2:1: label 2 is outside \[0,1\]"),
        (
            [0.9, 0.1],
            [[1, 0], [0, 1]],
            r"^y\.csv:1:1: labels have 2 columns but the predictions have 1",
        ),
        (SCORES, [[1, 0], [0, 1]], r"labels have 2 columns but the predictions have 3"),
        (SCORES, [[1.2, -0.2, 0], [0, 0, 1]], r"^y\.csv:1:1: target 1\.2 is outside \[0,1\]"),
        (SCORES, [[-0.5, 0.5, 1], [0, 0, 1]], r"^y\.csv:1:1: target -0\.5 is outside \[0,1\]"),
    ],
)
def test_target_errors_name_the_row(predictions: Any, labels: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        run(predictions, labels)


def test_soft_targets_must_be_distributions_when_multiclass_is_forced() -> None:
    with pytest.raises(InputError, match=r"^y\.csv:2:1: target row sums to 0\.9, not 1"):
        run(SCORES, [[0, 1, 0], [0.2, 0.3, 0.4]], task="multiclass")


def test_hard_override_refuses_soft_values() -> None:
    with pytest.raises(InputError, match=r"not 0 or 1 \(--targets hard\)"):
        run([0.3, 0.6], [0.5, 1], targets="hard")
    with pytest.raises(InputError, match=r"not one-hot \(--targets hard\)"):
        run(SCORES, [[0.5, 0.5, 0], [0, 0, 1]], targets="hard")


def test_class_names_become_hard_targets() -> None:
    labels = Labels(indices=np.array([2, 0]), named=True, where=label_where)
    decision = decide(np.asarray(SCORES), labels, pred_where=where)
    assert decision.reason.startswith(
        "3 classes · scores (values outside [0,1]) · hard targets (class names)"
    )


def test_table_data() -> None:
    assert len(LOSS_ROWS) == 6
    assert set(LOSS_NAMES) == {
        "binary-ce",
        "categorical-ce",
        "sparse-categorical-ce",
        "sigmoid-ce-with-logits",
        "softmax-ce-with-logits",
        "sparse-softmax-ce-with-logits",
    }
    assert loss_row("binary-ce").per_column
    with pytest.raises(UsageError, match="unknown loss"):
        loss_row("hinge")


@pytest.mark.parametrize(
    ("label", "message"), [(1e20, "label 1e\\+20 is out of range"), (-1e20, "negative")]
)
def test_huge_labels_are_reported_not_wrapped(label: float, message: str) -> None:
    with pytest.raises(InputError, match=message):
        run(SCORES, [0, label])

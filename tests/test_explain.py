"""``xent explain``: every combination names its row; worked examples against mpmath."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import mpmath as mp
import pytest
from typer.testing import CliRunner

from xent_cli.cli import app
from xent_cli.decision_table import LOSS_NAMES
from xent_cli.explain import choose

from . import reference as ref

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
runner = CliRunner()


def xent(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def expected_row(outcomes: str, outputs: str, targets: str, multilabel: bool) -> str:
    """DESIGN §1 read off by hand: per-column rows for binary/multi-label, sparse for hard."""
    if multilabel or outcomes == "2":
        return "sigmoid-ce-with-logits" if outputs == "scores" else "binary-ce"
    if outputs == "scores":
        return "sparse-softmax-ce-with-logits" if targets == "hard" else "softmax-ce-with-logits"
    return "sparse-categorical-ce" if targets == "hard" else "categorical-ce"


COMBINATIONS = list(
    itertools.product(["2", "many"], ["probs", "scores"], ["hard", "soft"], [False, True])
)


@pytest.mark.parametrize(("outcomes", "outputs", "targets", "multilabel"), COMBINATIONS)
def test_every_combination_names_its_row(
    outcomes: str, outputs: str, targets: str, multilabel: bool
) -> None:
    args = ["explain", "--outcomes", outcomes, "--outputs", outputs, "--targets", targets]
    if multilabel:
        args.append("--multilabel")
    name = expected_row(outcomes, outputs, targets, multilabel)
    code, out, _ = xent(*args, "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert data["loss"] == name
    assert data["outcomes"] == outcomes
    assert data["outputs"] == outputs
    assert data["targets"] == targets
    assert data["multilabel"] is multilabel
    assert data["assumed"] == []
    assert data["why"]
    assert data["pitfalls"]
    code, text, _ = xent(*args, "-f", "table")
    assert code == 0
    assert f"▶ {name}" in text
    assert f"Use {name}" in text
    assert "Worked example" in text
    code, csv_text, _ = xent(*args, "-f", "csv")
    matches = [line.split(",")[0] for line in csv_text.splitlines()[1:] if line.endswith(",true")]
    assert matches == [name]


def test_defaults_are_said_to_be_assumed() -> None:
    _, out, _ = xent("explain", "--targets", "soft", "-f", "json")
    data = json.loads(out)
    assert data["loss"] == "softmax-ce-with-logits"
    assert data["assumed"] == ["--outcomes many", "--outputs scores"]


def test_worked_example_of_the_issue() -> None:
    _, out, _ = xent(
        "explain", "--outcomes", "many", "--outputs", "scores", "--targets", "soft", "-f", "json"
    )
    example = json.loads(out)["example"]
    assert [s["step"] for s in example["steps"]] == [
        "scores z",
        "targets y",
        "softmax p = e^z / Σ e^z",
        "log p = z − logsumexp(z)",
        "y · log p",
        "loss = −Σ y·log p",
    ]
    assert example["steps"][0]["values"] == [1.0, -3.0, 10.0]
    true = ref.softmax_ce([1.0, -3.0, 10.0], [0.1, 0.02, 0.88])
    assert ref.relative_error(example["loss"], true) <= 1e-14
    lse = ref.logsumexp([1.0, -3.0, 10.0])
    for value, z in zip(example["steps"][3]["values"], [1.0, -3.0, 10.0], strict=True):
        assert ref.relative_error(value, mp.mpf(z) - lse) <= 1e-14


@pytest.mark.parametrize(
    ("outputs", "inputs"), [("scores", "scores z"), ("probs", "probabilities p")]
)
def test_regression_soft_worked_example_never_showed_y(outputs: str, inputs: str) -> None:
    # issue 11: the soft-target example showed z (or p) and the loss, never the target y
    # it used (DESIGN §4: worked examples show every input, z, p and y).
    args = ["explain", "--outcomes", "many", "--outputs", outputs, "--targets", "soft"]
    _, out, _ = xent(*args, "-f", "json")
    steps = json.loads(out)["example"]["steps"]
    assert [step["step"] for step in steps[:2]] == [inputs, "targets y"]
    assert steps[1]["values"] == [0.1, 0.02, 0.88]  # the example's soft target
    _, table, _ = xent(*args, "-f", "table")
    assert re.search(r"2\. targets y +\[0\.1, 0\.02, 0\.88\]", table), table


@pytest.mark.parametrize(
    ("kwargs", "true"),
    [
        ({"outputs": "scores", "targets": "hard"}, ref.sparse_softmax_ce([1.0, -3.0, 10.0], 2)),
        ({"outputs": "probs", "targets": "hard"}, -mp.log(mp.mpf(0.7))),
        (
            {"outputs": "probs", "targets": "soft"},
            ref.categorical_ce([0.2, 0.7, 0.1], [0.1, 0.02, 0.88]),
        ),
        ({"outcomes": "2", "outputs": "scores"}, ref.sigmoid_ce(2.0, 1.0)),
        ({"outcomes": "2", "outputs": "probs"}, ref.binary_ce(0.8, 1.0)),
        (
            {"multilabel": True, "outputs": "scores"},
            (ref.sigmoid_ce(2.0, 1.0) + ref.sigmoid_ce(-1.0, 0.0) + ref.sigmoid_ce(0.5, 1.0)) / 3,
        ),
    ],
)
def test_worked_examples_against_mpmath(kwargs: dict[str, object], true: object) -> None:
    example = choose(**kwargs).example  # type: ignore[arg-type]
    assert ref.relative_error(example.loss, true) <= 1e-14


def test_pitfall_numbers() -> None:
    pitfalls = " ".join(choose(outputs="scores", targets="hard").pitfalls)
    assert "gives 1000 exactly" in pitfalls
    assert f"{float(-mp.log(mp.mpf(0.7))):.6g}" in pitfalls
    binary = " ".join(choose(outcomes="2").pitfalls)
    assert "probability 1" in binary
    assert "gives 800 exactly" in binary


def test_table_alone() -> None:
    code, out, _ = xent("explain", "-f", "table")
    assert code == 0
    for name in LOSS_NAMES:
        assert name in out
    for text in (
        "TensorFlow",
        "Keras",
        "PyTorch",
        "torch.nn.BCEWithLogitsLoss()",
        "Terms",
        "multi-label",
    ):
        assert text in out
    _, data, _ = xent("explain", "-f", "json")
    parsed = json.loads(data)
    assert parsed["loss"] is None
    assert [row["loss"] for row in parsed["table"]] == list(LOSS_NAMES)
    assert "soft targets" in parsed["glossary"]


def test_explain_files() -> None:
    code, out, _ = xent(
        "explain", str(SAMPLES / "scores.csv"), str(SAMPLES / "labels.csv"), "-f", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["loss"] == "sparse-softmax-ce-with-logits"
    answers = [d["answer"] for d in data["decisions"]]
    assert answers == ["3 classes", "scores (values outside [0,1])", "hard targets (class names)"]
    assert [d["override"] for d in data["decisions"]][1:] == ["--outputs probs", "--targets soft"]
    first = data["first_row"]
    assert first["steps"][0]["values"] == [0.5, 1.5, 0.1]
    assert ref.relative_error(first["loss"], ref.sparse_softmax_ce([0.5, 1.5, 0.1], 1)) <= 1e-15
    code, text, _ = xent(
        "explain", str(SAMPLES / "scores.csv"), str(SAMPLES / "labels.csv"), "-f", "table"
    )
    assert "The first row, step by step" in text
    assert "--outputs probs" in text


def test_explain_files_with_overrides_and_errors() -> None:
    code, out, _ = xent(
        "explain",
        str(SAMPLES / "logits.csv"),
        str(SAMPLES / "classes.csv"),
        "--targets",
        "soft",
        "-f",
        "json",
    )
    assert code == 0
    assert json.loads(out)["loss"] == "softmax-ce-with-logits"
    code, out, err = xent("explain", str(SAMPLES / "logits.csv"))
    assert (code, out) == (2, "")
    assert "missing LABELS" in err

"""Log-probabilities (DESIGN §1–§2, v2): log_softmax outputs are detected and used as given,
as PyTorch's ``NLLLoss`` takes them: ℓ = −log p_c (soft targets: −Σₖ yₖ·log pₖ)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from xent_cli.cli import app

from . import reference as ref

runner = CliRunner()
SCORES = [[0.5, 1.5, 0.1], [2.2, 1.3, 1.7], [-0.3, 0.2, 2.4], [30.0, -20.0, 0.0]]
TARGETS = [1, 2, 2, 1]


def log_softmax_text(rows: list[list[float]]) -> str:
    """log_softmax of each row, as mpmath gives it, rounded to float64 (repr: exact)."""
    return "".join(",".join(repr(float(v)) for v in ref.log_softmax(z)) + "\n" for z in rows)


def run(tmp_path: Path, predictions: str, labels: str, *args: str) -> tuple[int, str, str]:
    (tmp_path / "logp.csv").write_text(predictions, encoding="utf-8")
    (tmp_path / "y.csv").write_text(labels, encoding="utf-8")
    result = runner.invoke(
        app, ["compute", str(tmp_path / "logp.csv"), str(tmp_path / "y.csv"), *args]
    )
    return result.exit_code, result.stdout, result.stderr


def test_log_softmax_outputs_are_detected_and_give_nll_loss(tmp_path: Path) -> None:
    text = log_softmax_text(SCORES)
    logp = np.loadtxt(text.splitlines(), delimiter=",")
    code, out, err = run(tmp_path, text, "\n".join(map(str, TARGETS)) + "\n", "-f", "json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["loss"] == "sparse-categorical-ce"
    assert summary["outputs"] == "log-probabilities"
    assert "log-probabilities (every value ≤ 0, rows' logsumexp 0)" in summary["reason"]
    # NLLLoss: −log p_c exactly as given, and the true loss of the scores to 1e-12
    assert summary["losses"] == [-logp[r, c] for r, c in enumerate(TARGETS)]
    for loss, z, c in zip(summary["losses"], SCORES, TARGETS, strict=True):
        assert ref.relative_error(loss, ref.sparse_softmax_ce(z, c)) <= 1e-12
    assert summary["predicted"] == [int(np.argmax(z)) for z in SCORES]


def test_soft_targets_on_log_probabilities(tmp_path: Path) -> None:
    text = log_softmax_text([[1.0, -3.0, 10.0]])
    code, out, err = run(tmp_path, text, "0.1,0.02,0.88\n", "-r", "mean")
    assert code == 0, err
    expected = ref.softmax_ce([1.0, -3.0, 10.0], [0.1, 0.02, 0.88])
    assert ref.relative_error(float(out), expected) <= 1e-12


def test_a_masked_class_in_log_probabilities(tmp_path: Path) -> None:
    """log p = −∞ for a class the target gives 0 weight contributes 0 (0·log 0 = 0)."""
    text = f"{float(np.log(0.25))!r},{float(np.log(0.75))!r},-inf\n"
    code, out, err = run(tmp_path, text, "0.0,1.0,0.0\n", "-r", "mean")
    assert code == 0, err
    assert float(out) == -np.log(0.75)


def test_forced_log_probabilities_that_do_not_normalise_warn(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, "-0.5,-2.0\n", "0\n", "--outputs", "log-probs", "-r", "mean")
    assert code == 0
    assert float(out) == 0.5
    assert "log-probabilities' logsumexp is" in err
    assert "not renormalised" in err


def test_forced_log_probabilities_above_zero_are_an_error(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, "0.5,-2.0\n", "0\n", "--outputs", "log-probs")
    assert code == 65
    assert out == ""
    assert "log-probabilities are ≤ 0, but the predictions hold 0.5" in err


@pytest.mark.parametrize(("like", "code"), [("keras", 2), ("tf", 2), ("sklearn", 2), ("torch", 0)])
def test_frameworks_that_take_log_probabilities(tmp_path: Path, like: str, code: int) -> None:
    text = log_softmax_text(SCORES)
    labels = "\n".join(map(str, TARGETS)) + "\n"
    exit_code, out, err = run(tmp_path, text, labels, "--like", like, "-r", "mean")
    assert exit_code == code, err
    if code:
        assert "not log-probabilities" in err
    else:  # NLLLoss on log_softmax: the exact value
        true = sum(ref.sparse_softmax_ce(z, c) for z, c in zip(SCORES, TARGETS, strict=True))
        assert ref.relative_error(float(out), true / len(SCORES)) <= 1e-12


def test_compare_on_log_probabilities(tmp_path: Path) -> None:
    text = log_softmax_text(SCORES)
    code, out, err = run(
        tmp_path, text, "\n".join(map(str, TARGETS)) + "\n", "--compare", "-f", "json"
    )
    assert code == 0, err
    rows = {row["framework"]: row for row in json.loads(out)["compare"]}
    assert not rows["keras"]["applicable"]
    assert not rows["sklearn"]["applicable"]
    assert rows["torch"]["relative_difference"] == 0.0

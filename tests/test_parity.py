"""Framework options and conventions (issue 4), each value from an independent source.

Sources: the issue's anchors (computed with PyTorch and Keras), the frameworks' own
documentation examples, and mpmath at 60 digits from the formulas read in their source.
"""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import mpmath as mp
import pytest
from typer.testing import CliRunner

from xent_cli.cli import app
from xent_cli.terminal import Terminal

from . import reference as ref

runner = CliRunner()


def xent(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, rows: list[list[float]] | list[float]) -> str:
    path = tmp_path / name
    lines = [
        ",".join(repr(float(v)) for v in row) if isinstance(row, list) else repr(row)
        for row in rows
    ]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def run_json(*args: str) -> dict[str, object]:
    code, out, err = xent("compute", *args, "-f", "json")
    assert code == 0, err
    data: dict[str, object] = json.loads(out)
    return data


def close(value: float, true: object, rel: float = 1e-13) -> bool:
    return ref.relative_error(value, true) <= rel


# ---- label smoothing -------------------------------------------------------------------


def mp_smoothed(scores: list[float], target: list[float], smoothing: float) -> mp.mpf:
    k = len(scores)
    smoothed = [y * (1 - smoothing) + smoothing / k for y in target]
    return ref.softmax_ce(scores, smoothed)


def test_label_smoothing_anchor(tmp_path: Path) -> None:
    # issue 4: PyTorch CrossEntropyLoss(label_smoothing=0.1) = Keras → 0.5136966829445002
    z = write(tmp_path, "z.csv", [[2.0, 1.0, 0.1]])
    c = write(tmp_path, "c.csv", [0.0])
    onehot = write(tmp_path, "o.csv", [[1.0, 0.0, 0.0]])
    for labels in (c, onehot):
        data = run_json(z, labels, "--label-smoothing", "0.1")
        assert data["losses"][0] == pytest.approx(0.5136966829445002, rel=1e-15)  # type: ignore[index]
        assert close(data["losses"][0], mp_smoothed([2.0, 1.0, 0.1], [1, 0, 0], 0.1))  # type: ignore[index]
        assert data["options"] == {"label_smoothing": 0.1}


def test_label_smoothing_on_probabilities_and_binary(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", [[0.7, 0.2, 0.1]])
    c = write(tmp_path, "c.csv", [1.0])
    data = run_json(p, c, "--label-smoothing", "0.3")
    smoothed = [0.1, 0.8, 0.1]
    assert close(data["losses"][0], ref.categorical_ce([0.7, 0.2, 0.1], smoothed))  # type: ignore[index]
    zb = write(tmp_path, "zb.csv", [1.5])
    yb = write(tmp_path, "yb.csv", [1.0])
    data = run_json(zb, yb, "--label-smoothing", "0.2")  # Keras: y(1−A) + A/2 = 0.9
    assert close(data["losses"][0], ref.sigmoid_ce(1.5, 0.9))  # type: ignore[index]


# ---- class weights -----------------------------------------------------------------------


def test_class_weights_anchor(tmp_path: Path) -> None:
    z = write(tmp_path, "z.csv", [[0.2, 0.3, 0.5], [0.5, 0.2, 0.3]])
    c = write(tmp_path, "c.csv", [2.0, 1.0])
    data = run_json(z, c, "--class-weights", "2,4,6", "--outputs", "scores")
    assert data["losses"] == pytest.approx([5.638986365066761, 4.95932424337784], rel=1e-14)
    assert data["mean"] == pytest.approx(1.05983106084446, rel=1e-13)  # Σ w_y·ℓ / Σ w_y
    assert close(data["losses"][0], 6 * ref.sparse_softmax_ce([0.2, 0.3, 0.5], 2))  # type: ignore[index]


def test_class_weights_with_soft_targets_divide_by_rows(tmp_path: Path) -> None:
    z = write(tmp_path, "z.csv", [[0.2, 1.3, -0.5], [1.5, 0.2, 0.3]])
    y = write(tmp_path, "y.csv", [[0.2, 0.8, 0.0], [0.5, 0.25, 0.25]])
    data = run_json(z, y, "--class-weights", "2,4,6")
    w = [2, 4, 6]
    expected = [
        mp.fsum(w[k] * mp.mpf(t[k]) * ref.sparse_softmax_ce(s, k) for k in range(3))
        for s, t in [([0.2, 1.3, -0.5], [0.2, 0.8, 0.0]), ([1.5, 0.2, 0.3], [0.5, 0.25, 0.25])]
    ]
    assert all(close(v, e) for v, e in zip(data["losses"], expected, strict=True))  # type: ignore[arg-type]
    assert close(data["mean"], (expected[0] + expected[1]) / 2)  # type: ignore[arg-type]


def test_class_weights_need_one_per_class(tmp_path: Path) -> None:
    z = write(tmp_path, "z.csv", [[0.2, 0.3, 1.5]])
    c = write(tmp_path, "c.csv", [2.0])
    code, out, err = xent("compute", z, c, "--class-weights", "1,2")
    assert (code, out) == (2, "")
    assert "--class-weights has 2 values but there are 3 prediction columns" in err
    code, _, err = xent("compute", z, c, "--class-weights", "1,x,2")
    assert code == 2
    assert "numbers separated by commas" in err


# ---- ignore index ------------------------------------------------------------------------


def test_ignore_index(tmp_path: Path) -> None:
    z = write(tmp_path, "z.csv", [[0.5, 1.5, 0.1], [3.0, 0.0, 0.0], [2.2, 1.3, 1.7]])
    c = write(tmp_path, "c.csv", [1.0, -100.0, 2.0])
    data = run_json(z, c, "--ignore-index", "-100")
    first, third = (
        ref.sparse_softmax_ce([0.5, 1.5, 0.1], 1),
        ref.sparse_softmax_ce([2.2, 1.3, 1.7], 2),
    )
    assert data["losses"][1] == 0.0  # type: ignore[index]
    assert close(data["mean"], (first + third) / 2)  # type: ignore[arg-type]
    assert data["ignored"] == 1
    assert data["target"] == [1, -100, 2]
    assert data["accuracy"] == 0.5
    _, table, _ = xent("compute", z, c, "--ignore-index", "-100", "-f", "table")
    assert "ignored" in table
    _, text, _ = xent("compute", z, c, "--ignore-index", "-100", "-f", "csv")
    lines = text.splitlines()
    assert lines[0] == "row,loss,predicted,target"
    assert [line.split(",")[2:] for line in lines[1:]] == [["1", "1"], ["0", "-100"], ["0", "2"]]
    assert close(float(lines[1].split(",")[1]), first)
    named = tmp_path / "named.csv"
    named.write_text("cat,dog,bird\n" + (tmp_path / "z.csv").read_text())
    _, text, _ = xent("compute", str(named), c, "--ignore-index", "-100", "-f", "csv")
    assert [line.split(",")[2:] for line in text.splitlines()[1:]] == [
        ["dog", "dog"],
        ["cat", "-100"],
        ["cat", "bird"],
    ]


@pytest.mark.parametrize("ignored_label", [-100, 0])
def test_regression_accuracy_with_ignore_index_said_2_of_28(
    tmp_path: Path, ignored_label: int
) -> None:
    # issue 11: 28 rows, 7 ignored, 2 of the 21 counted rows right; the table said
    # "9.52% (2 of 28)". Counted by hand: rows 0-1 score class 1 highest and are labelled 1,
    # rows 2-20 score class 0 highest and are labelled 2, rows 21-27 carry the ignored label
    # (class 0 with --ignore-index 0, which an ignored row "predicts": it must not count).
    scores = [[0.0, 5.0, 0.0]] * 2 + [[5.0, 0.0, 0.0]] * 26
    labels = [1.0] * 2 + [2.0] * 19 + [float(ignored_label)] * 7
    z, c = write(tmp_path, "z.csv", scores), write(tmp_path, "c.csv", labels)
    args = (z, c, "--ignore-index", str(ignored_label))
    data = run_json(*args)
    assert data["accuracy"] == 2 / 21
    assert data["ignored"] == 7
    code, table, err = xent("compute", *args, "-f", "table")
    assert code == 0, err
    assert re.search(r"accuracy +9\.52% \(2 of 21\)", table), table


def test_ignore_index_with_weights(tmp_path: Path) -> None:
    z = write(tmp_path, "z.csv", [[0.2, 0.3, 0.5], [0.5, 0.2, 0.3], [1.0, 2.0, 3.0]])
    c = write(tmp_path, "c.csv", [2.0, 1.0, 7.0])
    data = run_json(z, c, "--ignore-index", "7", "--class-weights", "2,4,6", "--outputs", "scores")
    assert data["mean"] == pytest.approx(1.05983106084446, rel=1e-13)


def test_regression_zero_class_weights_leaked_a_numpy_warning(tmp_path: Path) -> None:
    # issue 11: --class-weights 0,0,0 printed numpy's "RuntimeWarning: invalid value
    # encountered in scalar divide". DESIGN §3 "Nothing left to average": each row's loss is
    # w_y·ℓ = 0, the sum 0, and the mean PyTorch's Σ w_y·ℓ / Σ w_y = 0/0, NaN in IEEE 754
    # (torch.nn.CrossEntropyLoss(weight=torch.zeros(3)) gives nan): one warning line, exit 0.
    z = write(tmp_path, "z.csv", [[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]])
    c = write(tmp_path, "c.csv", [1.0, 2.0])
    args = ("compute", z, c, "--class-weights", "0,0,0")
    code, out, err = xent(*args, "-f", "json")  # numpy's warnings are errors in the tests
    assert code == 0, err
    data = json.loads(out)
    assert (data["losses"], data["sum"], data["mean"], data["perplexity"]) == (
        [0.0, 0.0],
        0.0,
        None,
        None,
    )
    assert any("NaN" in note and "null" in note for note in data["notes"])
    (line,) = err.splitlines()
    assert line.startswith("xent: warning: nothing left to average")
    assert xent(*args, "-r", "mean")[1:] == ("nan\n", err)
    code, table, _ = xent(*args, "-f", "table")
    assert code == 0
    assert re.search(r"mean +NaN nats", table)
    assert re.search(r"perplexity +NaN", table)  # exp(NaN), not ∞


def test_everything_ignored_leaves_nothing_to_average(tmp_path: Path) -> None:
    """PyTorch's test_nll_loss_all_ignored: losses 0, sum 0, mean NaN; a warning, exit 0."""
    z = write(tmp_path, "z.csv", [[0.5, 1.5], [3.0, 0.0]])
    c = write(tmp_path, "c.csv", [-1.0, -1.0])
    code, out, err = xent("compute", z, c, "--ignore-index", "-1")
    assert code == 0
    assert [line.split(",")[1] for line in out.splitlines()[1:]] == ["0.0", "0.0"]
    assert err.count("\n") == 1
    assert "nothing left to average: every row has the ignored label -1" in err
    code, out, _ = xent("compute", z, c, "--ignore-index", "-1", "-r", "mean")
    assert (code, out) == (0, "nan\n")
    code, out, _ = xent("compute", z, c, "--ignore-index", "-1", "-f", "json")
    summary = json.loads(out)
    assert (summary["mean"], summary["sum"], summary["accuracy"]) == (None, 0.0, None)
    code, out, _ = xent("compute", z, c, "--ignore-index", "-1", "-f", "table")
    assert "accuracy    — (0 of 0)" in out
    onehot = write(tmp_path, "o.csv", [[1.0, 0.0], [0.0, 1.0]])
    code, _, err = xent("compute", z, onehot, "--ignore-index", "-1")
    assert code == 2
    assert "--ignore-index applies to class-index labels" in err


# ---- pos_weight ----------------------------------------------------------------------------


def test_pos_weight_anchor(tmp_path: Path) -> None:
    z = write(tmp_path, "z.csv", [1.5, -0.1, -10.0])
    y = write(tmp_path, "y.csv", [1.0, 0.5, 0.0])
    data = run_json(z, y, "--pos-weight", "1.5")
    expected = [0.30211991697412861, 0.88049582509196362, 4.5398899216864647e-05]
    assert data["losses"] == pytest.approx(expected, rel=1e-14)
    for value, (score, target) in zip(
        data["losses"], [(1.5, 1.0), (-0.1, 0.5), (-10.0, 0.0)], strict=True
    ):  # type: ignore[arg-type]
        s, t = mp.mpf(score), mp.mpf(target)
        true = 1.5 * t * mp.log1p(mp.exp(-s)) + (1 - t) * mp.log1p(mp.exp(s))
        assert close(value, true)


def test_pos_weight_per_column_and_refused_for_softmax(tmp_path: Path) -> None:
    z = write(tmp_path, "z.csv", [[1.0, -2.0], [0.5, 0.5]])
    y = write(tmp_path, "y.csv", [[1.0, 1.0], [0.0, 1.0]])
    data = run_json(z, y, "--pos-weight", "2,3")
    row = (2 * ref.sigmoid_ce(1.0, 1.0) + 3 * ref.sigmoid_ce(-2.0, 1.0)) / 2
    assert close(data["losses"][0], row)  # type: ignore[index]
    c = write(tmp_path, "c.csv", [0.0, 1.0])
    code, _, err = xent("compute", z, c, "--pos-weight", "2")
    assert code == 2
    assert "--pos-weight applies to binary and multi-label" in err


# ---- base ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "unit", "log"), [("2", "bits", mp.log(2)), ("10", "dits", mp.log(10))]
)
def test_base(tmp_path: Path, base: str, unit: str, log: mp.mpf) -> None:
    z = write(tmp_path, "z.csv", [[0.5, 1.5, 0.1]])
    c = write(tmp_path, "c.csv", [1.0])
    data = run_json(z, c, "--base", base)
    assert data["unit"] == unit
    assert close(data["losses"][0], ref.sparse_softmax_ce([0.5, 1.5, 0.1], 1) / log)  # type: ignore[index]
    assert data["perplexity"] == pytest.approx(math.exp(0.47901069674771036), rel=1e-14)
    _, table, _ = xent("compute", z, c, "--base", base, "-f", "table")
    assert f"loss ({unit})" in table


# ---- focal ----------------------------------------------------------------------------------


def test_categorical_focal_keras_doc_example(tmp_path: Path) -> None:
    # keras.losses.categorical_focal_crossentropy docstring: α=0.25, γ=2 → [2.634e-04, 6.759e-01]
    p = write(tmp_path, "p.csv", [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]])
    y = write(tmp_path, "y.csv", [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    data = run_json(p, y, "--focal-gamma", "2", "--focal-alpha", "0.25")
    assert data["losses"] == pytest.approx(
        [2.63401289e-04, 6.75912094e-01], rel=1e-6
    )  # float32 doc
    exact = [
        0.25 * (1 - mp.mpf(0.9)) ** 2 * -mp.log(mp.mpf(0.9)),
        0.25 * (1 - mp.mpf(0.05)) ** 2 * -mp.log(mp.mpf(0.05)),
    ]
    assert all(close(v, e) for v, e in zip(data["losses"], exact, strict=True))  # type: ignore[arg-type]


def test_focal_from_scores_and_sparse(tmp_path: Path) -> None:
    z = write(tmp_path, "z.csv", [[1.0, -3.0, 10.0]])
    c = write(tmp_path, "c.csv", [0.0])
    data = run_json(z, c, "--focal-gamma", "1.5")
    lse = ref.logsumexp([1.0, -3.0, 10.0])
    p0 = mp.exp(1 - lse)
    assert close(data["losses"][0], (1 - p0) ** mp.mpf(1.5) * (lse - 1))  # type: ignore[index]
    zero = run_json(z, c, "--focal-gamma", "0")
    assert close(zero["losses"][0], lse - 1)  # type: ignore[index]


def test_binary_focal_matches_optax_definition(tmp_path: Path) -> None:
    z = write(tmp_path, "z.csv", [2.0, -1.0, 0.3])
    y = write(tmp_path, "y.csv", [1.0, 1.0, 0.0])
    data = run_json(z, y, "--focal-gamma", "2", "--focal-alpha", "0.25")
    for value, (score, target) in zip(data["losses"], [(2.0, 1), (-1.0, 1), (0.3, 0)], strict=True):  # type: ignore[arg-type]
        p = 1 / (1 + mp.exp(-mp.mpf(score)))
        p_t = p * target + (1 - p) * (1 - target)
        alpha_t = 0.25 * target + 0.75 * (1 - target)
        assert close(value, alpha_t * (1 - p_t) ** 2 * ref.sigmoid_ce(score, target))


def test_focal_alpha_needs_gamma(tmp_path: Path) -> None:
    z = write(tmp_path, "z.csv", [2.0])
    y = write(tmp_path, "y.csv", [1.0])
    code, _, err = xent("compute", z, y, "--focal-alpha", "0.25")
    assert code == 2
    assert "--focal-alpha needs --focal-gamma" in err


# ---- --like --------------------------------------------------------------------------------


def test_like_on_unnormalised_probabilities(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", [[0.4, 0.2, 0.2]])  # sums to 0.8
    c = write(tmp_path, "c.csv", [0.0])
    onehot = write(tmp_path, "o.csv", [[1.0, 0.0, 0.0]])
    args = ("--outputs", "probs")
    assert run_json(p, c, *args)["mean"] == pytest.approx(-math.log(0.4), rel=1e-15)
    # Keras sparse: clip, log, softmax of the logs → −log(0.4 / 0.8)
    assert run_json(p, c, *args, "--like", "keras")["mean"] == pytest.approx(math.log(2), rel=1e-15)
    # Keras categorical: p / Σp, then clip → −log 0.5
    assert run_json(p, onehot, *args, "--like", "keras")["mean"] == pytest.approx(
        math.log(2), rel=1e-15
    )
    assert run_json(p, c, *args, "--like", "torch")["mean"] == pytest.approx(
        -math.log(0.4), rel=1e-15
    )
    data = run_json(p, c, *args, "--like", "sklearn")
    assert data["mean"] == pytest.approx(-math.log(0.4), rel=1e-15)
    assert any("do not sum to one" in note for note in data["notes"])  # type: ignore[union-attr]


def test_like_at_the_extremes_of_binary_probabilities(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", [0.0])
    y = write(tmp_path, "y.csv", [1.0])
    expected = {
        "torch": 100.0,  # BCELoss clamps log at −100
        "keras": float(-mp.log(mp.mpf(1e-7))),  # clip to 1e-7
        "tf": float(-mp.log(mp.mpf(1e-7) + mp.mpf(1e-7))),  # clip, then log(p + 1e-7)
        "sklearn": float(-mp.log(mp.mpf(2.0**-52))),  # clip at float64's machine epsilon
    }
    for framework, value in expected.items():
        assert run_json(p, y, "--like", framework)["mean"] == pytest.approx(value, rel=1e-14), (
            framework
        )


def test_like_keras_sparse_renormalises_after_clipping(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", [[0.0, 1.0, 0.0]])
    c = write(tmp_path, "c.csv", [0.0])
    eps = mp.mpf(1e-7)
    clipped = [eps, mp.mpf(1.0 - 1e-7), eps]
    true = mp.log(mp.fsum(clipped)) - mp.log(eps)
    assert close(run_json(p, c, "--like", "keras", "--outputs", "probs")["mean"], true)  # type: ignore[arg-type]


def test_like_sklearn_needs_probabilities(tmp_path: Path) -> None:
    z = write(tmp_path, "z.csv", [[2.0, -1.0]])
    c = write(tmp_path, "c.csv", [0.0])
    code, out, err = xent("compute", z, c, "--like", "sklearn")
    assert (code, out) == (2, "")
    assert "takes probabilities, not scores" in err


def test_like_with_scores_is_exact(tmp_path: Path) -> None:
    z = write(tmp_path, "z.csv", [[1000.0, -1000.0, 0.0]])
    c = write(tmp_path, "c.csv", [1.0])
    for framework in ("keras", "tf", "torch"):
        assert run_json(z, c, "--like", framework)["mean"] == 2000.0


# ---- --compare ----------------------------------------------------------------------------


def test_compare(tmp_path: Path) -> None:
    p = write(tmp_path, "p.csv", [[0.4, 0.2, 0.2], [0.0, 0.9, 0.1]])
    c = write(tmp_path, "c.csv", [0.0, 1.0])
    code, out, err = xent("compute", p, c, "--outputs", "probs", "--compare", "-f", "json")
    assert code == 0, err
    rows = {row["framework"]: row for row in json.loads(out)["compare"]}
    assert list(rows) == ["exact", "xent", "keras", "tf", "torch", "sklearn"]
    exact = (-mp.log(mp.mpf(0.4)) - mp.log(mp.mpf(0.9))) / 2
    assert close(rows["exact"]["mean"], exact)
    # Keras sparse: clip (0 → 1e-7), then −log(q_c / Σq) on each row
    second = mp.log(mp.mpf(1e-7) + mp.mpf(0.9) + mp.mpf(0.1)) - mp.log(mp.mpf(0.9))
    keras = (mp.log(2) + second) / 2
    assert close(rows["keras"]["mean"], keras)
    assert "renormalises" in rows["keras"]["why"]
    assert rows["torch"]["why"] == "same as exact"
    code, csv_out, _ = xent("compute", p, c, "--outputs", "probs", "--compare")
    assert csv_out.splitlines()[0] == "framework,call,mean,relative_difference,why"
    code, table, _ = xent("compute", p, c, "--outputs", "probs", "--compare", "-f", "table")
    assert "What each framework reports" in table


def test_regression_compare_said_clips_p_for_keras_and_xent_alike(tmp_path: Path) -> None:
    # issue 11: Keras's row and xent's both said "clips p" (and Keras's put "renormalises"
    # first) though Keras renormalises and xent does not. The order, as read in Keras 3's
    # keras/src/backend/tensorflow/nn.py: sparse: clip_by_value, log, then
    # sparse_softmax_cross_entropy_with_logits (−log(q_c / Σq)); categorical: output /
    # reduce_sum, then clip_by_value. Rows sum to 0.8 and 1.0; the second's class 0 is 0.
    p = write(tmp_path, "p.csv", [[0.4, 0.2, 0.2], [0.0, 0.9, 0.1]])
    c = write(tmp_path, "c.csv", [0.0, 0.0])
    onehot = write(tmp_path, "o.csv", [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    eps = mp.mpf(1e-7)

    def compared(labels: str) -> dict[str, dict[str, object]]:
        code, out, err = xent("compute", p, labels, "--outputs", "probs", "--compare", "-f", "json")
        assert code == 0, err
        return {row["framework"]: row for row in json.loads(out)["compare"]}

    sparse = compared(c)
    assert sparse["keras"]["why"] == "clips p to [1e-7, 1 − 1e-7], then renormalises each row"
    # xent clips at float64's machine epsilon (--epsilon auto), as scikit-learn does
    assert sparse["xent"]["why"] == "clips p to [2.2e-16, 1 − 2.2e-16]; does not renormalise"
    keras = (mp.log(mp.mpf(0.8)) - mp.log(mp.mpf(0.4)) + mp.log(eps + 1) - mp.log(eps)) / 2
    assert close(sparse["keras"]["mean"], keras)  # type: ignore[arg-type]
    machine = mp.mpf(2) ** -52
    assert close(sparse["xent"]["mean"], (-mp.log(mp.mpf(0.4)) - mp.log(machine)) / 2)  # type: ignore[arg-type]
    categorical = compared(onehot)
    assert categorical["keras"]["why"] == (
        "renormalises each row by its sum, then clips p to [1e-7, 1 − 1e-7]"
    )
    assert close(categorical["keras"]["mean"], (mp.log(2) - mp.log(eps)) / 2)  # type: ignore[arg-type]


def test_regression_compare_table_wrapped_badly_at_80_columns() -> None:
    # issue 11: at 80 columns the calls were cut mid-name across three lines.
    terminal = Terminal(
        stdin=None, stdout=io.StringIO(), stderr=io.StringIO(), stdout_is_tty=True, width=80
    )
    samples = Path(__file__).resolve().parent.parent / "samples"
    args = [
        "compute",
        str(samples / "unnormalised_probs.csv"),
        str(samples / "unnormalised_labels.csv"),
    ]
    done = runner.invoke(app, [*args, "--outputs", "probs", "--compare"], obj=terminal)
    assert done.exit_code == 0, terminal.stderr.getvalue()  # type: ignore[attr-defined]
    lines = [line.rstrip() for line in terminal.stdout.getvalue().splitlines()]  # type: ignore[attr-defined]
    assert max(map(len, lines)) <= 80
    calls = [
        "xent --epsilon 0 (float64, no clipping)",
        "keras.losses.SparseCategoricalCrossentropy()",
        "tf.keras.losses.sparse_categorical_crossentropy (Keras 2)",
        "torch.nn.NLLLoss()(p.log(), c)",
    ]
    for call in calls:  # each call whole, on a line of its own
        assert any(line.split(None, 1)[1:] == [call] for line in lines), call
    keras = next(i for i, line in enumerate(lines) if line.startswith("│ keras "))
    assert "clips p to [1e-7, 1 − 1e-7], then" in lines[keras]  # words, not letters, wrap


def test_compare_with_scores_marks_sklearn_not_applicable(tmp_path: Path) -> None:
    z = write(tmp_path, "z.csv", [[0.5, 1.5, 0.1]])
    c = write(tmp_path, "c.csv", [1.0])
    _, out, _ = xent("compute", z, c, "--compare", "-f", "json")
    rows = {row["framework"]: row for row in json.loads(out)["compare"]}
    assert rows["sklearn"]["applicable"] is False
    assert rows["sklearn"]["mean"] is None
    assert rows["torch"]["relative_difference"] < 1e-15  # the same formula, summed in another order


def test_soft_targets_that_do_not_sum_to_one_are_taken_as_given_when_asked(
    tmp_path: Path,
) -> None:
    """DESIGN §3 (v2): Keras's and TensorFlow's own tests use targets summing to 1.32 and
    rows of zeros; -Σ y·log_softmax(z) as given under --targets soft, --loss or --like
    keras|tf (one warning); under auto an error naming the options that decide."""
    z = write(tmp_path, "z.csv", [[1.0, -3.0, 10.0], [0.5, 0.5, 2.0]])
    y = write(tmp_path, "y.csv", [[0.6, 0.4, 0.32], [0.0, 0.0, 0.0]])
    code, out, err = xent("compute", z, y)
    assert (code, out) == (65, "")
    assert "target row sums to 1.32, not 1: --targets soft" in err
    assert "--task multilabel" in err
    true = [ref.softmax_ce([1.0, -3.0, 10.0], [0.6, 0.4, 0.32]), mp.mpf(0)]
    for options in (["--targets", "soft"], ["--loss", "softmax-ce-with-logits"], ["--like", "tf"]):
        code, out, err = xent("compute", z, y, *options)
        assert code == 0, err
        losses = [float(line.split(",")[1]) for line in out.splitlines()[1:]]
        assert ref.relative_error(losses[0], true[0]) <= 1e-12
        assert losses[1] == 0.0
        assert err.count("not renormalised") == 1

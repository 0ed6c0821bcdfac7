"""Files as pandas writes them give scikit-learn's number (DESIGN §2, v2).

Real model outputs: a logistic regression on scikit-learn's digits (10 classes) and
breast-cancer (2 classes) data, saved the ordinary ways (``DataFrame.to_csv`` with and
without its index, with named columns; ``Series.to_csv`` likewise; ``np.savetxt``), each
pair read by ``xent compute -r mean --like sklearn`` and checked against
``sklearn.metrics.log_loss`` on the arrays themselves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

from xent_cli.cli import app

runner = CliRunner()
PREDICTIONS = ["index", "no_index", "named"]
LABELS = ["index", "no_index", "named", "numpy"]


def model_outputs(data: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = data(return_X_y=True)
    x = StandardScaler().fit_transform(x)
    train = np.arange(len(y)) % 3 != 0
    model = LogisticRegression(max_iter=5000).fit(x[train], y[train])
    return model.predict_proba(x[~train]), y[~train]


@pytest.fixture(scope="module", params=["digits", "breast_cancer"])
def outputs(request: pytest.FixtureRequest) -> tuple[np.ndarray, np.ndarray]:
    data = {"digits": load_digits, "breast_cancer": load_breast_cancer}[request.param]
    return model_outputs(data)


def write_predictions(path: Path, proba: np.ndarray, how: str) -> None:
    frame = pd.DataFrame(proba)
    if how == "index":
        frame.to_csv(path)  # header ",0,1,…", an index column 0…N−1
    elif how == "no_index":
        frame.to_csv(path, index=False)  # header "0,1,…"
    else:
        frame.columns = [f"class {k}" for k in range(proba.shape[1])]
        frame.to_csv(path, index=False)


def write_labels(path: Path, y: np.ndarray, how: str) -> None:
    if how == "index":
        pd.Series(y).to_csv(path)  # header ",0", an index column
    elif how == "no_index":
        pd.Series(y).to_csv(path, index=False)  # header "0": one line more than the rows
    elif how == "named":
        pd.Series(y, name="label").to_csv(path, index=False)
    else:
        np.savetxt(path, y, fmt="%d")


@pytest.mark.parametrize("labels_how", LABELS)
@pytest.mark.parametrize("predictions_how", PREDICTIONS)
def test_pandas_files_give_sklearns_log_loss(
    tmp_path: Path,
    outputs: tuple[np.ndarray, np.ndarray],
    predictions_how: str,
    labels_how: str,
) -> None:
    proba, y = outputs
    write_predictions(tmp_path / "p.csv", proba, predictions_how)
    write_labels(tmp_path / "y.csv", y, labels_how)
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean"]
    true = log_loss(y, proba)
    for like in ([], ["--like", "sklearn"]):  # xent's default ε is scikit-learn's: auto
        result = runner.invoke(app, [*args, *like])
        assert result.exit_code == 0, result.stderr
        assert abs(float(result.stdout) - true) <= 1e-10 * true


def test_regression_pandas_index_became_an_eleventh_class(tmp_path: Path) -> None:
    """``DataFrame(proba).to_csv()`` with ``Series(y).to_csv()`` gave 245.02 (true 0.1478):
    the index was an 11th class and the probabilities were taken for scores."""
    proba, y = model_outputs(load_digits)
    write_predictions(tmp_path / "p.csv", proba, "index")
    write_labels(tmp_path / "y.csv", y, "index")
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-f", "json", "-r", "mean"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["loss"] == "sparse-categorical-ce"
    assert "p.csv: column 1 is pandas' index (row numbers), dropped" in summary["reason"]
    assert "y.csv: column 1 is pandas' index (row numbers), dropped" in summary["reason"]
    assert abs(summary["mean"] - log_loss(y, proba)) <= 1e-10 * log_loss(y, proba)


def test_regression_integer_header_was_read_as_a_row_of_data(tmp_path: Path) -> None:
    """``to_csv(index=False)``: the header 0,1,…,9 was a row of data, so the file was taken
    for scores (1.5254 instead of 0.1478)."""
    proba, y = model_outputs(load_digits)
    write_predictions(tmp_path / "p.csv", proba, "no_index")
    np.savetxt(tmp_path / "y.csv", y, fmt="%d")
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean"]
    result = runner.invoke(app, [*args, "--like", "sklearn"])
    assert result.exit_code == 0, result.stderr
    assert abs(float(result.stdout) - log_loss(y, proba)) <= 1e-10 * log_loss(y, proba)


def test_the_labels_first_line_0_is_pandas_header_when_they_have_a_row_more(
    tmp_path: Path,
) -> None:
    (tmp_path / "p.csv").write_text("0,1\n0.2,0.8\n0.6,0.4\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("0\n1\n0\n", encoding="utf-8")
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-f", "json"]
    result = runner.invoke(app, [*args, "--epsilon", "0"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert "y.csv: first line 0 is a header (pandas')" in summary["reason"]
    np.testing.assert_allclose(summary["losses"], [-np.log(0.8), -np.log(0.6)], rtol=1e-15)


@pytest.mark.parametrize(
    "labels",
    [
        pd.Series([1, 0, 1], name=1),  # a Series not named 0: its header is not pandas' own
        pd.DataFrame(np.eye(2)[[1, 0, 1]].astype(int)),  # one-hot rows under 0,1
    ],
)
def test_regression_a_pandas_header_over_predictions_stays_a_header(
    tmp_path: Path, labels: Any
) -> None:
    """The header 0,1,…,K−1 over predictions was flipped into a row of data when the labels
    had a line more for a header of their own: a silently wrong number."""
    proba = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    pd.DataFrame(proba).to_csv(tmp_path / "p.csv", index=False)
    labels.to_csv(tmp_path / "y.csv", index=False)
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean"]
    result = runner.invoke(app, args)
    true = log_loss([1, 0, 1], proba)
    if result.exit_code == 0:
        assert float(result.stdout) == pytest.approx(true, rel=1e-12)
    else:  # a header it cannot tell is one: an error, never a wrong number
        assert result.exit_code == 65
        assert "is pandas' header" in result.stderr


def test_a_label_file_one_line_longer_without_a_header_is_still_an_error(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("0.2,0.8\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("1\n0\n", encoding="utf-8")
    result = runner.invoke(app, ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv")])
    assert result.exit_code == 65
    assert "2 rows of labels, but" in result.stderr


@pytest.mark.parametrize(
    "labels",
    [
        "True\nFalse\ntrue\n",  # bare
        "label\nTRUE\nfalse\nTrue\n",  # with a header
        pd.Series([True, False, True]).to_csv(index=False),  # pandas: header 0, True/False
    ],
)
def test_true_and_false_are_binary_labels(tmp_path: Path, labels: str) -> None:
    """DESIGN §2 (v2): with one prediction column, labels true/false (any case) are 1/0."""
    (tmp_path / "p.csv").write_text("0.9\n0.2\n0.7\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text(labels, encoding="utf-8")
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-f", "json"]
    result = runner.invoke(app, [*args, "--epsilon", "0"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["loss"] == "binary-ce"
    assert summary["target"] == [1, 0, 1]
    expected = [-np.log(0.9), -np.log(1 - 0.2), -np.log(0.7)]
    np.testing.assert_allclose(summary["losses"], expected, rtol=1e-15, atol=0)


def test_classes_name_header_less_predictions_and_labels_not_from_zero(tmp_path: Path) -> None:
    """--classes 1,2 as scikit-learn's log_loss(y, p, labels=[1, 2]); names as labels too."""
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    y = np.array([1, 2, 2])
    np.savetxt(tmp_path / "p.csv", proba, delimiter=",")
    np.savetxt(tmp_path / "y.csv", y, fmt="%d")
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean"]
    result = runner.invoke(app, [*args, "--classes", "1,2"])
    assert result.exit_code == 0, result.stderr
    assert float(result.stdout) == pytest.approx(log_loss(y, proba, labels=[1, 2]), rel=1e-14)
    (tmp_path / "names.csv").write_text("cat\ndog\ndog\n", encoding="utf-8")
    names = [str(tmp_path / "p.csv"), str(tmp_path / "names.csv"), "--classes", "cat,dog"]
    named = runner.invoke(app, ["compute", *names, "-f", "json"])
    assert named.exit_code == 0, named.stderr
    summary = json.loads(named.stdout)
    assert summary["target"] == ["cat", "dog", "dog"]
    assert summary["mean"] == pytest.approx(log_loss(y, proba, labels=[1, 2]), rel=1e-14)


def test_classes_for_one_column_are_negative_then_positive(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("0.9\n0.2\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("spam\nham\n", encoding="utf-8")
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean"]
    result = runner.invoke(app, [*args, "--classes", "ham,spam", "--epsilon", "0"])
    assert result.exit_code == 0, result.stderr
    assert float(result.stdout) == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2, rel=1e-15)


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        ("a,b,c", "--classes names 3 classes, but"),
        ("a", "--classes takes two or more names"),
    ],
)
def test_classes_that_do_not_fit_are_usage_errors(
    tmp_path: Path, classes: str, message: str
) -> None:
    (tmp_path / "p.csv").write_text("0.2,0.8\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("a\n", encoding="utf-8")
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv")]
    result = runner.invoke(app, [*args, "--classes", classes])
    assert result.exit_code == 2
    assert message in result.stderr


def test_sample_weights_as_scikit_learn_and_keras_weigh_them(tmp_path: Path) -> None:
    """--sample-weights / --weight-column: Σ w·ℓ / Σ w as sklearn's log_loss(sample_weight=);
    Keras divides the weighted sum by the row count (sum_over_batch_size)."""
    proba, y = model_outputs(load_digits)
    weights = np.random.default_rng(0).uniform(0.0, 3.0, size=len(y))
    write_predictions(tmp_path / "p.csv", proba, "no_index")
    np.savetxt(tmp_path / "y.csv", y, fmt="%d")
    np.savetxt(tmp_path / "w.csv", weights)
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean"]
    result = runner.invoke(
        app, [*args, "--sample-weights", str(tmp_path / "w.csv"), "--like", "sklearn"]
    )
    assert result.exit_code == 0, result.stderr
    true = log_loss(y, proba, sample_weight=weights)
    assert abs(float(result.stdout) - true) <= 1e-10 * true
    keras = runner.invoke(
        app, [*args, "--sample-weights", str(tmp_path / "w.csv"), "--like", "keras"]
    )
    assert keras.exit_code == 0, keras.stderr
    clipped = np.clip(proba, 1e-7, 1 - 1e-7)  # Keras: clip, then −log p_c renormalised
    per_row = -np.log(clipped[np.arange(len(y)), y] / clipped.sum(axis=1))
    assert float(keras.stdout) == pytest.approx(float(np.dot(weights, per_row)) / len(y), rel=1e-12)
    frame = pd.DataFrame(proba)
    frame["w"] = weights
    frame.to_csv(tmp_path / "pw.csv", index=False)
    column = runner.invoke(
        app,
        [
            "compute",
            str(tmp_path / "pw.csv"),
            str(tmp_path / "y.csv"),
            "-r",
            "mean",
            "--weight-column",
            "w",
            "--like",
            "sklearn",
        ],
    )
    assert column.exit_code == 0, column.stderr
    assert abs(float(column.stdout) - true) <= 1e-10 * true
    rows = runner.invoke(app, ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv")])
    weighted = runner.invoke(
        app,
        [
            "compute",
            str(tmp_path / "p.csv"),
            str(tmp_path / "y.csv"),
            "--sample-weights",
            str(tmp_path / "w.csv"),
        ],
    )
    assert rows.stdout == weighted.stdout  # per-row losses are shown unweighted


@pytest.mark.parametrize(
    ("weights", "message"),
    [("1\n-2\n", "sample weight -2 is negative"), ("1\n", "sample weights end after 1 row")],
)
def test_bad_sample_weights(tmp_path: Path, weights: str, message: str) -> None:
    (tmp_path / "p.csv").write_text("0.2,0.8\n0.6,0.4\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("1\n0\n", encoding="utf-8")
    (tmp_path / "w.csv").write_text(weights, encoding="utf-8")
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv")]
    result = runner.invoke(app, [*args, "--sample-weights", str(tmp_path / "w.csv")])
    assert result.exit_code == 65
    assert message in result.stderr


def test_regression_softmax_softmaxed_pandas_index_as_a_class(tmp_path: Path) -> None:
    z = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    pd.DataFrame(z).to_csv(tmp_path / "z.csv")
    pd.Series([0, 1]).to_csv(tmp_path / "y.csv")
    probabilities = runner.invoke(app, ["softmax", str(tmp_path / "z.csv")])
    assert probabilities.exit_code == 0, probabilities.stderr
    assert probabilities.stdout.splitlines()[0] == "0,1,2"
    piped = runner.invoke(
        app, ["compute", "-", str(tmp_path / "y.csv"), "-r", "mean"], input=probabilities.stdout
    )
    true = -(
        np.log(np.exp(z[0, 0]) / np.exp(z[0]).sum()) + np.log(np.exp(z[1, 1]) / np.exp(z[1]).sum())
    )
    assert float(piped.stdout) == pytest.approx(true / 2, rel=1e-12)


def test_regression_an_index_left_by_a_split_became_a_class(tmp_path: Path) -> None:
    proba = pd.DataFrame({"p0": [0.9, 0.2], "p1": [0.1, 0.8], "y": [0, 1]}, index=[512, 37])
    proba.to_csv(tmp_path / "keep.csv")
    result = runner.invoke(
        app, ["compute", str(tmp_path / "keep.csv"), "--label-column", "y", "-r", "mean"]
    )
    assert result.exit_code == 0, result.stderr
    assert float(result.stdout) == pytest.approx(log_loss([0, 1], [[0.9, 0.1], [0.2, 0.8]]))


def test_sample_weights_as_pandas_writes_them(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("0.2,0.8\n0.6,0.4\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("1\n0\n", encoding="utf-8")
    true = log_loss([1, 0], [[0.2, 0.8], [0.6, 0.4]], sample_weight=[0.5, 2.0])
    for index in (True, False):
        pd.Series([0.5, 2.0]).to_csv(tmp_path / "w.csv", index=index)
        args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean"]
        result = runner.invoke(app, [*args, "--sample-weights", str(tmp_path / "w.csv")])
        assert result.exit_code == 0, result.stderr
        assert float(result.stdout) == pytest.approx(true, rel=1e-12)


def test_true_and_false_labels_with_two_named_columns(tmp_path: Path) -> None:
    proba = np.array([[0.3, 0.7], [0.9, 0.1]])
    pd.DataFrame(proba, columns=["c0", "c1"]).to_csv(tmp_path / "p.csv", index=False)
    pd.Series([True, False]).to_csv(tmp_path / "y.csv", index=False)
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert float(result.stdout) == pytest.approx(log_loss([1, 0], proba), rel=1e-12)


def test_the_clipped_count_under_like_keras(tmp_path: Path) -> None:
    np.save(tmp_path / "p.npy", np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]))
    np.save(tmp_path / "y.npy", np.array([1, 0, 1]))
    args = ["compute", str(tmp_path / "p.npy"), str(tmp_path / "y.npy"), "-r", "mean"]
    result = runner.invoke(app, [*args, "--like", "keras"])
    assert result.exit_code == 0
    assert result.stderr == "xent: 4 probabilities clipped to [ε, 1−ε], ε = 1e-7\n"


def test_regression_a_header_of_float_class_labels_was_read_as_data(tmp_path: Path) -> None:
    """DataFrame(proba, columns=classes_) with float classes writes 0.0,1.0,2.0; with
    Series(y).to_csv(index=False) both first lines were read as data: 1.288 (true 0.290)."""
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    y = np.array([0.0, 1.0])
    pd.DataFrame(proba, columns=[0.0, 1.0, 2.0]).to_csv(tmp_path / "p.csv", index=False)
    pd.Series(y).to_csv(tmp_path / "y.csv", index=False)
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    true = log_loss(y, proba, labels=[0.0, 1.0, 2.0])
    assert float(result.stdout) == pytest.approx(true, rel=1e-12)


def test_the_readmes_pandas_samples() -> None:
    """samples/pandas_*.csv as DataFrame/Series.to_csv() write them: sklearn's log_loss."""
    samples = Path(__file__).resolve().parent.parent / "samples"
    proba = pd.read_csv(samples / "pandas_probs.csv", index_col=0).to_numpy()
    y = pd.read_csv(samples / "pandas_labels.csv", index_col=0).iloc[:, 0].to_numpy()
    args = ["compute", str(samples / "pandas_probs.csv"), str(samples / "pandas_labels.csv")]
    result = runner.invoke(app, [*args, "-r", "mean"])
    assert result.exit_code == 0, result.stderr
    assert float(result.stdout) == pytest.approx(log_loss(y, proba, labels=[0, 1, 2]), rel=1e-14)


def test_accuracy_with_sample_weights_is_scikit_learns(tmp_path: Path) -> None:
    """Accuracy counted every row whatever its weight; with sample weights it is now
    Σ s·[right] / Σ s, as accuracy_score(sample_weight=) (a row of weight 0 left out)."""
    from sklearn.metrics import accuracy_score

    proba, y = model_outputs(load_digits)
    weights = np.random.default_rng(1).uniform(0.0, 3.0, size=len(y))
    weights[::7] = 0.0
    write_predictions(tmp_path / "p.csv", proba, "no_index")
    np.savetxt(tmp_path / "y.csv", y, fmt="%d")
    np.savetxt(tmp_path / "w.csv", weights)
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean"]
    result = runner.invoke(app, [*args, "--sample-weights", str(tmp_path / "w.csv"), "-f", "json"])
    assert result.exit_code == 0, result.stderr
    true = accuracy_score(y, proba.argmax(axis=1), sample_weight=weights)
    assert json.loads(result.stdout)["accuracy"] == pytest.approx(true, rel=1e-12)

"""``xent softmax`` and ``xent sigmoid``: values against mpmath, formats, and the round trip."""

from __future__ import annotations

import json
import math
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from xent_cli import losses
from xent_cli.cli import app

from . import reference as ref

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
runner = CliRunner()


def xent(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def mp_softmax(scores: list[float], temperature: float = 1.0) -> list[mp.mpf]:
    z = [mp.mpf(v) / mp.mpf(temperature) for v in scores]
    top = max(z)
    weights = [mp.exp(v - top) for v in z]
    total = mp.fsum(weights)
    return [w / total for w in weights]


def rows(out: str) -> list[list[float]]:
    return [[float(v) for v in line.split(",")] for line in out.splitlines()]


def test_issue_values_single_row() -> None:
    code, out, _ = xent("softmax", "-", input="0.1,0.3,0.5,0.9\n")
    assert code == 0
    assert [round(v, 8) for v in rows(out)[0]] == [0.16838508, 0.205666, 0.25120102, 0.37474789]


def test_issue_values_two_rows() -> None:
    _, out, _ = xent("softmax", str(SAMPLES / "logits.csv"))
    expected = [[0.227863, 0.61939586, 0.15274114], [0.49674623, 0.20196195, 0.30129182]]
    assert [[round(v, 8) for v in row] for row in rows(out)] == expected
    for row, scores in zip(rows(out), [[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]], strict=True):
        for value, true in zip(row, mp_softmax(scores), strict=True):
            assert ref.relative_error(value, true) <= 1e-15


def test_extremes_and_masked_class() -> None:
    _, out, _ = xent("softmax", "-", input="1000,0,-1000\n0,-inf,1\n")
    first, second = rows(out)
    assert first == [1.0, math.exp(-1000.0), 0.0]  # e^-1000 is 0 in float64
    assert second[1] == 0.0
    assert second[0] + second[2] == pytest.approx(1.0, rel=1e-15)


def test_log_softmax_is_exact_for_large_scores() -> None:
    _, out, _ = xent("softmax", "-", "--log", input="1000,0,-1000\n")
    assert rows(out) == [[0.0, -1000.0, -2000.0]]
    _, out, _ = xent("softmax", "-", "--log", input="-100,100,-100,-100\n")
    assert ref.relative_error(rows(out)[0][1], -3 * mp.exp(-200)) <= 1e-15


@pytest.mark.parametrize("temperature", [0.5, 2.0, 10.0])
def test_temperature(temperature: float) -> None:
    scores = [1.0, -3.0, 10.0]
    _, out, _ = xent("softmax", "-", "-t", str(temperature), input="1,-3,10\n")
    for value, true in zip(rows(out)[0], mp_softmax(scores, temperature), strict=True):
        assert ref.relative_error(value, true) <= 1e-14
    _, logged, _ = xent("softmax", "-", "-t", str(temperature), "--log", input="1,-3,10\n")
    for value, true in zip(rows(logged)[0], mp_softmax(scores, temperature), strict=True):
        assert ref.relative_error(value, mp.log(true)) <= 1e-14


@pytest.mark.parametrize("temperature", ["0", "-1", "inf", "nan"])
def test_temperature_must_be_positive(temperature: str) -> None:
    code, out, err = xent("softmax", "-", "-t", temperature, input="1,2\n")
    assert (code, out) == (2, "")
    assert "--temperature must be a positive number" in err


def test_header_is_kept_and_argmax_uses_names() -> None:
    _, out, _ = xent("softmax", str(SAMPLES / "scores.csv"))
    assert out.splitlines()[0] == "cat,dog,bird"
    _, winners, _ = xent("softmax", str(SAMPLES / "scores.csv"), "--argmax")
    assert winners.splitlines() == ["dog", "cat", "bird", "cat", "cat"]
    _, indices, _ = xent("softmax", str(SAMPLES / "logits.csv"), "--argmax", "-f", "json")
    assert json.loads(indices) == [1, 0]


def test_json_and_jsonl_matrices() -> None:
    _, out, err = xent("softmax", "-", "--log", "-f", "json", input="0,-inf\n")
    assert json.loads(out) == [[0.0, None]]
    assert "null" in err
    _, out, _ = xent("softmax", "-", "-f", "jsonl", input="0,0\n1,1\n")
    assert [json.loads(line) for line in out.splitlines()] == [[0.5, 0.5], [0.5, 0.5]]
    _, out, _ = xent("softmax", "-", "-f", "tsv", input="0,0\n")
    assert out == "0.5\t0.5\n"


def test_softmax_table() -> None:
    code, out, _ = xent("softmax", str(SAMPLES / "scores.csv"), "-f", "table")
    assert code == 0
    for text in ("cat", "dog", "bird", "argmax", "0.6194", "█"):
        assert text in out


def test_softmax_errors() -> None:
    code, out, err = xent("softmax", "-", input="1,2\n-inf,-inf\n")
    assert (code, out) == (65, "")
    assert err == "xent: <stdin>:2:1: every score in this row is −∞ (nothing left to predict)\n"
    code, out, err = xent("softmax", "missing.csv")
    assert (code, out) == (66, "")


def test_sigmoid_tails_are_exact() -> None:
    _, out, _ = xent("sigmoid", "-", input="-40\n40\n0\n-700\n1e-20\n-800\n")
    values = [r[0] for r in rows(out)]
    assert values.pop() == 0.0  # σ(−800) ≈ 3.7e-348 rounds to 0 in float64
    for value, z in zip(values, [-40.0, 40.0, 0.0, -700.0, 1e-20], strict=True):
        true = 1 / (1 + mp.exp(-mp.mpf(z)))
        assert ref.relative_error(value, true) <= 1e-15
    assert values[0] == 4.248354255291589e-18


def test_sigmoid_keeps_shape_and_header() -> None:
    _, out, _ = xent("sigmoid", str(SAMPLES / "tags_logits.csv"))
    lines = out.splitlines()
    assert lines[0] == "outdoor,people,animal,water"
    assert float(lines[1].split(",")[0]) == pytest.approx(float(1 / (1 + mp.exp(-2.1))), rel=1e-15)


@given(st.lists(st.floats(-700, 700), min_size=2, max_size=6), st.floats(-50, 50))
def test_softmax_is_shift_invariant_and_sums_to_one(scores: list[float], shift: float) -> None:
    p = losses.softmax(scores)
    q = losses.softmax(np.asarray(scores) + shift)
    assert p.sum() == pytest.approx(1.0, rel=1e-14)
    np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-300)
    assert p[int(np.argmax(scores))] == p.max()  # the winning score has the largest probability


def test_softmax_output_feeds_compute_as_probabilities(tmp_path: Path) -> None:
    _, probs, _ = xent("softmax", str(SAMPLES / "logits.csv"))
    code, out, err = xent("compute", "-", str(SAMPLES / "classes.csv"), "-f", "json", input=probs)
    assert code == 0, err
    data = json.loads(out)
    assert data["loss"] == "sparse-categorical-ce"
    assert data["outputs"] == "probabilities"
    assert data["mean"] == pytest.approx(0.8393433389787792, rel=1e-14)


@given(st.lists(st.lists(st.booleans(), min_size=2, max_size=4), min_size=1, max_size=12))
def test_the_first_all_masked_row_is_named(pattern: list[list[bool]]) -> None:
    """Whatever the pattern of −∞, the first row made only of −∞ is the one reported."""
    from xent_cli.errors import InputError
    from xent_cli.readers import check_not_all_masked

    width = len(pattern[0])
    rows = [(row + [False] * width)[:width] for row in pattern]
    values = np.where(np.array(rows), -np.inf, 1.0)
    expected = next((r for r, row in enumerate(rows) if all(row)), None)
    if expected is None:
        check_not_all_masked(values, lambda row, column: f"row {row}")
        return
    with pytest.raises(InputError, match=f"^row {expected}: every score"):
        check_not_all_masked(values, lambda row, column: f"row {row}")

"""Large CSV/TSV tables are written by polars (issue 18: a per-row listing of 1M rows took
2.2× the time of its mean): the bytes are the ones Python's path writes, ``repr`` of every
float64. The reference is Python itself: ``repr`` of each float, and the Python path of
:func:`xent_cli.writer.delimited_chunks` (polars never imported below ``POLARS_CELLS``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from xent_cli import writer
from xent_cli.cli import app
from xent_cli.writer import (
    PROBE,
    Categories,
    FloatRows,
    Floats,
    Frame,
    Integers,
    OptionalFloats,
    Values,
    delimited,
    polars_chunk,
    polars_writes_repr,
    repr_series,
)

runner = CliRunner()

# every float64 a bit pattern can hold: subnormals, ±0, ±inf, NaNs of any sign and payload
any_float64 = st.integers(0, 2**64 - 1).map(
    lambda bits: float(np.array(bits, dtype=np.uint64).view(np.float64))
)
floats = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True) | any_float64


def reprs(values: np.ndarray) -> list[str]:
    return list(map(repr, values.tolist()))


def python_lines(frame: Frame, delimiter: str) -> str:
    """The lines of ``frame`` as the Python path writes them (no header)."""
    return delimited(Frame(frame.columns, header=False), delimiter)


def test_the_installed_polars_is_used() -> None:
    """polars >= 1.0 lays floats out as repr_series corrects them: if a release changed that,
    large tables would quietly be written by Python again, 5× slower; this says so."""
    assert polars_writes_repr(polars)


@given(st.lists(floats, max_size=50))
@example([1e-05, -1e-05, 1.5e-05, 9.999999999999999e-05, 0.0001, 1e-06, 2e-07, 1e-09])
@example([9.999999999999999e-10, 1e-10, 5e-324, -0.0, 0.0, math.inf, -math.inf, math.nan])
@example([1e16, 9999999999999998.0, 1e15, 1.7976931348623157e308, 2.2250738585072014e-308])
def test_repr_series_is_repr_of_every_float64(values: list[float]) -> None:
    array = np.array(values, dtype=np.float64)
    assert repr_series(polars, array).to_list() == reprs(array)


def test_repr_series_at_every_power_of_ten_and_its_neighbours() -> None:
    """The layouts change at powers of ten (10⁻⁹, 10⁻⁵, 10⁻⁴, 10¹⁶): each one, the floats just
    beside it, their negatives, every exponent from the subnormals to the largest."""
    powers = np.array([float(f"1e{k}") for k in range(-323, 309)])
    below = np.nextafter(powers, 0.0)
    above = np.nextafter(powers, np.inf)
    digits = powers * 1.2345678901234567
    values = np.concatenate([powers, below, above, digits, np.array(PROBE)])
    values = np.concatenate([values, -values])
    assert repr_series(polars, values).to_list() == reprs(values)


def test_repr_series_on_a_million_random_floats() -> None:
    """Random bit patterns (every exponent equally) and decimals of every magnitude."""
    rng = np.random.default_rng(18)
    bits = rng.integers(0, 2**64 - 1, 500_000, dtype=np.uint64, endpoint=True)
    scale = 10.0 ** rng.integers(-330, 308, 500_000)  # 10⁻³³⁰ is 0: zeros too
    decimals = np.round(rng.uniform(-9, 9, 500_000), 4) * scale
    values = np.concatenate([bits.view(np.float64), decimals])
    assert repr_series(polars, values).to_list() == reprs(values)


AWKWARD = ["a,b", 'say "hi"', "two\nlines", " lead", "", "tab\there", "plain"]


def columns_of_every_kind(rng: np.random.Generator, n: int) -> list[writer.Column]:
    losses = 10.0 ** rng.uniform(-12, 20, n)
    losses[::7] = np.inf
    means = losses.copy()
    means[::5] = np.nan
    codes = rng.integers(-1, len(AWKWARD) + 2, n)  # some without a name: shown as numbers
    codes[::11] = -100
    return [
        Integers("row", np.arange(n)),
        Floats("loss", losses),
        OptionalFloats("mean", means),
        Categories("target", codes, AWKWARD),
        Categories("predicted", rng.integers(0, 3, n), None),
        Values("id", [f"id {k}" if k % 3 else None for k in range(n)]),
        FloatRows(["p,0", "p1"], rng.normal(size=(n, 2))),
    ]


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_polars_chunk_writes_what_python_writes(delimiter: str) -> None:
    part = Frame(columns_of_every_kind(np.random.default_rng(1), 2000))
    assert polars_chunk(polars, part, delimiter) == python_lines(part, delimiter)


@pytest.mark.parametrize("k", range(7))
def test_a_lone_column_keeps_its_empty_fields_quoted(k: int) -> None:
    """A line of one empty field is ``""`` (else it would be a blank line): a missing mean,
    a class named by the empty string."""
    column = columns_of_every_kind(np.random.default_rng(2), 500)[k]
    part = Frame([column], header=False)
    assert polars_chunk(polars, part, ",") == python_lines(part, ",")


@given(st.lists(st.tuples(floats, st.integers(-3, 8)), min_size=1, max_size=30))
def test_polars_chunk_of_any_floats_and_codes(rows: list[tuple[float, int]]) -> None:
    values = np.array([row[0] for row in rows])
    codes = np.array([row[1] for row in rows])
    part = Frame(
        [
            Floats("loss", values),
            OptionalFloats("mean", values),
            Categories("target", codes, AWKWARD[:4]),
        ]
    )
    for delimiter in (",", "\t"):
        assert polars_chunk(polars, part, delimiter) == python_lines(part, delimiter)


def test_small_tables_are_written_by_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below POLARS_CELLS cells polars is not asked for (importing it costs ~0.1 s)."""
    made: list[Frame] = []
    monkeypatch.setattr(writer, "polars_chunk", lambda polars, part, d: made.append(part) or "")
    delimited(Frame([Integers("row", range(10))]), ",")
    assert made == []
    monkeypatch.setattr(writer, "POLARS_CELLS", 10)
    delimited(Frame([Integers("row", range(10))]), ",")
    assert len(made) == 1


def test_a_polars_laying_floats_out_otherwise_leaves_it_to_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(writer, "POLARS_CELLS", 1)
    monkeypatch.setattr(writer, "polars_writes_repr", lambda polars: False)
    monkeypatch.setattr(writer, "polars_chunk", pytest.fail)
    frame = Frame([Floats("loss", [1e-05, 0.5])])
    assert delimited(frame, ",") == "loss\n1e-05\n0.5\n"


ROOT = Path(__file__).resolve().parent.parent
LM = ["samples/lm_logits.npy", "samples/lm_labels.npy"]


def outputs(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> tuple[str, str]:
    """The command's stdout written by Python, then by polars (every table large enough)."""
    monkeypatch.chdir(ROOT)
    texts = []
    for cells in (1 << 62, 1):
        monkeypatch.setattr(writer, "POLARS_CELLS", cells)
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.stderr
        texts.append(result.stdout)
    return texts[0], texts[1]


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
@pytest.mark.parametrize(
    "args",
    [
        ["compute", "samples/scores.csv", "samples/labels.csv"],
        ["compute", "samples/tags_logits.csv", "samples/tags_labels.csv", "--top", "3"],
        ["compute", *LM, "--ignore-index", "-100"],
        ["compute", *LM, "--ignore-index", "-100", "-r", "row"],
        ["compute", "samples/pandas_probs.csv", "samples/pandas_labels.csv", "--like", "torch"],
        ["compute", "samples/spam_probs.csv", "samples/spam_labels.csv"],
        ["compute", "samples/calibration_probs.csv", "samples/calibration_labels.csv"],
        ["compute", "samples/scores.csv", "samples/labels.csv", "--per-class"],
        ["softmax", "samples/scores.csv"],
        ["softmax", "samples/logits.csv", "--log"],
        ["softmax", "samples/scores.csv", "--argmax"],
        ["explain"],
    ],
)
def test_every_command_writes_the_same_bytes_through_polars(
    monkeypatch: pytest.MonkeyPatch, fmt: str, args: list[str]
) -> None:
    python, fast = outputs(monkeypatch, [*args, "-f", fmt])
    assert fast == python


def test_regression_issue_18_per_row_losses_of_every_magnitude(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Scores whose margins make losses from subnormal to 10³⁰⁰ (every layout of repr), with
    the per-row CSV printed and written with -o, through polars and through Python."""
    rng = np.random.default_rng(18)
    n, k = 3000, 3
    scores = rng.normal(size=(n, k))
    labels = rng.integers(0, k, n)
    margin = 10.0 ** rng.uniform(-3, 2.87, n) * rng.choice([-1.0, 1.0], n)
    scores[np.arange(n), labels] = scores.max(axis=1) + margin
    huge = rng.random(n) < 0.1
    scores[huge, (labels[huge] + 1) % k] = 10.0 ** rng.uniform(15, 300, huge.sum())
    np.save(tmp_path / "scores.npy", scores)
    np.save(tmp_path / "labels.npy", labels)
    args = ["compute", str(tmp_path / "scores.npy"), str(tmp_path / "labels.npy")]
    python, fast = outputs(monkeypatch, args)
    assert fast == python
    losses = [line.split(",")[1] for line in python.splitlines()[1:]]
    assert any("e-0" in loss for loss in losses)  # repr's layouts: 1e-05 … 9e-09,
    assert any("e-3" in loss for loss in losses)  # 1e-30 …,
    assert any("e+" in loss for loss in losses)  # 1e+16 …,
    assert any(loss.startswith("0.000") for loss in losses)  # 0.0001 …
    for suffix in ("csv", "tsv"):
        written = []
        for cells in (1 << 62, 1):
            monkeypatch.setattr(writer, "POLARS_CELLS", cells)
            target = tmp_path / f"out-{cells}.{suffix}"
            result = runner.invoke(app, [*args, "-r", "mean", "-o", str(target)])
            assert result.exit_code == 0, result.stderr
            written.append(target.read_bytes())
        assert written[0] == written[1]


def test_a_wide_softmax_is_written_a_row_at_a_time_with_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Past 1024 classes a matrix is one column of rows (FloatRows): polars joins each
    row's texts; most probabilities of 1500 classes are tiny (every layout of repr)."""
    scores = np.random.default_rng(5).normal(size=(20, 1500)) * 5
    np.save(tmp_path / "wide.npy", scores)
    for extra in ([], ["--log"]):
        python, fast = outputs(monkeypatch, ["softmax", str(tmp_path / "wide.npy"), *extra])
        assert fast == python


def test_regression_a_class_name_that_is_not_utf8_is_written_as_python_writes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--classes $'\\xff',b`` gives a name with a lone surrogate, which polars cannot hold
    (UnicodeEncodeError): the table is written by Python, as before (stdout replaces it)."""
    monkeypatch.setattr(writer, "POLARS_CELLS", 1)
    frame = Frame([Integers("row", range(3)), Categories("target", [0, 1, 0], ["\udcff", "b"])])
    assert delimited(frame, ",") == "row,target\n0,\udcff\n1,b\n2,\udcff\n"


def test_ctrl_c_is_held_to_the_end_of_a_polars_chunk_unless_ignored() -> None:
    """Python's own handler: SIGINT during the block is raised after it. Ignored (a shell's
    background job): nothing is raised, and the handler stays as it was."""
    import os
    import signal

    from xent_cli.writer import interrupt_after

    reached = []

    def interrupted_inside() -> None:
        with interrupt_after():
            os.kill(os.getpid(), signal.SIGINT)
            reached.append(True)  # not interrupted inside

    with pytest.raises(KeyboardInterrupt):
        interrupted_inside()
    assert reached == [True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with interrupt_after():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)

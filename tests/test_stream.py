"""Large inputs: .npy streamed in blocks, text read from the file; the same bits and errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from xent_cli import readers
from xent_cli.cli import app
from xent_cli.compute import compute
from xent_cli.inputs import load
from xent_cli.options import Outputs
from xent_cli.readers import arrays as stream
from xent_cli.settings import Settings

from . import reference as ref

runner = CliRunner()


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stream every .npy, in blocks of a few rows, and read a text file's start only."""
    monkeypatch.setattr(stream, "STREAM_BYTES", 0)
    monkeypatch.setattr(stream, "BLOCK_BYTES", 7 * 8 * 3)  # 7 rows of 3 float64 a block
    monkeypatch.setattr(readers, "HEAD_BYTES", 160)


def test_regression_gh18_a_small_file_is_read_whole_without_the_array_reader() -> None:
    """Issue 18: ``open_stream`` tells that a file of at most ``HEAD_BYTES`` is read whole
    before :mod:`~xent_cli.readers.arrays` is loaded (its ``STREAM_BYTES`` holds its
    default until then), which is right only while that default is the larger."""
    assert readers.HEAD_BYTES <= stream.STREAM_BYTES
    assert not readers._read_whole(stream.STREAM_BYTES + 1)
    assert readers._read_whole(stream.STREAM_BYTES)


def scores_and_labels(tmp_path: Path, n: int = 200, k: int = 3, seed: int = 0) -> tuple[str, str]:
    rng = np.random.default_rng(seed)
    np.save(tmp_path / "z.npy", rng.normal(scale=4.0, size=(n, k)))
    np.save(tmp_path / "y.npy", rng.integers(0, k, size=n))
    return str(tmp_path / "z.npy"), str(tmp_path / "y.npy")


@pytest.mark.parametrize(
    "options",
    [{}, {"label_smoothing": 0.1}, {"class_weights": (1.0, 2.0, 3.0)}, {"outputs": Outputs.probs}],
)
def test_streamed_results_are_identical_to_whole_array(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict[str, object]
) -> None:
    z, y = scores_and_labels(tmp_path)
    if options.get("outputs") is Outputs.probs:
        p = np.load(z)
        p = np.exp(p) / np.exp(p).sum(axis=1, keepdims=True)
        np.save(z, p)
    settings = Settings(**options)  # type: ignore[arg-type]
    whole = compute(load(z, y, settings), settings)
    monkeypatch.setattr(stream, "STREAM_BYTES", 0)
    monkeypatch.setattr(stream, "BLOCK_BYTES", 7 * 8 * 3)
    inputs = load(z, y, settings, stream=True)
    assert inputs.stream is not None
    streamed = compute(inputs, settings)
    assert streamed.decision.loss == whole.decision.loss
    assert streamed.losses.tobytes() == whole.losses.tobytes()
    assert streamed.mean == whole.mean
    assert np.array_equal(streamed.predicted, whole.predicted)  # type: ignore[arg-type]


def test_streamed_errors_name_the_global_row(tmp_path: Path, small_blocks: None) -> None:
    z, y = scores_and_labels(tmp_path)
    values = np.load(z)
    values[150, 2] = np.nan
    np.save(z, values)
    result = runner.invoke(app, ["compute", z, y])
    assert result.exit_code == 65
    assert result.stdout == ""
    assert result.stderr == f"xent: {z}: row 151, column 3: value is NaN\n"
    values[150, 2] = 0.0
    values[60] = -np.inf
    np.save(z, values)
    result = runner.invoke(app, ["compute", z, y])
    assert result.exit_code == 65
    assert f"{z}: row 61: every score in this row is −∞" in result.stderr


def test_streamed_float32_and_one_column(tmp_path: Path, small_blocks: None) -> None:
    rng = np.random.default_rng(2)
    z32 = rng.normal(size=(100, 3)).astype(np.float32)
    np.save(tmp_path / "z.npy", z32)
    np.save(tmp_path / "y.npy", rng.integers(0, 3, size=100))
    out = runner.invoke(
        app, ["compute", str(tmp_path / "z.npy"), str(tmp_path / "y.npy"), "-f", "json"]
    )
    expected = runner.invoke(
        app,
        ["compute", str(tmp_path / "z.npy"), str(tmp_path / "y.npy"), "-f", "json", "--compare"],
    )
    assert out.exit_code == 0, out.stderr
    assert expected.exit_code == 0
    exact = json.loads(expected.stdout)["compare"][0]["mean"]
    assert json.loads(out.stdout)["mean"] == pytest.approx(exact, rel=1e-15)
    binary = rng.normal(size=100)
    np.save(tmp_path / "b.npy", binary)
    np.save(tmp_path / "t.npy", (binary > 0).astype(np.int64))
    result = runner.invoke(
        app, ["compute", str(tmp_path / "b.npy"), str(tmp_path / "t.npy"), "-f", "json"]
    )
    assert json.loads(result.stdout)["loss"] == "sigmoid-ce-with-logits"


def test_label_count_mismatch_with_a_stream(tmp_path: Path, small_blocks: None) -> None:
    z, _ = scores_and_labels(tmp_path)
    np.save(tmp_path / "short.npy", np.zeros(10, dtype=np.int64))
    result = runner.invoke(app, ["compute", z, str(tmp_path / "short.npy")])
    assert result.exit_code == 65
    assert "labels end after 10 rows" in result.stderr


def test_large_text_file_is_read_from_its_start(tmp_path: Path, small_blocks: None) -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(size=(60, 3))
    body = "\n".join(",".join(repr(float(v)) for v in row) for row in values)
    path = tmp_path / "z.csv"
    path.write_text("a,b,c\n" + body + "\n")
    source = readers.read(str(path))
    assert isinstance(source, readers.TextSource)
    assert len(source.head) == 160 < source.n_bytes
    assert source.numbers(allow_minus_inf=True).tolist() == values.tolist()
    path.write_text("a,b,c\n" + body + "\n1,2,oops\n")
    with pytest.raises(readers.InputError, match=r"z\.csv:62:5: field 3 is 'oops', not a number"):
        readers.read(str(path)).numbers(allow_minus_inf=True)
    path.write_bytes(("a,b,c\n" + body + "\n").encode() + b"1,\xff,2\n")
    with pytest.raises(readers.InputError, match=r"z\.csv:62:3: byte 0xff is not UTF-8"):
        readers.read(str(path)).numbers(allow_minus_inf=True)


def test_one_row_one_column_and_wide_rows(tmp_path: Path) -> None:
    (tmp_path / "one.csv").write_text("0.25\n")
    (tmp_path / "t.csv").write_text("1\n")
    result = runner.invoke(
        app, ["compute", str(tmp_path / "one.csv"), str(tmp_path / "t.csv"), "-r", "mean"]
    )
    assert float(result.stdout) == pytest.approx(-np.log(0.25), rel=1e-15)
    wide = np.random.default_rng(5).normal(size=100_000)
    (tmp_path / "wide.csv").write_text(",".join(repr(float(v)) for v in wide) + "\n")
    (tmp_path / "c.csv").write_text("99999\n")
    result = runner.invoke(
        app, ["compute", str(tmp_path / "wide.csv"), str(tmp_path / "c.csv"), "-r", "mean"]
    )
    assert result.exit_code == 0, result.stderr
    expected = ref.sparse_softmax_ce(wide.tolist(), 99_999)
    assert ref.relative_error(float(result.stdout), expected) <= 1e-12


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rows read from streams, appended per read."""
    counted: list[int] = []
    original = stream.NpyStream.read

    def read(self: stream.NpyStream, start: int, stop: int) -> np.ndarray:
        counted.append(stop - start)
        return original(self, start, stop)

    monkeypatch.setattr(stream.NpyStream, "read", read)
    return counted


@pytest.mark.parametrize("later_scores", [False, True])
def test_a_stream_is_read_once_when_its_first_block_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_blocks: None, later_scores: bool
) -> None:
    """Probabilities throughout: one pass. A score after the first block: a second pass,
    and the loss for scores. Either way the same bits as the whole array, and progress
    reaches its total of two passes."""
    rng = np.random.default_rng(9)
    n = 200
    p = rng.dirichlet(np.ones(3), size=n)
    if later_scores:
        p[150] = [2.5, -1.0, 0.3]
    z, y = tmp_path / "p.npy", tmp_path / "y.npy"
    np.save(z, p)
    np.save(y, rng.integers(0, 3, size=n))
    settings = Settings()
    monkeypatch.setattr(stream, "STREAM_BYTES", 1 << 40)
    whole = compute(load(str(z), str(y), settings, stream=True), settings)
    monkeypatch.setattr(stream, "STREAM_BYTES", 0)
    counted = _counting_reads(monkeypatch)
    done: list[int] = []
    inputs = load(str(z), str(y), settings, stream=True)
    assert inputs.stream is not None
    streamed = compute(inputs, settings, progress=done.append)
    first_block = 7
    assert sum(counted) == first_block + n * (2 if later_scores else 1)
    assert sum(done) == 2 * n
    assert streamed.decision.loss == whole.decision.loss
    expected = "softmax" if later_scores else "sparse-categorical-ce"
    assert expected in streamed.decision.loss
    assert streamed.losses.tobytes() == whole.losses.tobytes()
    assert np.array_equal(streamed.predicted, whole.predicted)  # type: ignore[arg-type]
    row = 0
    true = ref.sparse_softmax_ce(p[row].tolist(), int(np.load(y)[row]))
    if not later_scores:
        true = -ref.mp.log(ref.mp.mpf(float(p[row, int(np.load(y)[row])])))
    assert ref.relative_error(float(streamed.losses[row]), true) <= 1e-12


@pytest.mark.parametrize("failing", ["_decide", "block_of"])
def test_a_guess_that_fails_costs_a_second_pass_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_blocks: None, failing: str
) -> None:
    """If the first block's loss cannot be decided or computed, the file decides alone."""
    from xent_cli import compute as compute_module
    from xent_cli.errors import UsageError

    z, y = scores_and_labels(tmp_path)
    settings = Settings()
    monkeypatch.setattr(stream, "STREAM_BYTES", 1 << 40)
    whole = compute(load(z, y, settings, stream=True), settings)
    monkeypatch.setattr(stream, "STREAM_BYTES", 0)
    original = getattr(compute_module, failing)
    calls: list[int] = []

    def first_fails(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise UsageError("not from this block")
        return original(*args, **kwargs)

    monkeypatch.setattr(compute_module, failing, first_fails)
    counted = _counting_reads(monkeypatch)
    streamed = compute(load(z, y, settings, stream=True), settings)
    assert sum(counted) == 7 + 2 * 200
    assert streamed.losses.tobytes() == whole.losses.tobytes()


def test_a_streamed_file_reads_pandas_label_header_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_blocks: None
) -> None:
    """A Series.to_csv(index=False) of labels (header 0, a line more) beside a streamed .npy."""
    z, y = scores_and_labels(tmp_path)
    labels = np.load(y)
    (tmp_path / "y.csv").write_text("0\n" + "\n".join(map(str, labels)) + "\n", encoding="utf-8")
    settings = Settings()
    inputs = load(z, str(tmp_path / "y.csv"), settings, stream=True)
    assert inputs.stream is not None
    streamed = compute(inputs, settings)
    whole = compute(load(z, y, settings), settings)
    assert streamed.losses.tobytes() == whole.losses.tobytes()


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_npz_members_stream_with_the_same_bits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, save: object, dtype: type
) -> None:
    """A stored member is read in place; a compressed one unpacked block by block, in order."""
    z, y = scores_and_labels(tmp_path)
    values = np.load(z).astype(dtype)
    np.save(z, values)
    save(tmp_path / "z.npz", logits=values, other=np.zeros(3))  # type: ignore[operator]
    settings = Settings(key="logits")
    whole = compute(load(z, y, Settings()), Settings())
    monkeypatch.setattr(stream, "STREAM_BYTES", 0)
    monkeypatch.setattr(stream, "BLOCK_BYTES", 7 * dtype().itemsize * 3)
    inputs = load(str(tmp_path / "z.npz"), y, settings, stream=True)
    assert inputs.stream is not None
    packed = save is np.savez_compressed
    assert isinstance(inputs.stream, stream.PackedNpyStream) is packed
    assert inputs.stream.name == f"{tmp_path / 'z.npz'}[logits]"
    streamed = compute(inputs, settings)
    assert streamed.losses.tobytes() == whole.losses.tobytes()
    assert streamed.mean == whole.mean
    # blocks out of order (the first is read again after the others) give the same rows
    assert np.array_equal(inputs.stream.read(14, 21), values[14:21].astype(np.float64))
    assert np.array_equal(inputs.stream.read(0, 7), values[:7].astype(np.float64))


def test_a_streamed_npz_member_names_its_bad_row(tmp_path: Path, small_blocks: None) -> None:
    z, y = scores_and_labels(tmp_path)
    values = np.load(z)
    values[150, 2] = np.inf
    np.savez_compressed(tmp_path / "z.npz", values)
    result = runner.invoke(app, ["compute", str(tmp_path / "z.npz"), y])
    assert result.exit_code == 65
    assert f"{tmp_path / 'z.npz'}[arr_0]: row 151, column 3" in result.stderr


def test_a_damaged_packed_npz_member_that_streams_is_one_error(
    tmp_path: Path, small_blocks: None
) -> None:
    """A CRC or deflate error while unpacking a streamed member was a BadZipFile traceback."""
    z, y = scores_and_labels(tmp_path)
    values = np.load(z)
    np.savez_compressed(tmp_path / "z.npz", values)
    raw = bytearray((tmp_path / "z.npz").read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 16] = bytes(16)  # zeros over the deflate stream
    (tmp_path / "z.npz").write_bytes(bytes(raw))
    result = runner.invoke(app, ["compute", str(tmp_path / "z.npz"), y])
    assert (result.exit_code, result.stdout) == (65, "")
    assert result.stderr.startswith(f"xent: {tmp_path / 'z.npz'}")
    assert "is not a valid .npz file (" in result.stderr
    assert result.stderr.count("\n") == 1

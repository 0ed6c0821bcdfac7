"""``softmax``/``sigmoid`` stream (DESIGN §4): row blocks in, row blocks out, the same bits
as the whole matrix, memory bounded, and a closed pipe stops the work."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from xent_cli import transform, writer
from xent_cli.cli import app
from xent_cli.readers import arrays as stream
from xent_cli.terminal import Terminal

from .reference import softmax_rows

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("xent")
XENT = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "xent_cli"]
VARIANTS = [
    ["softmax"],
    ["softmax", "--log"],
    ["softmax", "-t", "0.5"],
    ["softmax", "--argmax"],
    ["sigmoid"],
]


def xent(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stream every .npy, in blocks of a few rows, and map and write a few rows at a time."""
    monkeypatch.setattr(stream, "STREAM_BYTES", 0)
    monkeypatch.setattr(stream, "BLOCK_BYTES", 7 * 8 * 4)
    monkeypatch.setattr(transform, "BLOCK_CELLS", 5 * 4)
    monkeypatch.setattr(writer, "CHUNK_ROWS", 3)


def scores(tmp_path: Path, n: int = 200, k: int = 4, seed: int = 0) -> np.ndarray:
    z = np.random.default_rng(seed).normal(scale=5.0, size=(n, k))
    z[17, 2] = -np.inf  # a masked class
    np.save(tmp_path / "z.npy", z)
    return z


@pytest.mark.parametrize("args", VARIANTS)
@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "npy"])
def test_streamed_blocks_give_the_bits_of_the_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], fmt: str
) -> None:
    """Each map is row-local: the output made a few rows at a time (blocks of 5, read in
    blocks of 7, written in chunks of 3) is the output of the whole array, byte for byte."""
    scores(tmp_path)
    target = tmp_path / f"whole.{fmt}"
    whole = xent(*args, tmp_path / "z.npy", "-o", target)
    assert whole[0] == 0, whole[2]
    monkeypatch.setattr(stream, "STREAM_BYTES", 0)
    monkeypatch.setattr(stream, "BLOCK_BYTES", 7 * 8 * 4)
    monkeypatch.setattr(transform, "BLOCK_CELLS", 5 * 4)
    monkeypatch.setattr(writer, "CHUNK_ROWS", 3)
    streamed = xent(*args, tmp_path / "z.npy", "-o", tmp_path / f"streamed.{fmt}")
    assert streamed == whole
    assert (tmp_path / f"streamed.{fmt}").read_bytes() == target.read_bytes()
    if fmt != "npy":
        printed = xent(*args, tmp_path / "z.npy", "-f", fmt)
        assert printed[1].encode() == target.read_bytes()


@pytest.mark.usefixtures("small_blocks")
def test_streamed_softmax_matches_the_formula(tmp_path: Path) -> None:
    z = scores(tmp_path)
    code, out, err = xent("softmax", tmp_path / "z.npy", "-f", "json")
    assert code == 0, err
    found = np.array(json.loads(out), dtype=np.float64)
    np.testing.assert_allclose(found, softmax_rows(z), rtol=1e-13, atol=1e-300)
    assert found[17, 2] == 0.0


@pytest.mark.usefixtures("small_blocks")
def test_an_error_in_a_streamed_input_leaves_nothing_on_stdout(tmp_path: Path) -> None:
    """Standard output cannot be taken back: a streamed input is checked whole before the
    first row is written (DESIGN §5), as compute's first pass does."""
    z = scores(tmp_path)
    z[150, 1] = np.nan
    np.save(tmp_path / "z.npy", z)
    code, out, err = xent("softmax", tmp_path / "z.npy")
    assert (code, out) == (65, "")
    assert err == f"xent: {tmp_path / 'z.npy'}: row 151, column 2: value is NaN\n"
    z[150, 1], z[160] = 0.0, -np.inf
    np.save(tmp_path / "z.npy", z)
    code, out, err = xent("softmax", tmp_path / "z.npy", "-f", "json")
    assert (code, out) == (65, "")
    assert err.endswith("row 161: every score in this row is −∞ (nothing left to predict)\n")
    assert xent("sigmoid", tmp_path / "z.npy")[0] == 0  # σ(−∞) = 0: a row of them is fine


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("args", [["softmax"], ["softmax", "--argmax"], ["sigmoid"]])
def test_a_large_table_on_a_terminal_makes_only_the_rows_it_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """The terminal shows the first 10 and last 5 rows; only those are mapped, and the
    table is the one the whole matrix gives."""
    scores(tmp_path, n=5000)
    mapped = rows_mapped(monkeypatch)
    code, table, err = xent(*args, tmp_path / "z.npy", "-f", "table")
    assert code == 0, err
    assert sum(mapped) == 15
    assert "4,985 of 5,000 rows" in table
    monkeypatch.setattr(stream, "STREAM_BYTES", 1 << 40)  # read whole
    assert xent(*args, tmp_path / "z.npy", "-f", "table")[1] == table


def rows_mapped(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rows of each block softmax/sigmoid maps, as they are mapped."""
    mapped: list[int] = []
    call = transform.Mapping.__call__

    def counted(self: transform.Mapping, block: np.ndarray, reuse: bool = False) -> np.ndarray:
        mapped.append(len(block))
        return call(self, block, reuse)

    monkeypatch.setattr(transform.Mapping, "__call__", counted)
    return mapped


class ClosedPipe(io.StringIO):
    """Standard output whose reader goes away after the first write (``| head -1``)."""

    def write(self, text: str) -> int:
        if self.getvalue():
            raise BrokenPipeError
        return super().write(text)


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("args", [["softmax"], ["sigmoid"], ["softmax", "-f", "json"]])
def test_a_closed_pipe_stops_the_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """After the reader has gone, xent maps no more than the blocks already under way, and
    ends quietly with 0."""
    scores(tmp_path, n=2000)
    mapped = rows_mapped(monkeypatch)
    out, err = ClosedPipe(), io.StringIO()
    terminal = Terminal(stdin=None, stdout=out, stderr=err)
    result = runner.invoke(app, [args[0], str(tmp_path / "z.npy"), *args[1:]], obj=terminal)
    assert result.exit_code == 0
    assert err.getvalue() == ""
    assert out.getvalue()  # the first chunk arrived
    assert sum(mapped) < 100  # of 2000 rows: the first chunks and those in flight


def test_head_on_a_large_streamed_softmax_ends_quietly(tmp_path: Path) -> None:
    """A .npy over the streaming threshold (64 MiB) piped into head -1: exit 0, nothing on
    stderr, one line of 8 probabilities."""
    z = np.random.default_rng(1).normal(size=(1_100_000, 8))  # 70 MB
    np.save(tmp_path / "z.npy", z)
    xent_command = " ".join(XENT)
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{xent_command} softmax {tmp_path / 'z.npy'} | head -1"],
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stderr == b""
    first = [float(v) for v in done.stdout.decode().split(",")]
    np.testing.assert_allclose(first, softmax_rows(z[:1])[0], rtol=1e-14)


def test_memory_stays_bounded_whatever_the_size(tmp_path: Path) -> None:
    """softmax of a 200 MB .npy into a .npy: the peak resident set stays under half the
    input (it was the input plus the output, and more, when the matrix was made whole)."""
    z = np.random.default_rng(2).normal(size=(25_000, 1000))
    np.save(tmp_path / "z.npy", z)
    size = (tmp_path / "z.npy").stat().st_size
    probe = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    command = [*XENT, "softmax", str(tmp_path / "z.npy"), "-o", str(tmp_path / "p.npy")]
    done = subprocess.run(
        [sys.executable, "-c", probe, *command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    peak = int(done.stdout) * 1024
    assert peak < size / 2, f"peak {peak / 2**20:.0f} MiB for a {size / 2**20:.0f} MiB input"
    probabilities = np.load(tmp_path / "p.npy", mmap_mode="r")
    np.testing.assert_allclose(probabilities[-3:], softmax_rows(z[-3:]), rtol=1e-13)
    del probabilities
    os.unlink(tmp_path / "p.npy")


@pytest.mark.usefixtures("small_blocks")
def test_a_compressed_npz_member_streams_in_order(tmp_path: Path) -> None:
    """np.savez_compressed: the member unpacks one way, so its blocks run on one thread."""
    z = scores(tmp_path, n=300)
    np.savez_compressed(tmp_path / "z.npz", scores=z)
    code, out, err = xent(
        "softmax", tmp_path / "z.npz", "--key", "scores", "-o", tmp_path / "p.npy"
    )
    assert (code, out) == (0, ""), err
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), softmax_rows(z), rtol=1e-13)
    assert (
        xent("softmax", tmp_path / "z.npz", "--key", "scores")[1]
        == xent("softmax", tmp_path / "z.npy")[1]
    )


@pytest.mark.parametrize("spec", ["part-*.npy", "."])
def test_shards_map_as_one_sequence_of_rows(tmp_path: Path, spec: str) -> None:
    """A glob or a directory of shards (natural order: part-5 before part-10) gives the
    rows of the one file they were cut from."""
    z = np.random.default_rng(5).normal(size=(30, 3))
    shards = tmp_path / "shards"
    shards.mkdir()
    for number, start in ((0, 0), (5, 10), (10, 20)):
        np.save(shards / f"part-{number}.npy", z[start : start + 10])
    np.save(tmp_path / "z.npy", z)
    code, out, err = xent("softmax", shards / spec)
    assert (code, err) == (0, "")
    assert out == xent("softmax", tmp_path / "z.npy")[1]
    xent("softmax", shards / spec, "-o", tmp_path / "p.npy")
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), softmax_rows(z), rtol=1e-13)


@pytest.mark.parametrize("args", VARIANTS)
def test_scores_far_apart_give_no_warning(tmp_path: Path, args: list[str]) -> None:
    """z − max z of scores ±1e308 apart overflows to −∞, and e^(−∞) = 0 is the right
    probability: no numpy warning on stderr."""
    (tmp_path / "z.csv").write_text("1e308,-1e308\n")
    code, out, err = xent(*args, tmp_path / "z.csv")
    assert (code, err) == (0, "")
    first = out.split(",")[0].strip()
    assert first in ("1.0", "0.0", "0")  # p = 1 (log p = 0), or the argmax: column 0


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl"])
def test_a_wide_matrix_is_written_a_row_at_a_time_with_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """softmax of one row of 5M classes took 48 s and 5.8 GB (a column object a class):
    past render.matrix.WIDE classes a block is one column of rows; the bytes are those of
    the column-by-column writer, and the numbers the formula's."""
    from xent_cli.render import matrix as render_matrix

    rng = np.random.default_rng(11)
    scores = rng.normal(size=(5, 40))
    scores[2, 3] = -np.inf  # a masked class: inf in CSV, null in JSON
    header = ",".join(f"c{k}" for k in range(40))
    body = "\n".join(",".join(repr(float(v)) for v in row) for row in scores)
    (tmp_path / "z.csv").write_text(header + "\n" + body + "\n")
    args = ["softmax", str(tmp_path / "z.csv"), "-f", fmt]
    monkeypatch.setattr(render_matrix, "WIDE", 10_000)
    by_column = runner.invoke(app, args)
    monkeypatch.setattr(render_matrix, "WIDE", 8)
    by_row = runner.invoke(app, args)
    assert by_row.exit_code == by_column.exit_code == 0
    assert by_row.stdout == by_column.stdout
    if fmt == "csv":
        lines = by_row.stdout.splitlines()
        assert lines[0] == header
        got = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
        assert got == pytest.approx(softmax_rows(scores), rel=1e-12, abs=0)


def test_a_wide_matrix_to_parquet_keeps_its_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import polars as pl

    from xent_cli.render import matrix as render_matrix

    scores = np.random.default_rng(12).normal(size=(4, 30))
    np.save(tmp_path / "z.npy", scores)
    monkeypatch.setattr(render_matrix, "WIDE", 8)
    result = runner.invoke(
        app, ["softmax", str(tmp_path / "z.npy"), "-o", str(tmp_path / "p.parquet")]
    )
    assert result.exit_code == 0, result.stderr
    table = pl.read_parquet(tmp_path / "p.parquet")
    assert table.columns == [str(k) for k in range(30)]
    assert table.to_numpy() == pytest.approx(softmax_rows(scores), rel=1e-12)

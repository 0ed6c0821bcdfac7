"""``-o/--output FILE`` (DESIGN §4): every format read back with its own reader, the numbers
against independent formulas, and a file that appears whole or not at all."""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from xent_cli import output, transform, writer
from xent_cli.cli import app
from xent_cli.readers import arrays as stream

from . import reference as ref
from .reference import softmax_rows

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("xent")
XENT = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "xent_cli"]
SUFFIXES = [".csv", ".tsv", ".json", ".jsonl", ".npy", ".parquet"]
CLASSES = ["cat", "dog", "bird", "a,b"]  # a name CSV must quote


def xent(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def sigmoid_reference(z: np.ndarray) -> np.ndarray:
    return np.array([[1.0 / (1.0 + math.exp(-v)) for v in row] for row in z.tolist()])


def read_back(path: Path) -> list[list[str]] | list[object] | np.ndarray | pl.DataFrame:
    """The file as its format's own reader gives it."""
    suffix = path.suffix
    if suffix in (".csv", ".tsv"):
        text = path.read_text(encoding="utf-8")
        return list(
            csv.reader(io.StringIO(text, newline=""), delimiter="," if suffix == ".csv" else "\t")
        )
    if suffix == ".json":
        return list(json.loads(path.read_text(encoding="utf-8")))
    if suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if suffix == ".npy":
        return np.load(path)
    return pl.read_parquet(path)


def matrix_of(path: Path, names: list[str] | None) -> np.ndarray:
    """The N×K numbers of a softmax/sigmoid output file, whatever its format."""
    found = read_back(path)
    if isinstance(found, np.ndarray):
        return found
    if isinstance(found, pl.DataFrame):
        expected = names if names is not None else [str(k) for k in range(found.width)]
        assert found.columns == expected
        return found.to_numpy()
    rows = list(found)
    if path.suffix in (".csv", ".tsv"):
        if names is not None:
            assert rows[0] == names
            rows = rows[1:]
        return np.array([[float(v) for v in row] for row in rows])  # type: ignore[union-attr]
    return np.array(rows, dtype=np.float64)


def leftovers(directory: Path, keep: set[str]) -> list[str]:
    """Files in ``directory`` other than ``keep`` (a temporary file left behind)."""
    return sorted(p.name for p in directory.iterdir() if p.name not in keep)


@dataclass
class Data:
    dir: Path
    z: np.ndarray
    y: list[int]
    losses: np.ndarray  # mpmath's, rounded to float64


@pytest.fixture
def data(tmp_path: Path) -> Data:
    """60 rows of scores over 4 classes: as CSV with a header of class names (one needs
    quotes) and class-name labels, and as .npy with integer labels."""
    rng = np.random.default_rng(13)
    z = rng.normal(scale=3.0, size=(60, 4))
    y = rng.integers(0, 4, size=60).tolist()
    with (tmp_path / "z.csv").open("w", newline="") as handle:
        table = csv.writer(handle, lineterminator="\n")
        table.writerow(CLASSES)
        table.writerows(z.tolist())
    with (tmp_path / "y.csv").open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([[CLASSES[c]] for c in y])
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "y.npy", np.array(y))
    losses = [float(ref.sparse_softmax_ce(row, c)) for row, c in zip(z.tolist(), y, strict=True)]
    return Data(tmp_path, z, y, np.array(losses))


# ---- compute -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("kind", ["csv", "npy"])
def test_compute_rows_round_trip_in_every_format(data: Data, suffix: str, kind: str) -> None:
    tmp = data.dir
    losses, y = data.losses, data.y
    target = tmp / f"losses{suffix}"
    code, out, err = xent("compute", tmp / f"z.{kind}", tmp / f"y.{kind}", "-o", target)
    assert (code, err) == (0, ""), err
    assert float(out) == pytest.approx(float(np.mean(losses)), rel=1e-12)  # stdout: the mean
    names = CLASSES if kind == "csv" else None
    predicted = np.argmax(data.z, axis=1).tolist()
    predicted_names = [CLASSES[c] if names else c for c in predicted]
    target_names = [CLASSES[c] if names else c for c in y]
    found = read_back(target)
    if suffix == ".npy":
        assert isinstance(found, np.ndarray)
        assert found.dtype == np.float64
        assert found.shape == (60,)
        np.testing.assert_allclose(found, losses, rtol=1e-12, atol=0)
        return
    if isinstance(found, pl.DataFrame):
        assert found.columns == ["row", "loss", "predicted", "target"]
        assert found["row"].to_list() == list(range(60))
        np.testing.assert_allclose(found["loss"].to_numpy(), losses, rtol=1e-12, atol=0)
        assert found["predicted"].to_list() == predicted_names
        assert found["target"].to_list() == target_names
        return
    if suffix == ".json":
        document = json.loads(target.read_text(encoding="utf-8"))
        assert document["reduction"] == "none"
        assert document["rows"] == 60
        np.testing.assert_allclose(document["losses"], losses, rtol=1e-12, atol=0)
        assert document["target"] == target_names
        return
    if suffix == ".jsonl":
        assert isinstance(found, list)
        assert [r["row"] for r in found] == list(range(60))  # type: ignore[index]
        np.testing.assert_allclose([r["loss"] for r in found], losses, rtol=1e-12, atol=0)  # type: ignore[index]
        assert [r["predicted"] for r in found] == predicted_names  # type: ignore[index]
        return
    assert isinstance(found, list)
    assert found[0] == ["row", "loss", "predicted", "target"]
    np.testing.assert_allclose([float(r[1]) for r in found[1:]], losses, rtol=1e-12, atol=0)  # type: ignore[index]
    assert [r[3] for r in found[1:]] == [str(t) for t in target_names]  # type: ignore[index]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl"])
def test_compute_file_holds_the_bytes_of_the_format_on_stdout(data: Data, fmt: str) -> None:
    """-o losses.csv holds what -f csv prints (today's stdout CSV), byte for byte."""
    tmp = data.dir
    inputs = [tmp / "z.csv", tmp / "y.csv"]
    _, printed, _ = xent("compute", *inputs, "-f", fmt)
    code, _, err = xent("compute", *inputs, "-o", tmp / f"losses.{fmt}")
    assert code == 0, err
    assert (tmp / f"losses.{fmt}").read_bytes() == printed.encode("utf-8")


def test_compute_stdout_is_the_summary_with_o(data: Data) -> None:
    tmp = data.dir
    losses = data.losses
    inputs = [tmp / "z.npy", tmp / "y.npy"]
    code, out, _ = xent("compute", *inputs, "-o", tmp / "l.csv", "-r", "sum")
    assert code == 0
    assert float(out) == pytest.approx(float(losses.sum()), rel=1e-12)
    code, out, _ = xent("compute", *inputs, "-o", tmp / "l.csv", "-f", "json")
    document = json.loads(out)
    assert "losses" not in document  # the rows are in the file
    assert document["mean"] == pytest.approx(float(losses.mean()), rel=1e-12)
    code, out, _ = xent("compute", *inputs, "-o", tmp / "l.csv", "-f", "table")
    assert code == 0
    assert "perplexity" in out
    assert "┏" not in out.splitlines()[0]


def test_o_dash_is_standard_output(data: Data) -> None:
    tmp = data.dir
    inputs = [tmp / "z.csv", tmp / "y.csv"]
    assert xent("compute", *inputs, "-o", "-") == xent("compute", *inputs)
    assert xent("softmax", tmp / "z.csv", "-o", "-") == xent("softmax", tmp / "z.csv")
    code, out, err = xent("compute", *inputs, "-o", "-", "-r", "mean")
    assert (code, out) == (2, "")
    assert "-o - writes the rows to standard output" in err


def test_compare_takes_no_output(data: Data) -> None:
    tmp = data.dir
    code, _, err = xent("compute", tmp / "z.csv", tmp / "y.csv", "--compare", "-o", tmp / "c.csv")
    assert code == 2
    assert "--compare" in err
    assert not (tmp / "c.csv").exists()


# ---- softmax and sigmoid -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("kind", ["csv", "npy"])
def test_softmax_matrix_round_trips_in_every_format(data: Data, suffix: str, kind: str) -> None:
    tmp, z = data.dir, data.z
    target = tmp / f"p{suffix}"
    code, out, err = xent("softmax", tmp / f"z.{kind}", "-o", target)
    assert (code, out, err) == (0, "", "")  # nothing on stdout; stderr is no terminal
    found = matrix_of(target, CLASSES if kind == "csv" else None)
    assert found.shape == (60, 4)
    np.testing.assert_allclose(found, softmax_rows(z), rtol=1e-13, atol=1e-300)
    if suffix == ".npy":
        assert found.dtype == np.float64


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_sigmoid_matrix_round_trips_in_every_format(data: Data, suffix: str) -> None:
    tmp, z = data.dir, data.z
    code, _, err = xent("sigmoid", tmp / "z.csv", "-o", tmp / f"s{suffix}")
    assert code == 0, err
    found = matrix_of(tmp / f"s{suffix}", CLASSES)
    np.testing.assert_allclose(found, sigmoid_reference(z), rtol=1e-14, atol=0)


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl"])
@pytest.mark.parametrize("options", [[], ["--log", "-t", "2"], ["--argmax"]])
def test_softmax_file_holds_the_bytes_of_the_format_on_stdout(
    data: Data, fmt: str, options: list[str]
) -> None:
    tmp = data.dir
    _, printed, _ = xent("softmax", tmp / "z.csv", *options, "-f", fmt)
    code, _, err = xent("softmax", tmp / "z.csv", *options, "-o", tmp / f"p.{fmt}")
    assert code == 0, err
    assert (tmp / f"p.{fmt}").read_bytes() == printed.encode("utf-8")


def test_argmax_to_npy_and_parquet(data: Data) -> None:
    tmp, z = data.dir, data.z
    winners = [int(np.argmax(row)) for row in z]
    xent("softmax", tmp / "z.csv", "--argmax", "-o", tmp / "w.npy")
    found = np.load(tmp / "w.npy")
    assert found.dtype == np.int64
    assert found.tolist() == winners
    xent("softmax", tmp / "z.csv", "--argmax", "-o", tmp / "w.parquet")
    assert pl.read_parquet(tmp / "w.parquet")["argmax"].to_list() == [CLASSES[w] for w in winners]


def test_npy_output_is_what_np_save_writes(tmp_path: Path) -> None:
    """The header np.save writes, then the C-ordered float64 data: any .npy reader reads it."""
    z = np.array([[0.0, 1.0, 2.0], [5.0, -np.inf, 5.0]])
    np.save(tmp_path / "z.npy", z)
    xent("softmax", tmp_path / "z.npy", "-o", tmp_path / "p.npy")
    expected = io.BytesIO()
    np.save(expected, softmax_rows(z))
    written = (tmp_path / "p.npy").read_bytes()
    header = len(expected.getvalue()) - 6 * 8
    assert written[:header] == expected.getvalue()[:header]
    assert len(written) == len(expected.getvalue())
    np.testing.assert_allclose(np.load(tmp_path / "p.npy")[1], [0.5, 0.0, 0.5], rtol=1e-15)


def test_json_file_of_minus_inf_is_null_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "z.csv").write_text("0,-inf\n1,1\n")
    code, out, err = xent("softmax", tmp_path / "z.csv", "--log", "-o", tmp_path / "p.json")
    assert (code, out) == (0, "")
    assert err == "xent: warning: −∞ values are written as null (JSON has no Infinity)\n"
    assert json.loads((tmp_path / "p.json").read_text()) == [[0.0, None], [-math.log(2)] * 2]


def test_parquet_of_repeated_header_names_keeps_every_column(tmp_path: Path) -> None:
    (tmp_path / "z.csv").write_text("a,a,b\n0,0,0\n")
    code, _, err = xent("softmax", tmp_path / "z.csv", "-o", tmp_path / "p.parquet")
    assert code == 0, err
    frame = pl.read_parquet(tmp_path / "p.parquet")
    assert frame.columns == ["a", "a.1", "b"]
    assert frame.row(0) == pytest.approx((1 / 3, 1 / 3, 1 / 3), rel=1e-15)


# ---- where the file can go -----------------------------------------------------------------


def test_unknown_extension_is_a_usage_error_naming_the_formats(data: Data) -> None:
    tmp = data.dir
    for command in (["softmax", tmp / "z.csv"], ["compute", tmp / "z.csv", tmp / "y.csv"]):
        code, out, err = xent(*command, "-o", tmp / "p.txt")
        assert (code, out) == (2, "")
        assert err.endswith(
            "use .csv, .tsv, .json, .jsonl, .npy or .parquet (- is standard output)\n"
        )
        assert not (tmp / "p.txt").exists()


@pytest.mark.parametrize("where", ["missing/p.csv", "z.csv/p.csv", "."])
def test_a_place_that_cannot_hold_the_file_is_one_line_and_74(data: Data, where: str) -> None:
    tmp = data.dir
    before = sorted(p.name for p in tmp.iterdir())
    code, out, err = xent("softmax", tmp / "z.csv", "-o", tmp / where)
    assert (code, out) == (74, "")
    assert err.startswith("xent: cannot write ")
    assert err.count("\n") == 1
    assert sorted(p.name for p in tmp.iterdir()) == before


def test_an_unwritable_directory_is_74(data: Data) -> None:
    """A directory nobody may create files in, root included: sysfs refuses them all."""
    code, out, err = xent("softmax", data.dir / "z.csv", "-o", "/sys/p.csv")
    assert (code, out) == (74, "")
    assert err == "xent: cannot write /sys/p.csv: Permission denied\n"


def test_new_file_gets_the_umask_mode_and_a_replaced_file_keeps_its_mode(
    data: Data,
) -> None:
    tmp = data.dir
    old = os.umask(0o027)
    try:
        xent("softmax", tmp / "z.csv", "-o", tmp / "new.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp / "new.csv").stat().st_mode) == 0o640
    (tmp / "kept.csv").write_text("old\n")
    (tmp / "kept.csv").chmod(0o604)
    xent("softmax", tmp / "z.csv", "-o", tmp / "kept.csv")
    assert stat.S_IMODE((tmp / "kept.csv").stat().st_mode) == 0o604
    assert (tmp / "kept.csv").read_text().startswith("cat,dog,bird")


def test_a_symbolic_link_is_followed(data: Data) -> None:
    tmp = data.dir
    (tmp / "real.csv").write_text("old\n")
    (tmp / "link.csv").symlink_to(tmp / "real.csv")
    xent("softmax", tmp / "z.csv", "-o", tmp / "link.csv")
    assert (tmp / "link.csv").is_symlink()
    assert (tmp / "real.csv").read_text().startswith("cat,dog,bird")


# ---- whole or not at all -------------------------------------------------------------------


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stream every .npy, and map and write it a few rows at a time."""
    monkeypatch.setattr(stream, "STREAM_BYTES", 0)
    monkeypatch.setattr(stream, "BLOCK_BYTES", 7 * 8 * 3)
    monkeypatch.setattr(transform, "BLOCK_CELLS", 7 * 3)
    monkeypatch.setattr(writer, "CHUNK_ROWS", 7)


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("existing", [False, True])
def test_an_input_error_midway_leaves_no_file_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, existing: bool
) -> None:
    z = np.random.default_rng(2).normal(size=(200, 3))
    z[150, 1] = np.nan
    np.save(tmp_path / "z.npy", z)
    target = tmp_path / f"p{suffix}"
    if existing:
        target.write_bytes(b"the old file\n")
    written: list[int] = []
    write_at, write = output.AtomicFile.write_at, output.AtomicFile.write

    def spy_at(self: output.AtomicFile, data: bytes | memoryview, offset: int) -> None:
        written.append(offset)
        write_at(self, data, offset)

    def spy(self: output.AtomicFile, data: bytes | memoryview) -> None:
        written.append(len(data))
        write(self, data)

    monkeypatch.setattr(output.AtomicFile, "write_at", spy_at)
    monkeypatch.setattr(output.AtomicFile, "write", spy)
    code, out, err = xent("softmax", tmp_path / "z.npy", "-o", target)
    assert (code, out) == (65, "")
    assert err == f"xent: {tmp_path / 'z.npy'}: row 151, column 2: value is NaN\n"
    if suffix != ".parquet":  # polars writes Parquet itself
        assert len(written) > 2  # rows before row 151 had been written: the file was partial
    assert leftovers(tmp_path, {"z.npy", target.name}) == []
    if existing:
        assert target.read_bytes() == b"the old file\n"
    else:
        assert not target.exists()


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_a_full_disk_midway_is_one_line_74_and_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    np.save(tmp_path / "z.npy", np.random.default_rng(3).normal(size=(200, 3)))
    (tmp_path / f"p{suffix}").write_bytes(b"old")
    calls = {"n": 0}
    real_write, real_pwrite = os.write, os.pwrite

    def full(real: object) -> object:
        def write(fd: int, data: object, *rest: object) -> int:
            calls["n"] += 1
            if calls["n"] > 5:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(fd, data, *rest)  # type: ignore[operator, no-any-return]

        return write

    monkeypatch.setattr(output.os, "write", full(real_write))
    monkeypatch.setattr(output.os, "pwrite", full(real_pwrite))
    code, out, err = xent("softmax", tmp_path / "z.npy", "-o", tmp_path / f"p{suffix}")
    assert (code, out) == (74, "")
    assert err == f"xent: cannot write {tmp_path / f'p{suffix}'}: No space left on device\n"
    assert leftovers(tmp_path, {"z.npy", f"p{suffix}"}) == []
    assert (tmp_path / f"p{suffix}").read_bytes() == b"old"


def _started(directory: Path, known: set[str], process: subprocess.Popen[bytes]) -> None:
    """Wait until the process has written into its temporary file."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        temporary = [p for p in directory.iterdir() if p.name not in known]
        if temporary and temporary[0].stat().st_size > 1 << 20:
            return
        time.sleep(0.02)
    raise AssertionError(f"no temporary file grew: {process.poll()}")


@pytest.mark.parametrize(("sent", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, -15)])
def test_ctrl_c_or_kill_leaves_no_partial_file(
    tmp_path: Path, sent: signal.Signals, status: int
) -> None:
    """A long CSV write interrupted: 130 (Ctrl-C) or death by SIGTERM, the temporary file
    removed either way, the old file untouched."""
    np.save(tmp_path / "z.npy", np.random.default_rng(4).normal(size=(2_000_000, 10)))
    (tmp_path / "p.csv").write_bytes(b"old")
    process = subprocess.Popen(
        [*XENT, "softmax", str(tmp_path / "z.npy"), "-o", str(tmp_path / "p.csv")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    _started(tmp_path, {"z.npy", "p.csv"}, process)
    process.send_signal(sent)
    out, err = process.communicate(timeout=60)
    assert process.returncode == status
    assert out == b""
    assert b"Traceback" not in err
    assert leftovers(tmp_path, {"z.npy", "p.csv"}) == []
    assert (tmp_path / "p.csv").read_bytes() == b"old"


def test_a_note_on_a_terminals_stderr_only(data: Data) -> None:
    from xent_cli.terminal import Terminal

    tmp = data.dir
    for tty, expected in ((True, f"xent: wrote 60×4 to {tmp / 'p.npy'}\n"), (False, "")):
        out, err = io.StringIO(), io.StringIO()
        terminal = Terminal(stdin=None, stdout=out, stderr=err, stderr_is_tty=tty)
        result = runner.invoke(
            app, ["softmax", str(tmp / "z.csv"), "-o", str(tmp / "p.npy")], obj=terminal
        )
        assert result.exit_code == 0
        assert (out.getvalue(), err.getvalue()) == ("", expected)


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("suffix", [".npy", ".parquet", ".jsonl"])
def test_ctrl_c_while_blocks_are_written_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """Ctrl-C arriving while the worker threads write blocks (here raised by the 20th
    block): exit 130, the temporary file gone, the old file as it was."""
    np.save(tmp_path / "z.npy", np.random.default_rng(6).normal(size=(300, 3)))
    (tmp_path / f"p{suffix}").write_bytes(b"old")
    mapped: list[int] = []
    call = transform.Mapping.__call__

    def interrupted(self: transform.Mapping, block: np.ndarray, reuse: bool = False) -> np.ndarray:
        mapped.append(len(block))
        if len(mapped) == 20:
            raise KeyboardInterrupt
        return call(self, block, reuse)

    monkeypatch.setattr(transform.Mapping, "__call__", interrupted)
    code, out, _ = xent("softmax", tmp_path / "z.npy", "-o", tmp_path / f"p{suffix}")
    assert (code, out) == (130, "")
    assert leftovers(tmp_path, {"z.npy", f"p{suffix}"}) == []
    assert (tmp_path / f"p{suffix}").read_bytes() == b"old"


def test_a_parquet_that_cannot_be_written_is_one_line_and_74(tmp_path: Path) -> None:
    """A file-size limit (or a full disk) while polars wrote .parquet was a ComputeError
    traceback and exit 1; the other formats said "cannot write … File too large" (74)."""
    import resource

    np.save(tmp_path / "z.npy", np.random.default_rng(3).normal(size=(100_000, 4)))

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "xent_cli",
            "softmax",
            str(tmp_path / "z.npy"),
            "-o",
            str(tmp_path / "p.parquet"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=small_files,  # a limit on the child alone
    )
    assert (done.returncode, done.stdout) == (74, "")
    assert done.stderr.startswith(f"xent: cannot write {tmp_path / 'p.parquet'}: ")
    assert done.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["z.npy"]  # no partial, no temporary


@pytest.mark.parametrize("command", ["softmax", "compute"])
def test_an_input_is_never_its_own_output(tmp_path: Path, command: str) -> None:
    """-o naming an input replaced it with what was read from it: now a usage error, and
    the file is as it was."""
    (tmp_path / "z.csv").write_text("0.5,1.5,0.1\n2.2,1.3,1.7\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("1\n2\n", encoding="utf-8")
    target = tmp_path / ("z.csv" if command == "softmax" else "y.csv")
    before = target.read_bytes()
    args = [command, tmp_path / "z.csv"] + ([tmp_path / "y.csv"] if command == "compute" else [])
    code, out, err = xent(*args, "-o", tmp_path / "." / target.name)  # the same file, named so
    assert (code, out) == (2, "")
    assert err.endswith("is an input of this command: write another file\n")
    assert target.read_bytes() == before

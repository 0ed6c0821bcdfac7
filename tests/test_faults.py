"""Boringly reliable (issue 12, DESIGN §5): memory bounded by the work, one line and the
documented exit code under every fault, never a traceback. Subprocesses, with an address-space
limit (``prlimit --as``) where memory is the point."""

from __future__ import annotations

import io
import math
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 1_500_000_000  # bytes of address space: numpy and the work fit, 745 GiB does not


def xent(
    *args: str, limit: bool | int = False, stdin: bytes | None = None
) -> tuple[int, bytes, str]:
    """``python -m xent_cli ARGS``: its code, stdout and stderr; with ``limit``, under
    ``prlimit --as`` of :data:`LIMIT` bytes (or of ``limit`` bytes)."""
    bound = LIMIT if limit is True else limit
    command = [sys.executable, "-m", "xent_cli", *args]
    if bound:
        command = ["prlimit", f"--as={bound}", *command]
    done = subprocess.run(command, input=stdin, capture_output=True, cwd=ROOT, timeout=60)
    return done.returncode, done.stdout, done.stderr.decode()


def npy_claiming(shape: tuple[int, ...]) -> bytes:
    """A .npy whose header claims ``shape`` of float64 and that holds no data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()  # the magic, the version and the header: no data


def test_regression_a_72_byte_npy_claiming_745_gib(tmp_path: Path) -> None:
    """Its header claimed (10⁶, 10⁵): numpy tried to allocate 745 GiB (a traceback)."""
    path = tmp_path / "z.npy"
    path.write_bytes(npy_claiming((1_000_000, 100_000)))
    (tmp_path / "y.csv").write_text("0\n", encoding="utf-8")
    code, out, err = xent("compute", str(path), str(tmp_path / "y.csv"), limit=True)
    assert (code, out) == (65, b"")
    assert (
        err
        == f"xent: {path}: header says 1000000×100000 float64 = 745 GiB, the file holds 0 bytes\n"
    )


def test_regression_an_npz_member_claiming_more_than_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "z.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("logits.npy", npy_claiming((1_000_000, 100_000)))
    code, out, err = xent("softmax", str(path), limit=True)
    assert (code, out) == (65, b"")
    assert "z.npz[logits]: header says 1000000×100000 float64 = 745 GiB" in err


@pytest.mark.parametrize("source", ["/dev/zero", "-"])
def test_regression_dev_zero_is_refused_from_its_first_block(source: str) -> None:
    """/dev/zero (and stdin from it) was read whole into memory: 3 GB and on."""
    stdin = b"\x00" * (1 << 20) if source == "-" else None
    code, out, err = xent("softmax", source, limit=True, stdin=stdin)
    assert (code, out) == (65, b"")
    assert err.endswith(":1:1: binary data (NUL bytes), not CSV/TSV text or .npy\n")


def test_memory_that_cannot_be_had_is_one_line_and_exit_71(tmp_path: Path) -> None:
    """Any MemoryError left is one line and sysexits' EX_OSERR (DESIGN §5): here an 800 MB
    .npz member read whole (a label column is taken out of it) under a 500 MB limit."""
    zeros_npz(tmp_path / "z.npz", 100_000, 1000)
    code, out, err = xent(
        "compute", str(tmp_path / "z.npz"), "--label-column", "1", limit=500_000_000
    )
    assert (code, out) == (71, b"")
    assert len(err.splitlines()) == 1
    assert re.match(
        r"xent: cannot allocate [\d.]+ MiB \(out of memory, or over a memory limit\)", err
    )
    assert "XENT_THREADS=1" in err


def test_regression_a_truncated_npy_says_where_it_ends(tmp_path: Path) -> None:
    """A .npy shorter than its header says: refused before reading (whole-file path), and
    named with its row if it shrinks under a stream (it exited 130 with a blank line)."""
    from xent_cli.errors import InputError
    from xent_cli.readers import NpyStream, open_npy

    path = tmp_path / "z.npy"
    np.save(path, np.zeros((3_000_000, 10)))  # 240 MB: streamed
    stream = open_npy(str(path), "z.npy")
    assert isinstance(stream, NpyStream)
    with path.open("r+b") as handle:
        handle.truncate(200_000_000)
    with pytest.raises(
        InputError, match=r"row 2999001: the file ends at row 2999001, before the 3,000,000 rows"
    ):
        stream.read(2_999_000, 3_000_000)
    np.save(tmp_path / "y.npy", np.zeros(3_000_000, dtype=np.int64))
    code, out, err = xent("compute", str(path), str(tmp_path / "y.npy"), "-r", "mean")
    assert (code, out) == (65, b"")
    assert err.endswith("header says 3000000×10 float64 = 229 MiB, the file holds 191 MiB\n")


@pytest.mark.parametrize("args", [["--version"], ["-V"], ["--help"], ["compute", "--help"], []])
def test_regression_version_and_help_into_a_full_disk_are_one_line_and_74(
    args: list[str],
) -> None:
    """--help, compute --help and bare xent (its help) into /dev/full were tracebacks."""
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [sys.executable, "-m", "xent_cli", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=30,
        )
    assert done.returncode == 74
    assert done.stderr == b"xent: cannot write the output: No space left on device\n"


def test_regression_a_bad_progress_delay_is_ignored() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "xent_cli", "softmax", "samples/logits.csv"],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "XENT_PROGRESS_DELAY": "abc"},
        timeout=30,
    )
    assert done.returncode == 0
    assert done.stderr == b""


def test_regression_duplicate_class_names_are_an_error(tmp_path: Path) -> None:
    """A header cat,cat,dog: the label cat silently meant column 0."""
    (tmp_path / "z.csv").write_text("cat,cat,dog\n1,2,3\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("cat\n", encoding="utf-8")
    code, out, err = xent("compute", str(tmp_path / "z.csv"), str(tmp_path / "y.csv"))
    assert (code, out) == (65, b"")
    assert err.endswith("the header names the class 'cat' twice; class names are distinct\n")


def test_regression_an_npz_member_that_is_no_npy(tmp_path: Path) -> None:
    """A member of raw text (or a pickle) came back as bytes: an AttributeError traceback."""
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as archive:
        archive.writestr("logits.npy", b"1,2\n3,4\n")
    code, out, err = xent("softmax", str(tmp_path / "z.npz"))
    assert (code, out) == (65, b"")
    assert err.endswith("z.npz[logits]: is not a .npy array inside the .npz\n")


def test_regression_labels_of_numbers_kept_as_strings(tmp_path: Path) -> None:
    """An .npy of labels '1', '2', '0' (strings): a StopIteration traceback."""
    np.save(tmp_path / "z.npy", np.array([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4], [0.5, 0.2, 0.3]]))
    np.save(tmp_path / "y.npy", np.array(["1", "2", "0"]))
    code, out, err = xent("compute", str(tmp_path / "z.npy"), str(tmp_path / "y.npy"), "-r", "mean")
    assert code == 0, err
    assert float(out) == pytest.approx(-(np.log(0.2) + np.log(0.4) + np.log(0.5)) / 3, rel=1e-15)


def test_regression_an_ascii_terminal_gets_replacement_characters() -> None:
    """PYTHONIOENCODING=ascii with a table (bars, ∞, class 犬): UnicodeEncodeError."""
    done = subprocess.run(
        [sys.executable, "-m", "xent_cli", "softmax", "samples/scores.csv", "-f", "table"],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert b"0.6194" in done.stdout


def test_regression_a_tiny_temperature_gave_rows_of_nan() -> None:
    """softmax -t 1e-320: z/T overflowed to ∞ − ∞; the shift comes first (argmax one-hot)."""
    code, out, err = xent("softmax", "samples/logits.csv", "-t", "1e-320")
    assert (code, err) == (0, "")
    assert out == b"0.0,1.0,0.0\n1.0,0.0,0.0\n"


def test_an_empty_npz_says_so(tmp_path: Path) -> None:
    zipfile.ZipFile(tmp_path / "z.npz", "w").close()
    code, out, err = xent("softmax", str(tmp_path / "z.npz"))
    assert (code, out) == (65, b"")
    assert err.endswith("z.npz: is an empty .npz (a zip archive holding no arrays)\n")


def test_confusion_with_soft_targets_says_why_there_is_none() -> None:
    args = ["compute", "samples/soft_logits.csv", "samples/soft_targets.csv", "--confusion"]
    code, out, err = xent(*args)
    assert (code, out) == (0, b"")
    assert err == "xent: warning: no confusion counts: the targets are not hard single labels\n"


def sample_losses() -> tuple[list[float], list[int]]:
    """The per-row losses of samples/scores.csv against samples/labels.csv, by mpmath."""
    from . import reference as ref

    rows = [line.split(",") for line in Path(ROOT / "samples/scores.csv").read_text().split()]
    names = rows[0]
    labels = [names.index(n) for n in Path(ROOT / "samples/labels.csv").read_text().split()]
    scores = [[float(v) for v in row] for row in rows[1:]]
    losses = [float(ref.sparse_softmax_ce(z, y)) for z, y in zip(scores, labels, strict=True)]
    return losses, labels


@pytest.mark.parametrize("weight", ["1e308", "1e-320"])
def test_regression_extreme_class_weights_give_the_plain_mean(weight: str) -> None:
    """Equal class weights leave the mean as it is: 1e308 printed inf (w·ℓ overflowed), and
    subnormal weights lost four digits; weights are now scaled by a power of two first."""
    losses, _ = sample_losses()
    args = ["samples/scores.csv", "samples/labels.csv", "--class-weights", ",".join([weight] * 3)]
    code, out, err = xent("compute", *args, "-r", "mean")
    assert (code, err) == (0, "")
    assert float(out) == pytest.approx(math.fsum(losses) / len(losses), rel=1e-15)


def test_regression_subnormal_sample_weights_give_the_plain_mean(tmp_path: Path) -> None:
    losses, _ = sample_losses()
    (tmp_path / "w.csv").write_text("1e-320\n" * len(losses), encoding="utf-8")
    args = ["samples/scores.csv", "samples/labels.csv", "--sample-weights", str(tmp_path / "w.csv")]
    code, out, err = xent("compute", *args, "-r", "mean")
    assert (code, err) == (0, "")
    assert float(out) == pytest.approx(math.fsum(losses) / len(losses), rel=1e-15)


def test_regression_huge_class_weights_on_multi_label_rows() -> None:
    """Σ w·ℓ / N with w = 1e308 is 3.3e307, finite: it printed inf."""
    ones = ["samples/tags_logits.csv", "samples/tags_labels.csv", "-r", "mean", "-q"]
    code, out, _ = xent("compute", *ones)
    assert code == 0
    code, big, err = xent("compute", *ones, "--class-weights", "1e308,1e308,1e308,1e308")
    assert (code, err) == (0, "")
    assert float(big) == pytest.approx(float(out) * 1e308, rel=1e-15)


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        # equal weights: the plain mean, (−log 0.8 − log 0.6) / 2
        ("1e308,1e308", (-math.log(0.8) - math.log(0.6)) / 2),
        # row 0 (target 1, weight 5e307) and row 1 (target 0, weight 1e308): Σ w·ℓ / Σ w,
        # the weights divided by 1e308 by hand
        ("1e308,5e307", (0.5 * -math.log(0.8) + 1.0 * -math.log(0.6)) / 1.5),
    ],
)
def test_regression_class_weights_near_the_largest_float(
    tmp_path: Path, weights: str, expected: float
) -> None:
    """Σ w overflowed to inf: the mean printed 0.0 (and numpy's RuntimeWarning on stderr)."""
    (tmp_path / "p.csv").write_text("0.2,0.8\n0.6,0.4\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("1\n0\n", encoding="utf-8")
    args = [str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "--class-weights", weights]
    code, out, err = xent("compute", *args, "-r", "mean")
    assert (code, err) == (0, "")
    assert float(out) == pytest.approx(expected, rel=1e-15)


def zeros_npz(path: Path, rows: int, columns: int) -> None:
    """A .npz whose one member unpacks to rows×columns float64 zeros (800 MB in 3.5 MB)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zipped:
        with zipped.open("logits.npy", "w", force_zip64=True) as member:
            header = {"descr": "<f8", "fortran_order": False, "shape": (rows, columns)}
            np.lib.format.write_array_header_1_0(member, header)
            block = np.zeros(1000 * columns).tobytes()
            for _ in range(rows // 1000):
                member.write(block)


def test_regression_a_packed_npz_member_is_unpacked_in_blocks(tmp_path: Path) -> None:
    """4 GB of zeros in 3.9 MB was unpacked whole (4.4 GB, or a MemoryError under a limit).
    Here 800 MB under a 500 MB address-space limit: streamed, the loss of uniform scores."""
    zeros_npz(tmp_path / "z.npz", 100_000, 1000)
    np.save(tmp_path / "y.npy", np.arange(100_000) % 1000)
    args = [str(tmp_path / "z.npz"), str(tmp_path / "y.npy"), "-r", "mean", "-q"]
    code, out, err = xent("compute", *args, limit=500_000_000)
    assert code == 0, err
    assert float(out) == pytest.approx(math.log(1000), rel=1e-12)
    # labels that do not line up fail from the header, before anything is unpacked
    (tmp_path / "y.csv").write_text("0\n1\n", encoding="utf-8")
    code, out, err = xent("compute", str(tmp_path / "z.npz"), str(tmp_path / "y.csv"), limit=True)
    assert (code, out) == (65, b"")
    assert "has 100,000 rows of predictions" in err


def test_regression_an_npz_directory_claiming_more_than_deflate_can(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((1000, 10)))
    with zipfile.ZipFile(tmp_path / "z.npz", "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("a.npy", buffer.getvalue())
    raw = bytearray((tmp_path / "z.npz").read_bytes())
    central = raw.rfind(b"PK\x01\x02")  # the central directory's entry: its unpacked size
    raw[central + 24 : central + 28] = (4_000_000_000).to_bytes(4, "little")
    (tmp_path / "z.npz").write_bytes(bytes(raw))
    code, out, err = xent("softmax", str(tmp_path / "z.npz"), limit=True)
    assert (code, out) == (65, b"")
    assert err.endswith(
        "z.npz[a]: the archive says it unpacks to 3.73 GiB from 177 bytes, more than deflate "
        "can: a damaged or crafted .npz\n"
    )


@pytest.mark.parametrize("copies", [1, 50_000])  # 30 bytes and 1.5 MB: both readers
@pytest.mark.parametrize("stdin", [False, True])
def test_regression_a_lone_cr_ends_a_line_for_every_size_and_source(
    tmp_path: Path, copies: int, stdin: bool
) -> None:
    """A lone CR split a row in a 1.2 MB file but gave "row has 5 fields" under 1 MiB and on
    stdin; a file of CR line ends said "a header but no data rows". One rule: a line break."""
    rows = ["0.2,0.8", "0.6,0.4", "0.9,0.1"] * copies
    text = "\r".join(rows[:2]) + "\n" + "\r\n".join(rows[2:4]) + "\r" + "\n".join(rows[4:])
    (tmp_path / "p.csv").write_bytes(text.encode())
    (tmp_path / "y.csv").write_text("1\n0\n0\n" * copies, encoding="utf-8")
    source = "-" if stdin else str(tmp_path / "p.csv")
    feed = (tmp_path / "p.csv").read_bytes() if stdin else None
    code, out, err = xent("compute", source, str(tmp_path / "y.csv"), "-r", "mean", stdin=feed)
    assert (code, err) == (0, "")
    expected = -(math.log(0.8) + math.log(0.6) + math.log(0.9)) / 3
    assert float(out) == pytest.approx(expected, rel=1e-12)


def test_regression_a_first_row_with_a_decimal_comma_is_data_not_a_header(
    tmp_path: Path,
) -> None:
    """'"0,5",1.5,0.1' was taken as a header, so the error blamed the labels' row count."""
    (tmp_path / "p.csv").write_text('"0,5",1.5,0.1\n0.2,0.3,0.5\n', encoding="utf-8")
    (tmp_path / "y.csv").write_text("1\n2\n", encoding="utf-8")
    code, out, err = xent("compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"))
    assert (code, out) == (65, b"")
    assert err == (
        f"xent: {tmp_path / 'p.csv'}:1:1: field 1 is '0,5', not a number; a decimal comma? "
        "write it with '.'\n"
    )


def test_regression_polars_under_an_address_space_limit(tmp_path: Path) -> None:
    """polars reserves ~1.3 GB of address space for a 9 MB CSV and aborts (SIGABRT, no
    exception) when it cannot: under a tighter limit numpy's reader reads the text."""
    pytest.importorskip("polars")
    rng = np.random.default_rng(5)
    probabilities = rng.dirichlet(np.ones(3), size=150_000)
    labels = rng.integers(0, 3, size=150_000)
    np.savetxt(tmp_path / "p.csv", probabilities, delimiter=",", fmt="%.17g")
    np.savetxt(tmp_path / "y.csv", labels, fmt="%d")
    assert (tmp_path / "p.csv").stat().st_size > 4 << 20  # polars' size, without a limit
    expected = float(np.mean(-np.log(probabilities[np.arange(150_000), labels])))
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean"]
    code, out, err = xent(*args, limit=1_000_000_000)
    assert (code, err) == (0, "")
    assert float(out) == pytest.approx(expected, rel=1e-12)


def test_work_runs_on_this_thread_when_no_thread_can_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under a thread or memory limit, "can't start new thread" was a traceback."""
    import threading

    from xent_cli import parallel

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    parallel.stop()  # a fresh pool, which must start threads
    monkeypatch.setattr(threading.Thread, "start", refuse)
    pieces = [(0, 3), (3, 10), (10, 11)]
    assert parallel.run_blocks(lambda start, stop: stop - start, pieces) == [3, 7, 1]


def test_regression_a_file_name_with_a_line_break_stays_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad\nname.csv"
    path.write_text("x,y\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("0\n", encoding="utf-8")
    code, out, err = xent("compute", str(path), str(tmp_path / "y.csv"))
    assert (code, out) == (65, b"")
    assert err == f"xent: {tmp_path}/bad\\nname.csv:2:1: there is a header but no data rows\n"


# ---- the outside check's cases (issue 12, second round) ------------------------------------


def test_regression_an_ignore_index_beyond_int64_is_a_usage_error() -> None:
    code, out, err = xent(
        "compute", "samples/scores.csv", "samples/labels.csv", "--ignore-index", "9" * 23
    )
    assert (code, out) == (2, b"")
    assert err == f"xent: --ignore-index {'9' * 23} is out of range: class indices are int64\n"


@pytest.mark.parametrize(
    "header",
    [
        b"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3) ",  # never closed
        b"{'descr': '<f8', 'fortran_order': False, 'shape': (0, 99999999999999999999), }",
    ],
)
def test_regression_npy_headers_that_do_not_parse(tmp_path: Path, header: bytes) -> None:
    """A header cut short was a SyntaxError traceback; a dimension past C's long an
    OverflowError."""
    padded = header + b" " * (-(len(header) + 11) % 64) + b"\n"
    magic = b"\x93NUMPY\x01\x00" + len(padded).to_bytes(2, "little")
    (tmp_path / "z.npy").write_bytes(magic + padded + bytes(72))
    code, out, err = xent("softmax", str(tmp_path / "z.npy"))
    assert (code, out) == (65, b"")
    assert err.startswith(f"xent: {tmp_path / 'z.npy'}: is not a valid .npy file (")
    assert err.count("\n") == 1


def test_regression_an_encrypted_npz_member(tmp_path: Path) -> None:
    """A member with the zip's encryption flag set was a RuntimeError traceback."""
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((2, 2)))
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as archive:
        archive.writestr("z.npy", buffer.getvalue())
    raw = bytearray((tmp_path / "z.npz").read_bytes())
    for signature, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # both headers' flags
        start = raw.find(signature)
        raw[start + at] |= 1
    (tmp_path / "z.npz").write_bytes(bytes(raw))
    code, out, err = xent("softmax", str(tmp_path / "z.npz"))
    assert (code, out) == (65, b"")
    assert err.endswith("z.npz[z]: is encrypted (a zip with a password); save it with np.savez\n")


def test_regression_one_column_given_to_two_options() -> None:
    args = ["samples/eval_dump.csv", "--label-column", "label", "--weight-column", "label"]
    code, out, err = xent("compute", *args)
    assert (code, out) == (2, b"")
    assert err == "xent: column 'label' is given to both --label-column and --weight-column\n"


def test_regression_duplicate_class_names_are_found_in_linear_time(tmp_path: Path) -> None:
    """A header of 100,000 distinct names took 41 s (each name searched in those before)."""
    names = [f"c{k}" for k in range(100_000)]
    (tmp_path / "p.csv").write_text(
        ",".join(names) + "\n" + ",".join(["0.5"] * 100_000) + "\n", encoding="utf-8"
    )
    (tmp_path / "y.csv").write_text("c7\n", encoding="utf-8")
    args = [str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean", "-q"]
    code, out, err = xent("compute", *args, "--outputs", "scores")
    assert (code, err) == (0, "")
    assert float(out) == pytest.approx(math.log(100_000), rel=1e-12)  # equal scores


def test_xent_threads_is_capped_at_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    from xent_cli import parallel

    monkeypatch.setenv("XENT_THREADS", "99999999999999999999")
    assert parallel.threads() == len(os.sched_getaffinity(0))


def test_regression_scores_far_apart_print_no_numpy_warning(tmp_path: Path) -> None:
    """z − max z overflowing to −∞ is right (e^−∞ = 0); numpy's RuntimeWarning leaked."""
    (tmp_path / "z.csv").write_text("1e308,-1e308\n0,1e308\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("1\n0\n", encoding="utf-8")
    for extra in ([], ["--label-smoothing", "0.1"], ["--like", "torch"]):
        code, out, err = xent("compute", str(tmp_path / "z.csv"), str(tmp_path / "y.csv"), *extra)
        assert (code, err) == (0, ""), extra
    code, out, err = xent("compute", str(tmp_path / "z.csv"), str(tmp_path / "y.csv"))
    # row 0: log Σe^z − z₁ = 1e308 + 1e308, past the largest float; row 1: 1e308 − 0
    assert out == b"row,loss,predicted,target\n0,inf,0,1\n1,1e+308,1,0\n"


def test_regression_a_certain_right_answer_is_zero_not_minus_zero(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("0,1,0\n0,0,1\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("1\n2\n", encoding="utf-8")
    code, out, _ = xent(
        "compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "--epsilon", "0"
    )
    assert code == 0
    assert out == b"row,loss,predicted,target\n0,0.0,1,1\n1,0.0,2,2\n"


def test_regression_stdin_open_for_writing_only_is_66(tmp_path: Path) -> None:
    with open(tmp_path / "x", "wb") as sink:
        done = subprocess.run(
            [sys.executable, "-m", "xent_cli", "softmax", "-"],
            stdin=sink,
            capture_output=True,
            cwd=ROOT,
            timeout=30,
        )
    assert (done.returncode, done.stdout) == (66, b"")
    assert done.stderr == b"xent: <stdin>: cannot read (Bad file descriptor)\n"


def test_regression_a_first_probability_of_0_0_is_data(tmp_path: Path) -> None:
    """One column's first row "0.0" was taken for pandas' header (and a labels line dropped
    to match): 3 rows and a wrong mean."""
    (tmp_path / "p.csv").write_text("0.0\n0.9\n0.8\n0.1\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("0\n1\n1\n0\n", encoding="utf-8")
    code, out, _ = xent("compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean")
    assert code == 0
    expected = (-math.log(1 - 2**-52) - 2 * math.log(0.9) - math.log(0.8)) / 4
    # the first row, p = 0 against y = 0, is clipped to ε: −log(1 − ε) (ε = 2⁻⁵²)
    assert float(out) == pytest.approx(expected, rel=1e-12)


def test_regression_nul_and_huge_fields_are_placed_and_cut_short(tmp_path: Path) -> None:
    (tmp_path / "nul.csv").write_bytes(b"0.5,0.5\n0.5,0\x00.5\n")
    (tmp_path / "huge.csv").write_text("0.5,0.5\n0.5," + "9" * 100_000 + "\n")
    (tmp_path / "y.csv").write_text("0\n1\n", encoding="utf-8")
    code, _, err = xent("compute", str(tmp_path / "nul.csv"), str(tmp_path / "y.csv"))
    assert (code, err) == (
        65,
        f"xent: {tmp_path / 'nul.csv'}:2:6: binary data (NUL bytes), not CSV/TSV text or .npy\n",
    )
    code, _, err = xent("compute", str(tmp_path / "huge.csv"), str(tmp_path / "y.csv"))
    assert code == 65
    assert err == (
        f"xent: {tmp_path / 'huge.csv'}:2:5: field 2 is '{'9' * 40}…' (100,000 characters), "
        "which overflows float64\n"
    )


def test_a_rust_panic_that_carries_ctrl_c_is_ctrl_c() -> None:
    """polars turns Ctrl-C during to_numpy into a panic; reading on lost the interrupt."""
    from xent_cli.readers.text import interrupted

    class PanicException(BaseException):  # pyo3's, which is no Exception
        pass

    interrupted(PanicException("called Result::unwrap() on an Err value: ValueError"))
    with pytest.raises(KeyboardInterrupt):
        interrupted(
            PanicException(
                "Failed to access NumPy array API capsule: "
                "PyErr { type: <class 'KeyboardInterrupt'> }"
            )
        )


def test_regression_a_bad_last_line_of_a_long_file_is_found_in_bounded_memory(
    tmp_path: Path,
) -> None:
    """An error on the last of 6M lines (24 MB) took 2 GB and 19 s: every line was kept as a
    Python string and split into cells. Lines are now offsets, parsed a block at a time."""
    (tmp_path / "p.csv").write_text("a,b\n" + "1,2\n" * 1_200_000 + "3,q\n", encoding="utf-8")
    done = subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "%M",
            sys.executable,
            "-m",
            "xent_cli",
            "softmax",
            str(tmp_path / "p.csv"),
        ],
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    message, _, peak = done.stderr.decode().splitlines()  # and time's "exited with … 65"
    assert (done.returncode, done.stdout) == (65, b"")
    assert message == f"xent: {tmp_path / 'p.csv'}:1200002:3: field 2 is 'q', not a number"
    assert int(peak) < 200_000  # KiB; the file is 9.6 MB (it took over 350 MB)

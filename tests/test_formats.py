"""Formats (DESIGN §9): the same 60 rows as CSV, TSV, .npy, .npz, Parquet, Arrow IPC,
Feather, NDJSON and compressed text give the same losses, held to mpmath; bad files in each
format fail with one positioned line (DESIGN §5)."""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import json
import lzma
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from xent_cli.cli import app

from . import reference as ref

runner = CliRunner()
ROWS, CLASSES = 60, 4


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, list[float]]:
    rng = np.random.default_rng(60)
    scores = rng.normal(scale=3.0, size=(ROWS, CLASSES))
    labels = rng.integers(0, CLASSES, size=ROWS)
    expected = [
        float(ref.sparse_softmax_ce(list(z), int(y))) for z, y in zip(scores, labels, strict=True)
    ]
    return scores, labels, expected


def losses(*args: str) -> list[float]:
    result = runner.invoke(app, ["compute", *args, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    return [float(v) for v in json.loads(result.stdout)["losses"]]


def csv_text(scores: np.ndarray, delimiter: str = ",") -> bytes:
    return "".join(delimiter.join(repr(float(v)) for v in row) + "\n" for row in scores).encode()


def frame(scores: np.ndarray, labels: np.ndarray, *, vectors: bool) -> pl.DataFrame:
    ids = [f"r{i}" for i in range(ROWS)]
    if vectors:
        return pl.DataFrame({"id": ids, "logits": scores.tolist(), "label": labels})
    columns = {f"class {k}": scores[:, k] for k in range(CLASSES)}
    return pl.DataFrame({"id": ids, **columns, "label": labels})


def safetensors(tensors: dict[str, np.ndarray]) -> bytes:
    """A .safetensors image as the format's README lays it out: an 8-byte little-endian
    header length, a JSON header of dtype, shape and data offsets, then the data."""
    names = {np.dtype(np.float64): "F64", np.dtype(np.int64): "I64"}
    header, data, start = {}, b"", 0
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {
            "dtype": names[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [start, start + len(raw)],
        }
        data, start = data + raw, start + len(raw)
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
    ".zst": zstandard.ZstdCompressor().compress,
}


def write(tmp_path: Path, name: str, scores: np.ndarray, labels: np.ndarray) -> list[str]:
    """The predictions as ``name`` says, and the arguments that read them with their labels."""
    path = tmp_path / name
    plain = name.removesuffix(Path(name).suffix) if Path(name).suffix in COMPRESSORS else name
    np.savetxt(tmp_path / "y.csv", labels, fmt="%d")
    labels_file = [str(path), str(tmp_path / "y.csv")]
    in_file = [str(path), "--label-column", "label", "--id-column", "id"]
    if plain.endswith(".csv"):
        raw, args = csv_text(scores), labels_file
    elif plain.endswith(".tsv"):
        raw, args = csv_text(scores, "\t"), labels_file
    elif plain.endswith(".npy"):
        np.save(path, scores)
        return labels_file
    elif plain.endswith(".npz"):
        np.savez_compressed(path, logits=scores, other=labels)
        return [*labels_file, "--key", "logits"]
    elif plain.endswith(".safetensors"):
        path.write_bytes(safetensors({"logits": scores, "labels": labels}))
        return [*labels_file, "--key", "logits"]
    elif plain.endswith(".parquet"):
        frame(scores, labels, vectors="wide" not in plain).write_parquet(path)
        return in_file
    elif plain.endswith((".arrow", ".feather")):
        frame(scores, labels, vectors=True).write_ipc(path)
        return in_file
    elif plain.endswith((".jsonl", ".ndjson")):
        buffer = frame(scores, labels, vectors=True).write_ndjson()
        raw, args = buffer.encode(), in_file
    else:
        raise AssertionError(name)
    compress = COMPRESSORS.get(Path(name).suffix)
    path.write_bytes(compress(raw) if compress else raw)
    return args


@pytest.mark.parametrize(
    "name",
    [
        "p.csv",
        "p.tsv",
        "p.npy",
        "p.npz",
        "p.safetensors",
        "p.parquet",
        "p-wide.parquet",
        "p.arrow",
        "p.feather",
        "p.jsonl",
        "p.ndjson",
        "p.csv.gz",
        "p.csv.bz2",
        "p.tsv.xz",
        "p.csv.zst",
        "p.jsonl.gz",
        "p.jsonl.zst",
    ],
)
def test_every_format_gives_the_same_losses(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray, list[float]], name: str
) -> None:
    scores, labels, expected = data
    got = losses(*write(tmp_path, name, scores, labels))
    assert len(got) == ROWS
    for value, true in zip(got, expected, strict=True):
        assert value == pytest.approx(true, rel=1e-12)


def test_a_table_of_float32_vectors_is_read_as_float32(tmp_path: Path) -> None:
    """Probabilities in float32 sum to 1 within float32's tolerance, not float64's."""
    probabilities = np.array([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]], dtype=np.float32)
    table = pl.DataFrame(
        {"p": pl.Series(probabilities.tolist(), dtype=pl.Array(pl.Float32, 3)), "y": [2, 0]}
    )
    table.write_parquet(tmp_path / "p.parquet")
    result = runner.invoke(
        app, ["compute", str(tmp_path / "p.parquet"), "--label-column", "y", "-f", "json"]
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["outputs"] == "probabilities"
    expected = [-np.log(np.float64(probabilities[0, 2])), -np.log(np.float64(probabilities[1, 0]))]
    assert document["losses"] == pytest.approx(expected, rel=1e-12)


def test_labels_from_a_column_of_another_table(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray, list[float]]
) -> None:
    scores, labels, expected = data
    (tmp_path / "p.csv").write_bytes(csv_text(scores))
    frame(scores, labels, vectors=True).write_parquet(tmp_path / "y.parquet")
    got = losses(str(tmp_path / "p.csv"), str(tmp_path / "y.parquet"), "--label-key", "label")
    assert got == pytest.approx(expected, rel=1e-12)
    result = runner.invoke(app, ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.parquet")])
    assert result.exit_code == 2
    assert "several columns that may hold the labels (logits, label); choose one with " in (
        result.stderr
    )


def test_classes_name_a_vector_columns_elements(tmp_path: Path) -> None:
    table = pl.DataFrame({"logits": [[0.0, 2.0], [3.0, 0.0]], "y": ["dog", "cat"]})
    table.write_parquet(tmp_path / "p.parquet")
    args = ["compute", str(tmp_path / "p.parquet"), "--label-column", "y", "--classes", "cat,dog"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    rows = result.stdout.splitlines()
    assert rows[0] == "row,loss,predicted,target"
    assert rows[1].endswith(",dog,dog")
    assert rows[2].endswith(",cat,cat")
    assert float(rows[1].split(",")[1]) == pytest.approx(float(ref.sparse_softmax_ce([0, 2], 1)))


def bad_tables(tmp_path: Path) -> list[tuple[str, list[str], int, str]]:
    """(file, extra arguments, exit code, the one line expected) for each bad table."""
    pl.DataFrame({"z": [[1.0, 2.0], [3.0], [1.0, 1.0]], "y": [0, 1, 0]}).write_parquet(
        tmp_path / "ragged.parquet"
    )
    pl.DataFrame({"z": [[1.0, 2.0], [3.0, None]], "y": [0, 1]}).write_parquet(
        tmp_path / "hole.parquet"
    )
    pl.DataFrame({"z": [[1.0, 2.0], [3.0, 1.0]], "y": [0, None]}).write_ipc(tmp_path / "y.arrow")
    pl.DataFrame({"a": [[1.0, 2.0]], "b": [[1.0, 2.0]], "y": [0]}).write_parquet(
        tmp_path / "two.parquet"
    )
    pl.DataFrame({"p": [0.2, 0.7, float("nan")], "y": [0, 1, 1]}).write_parquet(
        tmp_path / "nan.parquet"
    )
    pl.DataFrame({"name": ["a", "b"], "y": [0, 1]}).write_parquet(tmp_path / "text.parquet")
    (tmp_path / "bad.jsonl").write_text('{"z": [1, 2], "y": 0}\n\n{"z": [1, 2], "y": 1\n')
    (tmp_path / "list.jsonl").write_text('{"z": [1, 2], "y": 0}\n[1, 2]\n')
    (tmp_path / "short.jsonl").write_text('{"z": [1, 2], "y": 0}\n\n{"z": [1], "y": 1}\n')
    (tmp_path / "cut.parquet").write_bytes((tmp_path / "two.parquet").read_bytes()[:300])
    text = csv_text(np.random.default_rng(1).normal(size=(100, 2)))
    (tmp_path / "cut.csv.gz").write_bytes(gzip.compress(text)[:400])
    (tmp_path / "zeros.gz").write_bytes(gzip.compress(bytes(100_000)))
    y = ["--label-column", "y"]
    return [
        (
            "ragged.parquet",
            y,
            65,
            "ragged.parquet: row 2, column 'z': holds 1 values, but row 1's holds 2",
        ),
        ("hole.parquet", y, 65, "hole.parquet: row 2, element 2 of 'z': is missing (null)"),
        ("y.arrow", y, 65, "y.arrow: row 2, column 'y': is missing (null)"),
        ("two.parquet", y, 2, "two.parquet has several list columns (a, b); choose one with --key"),
        ("two.parquet", [*y, "--key", "c"], 2, "two.parquet has no column 'c'; it has: a, b, y"),
        ("nan.parquet", y, 65, "nan.parquet: row 3, column 'p': value is NaN"),
        (
            "text.parquet",
            ["--label-column", "y", "--key", "name"],
            65,
            "text.parquet: row 1, column 'name': 'a' is not a number",
        ),
        ("bad.jsonl", y, 65, "bad.jsonl:3:1: not a JSON object (Expecting ',' delimiter)"),
        ("list.jsonl", y, 65, "list.jsonl:2:1: is a JSON array, not an object"),
        ("short.jsonl", y, 65, "short.jsonl:3: column 'z': holds 1 values, but row 1's holds 2"),
        ("cut.parquet", y, 65, "cut.parquet: is not a readable Parquet file ("),
        ("cut.csv.gz", y, 65, "cut.csv.gz: is not a valid gzip stream ("),
        ("zeros.gz", y, 65, "zeros.gz:1:1: binary data (NUL bytes), not CSV/TSV text or .npy"),
    ]


def test_bad_tables_are_one_positioned_line(tmp_path: Path) -> None:
    for name, extra, code, line in bad_tables(tmp_path):
        result = runner.invoke(app, ["compute", str(tmp_path / name), *extra])
        assert (result.exit_code, result.stdout) == (code, ""), (name, result.stderr)
        assert result.stderr.startswith(f"xent: {tmp_path / name if code == 65 else tmp_path}")
        assert line in result.stderr, (name, result.stderr)
        assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("name", "in_file"),
    [
        ("p.csv", False),
        ("p.tsv", False),
        ("p-index.csv", False),
        ("p.jsonl", False),
        ("p.parquet", False),
        ("p.arrow", False),
        # compressed: unpacked as the pieces are read, in order
        ("p.csv.gz", False),
        ("p.tsv.xz", False),
        ("p.csv.zst", False),
        ("p.jsonl.bz2", True),
        # labels and ids in the file: set aside in one pass while the predictions stream
        ("p.parquet", True),
        ("p-wide.parquet", True),
        ("p.jsonl", True),
        ("p.arrow", True),
    ],
)
def test_large_inputs_stream_in_pieces_with_the_same_losses(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    data: tuple[np.ndarray, np.ndarray, list[float]],
    name: str,
    in_file: bool,
) -> None:
    """Text and NDJSON cut at line ends, tables in slices of rows: every piece small here."""
    from xent_cli import inputs as inputs_module
    from xent_cli.readers import arrays

    scores, labels, expected = data
    np.savetxt(tmp_path / "y.csv", labels, fmt="%d")
    if name == "p-index.csv":  # a header, pandas' index, and blank lines between pieces
        rows = [
            f"{i}," + ",".join(repr(float(v)) for v in row) + "\n" for i, row in enumerate(scores)
        ]
        (tmp_path / name).write_text("\n".join([",a,b,c,d", *rows]), encoding="utf-8")
        args = [str(tmp_path / name), str(tmp_path / "y.csv")]
    elif in_file:
        args = write(tmp_path, name, scores, labels)
    else:
        args = [*write(tmp_path, name, scores, labels)[:1], str(tmp_path / "y.csv")]
    monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
    monkeypatch.setattr(arrays, "BLOCK_BYTES", 200)  # a few rows a piece
    opened = []
    real = inputs_module.open_stream

    def spy(*a: object, **k: object) -> object:
        stream = real(*a, **k)  # type: ignore[arg-type]
        opened.append(stream)
        return stream

    monkeypatch.setattr(inputs_module, "open_stream", spy)
    result = runner.invoke(app, ["compute", *args, "-f", "json", "-r", "none"])
    assert result.exit_code == 0, result.stderr
    assert opened
    assert opened[0] is not None
    assert len(opened[0].parts) > 5
    document = json.loads(result.stdout)
    assert document["losses"] == pytest.approx(expected, rel=1e-12)
    if in_file:
        csv = runner.invoke(app, ["compute", *args, "-f", "csv"]).stdout.splitlines()
        assert csv[0] == "row,id,loss,predicted,target"
        assert [line.split(",")[1] for line in csv[1:4]] == ["r0", "r1", "r2"]


def test_a_streamed_piece_names_the_files_own_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xent_cli.readers import arrays

    rows = ["0.5,1.5"] * 40
    rows[33] = "0.5,oops"
    (tmp_path / "p.csv").write_text("a,b\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("0\n" * 40, encoding="utf-8")
    monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
    monkeypatch.setattr(arrays, "BLOCK_BYTES", 50)
    result = runner.invoke(app, ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv")])
    assert (result.exit_code, result.stdout) == (65, "")
    assert result.stderr == f"xent: {tmp_path / 'p.csv'}:35:5: field 2 is 'oops', not a number\n"


def test_a_truncated_stream_read_in_pieces_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xent_cli.readers import arrays

    text = csv_text(np.random.default_rng(2).normal(size=(400, 3)))
    (tmp_path / "p.csv.zst").write_bytes(zstandard.ZstdCompressor().compress(text)[:-9])
    (tmp_path / "y.csv").write_text("0\n" * 400, encoding="utf-8")
    monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
    monkeypatch.setattr(arrays, "BLOCK_BYTES", 1000)
    result = runner.invoke(app, ["compute", str(tmp_path / "p.csv.zst"), str(tmp_path / "y.csv")])
    assert (result.exit_code, result.stdout) == (65, "")
    assert result.stderr.startswith(f"xent: {tmp_path / 'p.csv.zst'}: is not a valid zstd stream (")
    monkeypatch.chdir(tmp_path)  # named as typed (it is opened from the root)
    result = runner.invoke(app, ["compute", "p.csv.zst", "y.csv"])
    assert result.stderr.startswith("xent: p.csv.zst: is not a valid zstd stream (")


# ---- pieces read as the whole file is (a review's findings) --------------------------------


@pytest.fixture
def pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every input streams, in pieces of a few rows, from a head cut mid-line."""
    from xent_cli import readers
    from xent_cli.readers import arrays

    monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
    monkeypatch.setattr(arrays, "BLOCK_BYTES", 120)
    monkeypatch.setattr(readers, "HEAD_BYTES", 333)


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_streamed_pieces_agree_with_the_whole_file(tmp_path: Path, pieces: None) -> None:
    rng = np.random.default_rng(4)
    scores = rng.dirichlet(np.ones(3), size=60)
    labels = rng.integers(0, 3, size=60)
    expected = [-math.log(p[y]) for p, y in zip(scores, labels, strict=True)]
    rows = [
        f"{i},{','.join(repr(float(v)) for v in p)},{'cat dog bird'.split()[y]}"
        for i, (p, y) in enumerate(zip(scores, labels, strict=True))
    ]
    blanks = "   "  # a line of blanks between rows: not a row
    text = ",cat,dog,bird,y\n" + "\n".join([*rows[:30], blanks, *rows[30:]]) + "\n"
    (tmp_path / "p.csv").write_text(text, encoding="utf-8")
    code, out, err = run("compute", str(tmp_path / "p.csv"), "--label-column", "y", "-f", "csv")
    assert (code, err) == (0, ""), err
    lines = out.splitlines()
    assert lines[0] == "row,loss,predicted,target"  # pandas' index left out, not a class
    assert [float(line.split(",")[1]) for line in lines[1:]] == pytest.approx(expected, rel=1e-12)
    assert {line.split(",")[3] for line in lines[1:]} <= {"cat", "dog", "bird"}  # names kept


def test_a_header_ending_in_a_lone_cr_loses_no_row(tmp_path: Path, pieces: None) -> None:
    (tmp_path / "p.csv").write_bytes(b"a,b\r" + b"0.25,0.75\n" * 40)
    (tmp_path / "y.csv").write_text("1\n" * 40, encoding="utf-8")
    code, out, err = run("compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean")
    assert (code, err) == (0, "")
    assert float(out) == pytest.approx(-math.log(0.75), rel=1e-12)


def test_ndjson_keys_in_any_order_are_matched_by_name(tmp_path: Path, pieces: None) -> None:
    lines = [json.dumps({"a": 0.0, "b": 2.0, "y": 1})] * 30
    lines += [json.dumps({"y": 1, "b": 2.0, "a": 0.0})] * 30
    (tmp_path / "p.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run("compute", str(tmp_path / "p.jsonl"), "--label-column", "y", "-r", "mean")
    assert (code, err) == (0, "")
    assert float(out) == pytest.approx(float(ref.sparse_softmax_ce([0.0, 2.0], 1)), rel=1e-12)


def test_a_row_that_breaks_the_width_in_a_later_piece(tmp_path: Path, pieces: None) -> None:
    rows = ["0.5,0.5,0.0"] * 40
    rows[25] = "0.5,0.5,0.0,9"
    (tmp_path / "p.csv").write_text("a,b,c\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("0\n" * 40, encoding="utf-8")
    code, out, err = run("compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"))
    assert (code, out) == (65, "")
    assert err == f"xent: {tmp_path / 'p.csv'}:27:13: row has 4 fields but the header has 3\n"
    table = pl.DataFrame({"z": [[0.0, 1.0]] * 30 + [[0.0, 1.0, 2.0]] * 30, "y": [1] * 60})
    table.write_parquet(tmp_path / "w.parquet")
    code, out, err = run("compute", str(tmp_path / "w.parquet"), "--label-column", "y")
    assert (code, out) == (65, "")
    assert err == (
        f"xent: {tmp_path / 'w.parquet'}: row 31, column 'z': holds 3 values, but row 1's holds 2\n"
    )
    lines = ['{"z": [0, 1], "y": 1}'] * 40 + ['{"z": [0, 1], "y": 1'] * 2
    (tmp_path / "w.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run("compute", str(tmp_path / "w.jsonl"), "--label-column", "y")
    assert (code, out) == (65, "")
    assert err.startswith(f"xent: {tmp_path / 'w.jsonl'}:41:1: not a JSON object")


def test_streamed_vectors_take_class_names_from_classes(tmp_path: Path, pieces: None) -> None:
    pl.DataFrame({"z": [[0.0, 2.0]] * 40, "y": ["dog"] * 40}).write_parquet(tmp_path / "v.parquet")
    code, out, err = run(
        "compute", str(tmp_path / "v.parquet"), "--label-column", "y", "--classes", "cat,dog"
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[1].endswith(",dog,dog")


def test_a_bom_alone_on_the_first_line_is_no_row(tmp_path: Path, pieces: None) -> None:
    (tmp_path / "p.csv").write_bytes(b"\xef\xbb\xbf\n" + b"0.25,0.75\n" * 40)
    (tmp_path / "y.csv").write_text("1\n" * 40, encoding="utf-8")
    code, out, err = run("compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "-r", "mean")
    assert (code, err) == (0, "")
    assert float(out) == pytest.approx(-math.log(0.75), rel=1e-12)


def test_keras_mean_with_ignored_rows_and_class_weights(tmp_path: Path) -> None:
    """Keras divides by the counted rows, not Σw: weights 4,4 make the mean 4 times."""
    (tmp_path / "p.csv").write_text("0.2,0.8\n0.7,0.3\n0.5,0.5\n0.1,0.9\n", encoding="utf-8")
    (tmp_path / "y.csv").write_text("1\n0\n-100\n1\n", encoding="utf-8")
    plain = (-math.log(0.8) - math.log(0.7) - math.log(0.9)) / 3
    args = ["compute", str(tmp_path / "p.csv"), str(tmp_path / "y.csv"), "--ignore-index", "-100"]
    for weights, factor in (("1,1", 1), ("4,4", 4)):
        code, out, _ = run(*args, "--like", "keras", "--class-weights", weights, "-r", "mean")
        assert code == 0
        assert float(out) == pytest.approx(factor * plain, rel=1e-12)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(
        st.sampled_from(["0.5,1", "", "  ", "2,3\r", "7" * 40, "\t", "1,1"]), max_size=60
    ),
    size=st.integers(min_value=1, max_value=90),
    ending=st.booleans(),
)
def test_pieces_cut_near_boundaries_are_the_pieces_read_in_order(
    tmp_path: Path, lines: list[str], size: int, ending: bool
) -> None:
    """Cutting a file by looking near each boundary (and counting pieces on both cores)
    gives the pieces, rows and line numbers of reading it once in order."""
    from xent_cli.readers import chunks

    text = "\n".join(lines) + ("\n" if ending and lines else "")
    (tmp_path / "t.csv").write_bytes(text.encode())
    data = chunks.FileBytes(str(tmp_path / "t.csv"))
    raw = text.encode()
    lone_cr = b"\r" in raw.replace(b"\r\n", b"")
    for pieces in (
        chunks.line_pieces(data, 0, 1, size),
        chunks._counted_in_order(data, 0, 1, size, False),
    ):
        if lone_cr:  # the whole-file reader's case
            assert pieces is None
            continue
        assert pieces is not None
        # each piece ends at a line end (or the end) after the one before, with its rows and
        # its first line's number as counted here from the bytes (pieces of no row left out)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(pieces))
        assert all(end == len(raw) or raw[end - 1 : end] == b"\n" for _, end, _, _ in pieces)
        for start, end, line, rows in pieces:
            assert line == raw.count(b"\n", 0, start) + 1
            assert rows == sum(1 for part in raw[start:end].split(b"\n") if part.strip())
        assert sum(p[3] for p in pieces) == sum(1 for line in lines if line.strip())


@pytest.mark.parametrize("name", ["p.parquet", "p.jsonl", "p.arrow"])
def test_softmax_of_a_table_takes_its_predictions_only(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray, list[float]], name: str
) -> None:
    """softmax read every column of a table: "column 'id' holds String values"."""
    scores, labels, _ = data
    write(tmp_path, name, scores, labels)
    result = runner.invoke(app, ["softmax", str(tmp_path / name), "-f", "json"])
    assert result.exit_code == 0, result.stderr
    got = np.array(json.loads(result.stdout))
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    assert got == pytest.approx(shifted / shifted.sum(axis=1, keepdims=True), rel=1e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a word among numbers: the column was left out, and a 2-class model read as binary
        (
            b'{"a": 0.1, "b": 0.9, "y": 1}\n{"a": 0.5, "b": "x", "y": 0}\n',
            ":2: column 'b': 'x' is not a number",
        ),
        (b'{"a": NaN, "b": 0.9, "y": 1}\n', ":1:1: not a JSON object (NaN is not JSON)"),
        (b'{"a": 1e400, "b": 0.9, "y": 1}\n', ":1:1: not a JSON object (1e400 overflows float64)"),
        (b"\n\n", ":1:1: the input is empty (no rows)"),
    ],
)
def test_ndjson_faults_are_named_by_line(tmp_path: Path, text: bytes, message: str) -> None:
    """polars' own words ("InternalError(TapeError)") or a silently dropped column, before."""
    (tmp_path / "p.jsonl").write_bytes(text)
    code, out, err = run("compute", str(tmp_path / "p.jsonl"), "--label-column", "y")
    assert (code, out) == (65, "")
    assert err == f"xent: {tmp_path / 'p.jsonl'}{message}\n"


def test_ndjson_with_a_bom_and_arrow_streams_by_any_name(tmp_path: Path) -> None:
    (tmp_path / "p.jsonl").write_bytes(b'\xef\xbb\xbf{"a": 0.0, "b": 2.0, "y": 1}\n')
    table = pl.DataFrame({"a": [0.0, 1.0], "b": [2.0, 1.0], "y": [1, 0]})
    table.write_ipc_stream(tmp_path / "p.arrows")
    table.write_ipc_stream(tmp_path / "s.arrow")  # a stream named as a file
    expected = float(ref.sparse_softmax_ce([0.0, 2.0], 1))
    code, out, err = run("compute", str(tmp_path / "p.jsonl"), "--label-column", "y", "-r", "mean")
    assert (code, err) == (0, "")
    assert float(out) == pytest.approx(expected, rel=1e-12)
    both = (expected + float(ref.sparse_softmax_ce([1.0, 1.0], 0))) / 2
    for name in ("p.arrows", "s.arrow"):
        code, out, err = run("compute", str(tmp_path / name), "--label-column", "y", "-r", "mean")
        assert (code, err) == (0, ""), name
        assert float(out) == pytest.approx(both, rel=1e-12)


def test_a_damaged_file_is_named_by_its_suffix_not_read_as_csv(tmp_path: Path) -> None:
    (tmp_path / "m.parquet").write_bytes(b"PAR1")
    (tmp_path / "h.safetensors").write_bytes((2**62).to_bytes(8, "little") + b"{}")
    (tmp_path / "y.csv").write_text("0\n", encoding="utf-8")
    code, _, err = run("compute", str(tmp_path / "m.parquet"), str(tmp_path / "y.csv"))
    assert code == 65
    assert err.startswith(f"xent: {tmp_path / 'm.parquet'}: is not a readable Parquet file (")
    code, _, err = run("compute", str(tmp_path / "h.safetensors"), str(tmp_path / "y.csv"))
    assert code == 65
    assert err.startswith(f"xent: {tmp_path / 'h.safetensors'}: is not a valid .safetensors file")


def test_a_file_xent_may_not_read_is_left_to_the_whole_file_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large Parquet file without read permission: no stream (polars' PermissionError
    came out as a traceback), so the whole-file reader says it in one line, exit 66."""
    from xent_cli import readers
    from xent_cli.readers import arrays

    path = tmp_path / "p.parquet"
    pl.DataFrame(np.ones((50, 3)), schema=["a", "b", "c"]).write_parquet(path)
    monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
    assert readers.open_stream(str(path), None) is not None
    monkeypatch.setattr(readers.os, "access", lambda name, mode: False)
    assert readers.open_stream(str(path), None) is None


def test_a_packed_large_parquet_named_so_is_unpacked_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """p.parquet.zst over the streaming size: polars cannot slice packed bytes (a traceback,
    found by an attack), so it is unpacked and read whole, as a small one is."""
    from xent_cli.readers import arrays

    scores = np.random.default_rng(5).normal(size=(60, 3))
    buffer = io.BytesIO()
    pl.DataFrame(scores, schema=["a", "b", "c"]).write_parquet(buffer)
    (tmp_path / "p.parquet.zst").write_bytes(zstandard.ZstdCompressor().compress(buffer.getvalue()))
    np.savetxt(tmp_path / "y.csv", np.zeros(60), fmt="%d")
    monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
    result = runner.invoke(
        app, ["compute", str(tmp_path / "p.parquet.zst"), str(tmp_path / "y.csv"), "-r", "mean"]
    )
    assert result.exit_code == 0, result.output
    top = scores.max(axis=1)
    expected = top + np.log(np.exp(scores - top[:, None]).sum(axis=1)) - scores[:, 0]
    assert float(result.stdout) == pytest.approx(expected.mean(), rel=1e-12)

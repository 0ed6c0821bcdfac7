"""Readers: formats, headers, encodings, and exact error positions."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from xent_cli import readers
from xent_cli.errors import InputError, MissingInputError, UsageError, XentError


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "expected", "header"),
    [
        ("p.csv", b"1,2\n3,4\n", [[1, 2], [3, 4]], None),
        ("p.tsv", b"1\t2\n3\t4\n", [[1, 2], [3, 4]], None),
        ("p.txt", b"1\t2\n3\t4\n", [[1, 2], [3, 4]], None),  # tab sniffed
        ("p.txt", b"1 2\n3   4\n", [[1, 2], [3, 4]], None),  # np.savetxt's default spaces
        ("p.csv", b"\xef\xbb\xbfa,b\r\n1,2\r\n3,4\r\n\r\n\n", [[1, 2], [3, 4]], ["a", "b"]),
        ("p.csv", b'"cat","dog"\n1,2\n', [[1, 2]], ["cat", "dog"]),
        ("p.csv", b"1, 2\n 3 ,4\n", [[1, 2], [3, 4]], None),  # spaces around fields
        ("p.csv", b"1e-3,-inf\n", [[1e-3, -np.inf]], None),
        ("p.csv", b"1,2", [[1, 2]], None),  # no final newline
        ("-", b"0.5\n0.25\n", [[0.5], [0.25]], None),
    ],
)
def test_text_tables(
    name: str, data: bytes, expected: list[list[float]], header: list[str] | None
) -> None:
    source = readers.parse(name, data)
    assert source.numbers(allow_minus_inf=True).tolist() == expected
    assert source.header == header


def test_blank_lines_inside_are_skipped_but_lines_still_count() -> None:
    source = readers.parse_text("p.csv", b"1,2\n\n3,x\n")
    with pytest.raises(InputError, match=r"^p\.csv:3:3: field 2 is 'x', not a number$"):
        source.numbers(allow_minus_inf=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"1,2,3\n4,5\n", r"^p\.csv:2:4: row has 2 fields but the first row has 3$"),
        (b"1,2\n4,5,6\n", r"^p\.csv:2:5: row has 3 fields but the first row has 2$"),
        (b"a,b\n1,2\n3\n", r"^p\.csv:3:2: row has 1 fields but the header has 2$"),
        (b"1,2\n3,abc\n", r"^p\.csv:2:3: field 2 is 'abc', not a number$"),
        (b"1,2\n3,\n", r"^p\.csv:2:3: field 2 is empty, not a number$"),
        (b"1,nan\n", r"^p\.csv:1:3: field 2 is 'nan' \(NaN\)"),
        (b"1,NaN\n", r"^p\.csv:1:3: field 2 is 'NaN' \(NaN\)"),
        (b"1,2\n3,inf\n", r"^p\.csv:2:3: field 2 is \+∞; only −∞"),
        (b"1,+Infinity\n", r"^p\.csv:1:3: field 2 is \+∞"),
        (b"1,1e999\n", r"^p\.csv:1:3: field 2 is '1e999', which overflows float64"),
        (b"1,-1e999\n", r"^p\.csv:1:3: field 2 is '-1e999', which overflows float64; write -inf"),
        (b"", r"^p\.csv:1:1: the input is empty"),
        (b"\n\n  \n", r"^p\.csv:1:1: the input is empty"),
        (b"a,b\n", r"^p\.csv:2:1: there is a header but no data rows"),
        (b"1,2\n\xff\xfe,3\n", r"^p\.csv:2:1: byte 0xff is not UTF-8 text"),
        (b"ab\x00cd", r"^p\.csv:1:3: binary data"),
    ],
)
def test_text_errors_name_line_and_column(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        readers.parse("p.csv", data).numbers(allow_minus_inf=True)


def test_minus_infinity_refused_where_not_allowed() -> None:
    source = readers.parse_text("y.csv", b"0\n-inf\n")
    with pytest.raises(InputError, match=r"^y\.csv:2:1: field 1 is −∞, which is not allowed here$"):
        source.numbers(allow_minus_inf=False)


def test_header_of_class_names_is_not_taken_for_labels() -> None:
    names = ["cat", "dog"]
    with_header = readers.parse_text("y.csv", b"label\ncat\ndog\n", class_names=names)
    assert with_header.header == ["label"]
    assert with_header.strings(0) == ["cat", "dog"]
    without = readers.parse_text("y.csv", b"cat\ndog\n", class_names=names)
    assert without.header is None
    assert without.strings(0) == ["cat", "dog"]


def test_position_of_a_cell_in_a_labels_file() -> None:
    source = readers.parse_text("y.csv", b"label\n0\n1\n")
    assert source.where(1, 0) == "y.csv:3:1"
    assert source.where_end() == "y.csv:4:1"


@pytest.mark.parametrize(
    "dtype", [np.float64, np.float32, np.float16, np.int64, np.uint8, np.bool_]
)
def test_npy_numeric_types_widen_to_float64(dtype: type) -> None:
    array = np.array([[1, 0], [0, 1]], dtype=dtype)
    source = readers.parse("p.npy", npy_bytes(array))
    values = source.numbers(allow_minus_inf=True)
    assert values.dtype == np.float64
    assert values.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert source.dtype == np.dtype(dtype)


def test_npy_one_dimensional_is_one_column() -> None:
    source = readers.parse("y.npy", npy_bytes(np.array([0, 2, 1])))
    assert source.n_columns == 1
    assert source.numbers(allow_minus_inf=False).tolist() == [[0.0], [2.0], [1.0]]


def test_npy_string_labels() -> None:
    source = readers.parse("y.npy", npy_bytes(np.array(["cat", "dog"])))
    assert not source.is_numeric(0)
    assert source.strings(0) == ["cat", "dog"]


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.array([[1.0, np.nan]]), r"^p\.npy: row 1, column 2: value is NaN$"),
        (np.array([[1.0], [np.inf]]), r"^p\.npy: row 2, column 1: value is \+∞"),
        (np.float64(3.0), r"^p\.npy: is a single value \(0-D\)"),
        (np.zeros((0, 3)), r"^p\.npy: is empty"),
        (np.array([1 + 2j]), r"^p\.npy: holds complex128 values"),
    ],
)
def test_npy_errors(array: np.ndarray, message: str) -> None:
    with pytest.raises(InputError, match=message):
        readers.parse("p.npy", npy_bytes(array)).numbers(allow_minus_inf=True)


def test_npy_pickles_are_refused() -> None:
    data = npy_bytes(np.array([{"a": 1}, 2], dtype=object))
    with pytest.raises(InputError, match="never unpickles"):
        readers.parse("p.npy", data)


def test_raw_pickle_is_refused() -> None:
    with pytest.raises(InputError, match="pickle"):
        readers.parse("p.pkl", pickle.dumps([1, 2]))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello", r"^p\.npy: is not a \.npy file"),
        (npy_bytes(np.zeros((4, 4)))[:100], r"^p\.npy: is not a valid \.npy file"),
        (b"\x93NUMPY\x09\x00garbage", r"^p\.npy: is not a valid \.npy file"),
    ],
)
def test_garbage_and_truncated_npy(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        readers.parse("p.npy", data)


def test_npz_key_selection() -> None:
    data = npz_bytes(logits=np.array([[1.0, 2.0]]), labels=np.array([1]))
    assert readers.parse("d.npz", data, key="logits").numbers(allow_minus_inf=True).tolist() == [
        [1.0, 2.0]
    ]
    with pytest.raises(
        UsageError, match=r"holds several arrays \(logits, labels\); choose one with --key"
    ):
        readers.parse("d.npz", data)
    with pytest.raises(UsageError, match="has no array 'nope'"):
        readers.parse("d.npz", data, key="nope")
    single = npz_bytes(only=np.array([[0.5]]))
    source = readers.parse("d.npz", single)
    assert source.name == "d.npz[only]"
    with pytest.raises(InputError, match=r"^d\.npz: is not a valid \.npz"):
        readers.parse("d.npz", data[:60])


def test_npz_with_object_array_is_refused() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, bad=np.array([{}, 1], dtype=object))
    with pytest.raises(InputError, match="never unpickles"):
        readers.parse("d.npz", buffer.getvalue())


def test_missing_and_unreadable_files(tmp_path: object) -> None:
    with pytest.raises(MissingInputError, match=r"nope\.csv: no such file"):
        readers.read("nope.csv")
    with pytest.raises(MissingInputError, match="is a directory"):
        readers.read(str(tmp_path))


def test_stdin_source() -> None:
    source = readers.read("-", stdin=io.BytesIO(b"1,2\n"))
    assert source.name == "<stdin>"
    assert source.numbers(allow_minus_inf=True).tolist() == [[1.0, 2.0]]
    npy = readers.read("-", stdin=io.BytesIO(npy_bytes(np.eye(2))))
    assert isinstance(npy, readers.ArraySource)


@settings(max_examples=300)
@given(st.binary(max_size=300), st.sampled_from(["x.csv", "x.tsv", "x.npy", "x.npz", "x", "-"]))
def test_random_bytes_never_raise_anything_but_xent_errors(data: bytes, name: str) -> None:
    try:
        source = readers.parse(name, data)
        source.numbers(allow_minus_inf=True)
        source.strings(0)
    except XentError:
        pass


csv_cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "abc", '"q"', "1e999", "-inf", " 3 ", "0x10", "1_0", "nan", "\u00a0"]),
)


@settings(max_examples=300)
@given(
    st.lists(st.lists(csv_cell, min_size=1, max_size=4), min_size=1, max_size=5),
    st.sampled_from([",", "\t", ";", " "]),
)
def test_malformed_csv_gives_xent_errors_or_finite_numbers(rows: list[list[str]], sep: str) -> None:
    data = "\n".join(sep.join(row) for row in rows).encode()
    try:
        values = readers.parse("m.csv", data).numbers(allow_minus_inf=False)
    except XentError:
        return
    assert np.isfinite(values).all()


@pytest.mark.parametrize("cell", ["1_0", "１", "0x10", "1e", "1d3", "\u00a0"])
def test_cells_python_would_take_but_loadtxt_would_not_are_named(cell: str) -> None:
    source = readers.parse_text("p.csv", f"1,2\n3,{cell}\n".encode())
    with pytest.raises(InputError, match=r"^p\.csv:2:3: field 2 is .*not a number$"):
        source.numbers(allow_minus_inf=True)


# ---- the fast (polars) path against the numpy path -----------------------------------------

fast_cell = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["", "x", "1e999", "-inf", "inf", "nan", " 3", "1_0", '"4"', "0x1", "1."]),
)


def both_paths(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """The outcome (array or error message) of each reader on the same bytes."""
    outcomes = []
    for no_fast in ("", "1"):
        monkeypatch.setenv("XENT_NO_FAST", no_fast)
        try:
            source = readers.parse_text("f.csv", data)
            outcomes.append(source.numbers(allow_minus_inf=True).tolist())
        except XentError as error:
            outcomes.append(error.message)
    return outcomes[0], outcomes[1]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(fast_cell, min_size=3, max_size=3), min_size=1, max_size=6), st.booleans())
def test_fast_and_numpy_readers_agree(rows: list[list[str]], header: bool) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(readers.text, "FAST_BYTES", 0)
        monkeypatch.setattr(readers.text, "FAST_BYTES_LOADED", 0)
        text = ("a,b,c\n" if header else "") + "\n".join(",".join(row) for row in rows) + "\n"
        fast, slow = both_paths(text.encode(), monkeypatch)
        assert fast == slow


@pytest.fixture
def polars_used(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The fast reader for every size; each read appends whether polars gave the numbers."""
    import polars  # noqa: F401  (the test extra installs it: these tests must not be skipped)

    monkeypatch.setattr(readers.text, "FAST_BYTES", 0)
    monkeypatch.setattr(readers.text, "FAST_BYTES_LOADED", 0)
    calls: list[bool] = []
    original = readers.TextSource._polars

    def spy(self: readers.TextSource, chosen: list[int]) -> object:
        result = original(self, chosen)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(readers.TextSource, "_polars", spy)
    return calls


def test_fast_reader_is_used_and_exact(polars_used: list[bool]) -> None:
    calls = polars_used
    values = np.random.default_rng(0).normal(size=(50, 4))
    text = "\n".join(",".join(repr(float(v)) for v in row) for row in values) + "\n"
    source = readers.parse_text("f.csv", ("w,x,y,z\n" + text).encode())
    assert source.numbers(allow_minus_inf=True).tolist() == values.tolist()
    assert calls == [True]


@pytest.mark.parametrize(
    "header", ['"a\nb",c,d\n', '13",15",17"\n', '"a,b",c,d\n', 'x,"y\n\nz",w\n']
)
def test_fast_reader_skips_the_header_by_lines(polars_used: list[bool], header: str) -> None:
    """polars' skip_rows follows quotes: a header of quoted line breaks (or inch marks)
    would skip a data row silently; the header is skipped as lines, and every row read."""
    used = polars_used
    source = readers.parse_text("f.csv", (header + "0.5,1.5,0.1\n2.2,1.3,1.7\n").encode())
    assert source.numbers(allow_minus_inf=True).tolist() == [[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]]
    assert used == [True]


def _torch_zip() -> bytes:
    """The layout torch.save writes (a zip of a pickle and raw storages), built without torch."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        archive.writestr("archive/data/0", np.zeros(6, dtype=np.float32).tobytes())
        archive.writestr("archive/version", b"3\n")
    return buffer.getvalue()


@pytest.mark.parametrize("key", [None, "archive/data/0"])
def test_regression_a_pytorch_file_is_refused_not_taken_for_an_npz(
    tmp_path: Path, key: str | None
) -> None:
    """A torch.save file was read as an .npz; its own advice (--key …/data/0) then ended in
    an AttributeError traceback. It is refused, unpickled never, with the way out."""
    path = tmp_path / "logits.pt"
    path.write_bytes(_torch_zip())
    with pytest.raises(InputError, match=r"is a PyTorch file .* np\.save"):
        readers.read(str(path), key=key)


def test_a_legacy_pytorch_pickle_says_so(tmp_path: Path) -> None:
    (tmp_path / "model.pth").write_bytes(b"\x80\x02\x8a\x0alz\xfc\x9cF\xf9 j\xa8P\x19.")
    with pytest.raises(InputError, match="is a PyTorch file"):
        readers.read(str(tmp_path / "model.pth"))


def test_a_zip_without_arrays_is_not_an_npz(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "x.npz", "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(InputError, match=r"holding no arrays \(\.npy members\)"):
        readers.read(str(tmp_path / "x.npz"))


def test_files_xent_does_not_read_say_what_they_are() -> None:
    with pytest.raises(InputError, match=r"x\.bin: is an HDF5 file"):
        readers.parse("x.bin", b"\x89HDF\r\n\x1a\n\x00\x00\x00\x00")


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"PAR1\x15\x04\x15\xa0\x01\x15\x00PAR1", "is not a readable Parquet file"),
        (b"ARROW1\x00\x00\xff\xff\xff\xff", "is not a readable Arrow IPC file"),
        (zstandard.ZstdCompressor().compress(b"0.5,1.5\n" * 99)[:12], "is not a valid zstd stream"),
    ],
)
def test_damaged_tables_and_streams_say_what_they_are(data: bytes, what: str) -> None:
    with pytest.raises(InputError, match=f"x.bin: {what}"):
        readers.parse("x.bin", data)


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress])
def test_compressed_text_is_read_by_its_magic_number(compress: Callable[[bytes], bytes]) -> None:
    source = readers.parse("x.bin", compress(b"0.5,1.5\n0.25,0.75\n"))
    assert source.numbers(allow_minus_inf=False).tolist() == [[0.5, 1.5], [0.25, 0.75]]


def test_text_that_starts_like_a_magic_number_is_still_text() -> None:
    source = readers.parse("p.csv", b"PAR1,BZh\n0.5,1.5\n")
    assert source.header == ["PAR1", "BZh"]


@pytest.mark.parametrize("name", [*readers.__all__, *readers.MODULES])
def test_every_name_the_package_gives_is_there(name: str) -> None:
    """A reader's module loads when one of its names is first asked for (issue 18)."""
    assert getattr(readers, name) is not None


def test_a_name_the_package_does_not_give_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'chunk'"):
        _ = readers.chunk


def test_regression_a_very_wide_csv_goes_to_numpy_not_polars(polars_used: list[bool]) -> None:
    """A single-line CSV of 50 MB took over 60 s and 11 GB in polars (numpy: 5 s, 1 GB)."""
    row = ",".join(["0.5"] * 20_000)
    source = readers.parse_text("wide.csv", f"{row}\n{row}\n".encode())
    assert source.numbers(allow_minus_inf=True).shape == (2, 20_000)
    assert polars_used == [False]


def test_ids_saved_in_a_float_array_read_as_whole_numbers(tmp_path: Path) -> None:
    """--id-column of a float .npy printed 100.0 for the id 100."""
    np.save(tmp_path / "p.npy", np.array([[100.0, 0.2, 0.8], [101.0, 0.6, 0.4]]))
    (tmp_path / "y.csv").write_text("1\n0\n", encoding="utf-8")
    from typer.testing import CliRunner

    from xent_cli.cli import app

    args = ["compute", str(tmp_path / "p.npy"), str(tmp_path / "y.csv"), "--id-column", "0"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert [line.split(",")[1] for line in result.stdout.splitlines()] == ["id", "100", "101"]


def test_regression_a_line_of_a_no_break_space_is_a_short_row_not_a_crash() -> None:
    """Found by hypothesis: a first line of U+00A0 alone (blank to the reader) beside a
    non-finite value raised IndexError; it is a row with too few fields."""
    data = "\u00a0\ninf\t".encode()
    with pytest.raises(InputError, match=r"^m\.csv:1:\d+: row has 0 fields"):
        readers.parse("m.csv", data).numbers(allow_minus_inf=False)

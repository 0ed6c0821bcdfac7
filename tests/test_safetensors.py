"""``.safetensors``: every dtype xent reads, BF16 widened exactly, streams, hostile files.

Files are written here by hand (struct, json, numpy), in the reference writer's layout
(huggingface/safetensors: compact JSON padded with spaces to a multiple of 8, tensors in
order, no gaps); when the ``safetensors`` package happens to be installed it cross-checks.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xent_cli.detection import sum_tolerance
from xent_cli.errors import InputError, MissingInputError, UsageError
from xent_cli.readers import arrays
from xent_cli.readers.formats import MAX_HEADER_BYTES, looks_like_safetensors
from xent_cli.readers.safetensors import (
    Bf16Source,
    Bf16Stream,
    open_safetensors,
    parse_safetensors,
    widen_bf16,
)

NAMES: dict[np.dtype[np.generic], str] = {  # numpy dtype → safetensors dtype
    np.dtype(np.float64): "F64",
    np.dtype(np.float32): "F32",
    np.dtype(np.float16): "F16",
    np.dtype(np.int64): "I64",
    np.dtype(np.int32): "I32",
    np.dtype(np.int16): "I16",
    np.dtype(np.int8): "I8",
    np.dtype(np.uint64): "U64",
    np.dtype(np.uint32): "U32",
    np.dtype(np.uint16): "U16",
    np.dtype(np.uint8): "U8",
    np.dtype(np.bool_): "BOOL",
}


def raw_file(header: object, data: bytes = b"", *, pad: bool = True) -> bytes:
    """A file of a header (a JSON value, or its bytes as they are) and a byte buffer."""
    text = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":"))
    text = text if isinstance(text, bytes) else text.encode()
    if pad:
        text += b" " * (-len(text) % 8)  # the reference writer aligns the data to 8 bytes
    return struct.pack("<Q", len(text)) + text + data


def file_of(
    tensors: dict[str, tuple[str, list[int], bytes]], metadata: dict[str, str] | None = None
) -> bytes:
    """A valid file of raw tensors (dtype name, shape, bytes), in order."""
    header: dict[str, object] = {} if metadata is None else {"__metadata__": metadata}
    data = b""
    for key, (dtype, shape, raw) in tensors.items():
        header[key] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    return raw_file(header, data)


def file_of_arrays(**arrays_: np.ndarray) -> bytes:
    return file_of(
        {
            key: (NAMES[a.dtype], list(a.shape), a.astype(a.dtype.newbyteorder("<")).tobytes())
            for key, a in arrays_.items()
        }
    )


def on_disk(tmp_path: Path, data: bytes, name: str = "t.safetensors") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def bf16_value(bits: int) -> float:
    """The value of a bfloat16 pattern, computed independently: its bits are a float32's top
    half."""
    return float(struct.unpack("<f", struct.pack("<I", bits << 16))[0])


# ---------------------------------------------------------------- values of every dtype


@pytest.mark.parametrize("dtype", list(NAMES))
@pytest.mark.parametrize("shape", [(5,), (4, 3)])
@pytest.mark.parametrize("from_path", [False, True])
def test_every_dtype_reads_the_values_written(
    tmp_path: Path, dtype: np.dtype[np.generic], shape: tuple[int, ...], from_path: bool
) -> None:
    rng = np.random.default_rng(7)
    if dtype.kind == "f":
        array = rng.normal(scale=100.0, size=shape).astype(dtype)
    elif dtype.kind == "b":
        array = rng.integers(0, 2, size=shape).astype(dtype)
    else:
        info = np.iinfo(dtype)  # type: ignore[type-var]
        array = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    data = file_of_arrays(logits=array)
    source = parse_safetensors(
        "t.safetensors", on_disk(tmp_path, data) if from_path else data, None
    )
    assert source.name == "t.safetensors[logits]"
    assert source.dtype == dtype
    assert source.array.shape == shape
    assert source.array.tobytes() == array.tobytes()
    assert source.array.flags.writeable
    expected = array.astype(np.float64).reshape(shape[0], -1)
    assert source.numbers(allow_minus_inf=False).tobytes() == expected.tobytes()


def test_reference_writer_bytes_read() -> None:
    """A 2×2 I32 tensor as the reference writer lays it out (a 64-byte space-padded header)."""
    data = (
        b'@\x00\x00\x00\x00\x00\x00\x00{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}'
        b"    " + struct.pack("<4i", 0, 0, 0, 1)
    )
    source = parse_safetensors("r.safetensors", data, None)
    assert source.array.tolist() == [[0, 0], [0, 1]]


def test_leading_whitespace_and_metadata_are_taken() -> None:
    header = {
        "__metadata__": {"format": "pt"},
        "p": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]},
    }
    text = b"\n\t " + json.dumps(header).encode() + b"\r\n"
    data = raw_file(text, struct.pack("<2d", 0.25, 0.75), pad=False)
    assert looks_like_safetensors(data)
    assert parse_safetensors("m.safetensors", data, None).array.tolist() == [0.25, 0.75]


# ---------------------------------------------------------------- BF16


BF16_CASES = [  # (bits, what)
    (0x3F80, "1.0"),
    (0xC020, "-2.5"),
    (0x7F7F, "the largest bfloat16, 3.3895313892515355e38"),
    (0x0001, "the smallest subnormal, 9.183549615799121e-41"),
    (0x8000, "-0.0"),
    (0x3EAB, "0.333984375 (1/3 rounded)"),
    (0x0080, "the smallest normal, 2**-126"),
]


@pytest.mark.parametrize("from_path", [False, True])
def test_bf16_is_widened_exactly(tmp_path: Path, from_path: bool) -> None:
    bits = [b for b, _ in BF16_CASES]
    data = file_of({"p": ("BF16", [len(bits)], struct.pack(f"<{len(bits)}H", *bits))})
    source = parse_safetensors(
        "b.safetensors", on_disk(tmp_path, data) if from_path else data, None
    )
    assert isinstance(source, Bf16Source)
    got = source.numbers(allow_minus_inf=False)[:, 0].tolist()
    expected = [bf16_value(b) for b in bits]
    assert [struct.pack("<d", v) for v in got] == [struct.pack("<d", v) for v in expected]
    assert got[:4] == [1.0, -2.5, 3.3895313892515355e38, 9.183549615799121e-41]


def test_every_bf16_pattern_widens_to_its_float32() -> None:
    widened = widen_bf16(np.arange(1 << 16, dtype=np.uint16))
    expected = b"".join(struct.pack("<I", bits << 16) for bits in range(1 << 16))
    assert widened.astype("<f4").tobytes() == expected  # NaN payloads kept too
    finite = [bits for bits in range(1 << 16) if (bits >> 7) & 0xFF != 0xFF]
    assert widened[finite].astype(np.float64).tolist() == [bf16_value(b) for b in finite]


def test_bf16_reports_float16_so_bf16_softmax_rows_sum_to_one() -> None:
    """bfloat16 has 8 significant bits; the dtype it reports gives the "sums to 1" tolerance
    float16's K·2⁻¹⁰, not float32's K·2⁻²³ (which bf16 probabilities would fail)."""
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(200, 10))
    p = (np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)).astype(np.float32)
    bits = (p.view(np.uint32) + 0x8000) >> 16  # rounded to nearest bf16 (no ties at random)
    data = file_of({"p": ("BF16", [200, 10], bits.astype("<u2").tobytes())})
    source = parse_safetensors("s.safetensors", data, None)
    assert source.dtype == np.float16
    assert source.array.dtype == np.float32  # the values keep every bit
    sums = source.numbers(allow_minus_inf=False).sum(axis=1)
    assert np.abs(sums - 1).max() <= sum_tolerance(10, source.dtype)
    assert np.abs(sums - 1).max() > sum_tolerance(10, np.dtype(np.float32))


# ---------------------------------------------------------------- choosing a tensor


def several() -> bytes:
    return file_of_arrays(
        logits=np.arange(6, dtype=np.float32).reshape(3, 2), labels=np.array([0, 1, 1])
    )


@pytest.mark.parametrize("from_path", [False, True])
def test_key_chooses_the_tensor(tmp_path: Path, from_path: bool) -> None:
    data: bytes | str = on_disk(tmp_path, several()) if from_path else several()
    assert parse_safetensors("s.safetensors", data, "labels").array.tolist() == [0, 1, 1]
    logits = parse_safetensors("s.safetensors", data, "logits")
    assert logits.name == "s.safetensors[logits]"
    assert logits.array.tolist() == [[0, 1], [2, 3], [4, 5]]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            None,
            "s.safetensors holds several tensors (logits, labels); choose one with --key NAME "
            "(of LABELS: --label-key NAME)",
        ),
        ("probs", "s.safetensors has no tensor 'probs'; it holds: logits, labels"),
        ("__metadata__", "s.safetensors has no tensor '__metadata__'; it holds: logits, labels"),
    ],
)
def test_a_key_is_needed_or_missing(key: str | None, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_safetensors("s.safetensors", several(), key)
    assert caught.value.message == message


def test_many_tensors_are_listed_short() -> None:
    data = file_of({f"layer{i}": ("U8", [1], b"\x00") for i in range(50)})
    with pytest.raises(UsageError, match=r"layer19, … \(50 in all\)\); choose one"):
        parse_safetensors("m.safetensors", data, None)


def test_a_tensor_beside_unread_dtypes_is_read() -> None:
    data = file_of(
        {
            "fp8": ("F8_E4M3", [4], b"\x01\x02\x03\x04"),
            "fp4": ("F4", [2], b"\x12"),
            "new": ("F999", [3], b"\x00" * 7),  # a dtype not known yet: its size is not checked
            "p": ("F32", [1], struct.pack("<f", 0.5)),
        }
    )
    assert parse_safetensors("q.safetensors", data, "p").array.tolist() == [0.5]


@pytest.mark.parametrize(
    ("dtype", "shape", "raw", "message"),
    [
        ("F8_E4M3", [2], b"\x01\x02", "holds F8_E4M3 values (8-bit floats), which xent does not"),
        ("F8_E5M2", [2], b"\x01\x02", "holds F8_E5M2 values (8-bit floats)"),
        ("F4", [2], b"\x12", "holds F4 values (4-bit floats)"),
        ("C64", [1], b"\x00" * 8, "holds C64 values (complex numbers)"),
        ("F999", [1], b"\x00", "has dtype 'F999', which xent does not know (it reads F64, F32"),
        ("F32", [], b"\x00" * 4, "is a single value (0-D); give a 1-D or 2-D array"),
        ("F32", [0, 3], b"", "is empty (shape (0, 3))"),
        ("BOOL", [3], b"\x01\x00\x02", "t.safetensors[x]: row 3: a BOOL value is the byte 2"),
    ],
)
@pytest.mark.parametrize("from_path", [False, True])
def test_tensors_xent_does_not_read_are_refused(
    tmp_path: Path, dtype: str, shape: list[int], raw: bytes, message: str, from_path: bool
) -> None:
    data = file_of({"x": (dtype, shape, raw)})
    with pytest.raises(InputError) as caught:
        parse_safetensors("t.safetensors", on_disk(tmp_path, data) if from_path else data, None)
    assert caught.value.message.startswith("t.safetensors[x]")
    assert message in caught.value.message


# ---------------------------------------------------------------- hostile files


def tensor(
    dtype: object = "F32", shape: object = (2,), offsets: object = (0, 8)
) -> dict[str, object]:
    return {
        "dtype": dtype,
        "shape": list(shape) if isinstance(shape, tuple) else shape,
        "data_offsets": list(offsets) if isinstance(offsets, tuple) else offsets,
    }


EIGHT = b"\x00" * 8
HOSTILE = [  # (file, what the message says)
    (b"", "is not a .safetensors file: it holds 0 bytes, fewer than the 8"),
    (b"\x05\x00\x00", "fewer than the 8 of the length"),
    (struct.pack("<Q", 1 << 40) + b"{}", "a header of 1.02e+03 GiB, more than the 100 MB"),
    (struct.pack("<Q", MAX_HEADER_BYTES + 1) + b"{}", "more than the 100 MB safetensors allows"),
    (struct.pack("<Q", 64) + b"{}", "a header of 64 bytes, the file holds 2 bytes after them"),
    (raw_file(b'{"\xff": 1}'), "its header is not UTF-8 text (byte 3 of the header)"),
    (raw_file(b"{"), "its header is not valid JSON (Expecting property name"),
    (raw_file(b""), "its header is not valid JSON (Expecting value at line 1, column 1"),
    (raw_file(b"[" * 100_000 + b"]" * 100_000), "its header is not valid JSON"),
    (raw_file(b'{"p": ' + b"9" * 5000 + b"}"), "its header is not valid JSON"),
    (raw_file([1, 2]), "its header is a list, not a JSON object of tensors"),
    (raw_file("x"), "its header is a string, not a JSON object of tensors"),
    (raw_file(b'{"p": {}, "p": {}}'), "its header gives the key 'p' twice"),
    (raw_file({"__metadata__": [1]}), "its __metadata__ is a list, not an object"),
    (raw_file({"p": 3}), "[p]: its header entry is a number, not an object with dtype"),
    (
        raw_file({"p": {"shape": [2], "data_offsets": [0, 8]}}, EIGHT),
        "[p]: its header entry has no 'dtype'",
    ),
    (raw_file({"p": {"dtype": "F32", "data_offsets": [0, 8]}}, EIGHT), "has no 'shape'"),
    (raw_file({"p": {"dtype": "F32", "shape": [2]}}, EIGHT), "has no 'data_offsets'"),
    (raw_file({"p": tensor(dtype=32)}, EIGHT), "[p]: its dtype is 32, not a name such as 'F32'"),
    (raw_file({"p": tensor(shape=[-2])}, EIGHT), "[p]: its shape is [-2], not a list of sizes"),
    (raw_file({"p": tensor(shape=[2.0])}, EIGHT), "its shape is [2.0], not a list of sizes"),
    (raw_file({"p": tensor(shape=[True, 2])}, EIGHT), "its shape is [True, 2], not a list"),
    (raw_file({"p": tensor(shape="2")}, EIGHT), "its shape is '2', not a list of sizes"),
    (raw_file({"p": tensor(offsets=[0, 8, 9])}, EIGHT), "its data_offsets are [0, 8, 9], not"),
    (raw_file({"p": tensor(offsets=[-1, 8])}, EIGHT), "its data_offsets are [-1, 8], not"),
    (raw_file({"p": tensor(offsets=[0, 8.0])}, EIGHT), "its data_offsets are [0, 8.0], not"),
    (raw_file({"p": tensor(offsets=[8, 0])}, EIGHT), "[p]: its data_offsets [8, 0] end before"),
    (
        raw_file({"p": tensor(offsets=[0, 16])}, EIGHT),
        "[p]: its data_offsets [0, 16] reach past the end of the file (its data holds 8 bytes)",
    ),
    (
        raw_file({"p": tensor(shape=[1 << 30], offsets=[0, 1 << 32])}, EIGHT),
        "reach past the end of the file",
    ),
    (
        raw_file({"p": tensor(shape=[2, 2])}, EIGHT),
        "[p]: shape 2×2 F32 needs 16 bytes, its data_offsets give 8",
    ),
    (
        raw_file({"p": tensor(shape=[2, 18446744073709551614])}, EIGHT),
        "[p]: shape 2×18446744073709551614 F32 is more than 2**64 values, its data_offsets give 8",
    ),
    (
        raw_file({"p": tensor(shape=[10**4000] * 3)}, EIGHT),
        "is more than 2**64 values",
    ),
    (
        raw_file({"p": tensor("F4", [3], [0, 2])}, b"\x00\x00"),
        "[p]: shape 3 F4 is 12 bits, not a whole",
    ),
    (
        raw_file({"a": tensor(offsets=[0, 8]), "b": tensor(offsets=[4, 12])}, b"\x00" * 12),
        "tensors 'a' (bytes 0–8) and 'b' (bytes 4–12) overlap in its data",
    ),
    (
        raw_file({"a": tensor(offsets=[0, 8]), "e": tensor(shape=[0], offsets=[4, 4])}, EIGHT),
        "tensors 'a' (bytes 0–8) and 'e' (bytes 4–4) overlap",
    ),
    (
        raw_file({"a": tensor(offsets=[4, 12])}, b"\x00" * 12),
        "bytes 0–4 of its data belong to no tensor",
    ),
    (raw_file({"a": tensor()}, EIGHT + b"polyglot"), "8 bytes follow its last tensor"),
    (raw_file({}, EIGHT), "8 bytes follow its last tensor"),
    (raw_file({}), "holds no tensors (its header lists none)"),
    (raw_file({"__metadata__": {"a": "b"}}), "holds no tensors"),
]


@pytest.mark.parametrize(("data", "message"), HOSTILE)
@pytest.mark.parametrize("from_path", [False, True])
def test_every_defect_is_one_input_error_naming_the_file(
    tmp_path: Path, data: bytes, message: str, from_path: bool
) -> None:
    with pytest.raises(InputError) as caught:
        parse_safetensors("h.safetensors", on_disk(tmp_path, data) if from_path else data, None)
    assert caught.value.message.startswith("h.safetensors")
    assert message in caught.value.message


@pytest.mark.parametrize(
    "data",
    [
        raw_file({"p": tensor(shape=[1 << 40], offsets=[0, 1 << 42])}, EIGHT),  # 4 TiB claimed
        struct.pack("<Q", MAX_HEADER_BYTES) + b"{" + b" " * 100,  # a 100 MB header claimed
        raw_file({"p": tensor("F64", [1 << 27], [0, 1 << 30])}, b"\x00" * 64),  # 1 GiB claimed
    ],
)
def test_what_a_header_claims_is_never_allocated(tmp_path: Path, data: bytes) -> None:
    path = on_disk(tmp_path, data)
    tracemalloc.start()
    try:
        for source in (data, path):
            with pytest.raises(InputError):
                parse_safetensors("c.safetensors", source, None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_one_tensor_of_a_large_file_is_read_alone(tmp_path: Path) -> None:
    """Only the header and the chosen tensor are read: a 1 GiB tensor before it is skipped
    (a sparse file: nothing is written for it)."""
    big = 1 << 30
    header = {
        "big": tensor("F32", [big // 4], [0, big]),
        "labels": tensor("I64", [3], [big, big + 24]),
    }
    head = raw_file(header)
    path = tmp_path / "large.safetensors"
    with open(path, "wb") as handle:
        handle.write(head)
        handle.seek(len(head) + big)
        handle.write(struct.pack("<3q", 2, 0, 1))
    if os.stat(path).st_blocks * 512 > 16 << 20:
        pytest.skip("this file system does not keep sparse files")
    tracemalloc.start()
    try:
        source = parse_safetensors(str(path), str(path), "labels")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert source.array.tolist() == [2, 0, 1]
    assert peak < 1 << 20
    stream = open_safetensors(str(path), "big")  # 1 GiB: larger than STREAM_BYTES
    assert stream is not None
    assert stream.n_rows == big // 4
    assert stream.n_columns == 1
    start, stop = stream.blocks()[-1]
    assert not stream.read(start, stop).any()


def test_a_missing_file_is_a_missing_input(tmp_path: Path) -> None:
    with pytest.raises(MissingInputError, match="cannot read"):
        parse_safetensors("gone.safetensors", str(tmp_path / "gone.safetensors"), None)
    assert open_safetensors(str(tmp_path / "gone.safetensors"), None) is None


# ---------------------------------------------------------------- streams


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stream every tensor, in blocks of a few rows."""
    monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
    monkeypatch.setattr(arrays, "BLOCK_BYTES", 24)


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("dtype", ["F64", "F32", "F16", "BF16", "I32", "U8"])
@pytest.mark.parametrize("shape", [(37, 3), (41,)])
def test_streams_give_the_bits_of_the_whole_read(
    tmp_path: Path, dtype: str, shape: tuple[int, ...]
) -> None:
    rng = np.random.default_rng(11)
    values = rng.normal(scale=30.0, size=shape)
    if dtype == "BF16":
        raw = (values.astype(np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()
    elif dtype in ("I32", "U8"):
        raw = np.abs(values).astype("<i4" if dtype == "I32" else "u1").tobytes()
    else:
        raw = values.astype({"F64": "<f8", "F32": "<f4", "F16": "<f2"}[dtype]).tobytes()
    data = file_of({"first": ("U8", [3], b"\x01\x02\x03"), "p": (dtype, list(shape), raw)})
    path = on_disk(tmp_path, data)
    stream = open_safetensors(path, "p")
    assert stream is not None
    assert isinstance(stream, Bf16Stream) == (dtype == "BF16")
    whole = parse_safetensors(path, path, "p")
    assert stream.name == whole.name == f"{path}[p]"
    assert (stream.n_rows, stream.n_columns, stream.dtype) == (
        whole.n_rows,
        whole.n_columns,
        whole.dtype,
    )
    assert len(stream.blocks()) > 1
    blocks = [stream.read(start, stop).copy() for start, stop in stream.blocks()]  # reused
    streamed = np.concatenate(blocks)
    assert streamed.tobytes() == whole.numbers(allow_minus_inf=True).tobytes()


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize(
    ("dtype", "shape", "raw"),
    [
        ("BOOL", [4], b"\x00\x01\x00\x01"),  # checked whole
        ("F8_E4M3", [4], b"\x00" * 4),  # refused by the whole reader
        ("F32", [0], b""),  # empty
    ],
)
def test_tensors_that_do_not_stream_are_left_to_the_whole_reader(
    tmp_path: Path, dtype: str, shape: list[int], raw: bytes
) -> None:
    assert open_safetensors(on_disk(tmp_path, file_of({"x": (dtype, shape, raw)})), None) is None


def test_small_tensors_are_not_streamed(tmp_path: Path) -> None:
    path = on_disk(tmp_path, file_of_arrays(p=np.zeros((4, 3))))
    assert open_safetensors(path, None) is None


@pytest.mark.usefixtures("small_blocks")
def test_a_stream_says_what_parse_would(tmp_path: Path) -> None:
    path = on_disk(tmp_path, several())
    with pytest.raises(UsageError, match="holds several tensors"):
        open_safetensors(path, None)
    with pytest.raises(UsageError, match="has no tensor 'x'"):
        open_safetensors(path, "x")
    truncated = on_disk(tmp_path, several()[:-3], "cut.safetensors")
    with pytest.raises(InputError, match=r"cut\.safetensors\[labels\]: its data_offsets .* reach"):
        open_safetensors(truncated, "logits")


# ---------------------------------------------------------------- recognised by content


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (file_of_arrays(p=np.zeros(3)), True),
        (raw_file(b"  \n{}"), True),
        (raw_file({}), True),
        (b"1,2\n3,4\n", False),
        (b"\x93NUMPY\x01\x00v\x00{'descr'", False),
        (b"PK\x03\x04" + b"\x00" * 30, False),
        (b"", False),
        (struct.pack("<Q", 2), False),  # nothing after the length
        (struct.pack("<Q", MAX_HEADER_BYTES + 1) + b"{}", False),
        (struct.pack("<Q", 1) + b"{", False),  # no JSON object is 1 byte
        (b"\x00" * 64, False),
        (struct.pack("<Q", 8) + b"[1,2,3] ", False),
    ],
)
def test_files_are_recognised_by_content(head: bytes, expected: bool) -> None:
    assert looks_like_safetensors(head) is expected


# ---------------------------------------------------------------- fuzzing


fuzz = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SIZES = st.integers(min_value=-2, max_value=40) | st.sampled_from([1 << 63, 10**30])
ENTRY = st.fixed_dictionaries(
    {
        "dtype": st.sampled_from(
            ["F32", "F64", "F16", "BF16", "I64", "BOOL", "U8", "F4", "C64", "X"]
        )
        | st.integers(),
        "shape": st.lists(SIZES, max_size=4) | st.none(),
        "data_offsets": st.lists(SIZES, min_size=0, max_size=3),
    },
    optional={"extra": st.text(max_size=3)},
)
HEADERS = st.dictionaries(
    st.sampled_from(["p", "y", "__metadata__", "z"]), ENTRY | st.integers() | st.text(max_size=3)
)


def failure(name: str, source: bytes | str, key: str | None) -> str | None:
    """What reading says is wrong (``None``: nothing); any other exception fails the test."""
    try:
        parse_safetensors(name, source, key)
    except (InputError, UsageError) as error:
        return error.message
    return None


def check_only_xent_errors(data: bytes, key: str | None) -> None:
    with tempfile.NamedTemporaryFile(suffix=".safetensors") as handle:
        handle.write(data)
        handle.flush()
        for source in (data, handle.name):
            message = failure("f.safetensors", source, key)
            assert message is None or message.startswith("f.safetensors")
        looks_like_safetensors(data)
        try:
            open_safetensors(handle.name, key)
        except (InputError, UsageError):
            pass


@fuzz
@given(data=st.binary(max_size=256), key=st.sampled_from([None, "p"]))
def test_random_bytes_give_only_xent_errors(data: bytes, key: str | None) -> None:
    check_only_xent_errors(data, key)


@fuzz
@given(header=HEADERS, data=st.binary(max_size=64), key=st.sampled_from([None, "p", "y"]))
def test_random_headers_give_only_xent_errors(
    header: dict[str, object], data: bytes, key: str | None
) -> None:
    check_only_xent_errors(raw_file(header, data), key)


ITEMSIZES = {name: dtype.itemsize for dtype, name in NAMES.items()}


@fuzz
@given(
    dtype=st.sampled_from(sorted(ITEMSIZES)),
    n=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    flip=st.integers(0, 10_000),
)
def test_a_flipped_byte_gives_only_xent_errors(dtype: str, n: int, seed: int, flip: int) -> None:
    raw = np.random.default_rng(seed).bytes(n * 3 * ITEMSIZES[dtype])
    data = bytearray(file_of({"p": (dtype, [n, 3], raw)}))
    data[flip % len(data)] ^= 0xFF
    check_only_xent_errors(bytes(data), None)


# ---------------------------------------------------------------- the reference package


def test_the_safetensors_package_agrees(tmp_path: Path) -> None:
    """Only when ``safetensors`` happens to be installed (it is not a dependency)."""
    st_numpy = pytest.importorskip("safetensors.numpy")
    rng = np.random.default_rng(5)
    tensors: dict[str, np.ndarray] = {
        "logits": rng.normal(size=(6, 4)).astype(np.float32),
        "half": rng.normal(size=(6, 4)).astype(np.float16),
        "labels": rng.integers(0, 4, size=6),
        "mask": rng.integers(0, 2, size=6).astype(bool),
    }
    path = str(tmp_path / "ref.safetensors")
    st_numpy.save_file(tensors, path, metadata={"format": "np"})
    for key, array in tensors.items():
        assert parse_safetensors(path, path, key).array.tobytes() == array.tobytes()
    ours = st_numpy.load(file_of_arrays(**tensors))
    for key, array in tensors.items():
        assert ours[key].tobytes() == array.tobytes()

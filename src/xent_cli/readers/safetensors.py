"""``.safetensors`` (Hugging Face): one tensor read from its header, large ones streamed.

The layout, as read in huggingface/safetensors (README "Format", docs/safetensors.schema.json,
safetensors/src/tensor.rs: ``read_metadata``, ``Metadata::validate``, ``Dtype::bitsize`` and
their tests; bindings/python: ``numpy.py``'s dtype table, ``tests/test_simple.py``'s bytes):

- 8 bytes: N, an unsigned little-endian 64-bit integer, the header's length. The reference
  reader refuses N > 100,000,000 (``MAX_HEADER_SIZE``) and N beyond the file.
- N bytes: UTF-8 JSON, an object ``{name: {"dtype": "F32", "shape": [2, 3], "data_offsets":
  [begin, end]}, …}`` with an optional ``"__metadata__"`` (a string → string map; xent only
  checks that it is an object). The writer pads the header with spaces to a multiple of 8;
  readers take JSON whitespace before and after the object. Keys may not repeat.
- the byte buffer: ``data_offsets`` count from its start (the file's byte 8 + N), ``end`` one
  past the last byte; ``end − begin`` is prod(shape) × the dtype's bits / 8. Tensors cover the
  buffer exactly, without overlaps or gaps (no polyglot files), to the file's last byte.
  Values are little-endian, in C order; NaN and ±∞ are not checked by the format (the common
  value checks of :mod:`.base` see them). A 0-D tensor (shape ``[]``) is one value; a shape
  with a 0 holds no bytes.
- dtypes: BOOL, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ (8 bits), F4 (4),
  F6_E2M3, F6_E3M2 (6), I16, U16, F16, BF16 (16), I32, U32, F32 (32), C64, F64, I64, U64 (64).

xent reads F64, F32, F16, BF16 and the integer and BOOL tensors (labels); the others are
refused with what to do. BF16 is widened exactly: its 16 bits are the top half of a float32.
Only the header and the chosen tensor are read, and every length a header claims is checked
against the file's size before anything is allocated (DESIGN §5). A tensor larger than
:data:`~.arrays.STREAM_BYTES` is streamed in row blocks by :func:`open_safetensors`.

**The dtype a BF16 tensor reports is float16.** The rest of xent uses a source's dtype for the
"sums to 1" tolerance (K·ε of the dtype) and for scikit-learn's clipping ε; numpy has no
bfloat16, and of its dtypes float16 is the closest: the same 2 bytes a value (so row sizes in
:class:`~.arrays.NpyStream` stay right) and the coarsest ε numpy knows (2⁻¹⁰; bfloat16's own is
2⁻⁷, see :data:`BF16_EPSILON`). float32's ε (2⁻²³) would judge bfloat16 softmax rows not to
sum to 1. The values themselves keep every bit: the array is float32 (exact), read as float64.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from xent_cli.errors import InputError, MissingInputError

from . import arrays
from .arrays import ArraySource, NpyStream, _bytes, _check_array
from .base import array_where, chosen, short
from .formats import LENGTH_BYTES, MAX_HEADER_BYTES

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

BF16_EPSILON = 2.0**-7  # bfloat16's machine epsilon: 8 significant bits
BF16_REPORTED = np.dtype(np.float16)  # the dtype a BF16 tensor reports (module docstring)

BITS = {  # every dtype the format defines (tensor.rs, Dtype::bitsize)
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "F8_E4M3FNUZ": 8,
    "F8_E5M2FNUZ": 8,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "F64": 64,
    "I64": 64,
    "U64": 64,
}
READ = {  # the dtypes xent reads, as numpy reads their bytes (BF16 and BOOL then converted)
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "BF16": "<u2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "u1",
}
STREAMED = frozenset(READ) - {"BOOL"}  # a BOOL tensor's bytes are checked whole


@dataclass(frozen=True)
class Tensor:
    """One entry of a safetensors header; offsets count from the byte buffer's start."""

    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.begin

    def describe(self) -> str:
        return f"{_dims(self.shape)} {self.dtype}"


@dataclass(frozen=True)
class Header:
    """A checked header: its tensors (in the header's order) and where the data starts."""

    length: int  # N
    tensors: dict[str, Tensor]

    @property
    def data_start(self) -> int:
        return LENGTH_BYTES + self.length


@dataclass
class Bf16Source(ArraySource):
    """A BF16 tensor, widened exactly to float32; it reports float16 (module docstring)."""

    @property
    def dtype(self) -> np.dtype[np.generic]:
        return BF16_REPORTED


@dataclass
class Bf16Stream(NpyStream):
    """A large BF16 tensor read in row blocks; ``dtype`` is float16 (2 bytes a value, as
    bfloat16, and the tolerance the rest of xent gives half precision)."""

    @property
    def storage(self) -> np.dtype[np.generic]:
        return np.dtype("<u2")  # the bfloat16 bit patterns

    def _widened(self, view: memoryview, start: int, stop: int) -> FloatArray:
        bits = np.frombuffer(view, dtype="<u2").reshape(stop - start, self.n_columns)
        return widen_bf16(bits).astype(np.float64)


def widen_bf16(bits: npt.NDArray[np.uint16]) -> npt.NDArray[np.float32]:
    """bfloat16 bit patterns as the float32 values they are: the 16 bits are its top half.

    >>> widen_bf16(np.array([0x3F80, 0xC020, 0x7F7F, 0x0001], dtype=np.uint16)).tolist()
    [1.0, -2.5, 3.3895313892515355e+38, 9.183549615799121e-41]
    """
    return (bits.astype(np.uint32) << 16).view(np.float32)


def parse_safetensors(name: str, data: bytes | str, key: str | None) -> ArraySource:
    """One tensor (``key``, or the only one) of a ``.safetensors`` file, from its bytes or
    from its path (then only the header and that tensor are read); ``name[key]`` in errors.

    >>> import json, struct
    >>> header = json.dumps({"p": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})
    >>> data = struct.pack("<Q", len(header)) + header.encode() + struct.pack("<2f", 0.25, 0.75)
    >>> source = parse_safetensors("p.safetensors", data, None)
    >>> source.name, source.numbers(allow_minus_inf=False).tolist()
    ('p.safetensors[p]', [[0.25], [0.75]])
    """
    if isinstance(data, bytes):
        header = read_header(name, data)
        key, tensor = _choose(name, header, key)
        where = f"{name}[{key}]"
        _check_readable(where, tensor)
        start = header.data_start + tensor.begin
        raw: memoryview | bytearray = memoryview(data)[start : start + tensor.size]
    else:
        try:
            with open(data, "rb") as handle:
                header = _header_at(name, handle)
                key, tensor = _choose(name, header, key)
                where = f"{name}[{key}]"
                _check_readable(where, tensor)
                handle.seek(header.data_start + tensor.begin)
                raw = _read_exactly(handle, tensor.size, where, "its data")
        except OSError as exc:
            raise MissingInputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    return _source(where, tensor, raw)


def open_safetensors(path: str, key: str | None, *, any_size: bool = False) -> NpyStream | None:
    """A stream over the tensor ``key`` (or the only one) of ``path`` when it is a numeric
    tensor larger than :data:`~.arrays.STREAM_BYTES`; else ``None``, and
    :func:`parse_safetensors` reads it (or says what is wrong with it without reading it).

    A damaged header, or a ``key`` the file lacks, raises what :func:`parse_safetensors`
    would: the header is read once either way. With ``any_size``, a tensor of any size
    (labels read in blocks beside predictions).
    """
    try:
        if os.path.getsize(path) <= arrays.smallest_streamed() and not any_size:
            return None  # no tensor in it can be larger
        with open(path, "rb") as handle:
            header = _header_at(path, handle)
    except OSError:
        return None  # parse_safetensors names the problem
    key, tensor = _choose(path, header, key)
    if (
        not (any_size or arrays.streamed(tensor.size, tensor.shape))
        or tensor.dtype not in STREAMED
        or not tensor.shape
        or 0 in tensor.shape
    ):
        return None
    where = f"{path}[{key}]"
    offset = header.data_start + tensor.begin
    n_rows, n_columns = arrays.rows_and_columns(tensor.shape)
    positions = tensor.shape[1:-1]
    if tensor.dtype == "BF16":
        return Bf16Stream(where, path, offset, n_rows, n_columns, BF16_REPORTED, None, positions)
    dtype = np.dtype(READ[tensor.dtype])
    return NpyStream(where, path, offset, n_rows, n_columns, dtype, None, positions, tensor.shape)


def read_header(name: str, data: bytes) -> Header:
    """The checked header of a whole ``.safetensors`` image (``data``: all its bytes)."""
    length = _header_length(name, data[:LENGTH_BYTES], len(data))
    text = data[LENGTH_BYTES : LENGTH_BYTES + length]
    return Header(length, _tensors(name, _json(name, text), len(data) - LENGTH_BYTES - length))


def _header_at(name: str, handle: BinaryIO) -> Header:
    """The checked header of the file open at ``handle``; only the header is read."""
    size = os.fstat(handle.fileno()).st_size
    first = handle.read(LENGTH_BYTES)
    length = _header_length(name, first, size)
    text = _read_exactly(handle, length, name, "its header")
    return Header(length, _tensors(name, _json(name, bytes(text)), size - LENGTH_BYTES - length))


def _header_length(name: str, first: bytes, size: int) -> int:
    """N, from the file's first 8 bytes, checked against the limit and the file's size."""
    if len(first) < LENGTH_BYTES:
        raise InputError(
            name,
            f"is not a .safetensors file: it holds {size} bytes, fewer than the 8 of the "
            "length that starts one",
        )
    length = int.from_bytes(first, "little")
    if length > MAX_HEADER_BYTES:
        raise InputError(
            name,
            f"is not a valid .safetensors file: its first 8 bytes say a header of "
            f"{_bytes(length)}, more than the 100 MB safetensors allows",
        )
    if LENGTH_BYTES + length > size:
        raise InputError(
            name,
            f"is not a valid .safetensors file: its first 8 bytes say a header of "
            f"{_bytes(length)}, the file holds {_bytes(size - LENGTH_BYTES)} after them",
        )
    return length


class _Repeated(ValueError):
    """A key that a JSON object of the header gives twice."""


def _unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _Repeated(key)
        result[key] = value
    return result


def _json(name: str, text: bytes) -> object:
    """The header's JSON value; not UTF-8, not JSON or repeated keys are errors."""
    import json  # only safetensors headers need it: keeps start-up short

    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            name, f"its header is not UTF-8 text (byte {exc.start + 1} of the header)"
        ) from None
    try:
        return json.loads(decoded, object_pairs_hook=_unique)
    except _Repeated as exc:
        raise InputError(name, f"its header gives the key {_shown(exc.args[0])} twice") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            name,
            f"its header is not valid JSON ({exc.msg} at line {exc.lineno}, "
            f"column {exc.colno} of the header)",
        ) from None
    except (ValueError, RecursionError) as exc:  # an integer of over 4300 digits, deep nesting
        reason = "nested too deeply" if isinstance(exc, RecursionError) else short(exc)
        raise InputError(name, f"its header is not valid JSON ({reason})") from None


def _tensors(name: str, header: object, buffer: int) -> dict[str, Tensor]:
    """Every tensor of a header, each checked, and their offsets covering the ``buffer``
    bytes after the header exactly (the reference reader's rules)."""
    if not isinstance(header, dict):
        raise InputError(name, f"its header is {_kind(header)}, not a JSON object of tensors")
    tensors: dict[str, Tensor] = {}
    for key, entry in header.items():
        if key == "__metadata__":
            if not isinstance(entry, dict):
                raise InputError(name, f"its __metadata__ is {_kind(entry)}, not an object")
            continue
        tensors[key] = _tensor(f"{name}[{key}]", entry, buffer)
    _check_layout(name, tensors, buffer)
    return tensors


def _tensor(where: str, entry: object, buffer: int) -> Tensor:
    """One header entry, checked: its fields, its offsets within the data, its byte count."""
    if not isinstance(entry, dict):
        raise InputError(
            where, f"its header entry is {_kind(entry)}, not an object with dtype and shape"
        )
    for field in ("dtype", "shape", "data_offsets"):
        if field not in entry:
            raise InputError(where, f"its header entry has no {field!r}")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str):
        raise InputError(where, f"its dtype is {_shown(dtype)}, not a name such as 'F32'")
    if not isinstance(shape, list) or not all(_natural(n) for n in shape):
        raise InputError(where, f"its shape is {_shown(shape)}, not a list of sizes (0 or more)")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_natural, offsets))):
        raise InputError(
            where, f"its data_offsets are {_shown(offsets)}, not [begin, end] (two byte counts)"
        )
    begin, end = offsets
    tensor = Tensor(dtype, tuple(shape), begin, end)
    if end < begin:
        raise InputError(where, f"its data_offsets [{begin}, {end}] end before they begin")
    if end > buffer:
        raise InputError(
            where,
            f"its data_offsets [{begin}, {end}] reach past the end of the file (its data "
            f"holds {buffer:,} bytes): a truncated or damaged file",
        )
    bits = BITS.get(dtype)
    if bits is not None:  # an unknown dtype is refused if it is the one chosen
        _check_size(where, tensor, bits)
    return tensor


def _check_size(where: str, tensor: Tensor, bits: int) -> None:
    """``end − begin`` is prod(shape) × bits / 8; a hostile shape is never multiplied out
    beyond 2⁶⁴ values (the reference reader's overflow)."""
    count = 0 if 0 in tensor.shape else 1
    for n in tensor.shape:
        count *= n
        if count > 1 << 64:
            raise InputError(
                where,
                f"shape {tensor.describe()} is more than 2**64 values, its data_offsets give "
                f"{tensor.size:,} bytes",
            )
    if count * bits % 8:
        raise InputError(
            where, f"shape {tensor.describe()} is {count * bits} bits, not a whole number of bytes"
        )
    if count * bits // 8 != tensor.size:
        raise InputError(
            where,
            f"shape {tensor.describe()} needs {count * bits // 8:,} bytes, its data_offsets "
            f"give {tensor.size:,}",
        )


def _check_layout(name: str, tensors: dict[str, Tensor], buffer: int) -> None:
    """The tensors cover the data from its first byte to the file's last, without overlaps
    or gaps (safetensors refuses files with bytes no tensor owns: polyglots)."""
    position, previous = 0, ""
    order = sorted(tensors.items(), key=lambda item: (item[1].begin, item[1].end))
    for key, tensor in order:
        if tensor.begin < position:
            before = tensors[previous]
            raise InputError(
                name,
                f"tensors {_shown(previous)} (bytes {before.begin}–{before.end}) and "
                f"{_shown(key)} (bytes {tensor.begin}–{tensor.end}) overlap in its data: a "
                "damaged or crafted file",
            )
        if tensor.begin > position:
            raise InputError(
                name,
                f"bytes {position}–{tensor.begin} of its data belong to no tensor (safetensors "
                "allows no gaps): a damaged or crafted file",
            )
        position, previous = tensor.end, key
    if position != buffer:
        raise InputError(
            name,
            f"{buffer - position:,} bytes follow its last tensor (safetensors allows none): "
            "a damaged or crafted file",
        )


def _choose(name: str, header: Header, key: str | None) -> tuple[str, Tensor]:
    """The tensor ``key`` names, or the only one."""
    tensors = header.tensors
    if not tensors:
        raise InputError(name, "holds no tensors (its header lists none)")
    key = chosen(name, list(tensors), key, "tensor")
    return key, tensors[key]


def _check_readable(where: str, tensor: Tensor) -> None:
    """A dtype xent reads and a non-empty shape; checked before any data is
    read, with :func:`~.arrays._check_array`'s words."""
    dtype = tensor.dtype
    if dtype not in READ:
        if dtype in BITS:
            what = "complex numbers" if dtype == "C64" else f"{BITS[dtype]}-bit floats"
            raise InputError(
                where,
                f"holds {dtype} values ({what}), which xent does not read; save the tensor as "
                "float32 (torch: t.float(); numpy: a.astype(np.float32))",
            )
        raise InputError(
            where,
            f"has dtype {_shown(dtype)}, which xent does not know (it reads {', '.join(READ)})",
        )
    shape = tensor.shape
    if not shape:
        raise InputError(where, "is a single value (0-D); give a 1-D or 2-D array")
    if 0 in shape:
        raise InputError(where, f"is empty (shape {shape})")


def _source(where: str, tensor: Tensor, raw: memoryview | bytearray) -> ArraySource:
    """The tensor's bytes as an array: native byte order, writable, BF16 widened to
    float32, BOOL bytes checked to be 0 or 1."""
    layout = np.dtype(READ[tensor.dtype])
    array = np.frombuffer(raw, dtype=layout).reshape(tensor.shape)
    if tensor.dtype == "BF16":
        return Bf16Source(where, widen_bf16(array))
    if tensor.dtype == "BOOL":
        if array.size and int(array.max()) > 1:
            matrix = array.reshape(array.shape[0], -1)
            row, column = (int(i) for i in np.argwhere(matrix > 1)[0])
            raise InputError(
                array_where(where, row, column if array.ndim == 2 else None),
                f"a BOOL value is the byte {int(matrix[row, column])}, not 0 or 1",
            )
        return _check_array(where, array.astype(np.bool_))
    if isinstance(raw, memoryview) or not layout.isnative:  # a view of the caller's bytes
        array = array.astype(layout.newbyteorder("="))
    return _check_array(where, array)


def _read_exactly(handle: BinaryIO, count: int, where: str, what: str) -> bytearray:
    """``count`` bytes from ``handle`` (checked against the file's size before)."""
    buffer = bytearray(count)
    view = memoryview(buffer)
    done = 0
    while done < count:
        got = handle.readinto(view[done:])  # type: ignore[attr-defined]
        if not got:  # the file shrank while it was read
            raise InputError(where, f"the file ends {count - done:,} bytes before {what} does")
        done += got
    return buffer


def _natural(value: object) -> bool:
    """A JSON integer ≥ 0 (not a bool, not a float)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _dims(shape: tuple[int, ...]) -> str:
    """A shape as messages write it, cut short.

    >>> _dims((2, 3, 4)), _dims(()), _dims((10**50,) * 1000)[-3:]
    ('2×3×4', '()', '00…')
    """
    if not shape:
        return "()"
    text = ""
    for n in shape:
        text += f"×{n}" if text else str(n)
        if len(text) > 80:
            return text[:79] + "…"
    return text


def _kind(value: object) -> str:
    """What a JSON value is, for messages.

    >>> _kind([1]), _kind("x"), _kind(None), _kind(2.5)
    ('a list', 'a string', 'null', 'a number')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _shown(value: object) -> str:
    """A header value as messages quote it, cut short.

    >>> _shown([1, 2]), _shown("x" * 100)[-4:]
    ('[1, 2]', 'xxx…')
    """
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"

"""Arrays: ``.npy`` and ``.npz`` (pickles refused), and large ``.npy`` files streamed.

A large ``.npy`` of predictions is read in row blocks into reused buffers, so memory stays
bounded. A memory map would not do: every page it touches counts in the process's resident
set. Each worker thread owns one buffer and fills it with ``os.preadv``, which releases the
GIL, so reading one block overlaps computing another.
"""

from __future__ import annotations

import io
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, BinaryIO, ClassVar

import numpy as np

from xent_cli.errors import InputError

from .base import (
    array_where,
    check_values,
    chosen,
    from_root,
    position_where,
    scratch_file,
    short,
)
from .formats import NPY_MAGIC, ZIP_MAGIC, looks_like_safetensors

if TYPE_CHECKING:
    import zipfile
    from zipfile import ZipInfo

    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

TORCH_FILE = (
    "is a PyTorch file (torch.save: a pickle, which xent never loads); save the tensor with "
    "np.save('logits.npy', t.numpy()), or safetensors' save_file, and give that file"
)


@dataclass
class ArraySource:
    """An array from ``.npy``/``.npz``: 1-D arrays are one column; an array of rank ≥ 3 is
    predictions with positions (DESIGN §8), seen as one row per position (rows, then
    positions in C order) and a column per class of ``class_axis``."""

    name: str
    array: np.ndarray
    header: list[str] | None = None
    class_axis: int = -1

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's own shape (rank ≥ 3: positions and the class axis where it stands)."""
        return tuple(int(n) for n in self.array.shape)

    @property
    def positions(self) -> tuple[int, ...]:
        """The position axes' lengths (none below rank 3)."""
        if self.array.ndim < 3:
            return ()
        axis = self.class_axis % self.array.ndim
        return tuple(n for k, n in enumerate(self.shape) if k not in (0, axis))

    @property
    def n_rows(self) -> int:
        return int(self.array.shape[0]) * math.prod(self.positions)

    @property
    def n_columns(self) -> int:
        if self.array.ndim == 1:
            return 1
        return int(self.array.shape[self.class_axis if self.array.ndim > 2 else 1])

    @property
    def dtype(self) -> np.dtype[np.generic]:
        return self.array.dtype

    def where(self, row: int, column: int | None = None) -> str:
        if self.positions:
            return position_where(self.name, self.positions, row, column)
        return array_where(self.name, row, column)

    def where_end(self) -> str:
        return array_where(self.name, int(self.array.shape[0]), None)

    def _matrix(self) -> np.ndarray:
        if self.array.ndim == 1:
            return self.array.reshape(-1, 1)
        if self.array.ndim == 2:
            return self.array
        return np.moveaxis(self.array, self.class_axis, -1).reshape(-1, self.n_columns)

    def numbers(self, columns: Sequence[int] | None = None, *, allow_minus_inf: bool) -> FloatArray:
        matrix = self._matrix()
        if matrix.dtype.kind not in "biuf":
            raise InputError(self.where(0), f"holds {matrix.dtype} values, not numbers")
        if columns is not None:
            matrix = matrix[:, list(columns)]
        values = np.ascontiguousarray(matrix, dtype=np.float64)  # kernels reduce rows in C order
        check_values(values, self.where, allow_minus_inf=allow_minus_inf)
        return values

    def strings(self, column: int) -> list[str]:
        """A column as text: whole numbers of a float array as whole numbers (ids saved in a
        float matrix read ``100``, not ``100.0``).

        >>> ArraySource("x.npy", np.array([[100.0, 0.5], [7.0, 1.5]])).strings(0)
        ['100', '7']
        """
        values = self._matrix()[:, column]
        if values.dtype.kind == "f" and np.isfinite(values).all() and (values % 1 == 0).all():
            return [str(int(value)) for value in values.tolist()]
        return [str(value) for value in values.tolist()]

    def is_numeric(self, column: int) -> bool:
        return self.array.dtype.kind in "biuf"


def _check_array(name: str, array: np.ndarray) -> ArraySource:
    if array.dtype.kind == "O":
        raise InputError(name, "holds Python objects (a pickle); xent never unpickles")
    if array.dtype.kind not in "biufUS":
        raise InputError(name, f"holds {array.dtype} values, not numbers or class names")
    if array.ndim == 0:
        raise InputError(name, "is a single value (0-D); give a 1-D or 2-D array")
    if 0 in array.shape:
        raise InputError(name, f"is empty (shape {array.shape})")
    if array.dtype.kind == "S":
        array = np.char.decode(array, "utf-8", errors="replace")
    return ArraySource(name=name, array=array)


def parse_npy(name: str, data: bytes) -> ArraySource:
    """Read a ``.npy`` image (pickles refused) into an :class:`ArraySource`; its header is
    checked against its size before anything is allocated."""
    check_npy_size(name, data)
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError, SyntaxError, OverflowError) as exc:
        raise _unreadable(name, ".npy", exc) from None
    return _check_array(name, array)


def check_npy_size(name: str, data: bytes, size: int | None = None) -> None:
    """A ``.npy`` whose header claims more data than the bytes hold is refused, before numpy
    allocates what the header says (DESIGN §5: memory is bounded by the work).

    >>> header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 1000), }"
    >>> magic = b"\\x93NUMPY\\x01\\x00" + len(header).to_bytes(2, "little")
    >>> try:
    ...     check_npy_size("x.npy", magic + header)
    ... except Exception as error:
    ...     print(error)
    x.npy: header says 1000×1000 float64 = 7.63 MiB, the file holds 0 bytes
    """
    handle = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            return
    except (ValueError, OSError, EOFError):
        return  # numpy's own reading says what is wrong
    except Exception:  # a header cut short (SyntaxError), numbers past C longs
        raise InputError(name, "is not a valid .npy file (its header does not parse)") from None
    if dtype.hasobject:
        return  # a pickle: refused by the reader
    count = 1
    for length in shape:
        count *= int(length)
    needed = count * dtype.itemsize
    held = (len(data) if size is None else size) - handle.tell()
    if needed > held:
        claimed = "×".join(str(int(n)) for n in shape)
        raise InputError(
            name,
            f"header says {claimed} {dtype.name} = {_bytes(needed)}, the file holds {_bytes(held)}",
        )


def _bytes(count: int) -> str:
    """A size as people say it.

    >>> _bytes(0), _bytes(2048), _bytes(3 << 30)
    ('0 bytes', '2 KiB', '3 GiB')
    """
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift:
            return f"{count / (1 << shift):.3g} {unit}"
    return f"{count} bytes"


def _unreadable(name: str, kind: str, exc: Exception) -> InputError:
    """What numpy could not load: a pickle (refused), or a damaged ``kind`` file.

    >>> _unreadable("x.npy", ".npy", ValueError("Object arrays cannot be loaded")).message
    'x.npy: holds Python objects (a pickle); xent never unpickles'
    """
    text = str(exc).lower()
    if isinstance(exc, ValueError) and ("pickle" in text or "object" in text):
        return InputError(name, "holds Python objects (a pickle); xent never unpickles")
    return InputError(name, f"is not a valid {kind} file ({short(exc)})")


def parse_npz(name: str, data: bytes | str, key: str | None) -> ArraySource:
    """Read one array (``key``, or the only one) of a ``.npz`` archive (its bytes, or its
    path: then only the member is read), pickles refused."""
    import zipfile  # only archives need it: keeps start-up short

    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as zipped:
            member, where = npz_member(zipped, name, key)
            with zipped.open(member) as opened:
                array = np.load(opened, allow_pickle=False)
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise _unreadable(name, ".npz", exc) from None
    return _check_array(where, array)


DEFLATE_RATIO = 1032  # the most deflate expands: 258 bytes a match from 2 bits, plus framing


def npz_member(zipped: zipfile.ZipFile, name: str, key: str | None) -> tuple[ZipInfo, str]:
    """The member of a ``.npz`` that ``key`` names (or its only array) and how errors name it,
    its header checked against the member's size, and that size against what its packed
    bytes can unpack to: a crafted archive is refused before anything is unpacked.
    """
    import zipfile

    try:
        members = zipped.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise _unreadable(name, ".npz", exc) from None
    if any(member.endswith(".pkl") for member in members):
        raise InputError(name, TORCH_FILE)
    keys = [member[: -len(".npy")] for member in members if member.endswith(".npy")]
    if not keys:
        raise InputError(name, "is a zip archive holding no arrays (.npy members), not a .npz")
    key = chosen(name, keys, key, "array")
    member = zipped.getinfo(f"{key}.npy")
    where = f"{name}[{key}]"
    if member.flag_bits & 0x1:
        raise InputError(where, "is encrypted (a zip with a password); save it with np.savez")
    if (
        member.compress_type == zipfile.ZIP_DEFLATED
        and member.file_size > DEFLATE_RATIO * member.compress_size + (1 << 16)
    ):
        raise InputError(
            where,
            f"the archive says it unpacks to {_bytes(member.file_size)} from "
            f"{_bytes(member.compress_size)}, more than deflate can: a damaged or crafted .npz",
        )
    with zipped.open(member) as opened:
        head = opened.read(1 << 16)
    if not head.startswith(NPY_MAGIC):  # raw text, a pickle, …
        raise InputError(where, "is not a .npy array inside the .npz")
    check_npy_size(where, head, member.file_size)
    return member, where


STREAM_BYTES = 64 << 20  # .npy files larger than this are streamed
BLOCK_BYTES = 8 << 20  # about 8 MiB of rows a block
ROW_BYTES = 256  # what a row (a position) costs beside its values in a block (measured)
_local = threading.local()


def rows_a_block(n_columns: int, positions: int = 1) -> int:
    """How many rows (of ``positions`` positions each) make a block of about
    :data:`BLOCK_BYTES`: their float64 values, and :data:`ROW_BYTES` a position for what
    is worked out beside them (its label, loss, target, masks; at least one row).

    >>> rows_a_block(1000), rows_a_block(2), rows_a_block(2, positions=512)
    (1016, 30840, 60)
    """
    return max(1, BLOCK_BYTES // max(1, positions * (8 * n_columns + ROW_BYTES)))


@dataclass
class NpyStream:
    """A numeric ``.npy`` on disk, read a block of rows at a time. An array of rank ≥ 3
    (DESIGN §8) is read with its last axis as the classes: a row per position."""

    name: str
    path: str
    offset: int  # where the data starts
    n_rows: int
    n_columns: int
    dtype: np.dtype[np.generic]
    header: list[str] | None = None
    positions: tuple[int, ...] = ()  # the position axes of rank ≥ 3 (rows are positions)
    shape: tuple[int, ...] = ()  # the array's own shape
    sequential: ClassVar[bool] = False  # blocks must be read in order (one thread)

    def __post_init__(self) -> None:
        self.path = from_root(self.path)  # read where a Dask worker's directory is not

    def where(self, row: int, column: int | None = None) -> str:
        """Where a 0-based cell is, as the array reader says it (1-based)."""
        if self.positions:
            return position_where(self.name, self.positions, row, column)
        return array_where(self.name, row, column)

    def where_end(self) -> str:
        return array_where(self.name, self.n_rows // math.prod(self.positions), None)

    @property
    def row_bytes(self) -> int:
        return self.n_columns * self.dtype.itemsize

    def blocks(self) -> list[tuple[int, int]]:
        """Row ranges of about :data:`BLOCK_BYTES` each once widened to float64, with what
        is worked out beside each row (:func:`rows_a_block`)."""
        step = rows_a_block(self.n_columns)
        return [(start, min(self.n_rows, start + step)) for start in range(0, self.n_rows, step)]

    def read(self, start: int, stop: int) -> FloatArray:
        """Rows ``start:stop`` as float64, read into this thread's reused buffer."""
        view = self._buffer((stop - start) * self.row_bytes)
        self._fill(view, start * self.row_bytes)
        return self._widened(view, start, stop)

    def values(self, first: int, last: int) -> np.ndarray:
        """Values ``first:last`` in C order, as the file holds them, in an array of their
        own (not the thread's buffer: labels read beside a block of predictions). Only of
        a plain file whose bytes are its dtype's (not unpacked, not bfloat16)."""
        if self.sequential or self.storage != self.dtype:
            raise TypeError(f"{type(self).__name__} is not read by position")
        values = np.empty(last - first, dtype=self.dtype)
        self._fill(memoryview(values.view(np.uint8).data), first * self.dtype.itemsize)
        return values

    def _fill(self, view: memoryview, start: int) -> None:
        """``view`` from byte ``start`` of the data on (the GIL released while it reads)."""
        descriptor = os.open(self.path, os.O_RDONLY)
        try:
            done = 0
            while done < len(view):
                got = os.preadv(descriptor, [view[done:]], self.offset + start + done)
                if got == 0:  # the file shrank, or lies about its rows
                    raise self._ended((start + done) // self.row_bytes)
                done += got
        finally:
            os.close(descriptor)

    def _buffer(self, size: int) -> memoryview:
        """This thread's reused buffer, ``size`` bytes of it."""
        buffer: bytearray | None = getattr(_local, "buffer", None)
        if buffer is None or len(buffer) < size:
            buffer = bytearray(size)
            _local.buffer = buffer
        return memoryview(buffer)[:size]

    @property
    def storage(self) -> np.dtype[np.generic]:
        """The dtype of the values as the file holds them."""
        return self.dtype

    def _widened(self, view: memoryview, start: int, stop: int) -> FloatArray:
        raw = np.frombuffer(view, dtype=self.dtype).reshape(stop - start, self.n_columns)
        if self.dtype == np.float64 and self.dtype.isnative:
            return raw
        return raw.astype(np.float64)

    def _ended(self, row: int) -> InputError:
        return InputError(
            self.where(row),
            f"the file ends at row {row + 1}, before the {self.n_rows:,} rows its header says",
        )


UNPACKED_BYTES = 1 << 20  # a compressed member is unpacked to the disk this much at a time


@dataclass
class PackedNpyStream(NpyStream):
    """A large ``.npy`` compressed inside a ``.npz`` (``np.savez_compressed``), unpacked a
    block of rows at a time: memory is a block, never the member (DESIGN §5: compressed
    members are read in blocks). Unpacking goes one way, so blocks are read in order; a
    block before the current one unpacks the member again from its start.
    """

    member: str = ""
    sequential: ClassVar[bool] = True
    _handle: IO[bytes] | None = None
    _archive: zipfile.ZipFile | None = None
    _position: int = 0  # the next row the open member gives
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __getstate__(self) -> dict[str, object]:
        """Pickled without its open member and lock (a worker of ``--engine dask`` opens
        the archive itself)."""
        state = dict(self.__dict__)
        state.update(_handle=None, _archive=None, _position=0, _lock=None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def read(self, start: int, stop: int) -> FloatArray:
        with self._lock:
            return self._widened(self._raw(start, stop), start, stop)

    def _raw(self, start: int, stop: int) -> memoryview:
        """Rows ``start:stop`` as the member stores them, in this thread's buffer."""
        try:
            handle = self._at(start)
            view = self._buffer((stop - start) * self.row_bytes)
            done = 0
            while done < len(view):
                got = handle.readinto(view[done:])  # type: ignore[attr-defined]
                if not got:
                    raise self._ended(start + done // self.row_bytes)
                done += got
        except (InputError, KeyboardInterrupt):
            self.close()
            raise
        except Exception as exc:  # BadZipFile (a CRC), zlib.error, EOFError, OSError
            self.close()
            raise _unreadable(self.name, ".npz", exc) from None
        self._position = stop
        if stop == self.n_rows:  # the last block: a pass is over
            self.close()
        return view

    def unpacked(self) -> NpyStream:
        """The member unpacked once, a block at a time, into a file of its own (removed
        when the process ends), to be read a range at a time (:meth:`NpyStream.values`):
        memory a block, the disk the member's size."""
        rows = max(1, UNPACKED_BYTES // self.row_bytes)

        def fill(out: BinaryIO) -> None:
            with self._lock:
                for start in range(0, self.n_rows, rows):
                    out.write(self._raw(start, min(self.n_rows, start + rows)))

        path = scratch_file(".npy", self.name, fill)
        fields = (self.n_rows, self.n_columns, self.dtype, self.header, self.positions)
        return NpyStream(self.name, path, 0, *fields, self.shape)

    def _at(self, row: int) -> IO[bytes]:
        """The member, opened and unpacked up to ``row``."""
        import zipfile

        handle = self._handle
        if handle is None or row < self._position:
            self.close()
            self._archive = zipfile.ZipFile(self.path)
            handle = self._handle = self._archive.open(self.member)
            handle.read(self.offset)  # the .npy header
            self._position = 0
        skip = (row - self._position) * self.row_bytes
        while skip > 0:
            got = len(handle.read(min(skip, BLOCK_BYTES)))
            if not got:
                raise self._ended(self._position)
            skip -= got
        return handle

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._archive is not None:
            self._archive.close()
        self._handle = self._archive = None


def open_npy(path: str, name: str, *, any_size: bool = False) -> NpyStream | None:
    """A stream over ``path`` when it is a large (``any_size``: any), plain numeric
    ``.npy``; else ``None``.

    Anything unusual (small files, Fortran order, pickles, other dtypes, a damaged
    header) goes to the whole-file reader, which reports the errors.
    """
    try:
        size = os.path.getsize(path)
        if size <= smallest_streamed() and not any_size:
            return None
        with open(path, "rb") as handle:
            layout = _npy_layout(handle)
    except OSError:
        return None
    if layout is None:
        return None
    shape, dtype, offset = layout
    if not streamed(size, shape) and not any_size:
        return None
    needed = math.prod(shape) * dtype.itemsize
    if size < offset + needed:  # said here: the whole-file reader would read it all first
        claimed = "×".join(map(str, shape))
        raise InputError(
            name,
            f"header says {claimed} {dtype.name} = {_bytes(needed)}, the file holds "
            f"{_bytes(size - offset)}",
        )
    n_rows, n_columns = rows_and_columns(shape)
    return NpyStream(name, path, offset, n_rows, n_columns, dtype, None, shape[1:-1], shape)


POSITIONS_STREAM_BYTES = 1 << 20  # arrays of rank ≥ 3 larger than this are streamed


def streamed(size: int, shape: Sequence[int]) -> bool:
    """Whether an array of ``size`` bytes is read in blocks: above :data:`STREAM_BYTES`,
    or above :data:`POSITIONS_STREAM_BYTES` for rank ≥ 3 (DESIGN §8: never a float64
    copy of the whole array).

    >>> streamed(2 << 20, (4, 8, 65536)), streamed(2 << 20, (100, 2621))
    (True, False)
    """
    return size > (STREAM_BYTES if len(shape) < 3 else smallest_streamed())


def smallest_streamed() -> int:
    """Bytes at or below which no array is streamed, whatever its rank (read at call time:
    tests lower the limits)."""
    return min(STREAM_BYTES, POSITIONS_STREAM_BYTES)


def rows_and_columns(shape: Sequence[int]) -> tuple[int, int]:
    """An array's rows and columns as a stream reads them: the last axis the columns (of a
    1-D array, one), every other axis the rows (rank ≥ 3: a row per position).

    >>> rows_and_columns((5,)), rows_and_columns((5, 3)), rows_and_columns((2, 7, 11))
    ((5, 1), (5, 3), (14, 11))
    """
    if len(shape) == 1:
        return int(shape[0]), 1
    return math.prod(shape[:-1]), int(shape[-1])


def open_array_stream(path: str, key: str | None) -> NpyStream | None:
    """A stream over a large numeric ``.npy``, or over a large ``.npy`` member of a
    ``.npz`` (read in place when stored, unpacked block by block when compressed); ``None``
    for everything else, which the whole-file readers read and check."""
    magic = _magic(path)
    if magic is None:
        return None
    if magic.startswith(ZIP_MAGIC):
        return _open_npz(path, key)
    if magic == NPY_MAGIC:
        return open_npy(path, path)
    return _safetensors_stream(path, key, any_size=False)


def _magic(path: str) -> bytes | None:
    """The first bytes of ``path`` that tell a ``.npy`` or a zip; ``None`` if it is not a
    regular file (a pipe's bytes read here would be lost to the whole-file reader) or it
    cannot be read (that reader names the problem)."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as handle:
            return handle.read(len(NPY_MAGIC))
    except OSError:
        return None


def open_on_disk(path: str, key: str | None) -> NpyStream | None:
    """A plain numeric ``.npy``, ``.npz`` member or ``.safetensors`` tensor, of any size,
    left on disk to be read a range at a time (:meth:`NpyStream.values`: labels beside
    predictions read in blocks; a compressed member once :meth:`PackedNpyStream.unpacked`);
    ``None`` for anything else, which the whole-file readers read."""
    magic = _magic(path)
    if magic is None:
        return None
    if magic.startswith(ZIP_MAGIC):
        return _open_npz(path, key, any_size=True)
    if magic == NPY_MAGIC:
        return open_npy(path, path, any_size=True)
    stream = _safetensors_stream(path, key, any_size=True)
    return stream if type(stream) is NpyStream else None  # bfloat16 is no class index


def _safetensors_stream(path: str, key: str | None, *, any_size: bool) -> NpyStream | None:
    """A stream over a ``.safetensors`` tensor (by its name or first bytes), else ``None``."""
    from .safetensors import open_safetensors  # it builds on this module

    with open(path, "rb") as handle:
        head = handle.read(4096)
    if path.lower().endswith(".safetensors") or looks_like_safetensors(head):
        return open_safetensors(path, key, any_size=any_size)
    return None


def _npy_layout(handle: BinaryIO) -> tuple[tuple[int, ...], np.dtype[np.generic], int] | None:
    """Shape, dtype and header length of a plain numeric ``.npy`` at ``handle``."""
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            return None
    except (OSError, ValueError):
        return None
    if fortran or dtype.kind not in "biuf" or dtype.hasobject or not shape:
        return None
    if 0 in shape:
        return None
    return tuple(int(n) for n in shape), dtype, handle.tell()


def _open_npz(path: str, key: str | None, *, any_size: bool = False) -> NpyStream | None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zipped:
            member, where = npz_member(zipped, path, key)
            if member.file_size <= smallest_streamed() and not any_size:
                return None
            with zipped.open(member) as opened:
                layout = _npy_layout(opened)  # type: ignore[arg-type]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None  # the whole-file reader says what is wrong
    if layout is None or not (any_size or streamed(member.file_size, layout[0])):
        return None
    shape, dtype, header = layout
    n_rows, n_columns = rows_and_columns(shape)
    positions = shape[1:-1]
    if member.compress_type == zipfile.ZIP_STORED:  # np.savez: the bytes lie in the file
        with open(path, "rb") as handle:
            handle.seek(member.header_offset)
            local = handle.read(30)  # the local file header: its name and extra field follow
        start = member.header_offset + 30 + int.from_bytes(local[26:28], "little")
        start += int.from_bytes(local[28:30], "little")
        return NpyStream(
            where, path, start + header, n_rows, n_columns, dtype, None, positions, shape
        )
    return PackedNpyStream(
        where, path, header, n_rows, n_columns, dtype, None, positions, shape, member.filename
    )

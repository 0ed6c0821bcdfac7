"""The engine behind ``xent softmax`` and ``xent sigmoid``: read scores, map them row-wise."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from . import losses
from .errors import UsageError
from .options import DELIMITER_AUTO
from .readers import Source, check_not_all_masked, pandas_index, read

if TYPE_CHECKING:
    import numpy.typing as npt

    ArrayLike = npt.ArrayLike
    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]


@dataclass
class Matrix:
    """An N×K result with the names of its columns (from the input's header, or 0…K−1)."""

    values: FloatArray
    header: list[str] | None
    winners: IntArray | None = None  # argmax of each row, where that means something

    @property
    def names(self) -> list[str]:
        if self.header is not None:
            return self.header
        return [str(k) for k in range(self.values.shape[1])]


def read_scores(
    path: str, stdin: BinaryIO | None, key: str | None, delimiter: str = DELIMITER_AUTO
) -> tuple[FloatArray, Source, list[str] | None]:
    """Scores as an (N, K) float64 array (−∞ allowed: a masked class), their source, and
    their header; pandas' index column is dropped (DESIGN §2)."""
    source = read(path, stdin=stdin, key=key, delimiter=delimiter)
    if pandas_index(source):
        columns = list(range(1, source.n_columns))
        header = source.header[1:] if source.header is not None else None
        return source.numbers(columns, allow_minus_inf=True), source, header
    return source.numbers(allow_minus_inf=True), source, source.header


def check_temperature(temperature: float, option: str) -> None:
    """T of a softmax of z/T is a positive number; else a usage error naming ``option``."""
    if not (temperature > 0 and math.isfinite(temperature)):
        raise UsageError(f"{option} must be a positive number, not {temperature}")


def scaled_softmax(
    values: ArrayLike, *, temperature: float = 1.0, log: bool = False, option: str = "--temperature"
) -> FloatArray:
    """Row-wise softmax (or log-softmax) of z/T; T must be a positive number.

    >>> scaled_softmax([[0.0, 2.0]], temperature=2.0, log=True).round(6).tolist()
    [[-1.313262, -0.313262]]
    """
    check_temperature(temperature, option)
    z = np.asarray(values, dtype=np.float64)
    if temperature != 1.0:  # shift first: z/T of a tiny T overflows, (z − max z)/T does not
        top = np.max(z, axis=-1, keepdims=True)
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = np.where(z == top, 0.0, (z - top) / temperature)
    else:
        scaled = z
    return losses.log_softmax(scaled) if log else losses.softmax(scaled)


def softmax_matrix(
    path: str,
    stdin: BinaryIO | None,
    *,
    key: str | None = None,
    temperature: float = 1.0,
    log: bool = False,
    delimiter: str = DELIMITER_AUTO,
) -> Matrix:
    """Row-wise softmax (or log-softmax) of z/T, with the argmax of each row."""
    check_temperature(temperature, "--temperature")  # before reading: a usage error first
    values, source, header = read_scores(path, stdin, key, delimiter)
    check_not_all_masked(values, source.where)
    result = scaled_softmax(values, temperature=temperature, log=log)
    winners: IntArray = np.argmax(values, axis=1).astype(np.int64)
    return Matrix(result, header, winners)


def sigmoid_matrix(
    path: str, stdin: BinaryIO | None, *, key: str | None = None, delimiter: str = DELIMITER_AUTO
) -> Matrix:
    """Element-wise σ(z) of every score."""
    values, _, header = read_scores(path, stdin, key, delimiter)
    return Matrix(losses.sigmoid(values), header)

"""The engine behind ``xent softmax`` and ``xent sigmoid``: read scores, map them row-wise."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from . import losses
from .errors import UsageError
from .readers import Source, check_not_all_masked, read

if TYPE_CHECKING:
    import numpy.typing as npt

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


def read_scores(path: str, stdin: BinaryIO | None, key: str | None) -> tuple[FloatArray, Source]:
    """Scores as an (N, K) float64 array; −∞ allowed (a masked class)."""
    source = read(path, stdin=stdin, key=key)
    return source.numbers(allow_minus_inf=True), source


def softmax_matrix(
    path: str,
    stdin: BinaryIO | None,
    *,
    key: str | None = None,
    temperature: float = 1.0,
    log: bool = False,
) -> Matrix:
    """Row-wise softmax (or log-softmax) of z/T, with the argmax of each row."""
    if not (temperature > 0 and math.isfinite(temperature)):
        raise UsageError(f"--temperature must be a positive number, not {temperature}")
    values, source = read_scores(path, stdin, key)
    check_not_all_masked(values, source.where)
    scaled = values / temperature if temperature != 1.0 else values
    result = losses.log_softmax(scaled) if log else losses.softmax(scaled)
    winners: IntArray = np.argmax(values, axis=1).astype(np.int64)
    return Matrix(result, source.header, winners)


def sigmoid_matrix(path: str, stdin: BinaryIO | None, *, key: str | None = None) -> Matrix:
    """Element-wise σ(z) of every score."""
    values, source = read_scores(path, stdin, key)
    return Matrix(losses.sigmoid(values), source.header)

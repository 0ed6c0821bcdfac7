"""The Python API: the same engine as the CLI, checked against mpmath."""

from __future__ import annotations

import subprocess
import sys

import mpmath as mp
import numpy as np
import pytest

from xent_cli import choose_loss, cross_entropy, sigmoid, softmax
from xent_cli.errors import InputError, UsageError

from . import reference as ref


def test_cross_entropy_reductions() -> None:
    scores, labels = [[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]], [1, 2]
    rows = [ref.sparse_softmax_ce(s, c) for s, c in zip(scores, labels, strict=True)]
    per_row = cross_entropy(scores, labels, reduction="none")
    assert isinstance(per_row, np.ndarray)
    assert all(ref.relative_error(v, t) <= 1e-15 for v, t in zip(per_row, rows, strict=True))
    assert ref.relative_error(cross_entropy(scores, labels), (rows[0] + rows[1]) / 2) <= 1e-15  # type: ignore[arg-type]
    assert (
        ref.relative_error(cross_entropy(scores, labels, reduction="sum"), rows[0] + rows[1])
        <= 1e-15
    )  # type: ignore[arg-type]


def test_cross_entropy_options_and_names() -> None:
    value = cross_entropy(
        [[0.2, 0.3, 0.5], [0.5, 0.2, 0.3]], [2, 1], class_weights=[2, 4, 6], outputs="scores"
    )
    assert value == pytest.approx(1.05983106084446, rel=1e-13)
    named = cross_entropy([[0.5, 1.5, 0.1]], ["dog"], class_names=["cat", "dog", "bird"])
    assert ref.relative_error(named, ref.sparse_softmax_ce([0.5, 1.5, 0.1], 1)) <= 1e-15  # type: ignore[arg-type]
    bits = cross_entropy([[0.5, 1.5, 0.1]], [1], base=2)
    assert ref.relative_error(bits, ref.sparse_softmax_ce([0.5, 1.5, 0.1], 1) / mp.log(2)) <= 1e-14  # type: ignore[arg-type]


def test_errors_are_xent_errors() -> None:
    with pytest.raises(InputError, match="labels: row 1, column 1: label 5 is out of range"):
        cross_entropy([[0.5, 1.5, 0.1]], [5])
    with pytest.raises(InputError, match="1 rows of labels for 2 of predictions"):
        cross_entropy([[0.5, 1.5], [1.0, 2.0]], [1])
    with pytest.raises(UsageError):
        softmax([1.0, 2.0], temperature=0)


def test_choose_loss() -> None:
    assert choose_loss([[2.0], [-1.0]], [1, 0]).loss == "sigmoid-ce-with-logits"
    assert choose_loss([[0.2, 0.8]], [[0.3, 0.7]]).loss == "categorical-ce"
    assert choose_loss([[0.2, 0.8]], [1], outputs="scores").loss == "sparse-softmax-ce-with-logits"


def test_softmax_and_sigmoid() -> None:
    p = softmax([[1.0, -3.0, 10.0]], temperature=2.0)
    z = [mp.mpf(v) / 2 for v in (1.0, -3.0, 10.0)]
    total = mp.fsum(mp.exp(v) for v in z)
    assert all(
        ref.relative_error(v, mp.exp(t) / total) <= 1e-15 for v, t in zip(p[0], z, strict=True)
    )
    assert sigmoid([40.0]).tolist() == [1.0]


def test_importing_the_package_loads_no_numpy() -> None:
    code = "import sys, xent_cli; print('numpy' in sys.modules, 'rich' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False False"

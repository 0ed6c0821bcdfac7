"""Shards (DESIGN §9): a glob or a directory is one sequence of rows in natural order,
streamed a shard at a time, paired shard by shard with label shards; errors name the shard."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from xent_cli.cli import app
from xent_cli.readers import arrays

from . import reference as ref

runner = CliRunner()
BOUNDS = [0, 7, 19, 40, 60]  # four shards of unequal sizes


@pytest.fixture
def dump(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """60 rows of scores and labels, and shards of both named part-0, part-5, part-10, part-15
    (so that an alphabetical order, part-10 before part-5, would pair the wrong rows)."""
    rng = np.random.default_rng(9)
    scores = rng.normal(scale=2.0, size=(60, 3))
    labels = rng.integers(0, 3, size=60)
    for sub in ("p", "y", "t"):
        (tmp_path / sub).mkdir()
    for i, (a, b) in enumerate(itertools.pairwise(BOUNDS)):
        np.save(tmp_path / "p" / f"part-{5 * i}.npy", scores[a:b])
        np.savetxt(tmp_path / "y" / f"part-{5 * i}.csv", labels[a:b], fmt="%d")
        table = {"logits": scores[a:b].tolist(), "label": labels[a:b]}
        pl.DataFrame(table).write_parquet(tmp_path / "t" / f"part-{5 * i}.parquet")
    return tmp_path, scores, labels


def losses(*args: str) -> list[float]:
    result = runner.invoke(app, ["compute", *args, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    return [float(v) for v in json.loads(result.stdout)["losses"]]


def expected(scores: np.ndarray, labels: np.ndarray) -> list[float]:
    return [
        float(ref.sparse_softmax_ce(list(z), int(y))) for z, y in zip(scores, labels, strict=True)
    ]


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize(
    "args",
    [
        ["{d}/p/part-*.npy", "{d}/y/part-*.csv"],
        ["{d}/p", "{d}/y"],
        ["{d}/p", "{d}/all.csv"],
        ["{d}/all.npy", "{d}/y"],
        ["{d}/t", "--label-column", "label"],
        ["{d}/t", "{d}/y"],
    ],
)
def test_shards_in_natural_order_give_every_row(
    dump: tuple[Path, np.ndarray, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    streamed: bool,
) -> None:
    directory, scores, labels = dump
    np.save(directory / "all.npy", scores)
    np.savetxt(directory / "all.csv", labels, fmt="%d")
    if streamed:  # every .npy shard read in blocks of 3 rows
        monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
        monkeypatch.setattr(arrays, "BLOCK_BYTES", 3 * 3 * 8)
    got = losses(*(arg.format(d=directory) for arg in args))
    assert got == pytest.approx(expected(scores, labels), rel=1e-12)


def test_detection_sees_every_shard(tmp_path: Path) -> None:
    """The first shard alone looks like probabilities; the second holds scores: the whole is
    decided once, as scores, as the single file is."""
    (tmp_path / "p").mkdir()
    first = np.array([[0.2, 0.8], [0.5, 0.5]])
    second = np.array([[3.0, -1.0], [0.5, 2.5]])
    np.save(tmp_path / "p" / "a-1.npy", first)
    np.save(tmp_path / "p" / "a-2.npy", second)
    (tmp_path / "y.csv").write_text("1\n0\n0\n1\n", encoding="utf-8")
    result = runner.invoke(
        app, ["compute", str(tmp_path / "p"), str(tmp_path / "y.csv"), "-f", "json"]
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["outputs"] == "scores"
    rows = np.vstack([first, second])
    assert document["losses"] == pytest.approx(expected(rows, np.array([1, 0, 0, 1])), rel=1e-12)


def test_shard_errors_name_the_shard(dump: tuple[Path, np.ndarray, np.ndarray]) -> None:
    directory, scores, _ = dump
    bad = scores[19:40].copy()
    bad[4, 1] = np.nan
    np.save(directory / "p" / "part-10.npy", bad)
    result = runner.invoke(app, ["compute", str(directory / "p"), str(directory / "y")])
    assert (result.exit_code, result.stdout) == (65, "")
    assert result.stderr == f"xent: {directory}/p/part-10.npy: row 5, column 2: value is NaN\n"


def test_label_shards_pair_with_prediction_shards(
    dump: tuple[Path, np.ndarray, np.ndarray],
) -> None:
    directory, _, labels = dump
    np.savetxt(directory / "y" / "part-5.csv", labels[7:18], fmt="%d")  # one row short
    result = runner.invoke(app, ["compute", str(directory / "p"), str(directory / "y")])
    assert (result.exit_code, result.stdout) == (65, "")
    assert result.stderr == (
        f"xent: {directory}/y/part-5.csv: 11 rows of labels, but its prediction shard "
        f"{directory}/p/part-5.npy has 12 rows\n"
    )
    (directory / "y" / "part-15.csv").unlink()
    result = runner.invoke(app, ["compute", str(directory / "p"), str(directory / "y")])
    assert result.exit_code == 65
    assert "3 shards of labels, but" in result.stderr
    assert "has 4 shards of predictions" in result.stderr


def test_shards_must_agree_on_their_columns(dump: tuple[Path, np.ndarray, np.ndarray]) -> None:
    directory, _, _ = dump
    np.save(directory / "p" / "part-15.npy", np.zeros((20, 4)))
    result = runner.invoke(app, ["compute", str(directory / "p"), str(directory / "y")])
    assert result.exit_code == 65
    assert result.stderr == (
        f"xent: {directory}/p/part-15.npy: has 4 columns, but the first shard "
        f"{directory}/p/part-0.npy has 3\n"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [("none-*.npy", "no file matches"), ("empty", "is a directory holding no files")],
)
def test_a_glob_or_directory_with_no_files(tmp_path: Path, spec: str, message: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "y.csv").write_text("0\n", encoding="utf-8")
    result = runner.invoke(app, ["compute", str(tmp_path / spec), str(tmp_path / "y.csv")])
    assert (result.exit_code, result.stdout) == (66, "")
    assert result.stderr == f"xent: {tmp_path / spec}: {message}\n"

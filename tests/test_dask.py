"""``--engine dask`` (DESIGN §12): the same bytes as the local engine, on a LocalCluster of
two worker processes started once for this module; and its failures, each one line."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from xent_cli import inputs as inputs_module
from xent_cli.cli import app
from xent_cli.readers import arrays

ROOT = Path(__file__).parent.parent
runner = CliRunner()


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster.scheduler_address


def xent(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def both(scheduler: str, *args: str) -> tuple[str, str]:
    """The output of ``args`` on the local engine and on the cluster (each must succeed)."""
    code, local, err = xent(*args)
    assert code == 0, err
    code, remote, err = xent(*args, "--engine", "dask", "--scheduler", scheduler)
    assert code == 0, err
    return local, remote


@pytest.fixture
def shards(tmp_path: Path) -> tuple[str, str]:
    rng = np.random.default_rng(17)
    (tmp_path / "z").mkdir()
    (tmp_path / "y").mkdir()
    for part in range(4):
        np.save(tmp_path / "z" / f"part-{part}.npy", rng.normal(scale=3.0, size=(50, 6)))
        np.save(tmp_path / "y" / f"part-{part}.npy", rng.integers(0, 6, size=50))
    return str(tmp_path / "z"), str(tmp_path / "y")


def test_shards_give_the_same_bytes(scheduler: str, shards: tuple[str, str]) -> None:
    local, remote = both(scheduler, "compute", *shards)
    assert remote == local
    assert len(remote.splitlines()) == 201
    local, remote = both(scheduler, "compute", *shards, "-r", "mean", "-f", "json")
    assert remote == local


def test_one_large_array_in_row_blocks(
    scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(18)
    labels = rng.integers(0, 4, size=300)
    labels[::9] = -100
    np.save(tmp_path / "z.npy", rng.normal(size=(300, 4)))
    np.save(tmp_path / "y.npy", labels)
    np.savetxt(tmp_path / "w.csv", rng.uniform(0, 2, size=300))
    monkeypatch.setattr(arrays, "STREAM_BYTES", 0)  # the client cuts the blocks
    monkeypatch.setattr(arrays, "BLOCK_BYTES", 17 * 8 * 4)
    args = ["compute", str(tmp_path / "z.npy"), str(tmp_path / "y.npy"), "--ignore-index", "-100"]
    weights = ["--sample-weights", str(tmp_path / "w.csv")]
    local, remote = both(scheduler, *args, *weights, "-f", "json")
    assert remote == local


def test_sequences_calibration_and_diff(scheduler: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(19)
    np.save(tmp_path / "a.npy", rng.normal(size=(3, 40, 7)))
    np.save(tmp_path / "b.npy", rng.normal(size=(3, 40, 7)))
    labels = rng.integers(0, 7, size=(3, 40))
    labels[:, 30:] = -100
    np.save(tmp_path / "y.npy", labels)
    a, b, y = (str(tmp_path / name) for name in ("a.npy", "b.npy", "y.npy"))
    options = ["--ignore-index", "-100", "-f", "json"]
    for args in (
        ["compute", a, y, "--shift", "-r", "row", *options],
        ["calibration", a, y, "--bins", "5", *options],
        ["diff", a, b, y, "--resamples", "500", *options],
    ):
        local, remote = both(scheduler, *args)
        assert remote == local, args


def test_a_mean_of_positions_with_labels_in_blocks(
    scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bare -r mean of positions: each worker reads its blocks' labels from the file and
    sends back their canonical sums; the same bits as on this process, and as JSON's."""
    rng = np.random.default_rng(20)
    labels = rng.integers(0, 3, size=(5, 700))
    labels[:, 600:] = -100
    np.save(tmp_path / "z.npy", rng.normal(size=(5, 700, 3)))
    np.save(tmp_path / "y.npy", labels)
    monkeypatch.setattr(arrays, "POSITIONS_STREAM_BYTES", 0)
    monkeypatch.setattr(arrays, "BLOCK_BYTES", 97 * 8 * 3)  # blocks across chunks and rows
    args = ["compute", str(tmp_path / "z.npy"), str(tmp_path / "y.npy"), "--ignore-index"]
    args += ["-100", "--shift", "-r", "mean"]
    with pytest.MonkeyPatch.context() as patch:

        def whole(*args: object) -> None:
            raise AssertionError("labels read whole")

        patch.setattr(inputs_module, "position_labels", whole)
        local, remote = both(scheduler, *args)
    assert remote == local
    code, whole, err = xent(*args, "-f", "json")
    assert code == 0, err
    assert local.strip() == repr(json.loads(whole)["mean"])


def test_a_bad_value_names_its_shard_and_row(scheduler: str, shards: tuple[str, str]) -> None:
    bad = Path(shards[0]) / "part-2.npy"
    values = np.load(bad)
    values[7, 3] = np.nan
    np.save(bad, values)
    code, out, err = xent("compute", *shards, "--engine", "dask", "--scheduler", scheduler)
    assert (code, out) == (65, "")
    assert err == f"xent: {bad}: row 8, column 4: value is NaN\n"


def test_without_distributed_the_exit_is_69(
    shards: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    code, out, err = xent("compute", *shards, "--engine", "dask")
    assert (code, out) == (69, "")
    assert err == (
        "xent: --engine dask needs dask.distributed, which is not installed: "
        "pip install 'xent[dask]'\n"
    )


def test_scheduler_errors(shards: tuple[str, str]) -> None:
    code, out, err = xent("compute", *shards, "--scheduler", "tcp://127.0.0.1:9")
    assert (code, out) == (2, "")
    assert "--scheduler names a Dask scheduler: give --engine dask too" in err
    code, out, err = xent(
        "compute", *shards, "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"
    )
    assert (code, out) == (69, "")
    assert err.startswith("xent: --scheduler tcp://127.0.0.1:9: cannot connect (")
    assert len(err.splitlines()) == 1


def test_a_local_cluster_is_started_and_stopped(shards: tuple[str, str]) -> None:
    """No --scheduler: xent starts a local cluster of two workers and stops it before it
    exits."""
    command = [sys.executable, "-m", "xent_cli", "compute", *shards, "-r", "mean"]
    local = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60)
    remote = subprocess.run(
        [*command, "--engine", "dask"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout
    assert remote.stderr == ""


@pytest.mark.parametrize("kind", ["csv.gz", "parquet", "npy"])
def test_streamed_text_and_tables(
    scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Pieces of a gzip'd CSV (unpacked in order: one task), slices of a Parquet file and
    blocks of a .npy travel to the workers as their paths and offsets; paths given relative
    to a directory the workers are not in reach them whole."""
    import gzip

    import polars as pl

    from xent_cli import readers

    rng = np.random.default_rng(20)
    scores = rng.normal(size=(400, 3))
    np.savetxt(tmp_path / "y.csv", rng.integers(0, 3, size=400), fmt="%d")
    path = tmp_path / f"z.{kind}"
    if kind == "parquet":
        pl.DataFrame(scores, schema=["a", "b", "c"]).write_parquet(path, row_group_size=50)
    elif kind == "npy":
        np.save(path, scores)
    else:
        text = "\n".join(",".join(repr(float(v)) for v in row) for row in scores) + "\n"
        path.write_bytes(gzip.compress(text.encode()))
    monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
    monkeypatch.setattr(arrays, "BLOCK_BYTES", 2048)
    monkeypatch.setattr(readers, "HEAD_BYTES", 256)
    monkeypatch.chdir(tmp_path)  # the workers' directory is another
    local, remote = both(scheduler, "compute", path.name, "y.csv", "-f", "json")
    assert remote == local


def test_a_file_a_worker_cannot_open_is_one_line() -> None:
    from xent_cli.cluster import _call
    from xent_cli.errors import MissingInputError

    def work(start: int, stop: int) -> None:
        Path("no/such/z.npy").read_bytes()

    with pytest.raises(MissingInputError) as raised:
        _call(work, [(0, 1)])
    assert str(raised.value).startswith("a Dask worker cannot read no/such/z.npy (No such file")
    assert raised.value.exit_code == 66

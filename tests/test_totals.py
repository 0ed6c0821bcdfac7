"""The mean and sum over positions with memory bounded by a block (DESIGN §8, xent_cli.totals).

``-r mean`` and ``-r sum`` of predictions with positions, streamed, with class-index labels
read a block at a time: the number must be the one ``-f json`` gives through the whole-array
path (bit for bit: both sum positions in the same canonical chunks), the formula's (numpy
float64, written out here), and the errors those of the whole-array path.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from xent_cli import inputs as inputs_module
from xent_cli.cli import app
from xent_cli.inputs import load
from xent_cli.readers import arrays
from xent_cli.settings import Settings
from xent_cli.sums import (
    CHUNK,
    Partial,
    RowPartial,
    canonical_sum,
    merged_rows,
    merged_sum,
    row_sums,
)

ROOT = Path(__file__).parent.parent
runner = CliRunner()


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every array streamed, in blocks of 5 positions of 3 classes."""
    monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
    monkeypatch.setattr(arrays, "POSITIONS_STREAM_BYTES", 0)
    monkeypatch.setattr(arrays, "BLOCK_BYTES", 5 * 8 * 3)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 4 * CHUNK + 3),
    cuts=st.lists(st.integers(0, 4 * CHUNK + 3), max_size=12),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_sum_in_parts_is_the_sum_whole(n: int, cuts: list[int], seed: int) -> None:
    """Whatever blocks cut the positions, the canonical sum has the same bits, and it is
    the exact sum to within a few ulps (math.fsum)."""
    values = np.random.default_rng(seed).exponential(size=n) * 10.0 ** (np.arange(n) % 7)
    bounds = sorted({0, n, *(cut for cut in cuts if cut < n)})
    parts = [Partial.of(values[a:b], a) for a, b in itertools.pairwise(bounds)]
    assert merged_sum(parts) == canonical_sum(values)
    assert canonical_sum(values) == pytest.approx(math.fsum(values.tolist()), rel=1e-13)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 5),
    per_row=st.integers(1, 3 * CHUNK + 5),
    cuts=st.lists(st.integers(0, 15 * CHUNK + 25), max_size=12),
    seed=st.integers(0, 2**32 - 1),
)
def test_row_sums_in_parts_are_each_row_summed_alone(
    rows: int, per_row: int, cuts: list[int], seed: int
) -> None:
    """Each row's sum has the bits of the canonical sum of that row alone, whether the rows
    are summed together or their positions cut into blocks anywhere."""
    n = rows * per_row
    values = np.random.default_rng(seed).exponential(size=n) * 10.0 ** (np.arange(n) % 5)
    alone = [canonical_sum(row) for row in values.reshape(rows, per_row)]
    assert row_sums(values, per_row).tolist() == alone
    bounds = sorted({0, n, *(cut for cut in cuts if cut < n)})
    parts = [RowPartial.of(values[a:b], a, per_row) for a, b in itertools.pairwise(bounds)]
    assert merged_rows(parts, rows).tolist() == alone


def lm(tmp_path: Path, k: int = 3, shape: tuple[int, int] = (4, 9)) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(7)
    z = rng.normal(scale=3.0, size=(*shape, k)).astype(np.float32)
    y = rng.integers(0, k, size=shape)
    y[:, -2:] = -100
    y[1, :] = -100
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "y.npy", y)
    return z.astype(np.float64), y


def neg_log_softmax(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """−log pᵧ a position, from the formula in float64 (0 where y is −100)."""
    top = z.max(axis=-1, keepdims=True)
    log_p = z - top - np.log(np.exp(z - top).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_p, np.where(y < 0, 0, y)[..., None], axis=-1)[..., 0]
    return np.where(y < 0, 0.0, -picked)


def bare_and_json(tmp_path: Path, *options: str, labels: str = "y.npy") -> tuple[str, float | None]:
    """The bare number (labels in blocks: the whole-label reader must not run) and JSON's."""
    z, y = str(tmp_path / "z.npy"), str(tmp_path / labels)
    options = options if "-r" in options else (*options, "-r", "mean")
    with pytest.MonkeyPatch.context() as patch:

        def never(*args: object, **kwargs: object) -> None:
            raise AssertionError("labels read whole")

        patch.setattr(inputs_module, "position_labels", never)
        bare = runner.invoke(app, ["compute", z, y, *options])
    assert bare.exit_code == 0, bare.output
    reduction = "sum" if "sum" in options else "mean"
    whole = runner.invoke(app, ["compute", z, y, *options, "-f", "json"])
    assert whole.exit_code == 0, whole.output
    return bare.stdout.strip(), json.loads(whole.stdout)[reduction]


def bare_then_json(tmp_path: Path, *options: str) -> list[Result]:
    """``compute z.npy y.npy OPTIONS -r mean``, then the same with ``-f json``."""
    z, y = str(tmp_path / "z.npy"), str(tmp_path / "y.npy")
    return [
        runner.invoke(app, ["compute", z, y, *options, "-r", "mean", *extra])
        for extra in ([], ["-f", "json"])
    ]


@pytest.mark.parametrize(
    "options",
    [
        ["--ignore-index", "-100"],
        ["--ignore-index", "-100", "-r", "sum"],
        ["--ignore-index", "-100", "--shift"],
        ["--ignore-index", "-100", "--class-weights", "1,3,0.5"],
        ["--ignore-index", "-100", "--label-smoothing", "0.1", "--base", "2"],
        ["--ignore-index", "-100", "--like", "torch"],
        ["--ignore-index", "-100", "--class-weights", "1e308,2e307,1", "--like", "keras"],
    ],
)
def test_the_bare_number_is_jsons_bit_for_bit(
    tmp_path: Path, streamed: None, options: list[str]
) -> None:
    lm(tmp_path)
    bare, whole = bare_and_json(tmp_path, *options)
    assert bare == repr(whole)


def test_the_mean_is_the_formulas(tmp_path: Path, streamed: None) -> None:
    z, y = lm(tmp_path)
    losses = neg_log_softmax(z, y)
    bare, _ = bare_and_json(tmp_path, "--ignore-index", "-100")
    assert float(bare) == pytest.approx(losses.sum() / (y != -100).sum(), rel=1e-12)
    shifted = np.concatenate([y[:, 1:], np.full((4, 1), -100)], axis=1)
    bare, _ = bare_and_json(tmp_path, "--ignore-index", "-100", "--shift")
    expected = neg_log_softmax(z, shifted).sum() / (shifted != -100).sum()
    assert float(bare) == pytest.approx(expected, rel=1e-12)


def test_weights_of_zero_leave_nothing_to_average(tmp_path: Path, streamed: None) -> None:
    """Every counted position of class weight 0: NaN and the whole path's warning."""
    lm(tmp_path, k=2)
    y = np.zeros((4, 9), dtype=np.int64)
    np.save(tmp_path / "y.npy", y)
    done = runner.invoke(
        app, ["compute", str(tmp_path / "z.npy"), str(tmp_path / "y.npy"), "-r", "mean"]
    )
    assert done.exit_code == 0
    z = np.load(tmp_path / "z.npy").astype(np.float64)
    assert float(done.stdout) == pytest.approx(neg_log_softmax(z, y).mean(), rel=1e-12)
    options = ["--class-weights", "0,1"]
    bare, whole = bare_and_json(tmp_path, *options)
    assert bare == "nan"
    assert whole is None  # JSON's null
    done = runner.invoke(
        app, ["compute", str(tmp_path / "z.npy"), str(tmp_path / "y.npy"), *options, "-r", "mean"]
    )
    assert "nothing left to average" in done.stderr


@pytest.mark.parametrize("layout", ["uint8", "flat", "npz", "class-axis-1", "4-d"])
def test_labels_of_every_array_kind(tmp_path: Path, streamed: None, layout: str) -> None:
    z, y = lm(tmp_path)
    y = np.where(y < 0, 0, y)
    options: list[str] = []
    if layout == "uint8":
        np.save(tmp_path / "y.npy", y.astype(np.uint8))
    elif layout == "flat":
        np.save(tmp_path / "y.npy", y.reshape(-1))
    elif layout == "npz":
        np.savez(tmp_path / "y.npz", labels=y)
    elif layout == "class-axis-1":
        np.save(tmp_path / "z.npy", np.moveaxis(z, -1, 1))
        np.save(tmp_path / "y.npy", y)
        options = ["--class-axis", "1"]
    else:
        z = np.random.default_rng(3).normal(size=(2, 3, 5, 4))
        y = np.random.default_rng(4).integers(0, 4, size=(2, 3, 5))
        np.save(tmp_path / "z.npy", z)
        np.save(tmp_path / "y.npy", y)
    labels = "y.npz" if layout == "npz" else "y.npy"
    bare, whole = bare_and_json(tmp_path, *options, labels=labels)
    assert bare == repr(whole)
    assert float(bare) == pytest.approx(neg_log_softmax(z, y).mean(), rel=1e-12)


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (7, "y.npy: row 3, position 6: label 7 is out of range for 3 classes"),
        (-100, "y.npy: row 3, position 6: label -100 marks padding"),
        (1.5, "y.npy: row 3, position 6: label 1.5 is not a class index"),
        (np.nan, "y.npy: row 3, column 6: value is NaN"),
    ],
)
def test_a_bad_label_in_a_later_block_is_named_as_whole(
    tmp_path: Path, streamed: None, label: float, message: str
) -> None:
    """The same line the whole-array path gives, bare or not, and nothing on stdout."""
    lm(tmp_path)
    y = np.zeros((4, 9), dtype=np.float64)
    y[2, 5] = label
    np.save(tmp_path / "y.npy", y)
    for done in bare_then_json(tmp_path):
        assert (done.exit_code, done.stdout) == (65, "")
        assert message in done.stderr, done.stderr


def test_labels_in_a_compressed_npz_are_unpacked_once_to_a_file_removed_at_exit(
    tmp_path: Path, streamed: None
) -> None:
    """np.savez_compressed labels: read in blocks from a file of their own (not held
    whole), the formula's mean; a bad label named in the member as the whole path names
    it; in a process of its own, the file is gone when it ends."""
    z, y = lm(tmp_path)
    np.savez_compressed(tmp_path / "y.npz", labels=y)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(scratch))
        bare, _ = bare_and_json(tmp_path, "--ignore-index", "-100", labels="y.npz")
    unpacked = list(scratch.iterdir())  # one a run (removed at exit: not yet in-process)
    assert len(unpacked) == 2
    assert np.fromfile(unpacked[0], dtype=y.dtype).tolist() == y.reshape(-1).tolist()
    for path in unpacked:
        path.unlink()
    assert float(bare) == pytest.approx(neg_log_softmax(z, y).sum() / (y != -100).sum(), rel=1e-12)
    y[3, 7] = 5
    np.savez_compressed(tmp_path / "y.npz", labels=y)
    z_path, y_path = str(tmp_path / "z.npy"), str(tmp_path / "y.npz")
    found = runner.invoke(app, ["compute", z_path, y_path, "--ignore-index", "-100", "-r", "mean"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inputs_module, "_class_indices_only", lambda *args: False)
        whole = runner.invoke(app, ["compute", z_path, y_path, "--ignore-index", "-100"])
    assert (found.exit_code, found.stdout) == (65, "")
    assert found.stderr == whole.stderr
    assert "y.npz" in found.stderr
    np.save(tmp_path / "z.npy", np.zeros((64, 1024, 9), dtype=np.float32))  # streamed: > 1 MiB
    np.savez_compressed(tmp_path / "y.npz", labels=np.zeros((64, 1024), dtype=np.int64))
    done = subprocess.run(
        [sys.executable, "-m", "xent_cli", "compute", z_path, y_path, "-r", "mean"],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},
        timeout=120,
    )
    assert (done.returncode, float(done.stdout)) == (0, pytest.approx(math.log(9), rel=1e-12))
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("axis", [1, 2])
def test_classes_on_an_axis_of_a_compressed_npz_are_read_from_it_unpacked(
    tmp_path: Path, streamed: None, axis: int
) -> None:
    """--class-axis of predictions in np.savez_compressed (unpacked once to a file of the
    tool's own, read in slices, not whole rows): the formula's mean and row means."""
    z, y = lm(tmp_path, shape=(2, 3, 7)) if axis == 2 else lm(tmp_path)
    np.savez_compressed(tmp_path / "z.npz", logits=np.moveaxis(z, -1, axis))
    z_path, y_path = str(tmp_path / "z.npz"), str(tmp_path / "y.npy")
    options = ["--ignore-index", "-100", "--class-axis", str(axis), "-f", "json", "-r", "row"]
    done = runner.invoke(app, ["compute", z_path, y_path, *options])
    assert done.exit_code == 0, done.output
    counted = y != -100
    losses = neg_log_softmax(z, y)
    found = json.loads(done.stdout)
    assert found["mean"] == pytest.approx(losses.sum() / counted.sum(), rel=1e-12)
    with np.errstate(invalid="ignore"):  # a row with no counted position: NaN (null)
        rows = losses.reshape(len(y), -1).sum(axis=1) / counted.reshape(len(y), -1).sum(axis=1)
    assert found["losses"] == [
        None if np.isnan(v) else pytest.approx(v, rel=1e-12) for v in rows.tolist()
    ]


@pytest.mark.parametrize("piped", ["predictions", "labels"])
def test_an_array_on_standard_input_is_read_in_blocks_from_a_scratch_file(
    tmp_path: Path, streamed: None, piped: str
) -> None:
    """Logits (or labels) piped in as a .npy: copied to a scratch file and streamed, the
    file path's numbers; a fault named in <stdin> as the whole path names it."""
    lm(tmp_path)
    z_path, y_path = str(tmp_path / "z.npy"), str(tmp_path / "y.npy")
    options = ["--ignore-index", "-100", "-f", "json", "-r", "row"]
    from_files = runner.invoke(app, ["compute", z_path, y_path, *options])
    piped_path = z_path if piped == "predictions" else y_path
    paths = ["-", y_path] if piped == "predictions" else [z_path, "-"]
    data = Path(piped_path).read_bytes()
    with pytest.MonkeyPatch.context() as patch:  # streamed, the labels in blocks

        def never(*args: object, **kwargs: object) -> None:
            raise AssertionError("labels read whole")

        patch.setattr(inputs_module, "position_labels", never)
        done = runner.invoke(app, ["compute", *paths, *options], input=data)
    assert done.exit_code == 0, done.output
    assert done.stdout == from_files.stdout
    z = np.load(z_path)
    z[2, 4, 1] = np.nan
    y = np.load(y_path)
    y[3, 2] = 7
    bad = {"predictions": z, "labels": y}[piped]
    text = tmp_path / "bad.npy"
    np.save(text, bad)
    done = runner.invoke(app, ["compute", *paths, *options], input=text.read_bytes())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(arrays, "POSITIONS_STREAM_BYTES", 1 << 30)  # read whole
        whole = runner.invoke(app, ["compute", *paths, *options], input=text.read_bytes())
    assert (done.exit_code, done.stdout) == (65, "")
    assert done.stderr == whole.stderr
    assert "<stdin>" in done.stderr


def test_a_scratch_file_that_cannot_be_made_is_one_line(
    tmp_path: Path, streamed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No room (or no directory) for the unpacked labels: one line naming what was being
    copied and TMPDIR, exit 71, nothing on stdout."""
    _, y = lm(tmp_path)
    np.savez_compressed(tmp_path / "y.npz", labels=y)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    z_path, y_path = str(tmp_path / "z.npy"), str(tmp_path / "y.npz")
    done = runner.invoke(app, ["compute", z_path, y_path, "--ignore-index", "-100", "-r", "mean"])
    assert (done.exit_code, done.stdout) == (71, "")
    assert "cannot copy " in done.stderr
    assert "y.npz[labels] to the temporary directory" in done.stderr
    assert "set TMPDIR" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_sigterm_while_standard_input_is_copied_removes_the_copy(tmp_path: Path) -> None:
    """SIGTERM while a piped array is being copied to a scratch file: the file is removed
    and the process ends by the signal."""
    import signal
    import time

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    np.save(tmp_path / "y.npy", np.zeros((4, 9), dtype=np.int64))
    process = subprocess.Popen(
        [sys.executable, "-m", "xent_cli", "compute", "-", str(tmp_path / "y.npy")],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    assert process.stdin is not None
    header = np.lib.format.header_data_from_array_1_0(np.zeros((4, 9, 3)))
    process.stdin.write(b"\x93NUMPY\x01\x00" + repr(header).encode()[:40])
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while not list(scratch.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(scratch.iterdir())  # the copy has begun; standard input is still open
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == -signal.SIGTERM
    process.stdin.close()
    assert list(scratch.iterdir()) == []


def test_one_target_class_gives_the_whole_paths_reduction(tmp_path: Path, streamed: None) -> None:
    """Every counted target one class: the prior's log loss is +0, the log-loss reduction
    −∞ (JSON's null, and the note saying so) from blocks as whole."""
    lm(tmp_path)
    np.save(tmp_path / "y.npy", np.ones((4, 9), dtype=np.int64))
    blocks, whole = in_blocks_and_whole(tmp_path, "-f", "json", "-r", "mean")
    assert blocks.stdout == whole.stdout
    assert "log_loss_reduction is −∞" in blocks.stdout
    blocks, whole = in_blocks_and_whole(tmp_path, "-f", "table", "-r", "mean")
    assert blocks.stdout == whole.stdout


def test_label_shards_are_read_in_blocks_across_their_files(tmp_path: Path, streamed: None) -> None:
    """Labels as shards of .npy files (beside one predictions file, or paired with
    prediction shards): read in blocks across the files, the whole path's output; a bad
    label named in its own shard's file, row and position."""
    z, y = lm(tmp_path)
    (tmp_path / "y").mkdir()
    (tmp_path / "z").mkdir()
    for part, rows in enumerate([slice(0, 1), slice(1, 3), slice(3, 4)]):
        np.save(tmp_path / "y" / f"part-{part}.npy", y[rows])
        np.save(tmp_path / "z" / f"part-{part}.npy", z[rows].astype(np.float32))
    for predictions in ("z.npy", "z"):
        z_path, y_path = str(tmp_path / predictions), str(tmp_path / "y")
        for options in (["-f", "json", "-r", "row"], []):
            command = ["compute", z_path, y_path, "--ignore-index", "-100", *options]
            with pytest.MonkeyPatch.context() as patch:

                def never(*args: object, **kwargs: object) -> None:
                    raise AssertionError("labels read whole")

                patch.setattr(inputs_module, "position_labels", never)
                blocks = runner.invoke(app, command)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(inputs_module, "_class_indices_only", lambda *args: False)
                whole = runner.invoke(app, command)
            assert blocks.exit_code == 0, blocks.output
            assert (
                close(json.loads(blocks.stdout), json.loads(whole.stdout))
                if options
                else (blocks.stdout == whole.stdout)
            )
    bad = y[1:3].copy()
    bad[1, 4] = 9
    np.save(tmp_path / "y" / "part-1.npy", bad)
    done = runner.invoke(app, ["compute", z_path, y_path, "--ignore-index", "-100"])
    assert (done.exit_code, done.stdout) == (65, "")
    assert "part-1.npy: row 2, position 5: label 9 is out of range" in done.stderr


def test_labels_in_a_safetensors_file_are_read_in_blocks(tmp_path: Path, streamed: None) -> None:
    """An int64 tensor of labels in .safetensors: read in place a block at a time, the
    whole path's output and the formula's mean."""
    from safetensors.numpy import save_file

    z, y = lm(tmp_path)
    save_file({"labels": y.astype(np.int64)}, str(tmp_path / "y.safetensors"))
    bare, _ = bare_and_json(tmp_path, "--ignore-index", "-100", labels="y.safetensors")
    assert float(bare) == pytest.approx(neg_log_softmax(z, y).sum() / (y != -100).sum(), rel=1e-12)
    np.save(tmp_path / "y.npy", y)  # the whole path's, from the same labels
    z_path = str(tmp_path / "z.npy")
    found = runner.invoke(
        app, ["compute", z_path, str(tmp_path / "y.safetensors"), "--ignore-index", "-100"]
    )
    expected = runner.invoke(
        app, ["compute", z_path, str(tmp_path / "y.npy"), "--ignore-index", "-100"]
    )
    assert found.stdout == expected.stdout


def test_labels_that_do_not_fit_are_read_whole_and_refused(tmp_path: Path, streamed: None) -> None:
    lm(tmp_path)
    np.save(tmp_path / "y.npy", np.zeros((4, 8), dtype=np.int64))
    done = runner.invoke(
        app, ["compute", str(tmp_path / "z.npy"), str(tmp_path / "y.npy"), "-r", "mean"]
    )
    assert done.exit_code == 65
    assert "labels of shape 4×8 do not fit" in done.stderr


FIGURES = ("brier", "ece", "log_loss_reduction", "accuracy_at_k")


def in_blocks_and_whole(
    tmp_path: Path, *options: str, suffix: str | None = None
) -> tuple[Result, Result]:
    """``compute z.npy y.npy OPTIONS`` with the labels in blocks (totals: the whole-label
    reader must not run), then with them read whole (a value a position: Result); with
    ``suffix``, ``-o blocks.SUFFIX`` and ``-o whole.SUFFIX``."""
    z, y = str(tmp_path / "z.npy"), str(tmp_path / "y.npy")

    def written(run: str) -> list[str]:
        return [] if suffix is None else ["-o", str(tmp_path / f"{run}.{suffix}")]

    with pytest.MonkeyPatch.context() as patch:

        def never(*args: object, **kwargs: object) -> None:
            raise AssertionError("labels read whole")

        patch.setattr(inputs_module, "position_labels", never)
        blocks = runner.invoke(app, ["compute", z, y, *options, *written("blocks")])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inputs_module, "_class_indices_only", lambda *args: False)
        whole = runner.invoke(app, ["compute", z, y, *options, *written("whole")])
    assert blocks.exit_code == 0, blocks.output
    assert whole.exit_code == 0, whole.output
    return blocks, whole


SUMMARY_OPTIONS = [
    ["--ignore-index", "-100"],
    ["--ignore-index", "-100", "--shift", "--accuracy-at", "2"],
    ["--ignore-index", "-100", "--class-weights", "1,3,0.5"],
    ["--ignore-index", "-100", "--class-weights", "1e308,2e307,1", "--like", "keras"],
    ["--ignore-index", "-100", "--label-smoothing", "0.1", "--base", "2"],
    ["--ignore-index", "-100", "--like", "torch", "--accuracy-at", "1"],
]


@pytest.mark.parametrize("options", SUMMARY_OPTIONS)
@pytest.mark.parametrize("reduction", ["mean", "row"])
def test_the_summary_in_blocks_is_the_whole_ones(
    tmp_path: Path, streamed: None, options: list[str], reduction: str
) -> None:
    """JSON of totals reduced in blocks: the mean, sum, perplexities and each row's mean
    with the whole path's bits, the figures to 1e-12; -r row's CSV byte for byte."""
    lm(tmp_path)
    blocks, whole = in_blocks_and_whole(tmp_path, *options, "-r", reduction, "-f", "json")
    found, expected = json.loads(blocks.stdout), json.loads(whole.stdout)
    for key in FIGURES:
        if expected.get(key) is None:
            assert found.get(key) == expected.get(key)
        else:
            assert found.pop(key) == pytest.approx(expected.pop(key), rel=1e-12, abs=1e-15)
    assert found == expected
    assert blocks.stderr == whole.stderr
    if reduction == "row":
        blocks, whole = in_blocks_and_whole(tmp_path, *options, "-r", "row")
        assert blocks.stdout == whole.stdout
        assert blocks.stdout.startswith("row,loss,positions,perplexity\n")


@pytest.mark.parametrize("options", SUMMARY_OPTIONS)
@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json"])
def test_every_position_listed_in_blocks_is_the_whole_listing(
    tmp_path: Path, streamed: None, options: list[str], fmt: str
) -> None:
    """-r none of positions in blocks (made again a block at a time): byte for byte the
    listing of the whole path, over blocks of 5 positions and blocks with none counted."""
    _, y = lm(tmp_path)
    blocks, whole = in_blocks_and_whole(tmp_path, *options, "-f", fmt)
    if fmt == "json":  # the figures to 1e-12, the rest bit for bit
        assert close(json.loads(blocks.stdout), json.loads(whole.stdout))
        found, expected = json.loads(blocks.stdout), json.loads(whole.stdout)
        assert {k: v for k, v in found.items() if k not in FIGURES} == {
            k: v for k, v in expected.items() if k not in FIGURES
        }
    else:
        assert blocks.stdout == whole.stdout
    assert blocks.stderr == whole.stderr
    labels = (
        np.concatenate([y[:, 1:], np.full((4, 1), -100)], axis=1) if "--shift" in options else y
    )
    counted = int((labels != -100).sum())
    if fmt == "json":
        assert len(json.loads(blocks.stdout)["losses"]) == counted
    else:
        header = 0 if fmt == "jsonl" else 1
        assert len(blocks.stdout.splitlines()) == header + counted


@pytest.mark.parametrize("suffix", ["csv", "npy", "parquet", "jsonl", "json"])
def test_every_position_written_to_a_file_in_blocks_is_the_whole_file(
    tmp_path: Path, streamed: None, suffix: str
) -> None:
    """-o FILE of positions in blocks: the file the whole path writes, and the same mean
    on standard output; the losses those of the formula."""
    z, y = lm(tmp_path)
    blocks, whole = in_blocks_and_whole(
        tmp_path, "--ignore-index", "-100", "--shift", suffix=suffix
    )
    assert blocks.stdout == whole.stdout
    written = [(tmp_path / f"{run}.{suffix}").read_bytes() for run in ("blocks", "whole")]
    if suffix == "json":
        assert close(*[json.loads(text) for text in written])
    elif suffix == "parquet":
        import polars as pl

        found = [pl.read_parquet(tmp_path / f"{run}.parquet") for run in ("blocks", "whole")]
        assert found[0].equals(found[1])
    else:
        assert written[0] == written[1]
    shifted = np.concatenate([y[:, 1:], np.full((4, 1), -100)], axis=1)
    expected = neg_log_softmax(z, shifted)[shifted != -100]
    assert float(blocks.stdout) == pytest.approx(expected.mean(), rel=1e-12)
    if suffix == "npy":
        assert np.load(tmp_path / "blocks.npy") == pytest.approx(expected, rel=1e-12)
    if suffix == "csv":
        assert len(written[0].splitlines()) == 1 + len(expected)


VIEWS = [
    ["--top", "5"],
    ["--top", "5", "-f", "json", "-r", "mean"],
    ["--top", "3", "-r", "row", "-f", "jsonl"],
    ["--confusion"],
    ["--confusion", "-f", "json", "-r", "row"],
    ["--per-class"],
    ["--per-class", "--confusion", "-f", "json", "-r", "mean"],
    ["--top", "4", "--confusion", "--per-class", "-f", "table", "--shift"],
]


def close(found: object, expected: object) -> bool:
    """Equal, floats to 1e-12 (the per-class sums add blocks in another order)."""
    if isinstance(expected, float) and isinstance(found, float):
        return found == pytest.approx(expected, rel=1e-12)
    if isinstance(expected, dict) and isinstance(found, dict):
        return found.keys() == expected.keys() and all(close(found[k], expected[k]) for k in found)
    if isinstance(expected, list) and isinstance(found, list):
        return len(found) == len(expected) and all(map(close, found, expected))
    return found == expected


@pytest.mark.parametrize("options", VIEWS)
@pytest.mark.parametrize("logits", ["random", "ties"])
def test_the_views_of_positions_in_blocks_are_the_whole_ones(
    tmp_path: Path, streamed: None, options: list[str], logits: str
) -> None:
    """--top, --confusion and --per-class of positions in blocks: what the whole path
    prints (ties of the worst in position order across blocks)."""
    z, _ = lm(tmp_path)
    if logits == "ties":
        np.save(tmp_path / "z.npy", np.zeros_like(z, dtype=np.float32))
    blocks, whole = in_blocks_and_whole(tmp_path, "--ignore-index", "-100", *options)
    assert blocks.stderr == whole.stderr
    if "json" in options:
        assert close(json.loads(blocks.stdout), json.loads(whole.stdout))
    elif "--per-class" in options and "table" not in options:
        found = [line.split(",") for line in blocks.stdout.splitlines()]
        expected = [line.split(",") for line in whole.stdout.splitlines()]
        assert found[0] == expected[0] == "class,count,loss,recall,precision,mean_p".split(",")
        for got, want in zip(found[1:], expected[1:], strict=True):
            assert close([float(v) for v in got if v], [float(v) for v in want if v])
    else:
        assert blocks.stdout == whole.stdout


def test_the_figures_worked_out_a_slice_at_a_time_are_the_same_bits(
    tmp_path: Path, streamed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """row_scores works out a few rows at a time (a vocabulary's softmax stays small):
    the figures have the bits of a block at once, on either path."""
    from xent_cli import evaluation

    lm(tmp_path)
    options = ["--ignore-index", "-100", "-f", "json", "--accuracy-at", "2", "--per-class"]
    at_once = in_blocks_and_whole(tmp_path, *options)
    monkeypatch.setattr(evaluation, "SCORED_BYTES", 2 * 8 * 3)
    sliced = in_blocks_and_whole(tmp_path, *options)
    assert [done.stdout for done in sliced] == [done.stdout for done in at_once]


def test_the_summarys_figures_are_the_formulas(tmp_path: Path, streamed: None) -> None:
    """Accuracy, Brier, accuracy at 2 and the log-loss reduction of positions in blocks,
    against the formulas over the counted positions (numpy float64)."""
    z, y = lm(tmp_path)
    blocks, _ = in_blocks_and_whole(
        tmp_path, "--ignore-index", "-100", "-r", "mean", "-f", "json", "--accuracy-at", "2"
    )
    found = json.loads(blocks.stdout)
    kept = y != -100
    logits, targets = z[kept], y[kept]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(3)[targets]
    assert found["positions"] == int(kept.sum())
    assert found["accuracy"] == pytest.approx(np.mean(p.argmax(axis=1) == targets), rel=1e-15)
    assert found["brier"] == pytest.approx(((p - onehot) ** 2).sum(axis=1).mean(), rel=1e-12)
    rank = 1 + (logits > logits[np.arange(len(targets)), targets][:, None]).sum(axis=1)
    assert found["accuracy_at_k"] == pytest.approx(np.mean(rank <= 2), rel=1e-15)
    frequency = np.bincount(targets) / len(targets)
    log_loss = -np.log(p[np.arange(len(targets)), targets]).mean()
    prior = -np.log(frequency[targets]).mean()
    assert found["log_loss_reduction"] == pytest.approx(1 - log_loss / prior, rel=1e-12)
    confidence, right = p.max(axis=1), (p.argmax(axis=1) == targets)
    bins = np.minimum((np.ceil(confidence * 15) - 1).astype(int), 14)
    ece = sum(
        abs(right[bins == b].mean() - confidence[bins == b].mean()) * (bins == b).mean()
        for b in range(15)
        if (bins == b).any()
    )
    assert found["ece"] == pytest.approx(ece, rel=1e-12)


def test_the_table_in_blocks_is_the_whole_ones(tmp_path: Path, streamed: None) -> None:
    """On a terminal (-f table): the per-row table and the summary, as the whole path."""
    lm(tmp_path)
    options = ["--ignore-index", "-100", "--shift", "-f", "table", "--accuracy-at", "2"]
    blocks, whole = in_blocks_and_whole(tmp_path, *options)
    assert blocks.stdout == whole.stdout
    assert "row perplexity mean" in blocks.stdout


def test_only_a_bare_number_reads_labels_in_blocks(tmp_path: Path, streamed: None) -> None:
    lm(tmp_path)
    z, y = str(tmp_path / "z.npy"), str(tmp_path / "y.npy")
    chosen = Settings(ignore_index=-100)
    assert load(z, y, chosen, stream=True, bounded=True).label_blocks is not None
    assert load(z, y, chosen, stream=True).label_blocks is None
    named = Settings(ignore_index=-100, classes=("a", "b", "c"))
    found = load(z, y, named, stream=True, bounded=True)
    assert found.label_blocks is not None
    assert found.class_names == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("classes", "offset"), [("cat,dog,owl", 0), ("1,2,3", 1), ("2,4,6", 0), ("0,1,2", 0)]
)
def test_labels_in_blocks_named_with_classes_are_the_whole_ones(
    tmp_path: Path, streamed: None, classes: str, offset: int
) -> None:
    """--classes: names shown for the classes; labels that are the names (1,2,3) read as
    their indices; labels that are not all names (2,4,6 over 0…2) stay indices and are
    checked as such; everything as the whole path says it."""
    _, y = lm(tmp_path)
    np.save(tmp_path / "y.npy", np.where(y == -100, -100, y + offset))
    for options in (["-f", "json", "-r", "row"], ["--top", "3"], []):
        blocks, whole = in_blocks_and_whole(
            tmp_path, "--ignore-index", "-100", "--classes", classes, *options
        )
        if "json" in options:  # the figures to 1e-12, the rest bit for bit
            assert close(json.loads(blocks.stdout), json.loads(whole.stdout))
        else:
            assert blocks.stdout == whole.stdout
        assert blocks.stderr == whole.stderr
    assert ("cat" in blocks.stdout) == (classes == "cat,dog,owl")


VIEWED = ["--top", "5", "--confusion", "--per-class"]


@pytest.mark.parametrize(
    ("logits", "labels", "options"),
    [
        ((64, 1024, 1024, 2), (64, 1024, 1024), ["-r", "mean"]),
        ((1, 131072, 2, 512), (1, 131072, 512), ["-r", "mean", "--class-axis", "2"]),
        ((64, 1024, 1024, 2), (64, 1024, 1024), ["-r", "row", "-f", "json", "--accuracy-at", "2"]),
        ((64, 1024, 1024, 2), (64, 1024, 1024), ["-f", "json", "-r", "mean", *VIEWED]),
    ],
)
def test_a_segmentation_dump_peaks_under_a_quarter_of_its_size(
    tmp_path: Path, logits: tuple[int, ...], labels: tuple[int, ...], options: list[str]
) -> None:
    """float32 logits and int64 labels of 512 MiB each (zeros: sparse files), the classes
    last or on axis 2: every position's loss is log 2, and the process's peak resident
    memory stays under a quarter of the logits' file (the labels are not read whole, no
    loss a position is kept, a block is a slice of the first position axis); JSON's
    summary with each row's mean and the figures too."""
    for name, descr, dims, itemsize in (("z.npy", "<f4", logits, 4), ("y.npy", "<i8", labels, 8)):
        with (tmp_path / name).open("wb") as handle:
            np.lib.format.write_array_header_1_0(
                handle, {"descr": descr, "fortran_order": False, "shape": dims}
            )
            handle.truncate(handle.tell() + math.prod(dims) * itemsize)
    measure = (
        "import json, resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
        "print(json.dumps([done.returncode, done.stdout, done.stderr, peak]))"
    )
    command = [sys.executable, "-c", measure, sys.executable, "-m", "xent_cli", "compute"]
    command += [str(tmp_path / "z.npy"), str(tmp_path / "y.npy"), *options]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    code, out, err, peak_kib = json.loads(done.stdout)
    assert code == 0, err
    if "row" in options:
        found = json.loads(out)
        assert found["losses"] == [pytest.approx(math.log(2), rel=1e-12)] * 64
        assert found["row_positions"] == [1024 * 1024] * 64
        assert (found["accuracy"], found["brier"], found["ece"]) == (1.0, 0.25, 0.5)
        out = found["mean"]
    elif "--top" in options:
        found = json.loads(out)
        assert [(w["row"], w["position"]) for w in found["worst"]] == [(0, p) for p in range(5)]
        assert found["confusion"] == {"labels": ["0"], "matrix": [[64 << 20]]}
        assert found["per_class"][0]["count"] == 64 << 20
        out = found["mean"]

    assert float(out) == pytest.approx(math.log(2), rel=1e-12)
    assert peak_kib * 1024 < (tmp_path / "z.npy").stat().st_size / 4


def test_accuracy_at_says_a_bare_number_has_no_summary(tmp_path: Path, streamed: None) -> None:
    lm(tmp_path)
    z, y = str(tmp_path / "z.npy"), str(tmp_path / "y.npy")
    done = runner.invoke(
        app, ["compute", z, y, "--ignore-index", "-100", "-r", "mean", "--accuracy-at", "2"]
    )
    assert done.exit_code == 0
    assert "--accuracy-at is a figure of the summary, which -f csv does not print" in done.stderr


def test_a_guess_that_does_not_fit_later_blocks_warns_nothing(
    tmp_path: Path, streamed: None
) -> None:
    """The first block looks like probabilities, a later one holds scores: the guessed
    kernel's log of a negative score is thrown away with its guess, and says nothing (under
    pytest a numpy warning is an error)."""
    rng = np.random.default_rng(8)
    p = rng.dirichlet(np.ones(3), size=(2, 9)).astype(np.float64)
    p[1, 5:] = rng.normal(scale=3.0, size=(4, 3))
    y = rng.integers(0, 3, size=(2, 9))
    np.save(tmp_path / "z.npy", p)
    np.save(tmp_path / "y.npy", y)
    for done in bare_then_json(tmp_path, "--epsilon", "0"):
        assert done.exit_code == 0, done.output
        assert "RuntimeWarning" not in done.stderr
    expected = neg_log_softmax(p, y).mean()
    bare, _ = bare_and_json(tmp_path, "--epsilon", "0")
    assert float(bare) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("bad_labels", "bad_score", "named"),
    [
        ({(0, 1): 70, (3, 7): 1.5}, False, "label 1.5 is not a class index"),
        ({(0, 1): 70, (3, 7): np.nan}, False, "row 4, column 8: value is NaN"),
        ({(3, 7): np.nan}, True, "y.npy: row 4, column 8: value is NaN"),
        ({(0, 1): 70}, True, "z.npy: row 4, position 2, class 1: value is NaN"),
        ({(0, 1): 70, (2, 2): -3}, False, "label -3 is negative"),
    ],
)
def test_several_bad_inputs_are_named_as_the_whole_path_names_them(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    streamed: None,
    bad_labels: dict[tuple[int, int], float],
    bad_score: bool,
    named: str,
) -> None:
    """Label values first (a NaN label before a NaN score), then the scores, then the labels
    as class indices by kind: a fraction anywhere, then a negative, then one beyond K. Only
    the first 4 labels decide the loss here: the rest are checked in blocks."""
    monkeypatch.setattr(inputs_module, "FIRST_LABELS", 4)
    z, _ = lm(tmp_path)
    if bad_score:
        z[3, 1, 0] = np.nan
        np.save(tmp_path / "z.npy", z)
    y = np.zeros((4, 9))
    for place, value in bad_labels.items():
        y[place] = value
    np.save(tmp_path / "y.npy", y)
    bare, whole = bare_then_json(tmp_path)
    assert (bare.exit_code, bare.stdout, whole.exit_code, whole.stdout) == (65, "", 65, "")
    assert bare.stderr == whole.stderr
    assert named in bare.stderr, bare.stderr


def test_a_wrong_output_kind_is_named_before_a_label_out_of_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: None
) -> None:
    """--outputs probs given a 1.5 and a label 7 further on: detection names the outputs
    first, on either path (labels in blocks are checked where it checks class indices)."""
    monkeypatch.setattr(inputs_module, "FIRST_LABELS", 4)
    p = np.random.default_rng(9).dirichlet(np.ones(3), size=(4, 9))
    p[3, 2, 0] = 1.5
    y = np.zeros((4, 9), dtype=np.int64)
    y[2, 4] = 7
    np.save(tmp_path / "z.npy", p)
    np.save(tmp_path / "y.npy", y)
    bare, whole = bare_then_json(tmp_path, "--outputs", "probs")
    assert (bare.exit_code, bare.stdout, whole.exit_code, whole.stdout) == (65, "", 65, "")
    assert bare.stderr == whole.stderr
    assert "value 1.5 is not a probability" in bare.stderr, bare.stderr


def test_labels_through_a_fifo_are_read_whole_from_their_first_byte(
    tmp_path: Path, streamed: None
) -> None:
    """A FIFO (or <(...)) is no file to read by position: nothing is sniffed from it
    before the whole-file reader reads it (the sniffed bytes were lost)."""
    import os
    import threading

    z, y = lm(tmp_path)
    fifo = tmp_path / "y.fifo"
    os.mkfifo(fifo)
    data = (tmp_path / "y.npy").read_bytes()
    writer = threading.Thread(target=fifo.write_bytes, args=(data,))
    writer.start()
    done = runner.invoke(
        app, ["compute", str(tmp_path / "z.npy"), str(fifo), "--ignore-index", "-100", "-r", "mean"]
    )
    writer.join(timeout=10)
    assert done.exit_code == 0, done.output
    expected = neg_log_softmax(z, y).sum() / (y != -100).sum()
    assert float(done.stdout) == pytest.approx(expected, rel=1e-12)


def test_a_path_through_a_symlinked_directory_and_dotdot_reads_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: None
) -> None:
    """link/../z.npy is where the kernel says (real/z.npy), not ./z.npy by text."""
    (tmp_path / "real" / "sub").mkdir(parents=True)
    rng = np.random.default_rng(31)
    z = rng.normal(size=(3, 6, 4))
    y = rng.integers(0, 4, size=(3, 6))
    np.save(tmp_path / "real" / "z.npy", z)
    np.save(tmp_path / "real" / "y.npy", y)
    np.save(tmp_path / "z.npy", rng.normal(size=(3, 6, 4)))  # another file, by text
    (tmp_path / "link").symlink_to(tmp_path / "real" / "sub")
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(app, ["compute", "link/../z.npy", "link/../y.npy", "-r", "mean"])
    assert done.exit_code == 0, done.output
    assert float(done.stdout) == pytest.approx(neg_log_softmax(z, y).mean(), rel=1e-12)

"""Sequences, images and vocabularies (DESIGN §8): predictions of rank ≥ 3, a loss a position.

The expected values are PyTorch's float64 ``cross_entropy(reduction="none",
ignore_index=-100)`` and Hugging Face's ``ForCausalLMLoss``, computed once by
``tests/data/sequences/make_reference.py`` (torch is not a test dependency) and stored
with their inputs; the extremes are mpmath's.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from xent_cli import readers
from xent_cli.cli import app
from xent_cli.compute import compute
from xent_cli.inputs import load
from xent_cli.losses import sparse_softmax_ce_with_logits
from xent_cli.options import Like
from xent_cli.readers import arrays
from xent_cli.result import Result
from xent_cli.settings import Settings

from . import reference as ref

DATA = Path(__file__).parent / "data" / "sequences"
ROOT = Path(__file__).parent.parent
runner = CliRunner()


def fixture(name: str) -> dict[str, np.ndarray]:
    with np.load(DATA / f"{name}.npz") as data:
        return {key: data[key] for key in data.files}


def save(tmp_path: Path, name: str, array: np.ndarray) -> str:
    path = tmp_path / name
    np.save(path, array)
    return str(path)


def run(predictions: str, labels: str, **options: object) -> Result:
    settings = Settings(**options)  # type: ignore[arg-type]
    return compute(load(predictions, labels, settings, stream=True), settings)


def counted(losses: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return losses[labels != -100]


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stream every array, in blocks of a few positions."""
    monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
    monkeypatch.setattr(arrays, "BLOCK_BYTES", 3 * 8 * 11)
    monkeypatch.setattr(readers, "HEAD_BYTES", 160)


def test_lm_positions_are_torchs_cross_entropy(tmp_path: Path) -> None:
    case = fixture("lm")
    z = save(tmp_path, "z.npy", case["logits"])
    y = save(tmp_path, "y.npy", case["labels"])
    result = run(z, y, ignore_index=-100)
    assert result.layout is not None
    assert result.row_count == 3
    np.testing.assert_allclose(result.losses, case["losses"].ravel(), rtol=1e-12, atol=0)
    assert result.mean == pytest.approx(float(case["mean"]), rel=1e-12)
    assert result.counted_rows == int((case["labels"] != -100).sum())
    assert np.array_equal(result.predicted, case["argmax"].ravel())  # type: ignore[arg-type]
    assert result.decision.loss == "sparse-softmax-ce-with-logits"


def test_shift_is_hugging_faces_causal_lm_loss(tmp_path: Path) -> None:
    case = fixture("lm_shift")
    z = save(tmp_path, "z.npy", case["logits"])
    y = save(tmp_path, "y.npy", case["labels"])
    result = run(z, y, ignore_index=-100, shift=True)
    np.testing.assert_allclose(result.losses, case["losses"].ravel(), rtol=1e-12, atol=0)
    assert result.mean == pytest.approx(float(case["mean"]), rel=1e-12)
    scored = case["shift_labels"] != -100  # the last position of a row never is
    assert result.counted_rows == int(scored.sum())
    assert result.layout is not None
    listed = result.listed
    assert result.layout.position_of(listed).tolist() == (np.nonzero(scored)[1] + 1).tolist()
    # DESIGN §8's own words: logits[:, :-1] against labels[:, 1:]
    logits, labels = case["logits"][:, :-1], case["labels"][:, 1:]
    keep = labels != -100
    direct = [
        float(ref.sparse_softmax_ce(row.tolist(), int(c)))
        for row, c in zip(logits[keep], labels[keep], strict=True)
    ]
    np.testing.assert_allclose(result.losses[listed], direct, rtol=1e-12)


def test_shift_without_ignore_index_scores_every_position_but_the_last(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(size=(2, 4, 5)), rng.integers(0, 5, size=(2, 4))
    z, y = save(tmp_path, "z.npy", logits), save(tmp_path, "y.npy", labels)
    result = run(z, y, shift=True)
    want = [
        float(ref.sparse_softmax_ce(logits[n, t].tolist(), int(labels[n, t + 1])))
        for n in range(2)
        for t in range(3)
    ]
    np.testing.assert_allclose(result.losses[result.listed], want, rtol=1e-12)
    assert result.counted_rows == 6
    assert result.mean == pytest.approx(math.fsum(want) / 6, rel=1e-12)


@pytest.mark.parametrize("streamed", [False, True])
def test_class_axis_1_is_pytorchs_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    case = fixture("class_axis1")
    y = save(tmp_path, "y.npy", case["labels"])
    last = run(save(tmp_path, "last.npy", case["logits_last"]), y, ignore_index=-100)
    if streamed:
        monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
        monkeypatch.setattr(arrays, "BLOCK_BYTES", 5 * 8 * 2)
    moved = run(save(tmp_path, "z.npy", case["logits"]), y, ignore_index=-100, class_axis=1)
    np.testing.assert_allclose(moved.losses, case["losses"].ravel(), rtol=1e-12, atol=0)
    assert moved.losses.tobytes() == last.losses.tobytes()
    assert moved.mean == pytest.approx(float(case["mean"]), rel=1e-12)
    assert np.array_equal(moved.predicted, case["argmax"].ravel())  # type: ignore[arg-type]


@pytest.mark.parametrize("streamed", [False, True])
def test_four_d_segmentation_either_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    case = fixture("seg4d")
    if streamed:
        monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
        monkeypatch.setattr(arrays, "BLOCK_BYTES", 4 * 8 * 7)
    y = save(tmp_path, "y.npy", case["labels"])
    nhwc = run(save(tmp_path, "nhwc.npy", case["logits_nhwc"]), y, ignore_index=-100)
    nchw = run(save(tmp_path, "nchw.npy", case["logits_nchw"]), y, ignore_index=-100, class_axis=1)
    np.testing.assert_allclose(nhwc.losses, case["losses"].ravel(), rtol=1e-12, atol=0)
    assert nchw.losses.tobytes() == nhwc.losses.tobytes()
    assert nhwc.mean == pytest.approx(float(case["mean"]), rel=1e-12)
    assert nhwc.layout is not None
    assert nhwc.layout.positions == (3, 5)
    worst = nhwc.worst_rows(1)[0]
    assert case["labels"].ravel()[worst] != -100


def test_soft_targets_a_distribution_a_position(tmp_path: Path) -> None:
    case = fixture("soft")
    result = run(save(tmp_path, "z.npy", case["logits"]), save(tmp_path, "p.npy", case["probs"]))
    assert result.decision.loss == "softmax-ce-with-logits"
    np.testing.assert_allclose(result.losses, case["losses"].ravel(), rtol=1e-12, atol=0)
    assert result.mean == pytest.approx(float(case["mean"]), rel=1e-12)
    moved = run(
        save(tmp_path, "zc.npy", case["logits_ncs"]),
        save(tmp_path, "pc.npy", case["probs_ncs"]),
        class_axis=1,
    )
    np.testing.assert_allclose(moved.losses, case["losses"].ravel(), rtol=1e-12, atol=0)


def test_soft_targets_shift_too(tmp_path: Path) -> None:
    case = fixture("soft")
    logits, probs = case["logits"], case["probs"]
    result = run(save(tmp_path, "z.npy", logits), save(tmp_path, "p.npy", probs), shift=True)
    want = [
        float(ref.softmax_ce(logits[n, t].tolist(), probs[n, t + 1].tolist()))
        for n in range(2)
        for t in range(3)
    ]
    np.testing.assert_allclose(result.losses[result.listed], want, rtol=1e-12)


def test_float16_and_bfloat16_are_widened_exactly(tmp_path: Path) -> None:
    case = fixture("half")
    y = save(tmp_path, "y.npy", case["labels"])
    half = run(save(tmp_path, "z16.npy", case["logits_f16"]), y, ignore_index=-100)
    np.testing.assert_allclose(half.losses, case["losses_f16"].ravel(), rtol=1e-12, atol=0)
    tensors = str(DATA / "half.safetensors")
    settings = Settings(ignore_index=-100, key="logits_bf16", label_key="labels")
    bf16 = compute(load(tensors, tensors, settings, stream=True), settings)
    np.testing.assert_allclose(bf16.losses, case["losses_bf16"].ravel(), rtol=1e-12, atol=0)
    assert bf16.mean == pytest.approx(float(case["mean_bf16"]), rel=1e-12)
    assert np.array_equal(bf16.predicted, case["argmax_bf16"].ravel())  # type: ignore[arg-type]


def test_extremes_agree_with_mpmath(tmp_path: Path) -> None:
    case = fixture("extreme")
    result = run(save(tmp_path, "z.npy", case["logits"]), save(tmp_path, "y.npy", case["labels"]))
    np.testing.assert_allclose(result.losses, case["losses"].ravel(), rtol=1e-12, atol=0)
    assert result.losses.min() == pytest.approx(4.151689580210213e-87, rel=1e-12)
    assert np.isfinite(result.losses).all()


def test_a_vocabulary_wide_kernel_agrees_with_mpmath() -> None:
    """Past ~4,500 classes the loss is taken from the row maximum (losses._wide_rows):
    confident rows keep their tiny loss, huge scores stay finite, masked classes are 0."""
    rng = np.random.default_rng(11)
    k = 5000
    z = rng.normal(scale=4.0, size=(5, k))
    c = rng.integers(0, k, size=5)
    z[1, c[1]] = 80.0  # the label far ahead: a loss of ~e^−60
    z[2] *= 1e4  # far beyond exp's range
    z[3, : k // 2] = -np.inf  # masked classes
    z[3, c[3]] = z[3, k // 2 :].max()  # a tie for the lead
    z[4, c[4]] = -np.inf  # a masked label: an infinite loss
    got = sparse_softmax_ce_with_logits(z, c)
    for row in range(4):
        finite = [v for v in z[row].tolist() if v != -np.inf]
        want = ref.logsumexp(finite) - ref.mp.mpf(float(z[row, c[row]]))
        assert ref.relative_error(float(got[row]), want) < 1e-12, row
    assert got[4] == np.inf


def test_streamed_positions_are_bit_identical(tmp_path: Path, small_blocks: None) -> None:
    case = fixture("lm")
    z = save(tmp_path, "z.npy", case["logits"])
    y = save(tmp_path, "y.npy", case["labels"])
    settings = Settings(ignore_index=-100, shift=True)
    inputs = load(z, y, settings, stream=True)
    assert inputs.stream is not None
    streamed = compute(inputs, settings)
    whole = compute(load(z, y, settings), settings)
    assert streamed.losses.tobytes() == whole.losses.tobytes()
    assert streamed.mean == whole.mean


def test_shards_of_sequences_are_the_single_file(tmp_path: Path) -> None:
    case = fixture("lm")
    (tmp_path / "z").mkdir()
    (tmp_path / "y").mkdir()
    for part, rows in enumerate((slice(0, 2), slice(2, 3))):
        np.save(tmp_path / "z" / f"part-{part}.npy", case["logits"][rows])
        np.save(tmp_path / "y" / f"part-{part}.npy", case["labels"][rows])
    sharded = run(str(tmp_path / "z"), str(tmp_path / "y"), ignore_index=-100)
    np.testing.assert_allclose(sharded.losses, case["losses"].ravel(), rtol=1e-12, atol=0)
    assert sharded.row_count == 3


def test_shards_must_share_their_positions(tmp_path: Path) -> None:
    (tmp_path / "z").mkdir()
    np.save(tmp_path / "z" / "a.npy", np.zeros((2, 4, 3)))
    np.save(tmp_path / "z" / "b.npy", np.zeros((2, 5, 3)))
    np.save(tmp_path / "y.npy", np.zeros((4, 4), dtype=np.int64))
    code, out, err = xent("compute", str(tmp_path / "z"), str(tmp_path / "y.npy"))
    assert (code, out) == (65, "")
    assert "b.npy: has positions 5 a row, but the first shard" in err


def xent(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_mean_through_the_cli(tmp_path: Path) -> None:
    case = fixture("lm")
    z = save(tmp_path, "z.npy", case["logits"])
    y = save(tmp_path, "y.npy", case["labels"])
    code, out, err = xent("compute", z, y, "--ignore-index", "-100", "-r", "mean")
    assert code == 0, err
    assert float(out) == pytest.approx(float(case["mean"]), rel=1e-12)


@pytest.mark.parametrize(
    ("make", "args", "code", "message"),
    [
        (
            lambda: (np.zeros((2, 3, 4)), np.array([[0, 1, -100], [2, -100, -100]])),
            [],
            65,
            "y.npy: row 1, position 3: label -100 marks padding in PyTorch and Hugging Face "
            "(positions to leave out); say --ignore-index -100",
        ),
        (
            lambda: (np.zeros((2, 3, 4)), np.zeros((2, 4), dtype=np.int64)),
            [],
            65,
            "y.npy: labels of shape 2×4 do not fit",
        ),
        (
            lambda: (np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=np.int64)),
            ["--class-axis", "0"],
            2,
            "--class-axis 0 is not an axis of",
        ),
        (
            lambda: (np.zeros((2, 3)), np.zeros(2, dtype=np.int64)),
            ["--shift"],
            2,
            "--shift scores each position against the next position's label",
        ),
        (
            lambda: (np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=np.int64)),
            ["--drop", "0"],
            2,
            "--drop is for rows of a table",
        ),
        (
            lambda: (np.where(np.arange(24).reshape(2, 3, 4) == 17, np.nan, 0.0), np.zeros((2, 3))),
            [],
            65,
            "z.npy: row 2, position 2, class 2: value is NaN",
        ),
        (
            lambda: (np.zeros((2, 4)), np.zeros((2, 3, 4))),
            [],
            65,
            "y.npy: is 3-D (shape 2×3×4): labels of 2-D predictions are 1-D or 2-D",
        ),
    ],
)
def test_errors_name_the_row_and_position(
    tmp_path: Path, make: object, args: list[str], code: int, message: str
) -> None:
    logits, labels = make()  # type: ignore[operator]
    z, y = save(tmp_path, "z.npy", logits), save(tmp_path, "y.npy", labels)
    got, out, err = xent("compute", z, y, *args)
    assert (got, out) == (code, "")
    assert message in err, err
    assert "Traceback" not in err


def test_softmax_of_a_3d_array_says_where_it_belongs(tmp_path: Path) -> None:
    z = save(tmp_path, "z.npy", np.zeros((2, 3, 4)))
    code, out, err = xent("softmax", z)
    assert (code, out) == (65, "")
    assert "z.npy: is 3-D (shape 2×3×4): softmax and sigmoid read rows of scores" in err


def test_a_large_dump_streams_under_an_address_space_limit(tmp_path: Path) -> None:
    """655 MB of float32 logits (zeros: a sparse file) under a 500 MB address space: every
    position's loss is log V exactly, and nothing is read whole."""
    shape = (8, 512, 40_000)
    path = tmp_path / "lm.npy"
    with path.open("wb") as handle:
        header = {"descr": "<f4", "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(handle, header)
        handle.truncate(handle.tell() + math.prod(shape) * 4)
    labels = np.zeros(shape[:2], dtype=np.int64)
    labels[:, 400:] = -100
    np.save(tmp_path / "y.npy", labels)
    command = [
        "prlimit",
        "--as=500000000",
        sys.executable,
        "-m",
        "xent_cli",
        "compute",
        str(path),
        str(tmp_path / "y.npy"),
        "--ignore-index",
        "-100",
        "-r",
        "mean",
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == pytest.approx(math.log(40_000), rel=1e-12)


def log_softmax_rows(z: np.ndarray) -> np.ndarray:
    """log pₖ = zₖ − logsumexp(z) a row, in float64 numpy (the formula, not xent's kernel)."""
    top = z.max(axis=-1, keepdims=True)
    return z - top - np.log(np.exp(z - top).sum(axis=-1, keepdims=True))


def lm_case(tmp_path: Path) -> tuple[np.ndarray, np.ndarray, str, str]:
    case = fixture("lm")
    z = save(tmp_path, "z.npy", case["logits"])
    y = save(tmp_path, "y.npy", case["labels"])
    return case["logits"], case["labels"], z, y


def test_class_weights_per_position_are_pytorchs_weighted_mean(tmp_path: Path) -> None:
    logits, labels, z, y = lm_case(tmp_path)
    weights = np.linspace(0.5, 3.0, 11)
    result = run(z, y, ignore_index=-100, class_weights=tuple(weights.tolist()))
    keep = labels != -100
    nll = -np.take_along_axis(log_softmax_rows(logits), np.where(keep, labels, 0)[..., None], -1)
    w = weights[labels[keep]]
    want = float((w * nll[..., 0][keep]).sum() / w.sum())  # torch: Σ w_y·ℓ / Σ w_y
    assert result.mean == pytest.approx(want, rel=1e-12)


def test_label_smoothing_per_position_is_pytorchs(tmp_path: Path) -> None:
    logits, labels, z, y = lm_case(tmp_path)
    alpha = 0.1
    result = run(z, y, ignore_index=-100, label_smoothing=alpha)
    keep = labels != -100
    logp = log_softmax_rows(logits)[keep]
    nll = -logp[np.arange(keep.sum()), labels[keep]]
    smoothed = (1 - alpha) * nll + alpha * (-logp).mean(axis=1)  # torch's formula
    assert result.mean == pytest.approx(float(smoothed.mean()), rel=1e-12)


def test_probabilities_and_log_probabilities_per_position(tmp_path: Path) -> None:
    logits, labels, _, y = lm_case(tmp_path)
    logp = log_softmax_rows(logits)
    keep = labels != -100
    want = float(-logp[keep][np.arange(keep.sum()), labels[keep]].mean())
    probs = run(save(tmp_path, "p.npy", np.exp(logp)), y, ignore_index=-100)
    assert probs.decision.loss == "sparse-categorical-ce"
    assert probs.mean == pytest.approx(want, rel=1e-12)
    logs = run(save(tmp_path, "lp.npy", logp), y, ignore_index=-100)
    assert logs.decision.log_probs
    assert logs.mean == pytest.approx(want, rel=1e-12)


def test_binary_and_multilabel_per_position(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    one = rng.normal(size=(2, 4, 1))
    hits = rng.integers(0, 2, size=(2, 4))
    binary = run(save(tmp_path, "b.npy", one), save(tmp_path, "by.npy", hits))
    assert binary.decision.loss == "sigmoid-ce-with-logits"
    z, t = one[..., 0].ravel(), hits.ravel()
    want = [float(ref.sigmoid_ce(float(a), float(b))) for a, b in zip(z, t, strict=True)]
    np.testing.assert_allclose(binary.losses, want, rtol=1e-12)
    many = rng.normal(size=(2, 4, 3))
    tags = rng.integers(0, 2, size=(2, 4, 3))
    tags[0, 0] = [1, 1, 0]  # multi-hot: not one class a position
    multilabel = run(save(tmp_path, "m.npy", many), save(tmp_path, "my.npy", tags))
    assert multilabel.decision.multilabel
    per_column = [
        [float(ref.sigmoid_ce(float(a), float(b))) for a, b in zip(zs, ts, strict=True)]
        for zs, ts in zip(many.reshape(-1, 3), tags.reshape(-1, 3), strict=True)
    ]
    np.testing.assert_allclose(multilabel.losses, np.mean(per_column, axis=1), rtol=1e-12)


def test_like_torch_and_compare_per_position(tmp_path: Path) -> None:
    case, (_, _, z, y) = fixture("lm"), lm_case(tmp_path)
    like = run(z, y, ignore_index=-100, like=Like.torch)
    assert like.mean == pytest.approx(float(case["mean"]), rel=1e-12)
    code, out, err = xent("compute", z, y, "--ignore-index", "-100", "--compare", "-f", "csv")
    assert code == 0, err
    torch_line = next(line for line in out.splitlines() if line.startswith("torch,"))
    assert float(torch_line.split(",")[2]) == pytest.approx(float(case["mean"]), rel=1e-12)


def test_label_shards_pair_with_prediction_shards(tmp_path: Path) -> None:
    case = fixture("lm")
    for folder in ("z", "y"):
        (tmp_path / folder).mkdir()
    np.save(tmp_path / "z" / "a.npy", case["logits"][:2])
    np.save(tmp_path / "z" / "b.npy", case["logits"][2:])
    np.save(tmp_path / "y" / "a.npy", case["labels"][:1])  # the same rows in all, cut elsewhere
    np.save(tmp_path / "y" / "b.npy", case["labels"][1:])
    code, out, err = xent("compute", str(tmp_path / "z"), str(tmp_path / "y"))
    assert (code, out) == (65, "")
    assert "a.npy: 1 row of labels, but its prediction shard" in err
    assert "z/a.npy has 2 rows" in err


@pytest.mark.parametrize("layout", ["rows", "flat"])
def test_labels_from_text(tmp_path: Path, layout: str) -> None:
    """A CSV of N lines of T labels, or one label a line in row-then-position order."""
    case = fixture("lm")
    labels = case["labels"] if layout == "rows" else case["labels"].reshape(-1, 1)
    np.savetxt(tmp_path / "y.csv", labels, fmt="%d", delimiter=",")
    z = save(tmp_path, "z.npy", case["logits"])
    result = run(z, str(tmp_path / "y.csv"), ignore_index=-100)
    np.testing.assert_allclose(result.losses, case["losses"].ravel(), rtol=1e-12, atol=0)


def test_shift_of_one_position_leaves_nothing_to_average(tmp_path: Path) -> None:
    """Hugging Face gives NaN for one token a row; DESIGN §3: a warning, exit 0, nan."""
    z = save(tmp_path, "z.npy", np.zeros((2, 1, 3)))
    y = save(tmp_path, "y.npy", np.zeros((2, 1), dtype=np.int64))
    code, out, err = xent("compute", z, y, "--shift", "-r", "mean")
    assert (code, out.strip()) == (0, "nan")
    assert "nothing left to average" in err


def test_label_shards_name_their_own_file_and_row(tmp_path: Path) -> None:
    for folder in ("z", "y"):
        (tmp_path / folder).mkdir()
    for part in (1, 2):
        np.save(tmp_path / "z" / f"a-{part}.npy", np.zeros((2, 4, 6)))
        labels = np.zeros((2, 4), dtype=np.int64)
        if part == 2:
            labels[1, 3] = 9
        np.save(tmp_path / "y" / f"a-{part}.npy", labels)
    code, out, err = xent("compute", str(tmp_path / "z"), str(tmp_path / "y"))
    assert (code, out) == (65, "")
    assert "a-2.npy: row 2, position 4: label 9 is out of range" in err
    np.save(tmp_path / "y" / "a-2.npy", np.zeros((3, 4), dtype=np.int64))
    code, out, err = xent("compute", str(tmp_path / "z"), str(tmp_path / "y"))
    assert (code, out) == (65, "")
    assert "a-2.npy: 3 rows of labels, but its prediction shard" in err


def test_classes_name_position_labels(tmp_path: Path) -> None:
    case = fixture("lm")
    labels = np.where(case["labels"] == -100, -100, case["labels"] + 1)  # named 1…11
    z = save(tmp_path, "z.npy", case["logits"])
    y = save(tmp_path, "y.npy", labels)
    names = ",".join(str(k) for k in range(1, 12))
    code, out, err = xent(
        "compute", z, y, "--classes", names, "--ignore-index", "-100", "-r", "mean"
    )
    assert code == 0, err
    assert float(out) == pytest.approx(float(case["mean"]), rel=1e-12)


def test_pandas_label_csv_loses_its_index(tmp_path: Path) -> None:
    import pandas

    case = fixture("lm")
    pandas.DataFrame(case["labels"]).to_csv(tmp_path / "y.csv")
    z = save(tmp_path, "z.npy", case["logits"])
    result = run(z, str(tmp_path / "y.csv"), ignore_index=-100)
    np.testing.assert_allclose(result.losses, case["losses"].ravel(), rtol=1e-12, atol=0)


def test_a_label_table_error_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "y.csv").write_text("0,1,2\n3,x,0\n")
    z = save(tmp_path, "z.npy", np.zeros((2, 3, 4)))
    code, out, err = xent("compute", z, str(tmp_path / "y.csv"))
    assert (code, out) == (65, "")
    assert "y.csv:2:" in err


def test_a_truncated_large_array_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "z.npy"
    with path.open("wb") as handle:
        header = {"descr": "<f4", "fortran_order": False, "shape": (4, 1024, 1024)}
        np.lib.format.write_array_header_1_0(handle, header)
        handle.truncate(handle.tell() + 1024 * 1024)  # a quarter of the data
    np.save(tmp_path / "y.npy", np.zeros((4, 1024), dtype=np.int64))
    code, out, err = xent("compute", str(path), str(tmp_path / "y.npy"))
    assert (code, out) == (65, "")
    assert "header says 4×1024×1024 float32 = 16 MiB, the file holds 1 MiB" in err


def test_small_arrays_of_positions_stream_too(tmp_path: Path) -> None:
    """Above a MiB, rank ≥ 3 is read in blocks: no float64 copy of the whole array."""
    z = save(tmp_path, "z.npy", np.zeros((4, 64, 2048), dtype=np.float16))  # 1 MiB + header
    y = save(tmp_path, "y.npy", np.zeros((4, 64), dtype=np.int64))
    inputs = load(z, y, Settings(), stream=True)
    assert inputs.stream is not None


@pytest.mark.parametrize("axis", [1, 2])
def test_class_axes_stream_bit_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, axis: int
) -> None:
    rng = np.random.default_rng(21)
    logits = rng.normal(size=(3, 5, 4, 6)).astype(np.float32)
    labels_shape = tuple(n for k, n in enumerate(logits.shape) if k != axis)
    z = save(tmp_path, "z.npy", logits)
    y = save(tmp_path, "y.npy", rng.integers(0, logits.shape[axis], size=labels_shape))
    whole = run(z, y, class_axis=axis)
    monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
    monkeypatch.setattr(arrays, "POSITIONS_STREAM_BYTES", 0)
    monkeypatch.setattr(arrays, "BLOCK_BYTES", 5 * 8 * 3)
    streamed = run(z, y, class_axis=axis)
    assert streamed.losses.tobytes() == whole.losses.tobytes()
    moved = np.moveaxis(logits.astype(np.float64), axis, -1)
    labels = np.load(y)
    want = [
        float(ref.sparse_softmax_ce(moved[index].tolist(), int(labels[index])))
        for index in np.ndindex(labels.shape)
    ]
    np.testing.assert_allclose(whole.losses, want, rtol=1e-12)


@pytest.mark.parametrize("way", ["together", "apart", "cut short"])
def test_class_runs_read_together_apart_or_cut_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    """PyTorch's N×C×T read a block of positions at a time: class runs close together in
    one preadv (gaps read into scratch, 700 classes: two calls), far apart one at a time,
    and a preadv cut short read again a class at a time; the same bits every way."""
    from xent_cli import sequences

    rng = np.random.default_rng(23)
    logits = rng.normal(size=(2, 700, 12)).astype(np.float32)
    z = save(tmp_path, "z.npy", logits)
    y = save(tmp_path, "y.npy", rng.integers(0, 700, size=(2, 12)))
    whole = run(z, y, class_axis=1)
    monkeypatch.setattr(arrays, "POSITIONS_STREAM_BYTES", 0)
    monkeypatch.setattr(arrays, "BLOCK_BYTES", 5 * 8 * 700)  # 5 of 12 positions a block
    if way == "apart":
        monkeypatch.setattr(sequences, "OVERREAD", 0)
    calls: list[int] = []
    preadv = os.preadv

    def counted(descriptor: int, buffers: list[memoryview], offset: int) -> int:
        calls.append(len(buffers))
        got = preadv(descriptor, buffers, offset)
        return got // 2 if way == "cut short" and len(buffers) > 1 else got

    monkeypatch.setattr(sequences.os, "preadv", counted)
    streamed = run(z, y, class_axis=1)
    assert streamed.losses.tobytes() == whole.losses.tobytes()
    together = [count for count in calls if count > 1]
    assert (len(together) > 0) == (way != "apart")


def test_label_smoothing_of_huge_scores_stays_finite(tmp_path: Path) -> None:
    rng = np.random.default_rng(22)
    logits = rng.uniform(-1, 1, size=(1, 2, 5000)) * 1e306
    z = save(tmp_path, "z.npy", logits)
    y = save(tmp_path, "y.npy", np.array([[1, 2]]))
    result = run(z, y, label_smoothing=0.1)
    for t, c in enumerate((1, 2)):
        row = logits[0, t].tolist()
        logp = ref.log_softmax(row)
        want = 0.9 * -logp[c] + 0.1 * -ref.mp.fsum(logp) / 5000
        assert ref.relative_error(float(result.losses[t]), want) < 1e-12


def test_a_perplexity_past_the_largest_float_is_null_with_a_note(tmp_path: Path) -> None:
    logits = np.zeros((2, 2, 3))
    logits[..., 0] = 1e4  # every loss 1e4 nats: exp(1e4) is no float
    z = save(tmp_path, "z.npy", logits)
    y = save(tmp_path, "y.npy", np.ones((2, 2), dtype=np.int64))
    code, out, err = xent("compute", z, y, "-r", "row", "-f", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["mean"] == 1e4
    assert (document["perplexity"], document["row_perplexity_mean"]) == (None, None)
    assert document["row_perplexity"] == [None, None]
    assert any("past the largest float" in note for note in document["notes"])


def test_explain_reads_a_language_models_dump() -> None:
    samples = Path(__file__).parent.parent / "samples"
    logits, labels = str(samples / "lm_logits.npy"), str(samples / "lm_labels.npy")
    code, out, err = xent(
        "explain", logits, labels, "--shift", "--ignore-index", "-100", "-f", "json"
    )
    assert code == 0, err
    assert json.loads(out)["loss"] == "sparse-softmax-ce-with-logits"


def test_label_shards_of_one_label_a_line(tmp_path: Path) -> None:
    case = fixture("lm")
    for folder in ("z", "y"):
        (tmp_path / folder).mkdir()
    for part, rows in enumerate((slice(0, 2), slice(2, 3))):
        np.save(tmp_path / "z" / f"part-{part}.npy", case["logits"][rows])
        labels = case["labels"][rows].reshape(-1, 1)
        np.savetxt(tmp_path / "y" / f"part-{part}.csv", labels, fmt="%d")
    result = run(str(tmp_path / "z"), str(tmp_path / "y"), ignore_index=-100)
    np.testing.assert_allclose(result.losses, case["losses"].ravel(), rtol=1e-12, atol=0)

"""--confusion with many classes (issue 12): pairs counted sparsely, memory bounded by the
rows, never K²; the top confusions on a terminal, every pair that occurs in CSV/TSV/JSON.
Every count is checked against ``collections.Counter`` over (target, argmax) of the same
generated data; up to the thresholds the output is the K×K matrix it always was."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from xent_cli.cli import app
from xent_cli.render.compute import MATRIX_CLASSES, TABLE_CLASSES, TOP_CONFUSIONS
from xent_cli.result import count_pairs

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
AWKWARD = ["a,b", 'say "hi"', "two\nlines", "[red]y"]  # the writer quotes them


def generated(
    tmp_path: Path,
    rows: int,
    classes: int,
    seed: int = 0,
    names: list[str] | None = None,
    forced: tuple[tuple[int, int], ...] = (),
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Scores (a .npy, or a CSV with ``names`` as its header) and labels (integers, or
    those names) for ``rows`` × ``classes``: right for about half the rows and confused
    among a few classes for the rest, so that some pairs repeat; the first rows have the
    (target, predicted) pairs ``forced``, and the last row's target is the last class (K
    is the largest class index seen + 1 when there is no header). Returns the two paths,
    the targets and the argmax (what the counts are checked against)."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(rows, classes)).astype(np.float32)
    target = rng.integers(0, classes, size=rows)
    right = rng.random(rows) < 0.5
    scores[right, target[right]] += 20.0
    favourites = rng.integers(0, classes, size=3)
    wrong = np.flatnonzero(~right & (rng.random(rows) < 0.6))
    scores[wrong, favourites[wrong % 3]] += 20.0
    target[-1:] = classes - 1
    for row, (t, p) in enumerate(forced):
        target[row] = t
        scores[row, p] += 100.0
    if names is None:
        np.save(tmp_path / "z.npy", scores)
        np.save(tmp_path / "y.npy", target)
        paths = [str(tmp_path / "z.npy"), str(tmp_path / "y.npy")]
    else:
        with (tmp_path / "z.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            writer.writerows(scores.astype(np.float64).tolist())
        with (tmp_path / "y.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["label"])
            writer.writerows([names[c]] for c in target.tolist())
        paths = [str(tmp_path / "z.csv"), str(tmp_path / "y.csv")]
    return paths, target, scores.argmax(axis=1)


def counted(target: np.ndarray, predicted: np.ndarray, keep: np.ndarray | None = None) -> Counter:
    """The independent count: one per (target, predicted) of each kept row."""
    rows = range(len(target)) if keep is None else np.flatnonzero(keep).tolist()
    return Counter((int(target[i]), int(predicted[i])) for i in rows)


def parsed(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def long_counts(rows: list[list[str]], label: dict[str, int] | None = None) -> Counter:
    """``target,predicted,count`` lines as a Counter keyed by class index."""
    assert rows[0] == ["target", "predicted", "count"]
    index = (lambda text: label[text]) if label is not None else int
    pairs = Counter({(index(t), index(p)): int(c) for t, p, c in rows[1:]})
    assert len(pairs) == len(rows) - 1  # each pair once
    return pairs


def matrix_of(pairs: Counter, classes: int) -> list[list[int]]:
    matrix = [[0] * classes for _ in range(classes)]
    for (t, p), c in pairs.items():
        matrix[t][p] = c
    return matrix


def top_confusions(pairs: Counter, count: int) -> list[tuple[int, int, int]]:
    """The most frequent pairs off the diagonal, largest first, ties by target, predicted."""
    off = [(-c, t, p) for (t, p), c in pairs.items() if t != p]
    return [(t, p, -c) for c, t, p in sorted(off)[:count]]


@pytest.mark.parametrize(
    ("rows", "classes"),
    [
        (0, 3),  # nothing counted
        (500, 3),  # bincount: K² small
        (2_000, 1_000),  # bincount: K² = 10⁶ cells, the largest counted so
        (1_000, 5_000),  # np.unique: K² = 25·10⁶ ≫ the rows
        (300, 200_000),  # np.unique: K² = 4·10¹⁰ (298 GiB as int64)
    ],
)
def test_count_pairs_against_an_independent_count(rows: int, classes: int) -> None:
    rng = np.random.default_rng(classes)
    target = rng.integers(0, classes, size=rows)
    predicted = np.where(rng.random(rows) < 0.5, target, rng.integers(0, min(classes, 7), rows))
    found_target, found_predicted, found_count = count_pairs(target, predicted, classes)
    pairs = list(zip(found_target.tolist(), found_predicted.tolist(), strict=True))
    assert pairs == sorted(pairs)  # by target, then predicted; each pair once
    assert dict(zip(pairs, found_count.tolist(), strict=True)) == counted(target, predicted)
    assert found_count.dtype == np.int64
    assert (found_count > 0).all()


def test_more_than_matrix_classes_gives_every_pair_in_csv_tsv_and_json(tmp_path: Path) -> None:
    classes = MATRIX_CLASSES + 1
    paths, target, predicted = generated(tmp_path, 400, classes)
    expected = counted(target, predicted)
    args = ["compute", *paths, "--confusion"]
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        done = runner.invoke(app, [*args, "-f", fmt])
        assert done.exit_code == 0, done.stderr
        rows = parsed(done.stdout, delimiter)
        assert long_counts(rows) == expected
        shown = [(int(t), int(p)) for t, p, _ in rows[1:]]
        assert shown == sorted(shown)  # by target, then predicted
        assert f"confusion counts of {classes:,} classes (more than {MATRIX_CLASSES:,})" in (
            done.stderr
        )
    for reduction in ("none", "mean"):
        done = runner.invoke(app, [*args, "-f", "json", "-r", reduction])
        found = json.loads(done.stdout)["confusion"]
        assert found["classes"] == classes
        assert Counter({(p["target"], p["predicted"]): p["count"] for p in found["pairs"]}) == (
            expected
        )
    line = runner.invoke(app, [*args, "-f", "jsonl", "-r", "mean"]).stdout.splitlines()
    assert len(line) == 1
    pairs = json.loads(line[0])["confusion"]["pairs"]
    assert sum(p["count"] for p in pairs) == 400


def test_up_to_matrix_classes_the_matrix_is_unchanged(tmp_path: Path) -> None:
    """The K×K matrix as before (header ``target,0,1,…``), at the threshold itself."""
    classes = MATRIX_CLASSES
    paths, target, predicted = generated(tmp_path, 300, classes)
    highest = max(int(target.max()), int(predicted.max())) + 1  # headerless: K as seen
    expected = matrix_of(counted(target, predicted), highest)
    done = runner.invoke(app, ["compute", *paths, "--confusion"])
    rows = parsed(done.stdout)
    assert rows[0] == ["target", *map(str, range(highest))]
    assert [row[0] for row in rows[1:]] == [str(i) for i in range(highest)]
    assert [[int(v) for v in row[1:]] for row in rows[1:]] == expected
    assert done.stderr == ""
    found = json.loads(runner.invoke(app, ["compute", *paths, "--confusion", "-f", "json"]).stdout)
    assert found["confusion"] == {"labels": [str(i) for i in range(highest)], "matrix": expected}


def test_terminal_shows_the_most_frequent_confusions_of_a_wide_matrix(tmp_path: Path) -> None:
    classes = TABLE_CLASSES + 1
    paths, target, predicted = generated(tmp_path, 2_000, classes, seed=3)
    pairs = counted(target, predicted)
    done = runner.invoke(app, ["compute", *paths, "--confusion", "-f", "table", "-r", "mean"])
    assert done.exit_code == 0, done.stderr
    text = done.stdout.split("confusion counts")[1]
    top = top_confusions(pairs, TOP_CONFUSIONS)
    confusions = sum(1 for t, p in pairs if t != p)
    assert f"of {classes} classes: the {len(top)} most frequent confusions" in text
    assert f"of {confusions:,} pairs" in text
    lines = [line.split("│")[1:-1] for line in text.splitlines() if line.startswith("│")]
    rows = [(int(t), int(p), int(c)) for t, p, c, _ in (map(str.strip, cells) for cells in lines)]
    assert rows == top
    right = sum(c for (t, p), c in pairs.items() if t == p)
    assert f"{confusions - len(top):,} pairs not shown" in text
    assert f"{right:,} of 2,000 counted rows right" in text
    assert "target ↓ predicted →" not in text  # no K×K matrix


def test_terminal_says_when_a_wide_matrix_has_no_confusions(tmp_path: Path) -> None:
    classes = TABLE_CLASSES + 1
    target = np.arange(60) % classes
    np.save(tmp_path / "z.npy", np.eye(classes)[target] * 10.0)
    np.save(tmp_path / "y.npy", target)
    args = ["compute", str(tmp_path / "z.npy"), str(tmp_path / "y.npy"), "--confusion"]
    text = runner.invoke(app, [*args, "-f", "table", "-r", "mean"]).stdout
    assert f"confusion counts of {classes} classes: no confusions, 60 rows right" in text


@pytest.mark.parametrize(
    ("classes", "width", "matrix"),
    [
        (2, 80, True),
        (TABLE_CLASSES, 200, True),
        (TABLE_CLASSES, 80, False),  # its counts would be cut to nothing (they were)
        (TABLE_CLASSES + 1, 400, False),
    ],
)
def test_terminal_shows_the_matrix_up_to_table_classes_when_it_fits(
    tmp_path: Path, classes: int, width: int, matrix: bool
) -> None:
    paths, _, _ = generated(tmp_path, 200, classes, seed=classes)
    args = ["compute", *paths, "--confusion", "-f", "table", "-r", "mean"]
    text = runner.invoke(app, args, env={"COLUMNS": str(width)}).stdout
    lines = [line.strip() for line in text.splitlines()]
    assert ("confusion counts" in lines) is matrix
    assert ("most frequent confusions" in text) is not matrix
    assert max(map(len, text.splitlines())) <= width


@pytest.mark.parametrize("classes", [6, MATRIX_CLASSES + 1])
def test_ignored_and_weighted_rows_are_counted_as_before(tmp_path: Path, classes: int) -> None:
    """Rows left out by --ignore-index are not counted; every other row counts once,
    whatever its sample weight (0 included): the same rule for the matrix and the pairs."""
    paths, target, predicted = generated(tmp_path, 600, classes, seed=7)
    rng = np.random.default_rng(8)
    ignored = rng.random(600) < 0.2
    labels = np.where(ignored, -100, target)
    np.save(tmp_path / "y.npy", labels)
    weights = np.where(rng.random(600) < 0.3, 0.0, rng.random(600) * 5)
    (tmp_path / "w.csv").write_text("".join(f"{w}\n" for w in weights), encoding="utf-8")
    expected = counted(target, predicted, keep=~ignored)
    args = ["compute", *paths, "--confusion", "--ignore-index", "-100"]
    outputs = [
        runner.invoke(app, [*args, *weighted]).stdout
        for weighted in ([], ["--sample-weights", str(tmp_path / "w.csv")])
    ]
    assert outputs[0] == outputs[1]  # weights do not change the counts
    rows = parsed(outputs[0])
    if classes > MATRIX_CLASSES:
        assert long_counts(rows) == expected
    else:
        highest = len(rows) - 1
        assert [[int(v) for v in row[1:]] for row in rows[1:]] == matrix_of(expected, highest)
    assert sum(expected.values()) == int((~ignored).sum())


def test_class_names_survive_the_pairs(tmp_path: Path) -> None:
    """Names with a comma, quotes, a line break and Rich markup, quoted by the writer."""
    classes = MATRIX_CLASSES + 1
    names = [*AWKWARD, *(f"class {i}" for i in range(len(AWKWARD), classes))]
    forced = ((0, 1), (1, 2), (2, 3), (3, 0), (3, 0))  # the awkward names, each way round
    paths, target, predicted = generated(tmp_path, 300, classes, 5, names, forced)
    index = {name: i for i, name in enumerate(names)}
    expected = counted(target, predicted)
    done = runner.invoke(app, ["compute", *paths, "--confusion"])
    assert done.exit_code == 0, done.stderr
    assert long_counts(parsed(done.stdout), index) == expected
    found = json.loads(runner.invoke(app, ["compute", *paths, "--confusion", "-f", "json"]).stdout)
    pairs = found["confusion"]["pairs"]
    assert {(index[p["target"]], index[p["predicted"]]): p["count"] for p in pairs} == expected
    table = runner.invoke(app, ["compute", *paths, "--confusion", "-f", "table", "-r", "mean"])
    assert "│ [red]y " in table.stdout  # shown as written, not as markup (a target 3 → 0)
    assert "│ a,b " in table.stdout


def test_regression_confusion_of_200k_classes_in_bounded_memory(tmp_path: Path) -> None:
    """200,000 classes: 'Unable to allocate 298 GiB' (then exit 71); 30,000 classes took
    43 s and 4.4 GB. Now the pairs of 20 rows, under a 2 GB address-space limit."""
    classes = 200_000
    paths, target, predicted = generated(tmp_path, 20, classes, seed=11)
    expected = counted(target, predicted)
    command = ["prlimit", "--as=2000000000", sys.executable, "-m", "xent_cli", "compute"]
    for fmt in ("csv", "json", "table"):
        start = time.monotonic()
        done = subprocess.run(
            [*command, *paths, "--confusion", "-f", fmt, "-r", "mean"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert time.monotonic() - start < 30
        if fmt == "csv":
            assert long_counts(parsed(done.stdout)) == expected
        elif fmt == "json":
            found = json.loads(done.stdout)["confusion"]
            assert found["classes"] == classes
            pairs = {(p["target"], p["predicted"]): p["count"] for p in found["pairs"]}
            assert pairs == expected
        else:
            assert "confusion counts of 200,000 classes: the " in done.stdout

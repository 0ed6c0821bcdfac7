"""--top, --confusion and the loss histogram: the numbers they show, checked independently."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from xent_cli.cli import app

from . import reference as ref

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
runner = CliRunner()
SCORES = [[0.5, 1.5, 0.1], [2.2, 1.3, 1.7], [-0.3, 0.2, 2.4], [1.1, -0.7, 0.3], [3.0, -1.2, 0.4]]
TARGETS = [1, 2, 2, 0, 1]  # dog, bird, bird, cat, dog in samples/labels.csv


def args(*extra: str) -> list[str]:
    return ["compute", str(SAMPLES / "scores.csv"), str(SAMPLES / "labels.csv"), *extra]


def true_losses() -> list[float]:
    return [float(ref.sparse_softmax_ce(s, c)) for s, c in zip(SCORES, TARGETS, strict=True)]


def test_top_rows_in_a_pipe_are_the_worst_first() -> None:
    result = runner.invoke(app, args("--top", "2"))
    lines = result.stdout.splitlines()
    assert lines[0] == "row,loss,predicted,target"
    worst = np.argsort(true_losses())[::-1][:2].tolist()
    assert [int(line.split(",")[0]) for line in lines[1:]] == worst == [4, 1]
    for line in lines[1:]:
        row = int(line.split(",")[0])
        assert (
            ref.relative_error(
                float(line.split(",")[1]), ref.sparse_softmax_ce(SCORES[row], TARGETS[row])
            )
            <= 1e-12
        )
    jsonl = runner.invoke(app, args("--top", "1", "-f", "jsonl")).stdout.splitlines()
    assert [json.loads(line)["row"] for line in jsonl] == [4]
    data = json.loads(runner.invoke(app, args("--top", "2", "-f", "json")).stdout)
    assert [item["row"] for item in data["worst"]] == [4, 1]
    assert len(data["losses"]) == 5


def test_top_table() -> None:
    text = runner.invoke(app, args("--top", "2", "-f", "table")).stdout
    assert "the 2 worst rows" in text
    assert f"{true_losses()[4]:.6g}" in text.split("the 2 worst rows")[1]


def test_confusion_counts() -> None:
    predicted = [int(np.argmax(s)) for s in SCORES]  # 1, 0, 2, 0, 0
    expected = np.zeros((3, 3), dtype=int)
    for t, p in zip(TARGETS, predicted, strict=True):
        expected[t, p] += 1
    csv_text = runner.invoke(app, args("--confusion")).stdout.splitlines()
    assert csv_text[0] == "target,cat,dog,bird"
    matrix = [[int(v) for v in line.split(",")[1:]] for line in csv_text[1:]]
    assert matrix == expected.tolist()
    data = json.loads(runner.invoke(app, args("--confusion", "-f", "json")).stdout)
    assert data["confusion"] == {"labels": ["cat", "dog", "bird"], "matrix": expected.tolist()}
    table = runner.invoke(app, args("--confusion", "-f", "table")).stdout
    assert "confusion counts" in table


def test_confusion_needs_hard_targets() -> None:
    soft = runner.invoke(
        app,
        [
            "compute",
            str(SAMPLES / "soft_logits.csv"),
            str(SAMPLES / "soft_targets.csv"),
            "--confusion",
            "-f",
            "json",
        ],
    )
    assert json.loads(soft.stdout)["confusion"] is None


def test_histogram_counts_rows_per_bin() -> None:
    text = runner.invoke(app, args("-f", "table")).stdout
    block = text.split("losses (nats)")[1].strip().splitlines()
    counts = [int(line.split()[-1]) for line in block]
    expected, _ = np.histogram(true_losses(), bins=8)
    assert counts == expected.tolist()
    assert sum(counts) == 5

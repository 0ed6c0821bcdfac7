"""In-process: xent's loss kernel against torch's CPU cross_entropy, 1M×10 float64."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from xent_cli import losses
from xent_cli.parallel import map_rows

DATA = Path(__file__).resolve().parent / "data"


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def paired(ours, theirs, repeat: int = 21) -> tuple[float, float]:
    """Medians of the two actions' times, run in turns so load falls on both alike."""
    mine, peer = [], []
    for _ in range(repeat):
        mine.append(timed(ours))
        peer.append(timed(theirs))
    return statistics.median(mine), statistics.median(peer)


def main() -> None:
    scores = np.load(DATA / "1m_10_scores.npy")
    labels = np.load(DATA / "1m_10_labels.npy")
    z, c = torch.from_numpy(scores), torch.from_numpy(labels)
    ours, theirs = paired(
        lambda: map_rows(losses.sparse_softmax_ce_with_logits, scores, labels).mean(),
        lambda: torch.nn.functional.cross_entropy(z, c),
    )
    same = float(losses.sparse_softmax_ce_with_logits(scores, labels).mean())
    print(f"{ours * 1000:.1f} {theirs * 1000:.1f} {torch.get_num_threads()} {same!r}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

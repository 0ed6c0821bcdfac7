"""In-process: xent's loss pass against torch's CPU cross_entropy, float64, on 1M×10 and
on 10k×1000 (the first 10,000 rows of the 100k×1000 scores).

Times the path ``xent compute … -r mean`` runs once the arrays are read: the blocks of the
decided row's kernel on both cores (``compute.computed_blocks``), and the whole engine
(detection, then those blocks: ``compute.compute``). Prints a line a shape: the shape, then
ours, torch's and torch's threads (ms), our mean, the engine's and torch's again (ms).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from xent_cli.compute import compute, computed_blocks, decide_for
from xent_cli.conventions import epsilon_for
from xent_cli.inputs import Inputs, labels_from
from xent_cli.readers import ArraySource
from xent_cli.settings import Settings

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


def measure(shape: str, scores: np.ndarray, labels: np.ndarray) -> None:
    source = ArraySource(f"{shape}_scores.npy", scores)
    label_set = labels_from(ArraySource(f"{shape}_labels.npy", labels), None, None)
    inputs = Inputs(source.numbers(allow_minus_inf=True), label_set, source, None)
    # ε auto, resolved as compute() resolves it (the block pass takes it decided)
    settings = Settings(epsilon=epsilon_for(None, None, scores.dtype))
    decision, _ = decide_for(inputs, settings)
    z, c = torch.from_numpy(scores), torch.from_numpy(labels)

    def blocks() -> float:
        parts = computed_blocks(inputs, decision, settings, detail=False)
        return float(np.concatenate([part.losses for part in parts]).mean())

    def theirs() -> float:
        return float(torch.nn.functional.cross_entropy(z, c))

    ours, peer = paired(blocks, theirs)
    engine, peer_again = paired(lambda: compute(inputs, settings, detail=False).mean, theirs)
    same = compute(inputs, settings, detail=False).mean
    print(
        f"{shape} {ours * 1000:.1f} {peer * 1000:.1f} {torch.get_num_threads()} {same!r} "
        f"{engine * 1000:.1f} {peer_again * 1000:.1f}"
    )
    sys.stdout.flush()


def main() -> None:
    measure("1M×10", np.load(DATA / "1m_10_scores.npy"), np.load(DATA / "1m_10_labels.npy"))
    wide = np.load(DATA / "100k_1000_scores.npy", mmap_mode="r")
    labels = np.load(DATA / "100k_1000_labels.npy")
    measure("10k×1000", np.array(wide[:10_000]), np.ascontiguousarray(labels[:10_000]))


if __name__ == "__main__":
    main()

"""Time ``xent softmax SCORES.npy -o PROBS.npy`` against the numpy script (BENCHMARKS.md).

    python benchmarks/softmax_output.py [--repeat N] [--data DIR]

Makes the seeded 100k×1000 float64 scores (763 MiB) in DIR (default /tmp/xent-bench; never
committed), then runs xent and the peer (``peers/softmax_numpy.py``: np.load, a stable
softmax, np.save) in turns, each writing its own output file there, swapping which goes
first each round, so a burst of load on this shared machine falls on both. Prints the
median wall times and their ratio (target ≤ 0.7), the peak resident set of each
(``/usr/bin/time -f %M``; target for xent: ≤ ¼ of the input) and how far apart the two
outputs are.

Two settings, each timed: ``new`` (each output file removed, untimed, before each run: the
file is written afresh) and ``overwrite`` (each run replaces the previous run's file, so
both pay the kernel's freeing of the old file's ~800 MB of cached pages: the peer when
np.save truncates it, xent when it renames its finished file over it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
XENT = str(Path(PY).with_name("xent"))
ROWS, CLASSES = 100_000, 1000


def make_data(directory: Path) -> Path:
    """The seeded scores (normal, σ = 3), made once."""
    import numpy as np

    directory.mkdir(parents=True, exist_ok=True)
    scores = directory / "100k_1000_scores.npy"
    if not scores.exists():
        rng = np.random.default_rng(20261124)
        np.save(scores, rng.normal(scale=3.0, size=(ROWS, CLASSES)))
    return scores


def run(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one run."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return wall, int(done.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--data", type=Path, default=Path("/tmp/xent-bench"))
    options = parser.parse_args()
    scores = make_data(options.data)
    ours = [XENT, "softmax", str(scores), "-o", str(options.data / "probs.npy")]
    peer = [PY, str(HERE / "peers/softmax_numpy.py"), str(scores)]
    peer.append(str(options.data / "peer_probs.npy"))
    run(ours), run(peer)  # warm the page cache
    outputs = [options.data / "probs.npy", options.data / "peer_probs.npy"]
    timed: dict[str, tuple[list[tuple[float, int]], list[tuple[float, int]]]] = {}
    for setting in ("new", "overwrite"):
        mine: list[tuple[float, int]] = []
        theirs: list[tuple[float, int]] = []
        for turn in range(options.repeat):
            pair = [(mine, ours, outputs[0]), (theirs, peer, outputs[1])]
            for results, command, written in pair if turn % 2 == 0 else pair[::-1]:
                if setting == "new":
                    written.unlink(missing_ok=True)
                    subprocess.run(["sync"], check=True)  # the freeing is done before the run
                results.append(run(command))
        timed[setting] = (mine, theirs)
    import numpy as np

    a = np.load(options.data / "probs.npy", mmap_mode="r")
    b = np.load(options.data / "peer_probs.npy", mmap_mode="r")
    differ = max(
        float(np.max(np.abs(a[i : i + 10_000] - b[i : i + 10_000]) / b[i : i + 10_000]))
        for i in range(0, ROWS, 10_000)
    )
    size = scores.stat().st_size / 2**20
    print(
        f"xent softmax {ROWS // 1000}k×{CLASSES} .npy -o probs.npy vs np.load + softmax + "
        f"np.save; {os.cpu_count()} cores; medians of {options.repeat}, runs interleaved"
    )
    for setting, (mine, theirs) in timed.items():
        ours_wall = statistics.median(r[0] for r in mine)
        peer_wall = statistics.median(r[0] for r in theirs)
        ours_peak = max(r[1] for r in mine) / 1024
        peer_peak = max(r[1] for r in theirs) / 1024
        print(
            f"  {setting:9} xent {ours_wall:.3f} s, peer {peer_wall:.3f} s: "
            f"{ours_wall / peer_wall:.2f}× (target ≤ 0.7)"
        )
        print(f"            xent runs {', '.join(f'{r[0]:.2f}' for r in mine)}")
        print(f"            peer runs {', '.join(f'{r[0]:.2f}' for r in theirs)}")
        print(
            f"            peak RSS xent {ours_peak:.0f} MiB ({ours_peak / size:.3f} of the "
            f"{size:.0f} MiB input; target ≤ 0.25), peer {peer_peak:.0f} MiB"
        )
    print(f"  largest relative difference between the outputs: {differ:.2e}")


if __name__ == "__main__":
    main()

"""Time xent against the peer scripts of ../shared/BENCHMARKS.md and print ratios.

    python benchmarks/run.py [--repeat N] [WORD ...]

With words, only the rows whose name holds one of them run (``run.py diff``: the diff row).

Run it from an environment with the project installed as a user would (``pip install .``;
an editable install adds a path that every import searches first, a few ms of start-up) and
the peers' libraries (pandas, scipy, torch==2.13.0, threadpoolctl). It makes the seeded data
first. Every ratio compares two commands timed in this same run (medians of N, the two
commands interleaved); peak memory is the maximum resident set of the process
(``/usr/bin/time -v``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PY = sys.executable
XENT = str(Path(PY).with_name("xent"))


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in KiB and stdout of one run."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", *command],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=True,
    )
    wall = time.perf_counter() - start
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return wall, peak, done.stdout.strip()


def paired(
    ours: list[str], peer: list[str], repeat: int, env: dict[str, str] | None = None
) -> tuple[tuple[float, int, str], tuple[float, int, str]]:
    """Median wall time, peak RSS and last output of each command, runs interleaved.

    The two commands take turns (and swap which goes first), so a burst of load on this
    shared machine falls on both rather than on whichever was running at the time.
    """
    mine: list[tuple[float, int, str]] = []
    theirs: list[tuple[float, int, str]] = []
    for turn in range(repeat):
        if turn % 2:
            theirs.append(run(peer))
            mine.append(run(ours, env))
        else:
            mine.append(run(ours, env))
            theirs.append(run(peer))
    return summary(mine), summary(theirs)


def summary(results: list[tuple[float, int, str]]) -> tuple[float, int, str]:
    return (
        statistics.median(r[0] for r in results),
        max(r[1] for r in results),
        results[-1][2],
    )


def same_number(rtol: float) -> Callable[[str, str], str]:
    """Two printed numbers: the same within ``rtol`` of xent's (0: equal bits)?"""

    def check(ours: str, peer: str) -> str:
        try:
            ours_value, peer_value = float(ours), float(peer)
        except ValueError:
            return "—"
        apart = abs(ours_value - peer_value)
        if apart <= rtol * abs(ours_value):
            gap = f" within {rtol:g} (relative gap {apart / abs(ours_value):.1e})"
            return "same number" + (gap if apart else "")
        return f"{ours} vs {peer}"

    return check


def same_interval(ours: str, peer: str) -> str:
    """xent diff's JSON summary against a peer's "low high": two bootstraps draw different
    rows, so the intervals agree only within resampling noise; each end within 10% of
    the interval's width is the same interval."""
    summary = json.loads(ours)
    mine = (summary["ci_low"], summary["ci_high"])
    theirs = tuple(float(v) for v in peer.split())
    width = mine[1] - mine[0]
    shown = f"[{mine[0]:.6g}, {mine[1]:.6g}] vs [{theirs[0]:.6g}, {theirs[1]:.6g}]"
    if all(abs(m - t) <= 0.1 * width for m, t in zip(mine, theirs, strict=True)):
        return f"same interval within noise (ends within 10% of its width): {shown}"
    return f"intervals differ: {shown}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("only", nargs="*", metavar="WORD", help="run only rows naming it")
    arguments = parser.parse_args()
    repeat, only = arguments.repeat, arguments.only

    def chosen(what: str) -> bool:
        return not only or any(word in what for word in only)

    subprocess.run([PY, str(HERE / "make_data.py")], check=True)
    subprocess.run([PY, "-m", "compileall", "-q", str(HERE.parent / "src")], check=True)
    d = DATA
    csv = [str(d / "1m_10_scores.csv"), str(d / "1m_10_labels.csv")]
    big = [str(d / "100k_1000_scores.npy"), str(d / "100k_1000_labels.npy")]
    rows: list[tuple[str, float, float, str, str]] = []

    def compare(
        what: str,
        ours: list[str],
        peer: list[str],
        target: str,
        env: dict[str, str] | None = None,
        rtol: float = 0.0,
        same: Callable[[str, str], str] | None = None,
        repeats: int | None = None,
    ) -> None:
        """One row; ``rtol``: how far apart (relative to xent's number) the two may be and
        still be the same number (0: equal bits; a float32 peer against xent's float64);
        ``same``: another comparison of the two outputs; ``repeats``: this row's own
        number of runs (a slow row), instead of ``--repeat``."""
        if not chosen(what):
            return
        mine, theirs = paired(ours, peer, repeats or repeat, env)
        verdict = (same or same_number(rtol))(mine[2], theirs[2])
        aim = target if target.startswith("no target") else f"target {target}"
        runs = ""
        if repeats and repeats != repeat:
            runs = " (1 run)" if repeats == 1 else f" (median of {repeats})"
        rows.append(
            (
                what + runs,
                mine[0],
                theirs[0],
                f"{mine[0] / theirs[0]:.2f}× ({aim})",
                f"{mine[1] / 1024:.0f} / {theirs[1] / 1024:.0f} MiB; {verdict}",
            )
        )

    compare(
        "compute 1M×10 CSV -r mean vs pandas + scipy script",
        [XENT, "compute", *csv, "-r", "mean"],
        [PY, str(HERE / "peers/pandas_scipy.py"), *csv],
        "≤ 0.5",
    )
    out = str(DATA / "losses.csv")
    compare(
        "compute 1M×10 CSV, per-row CSV to a file vs the same with -r mean",
        ["sh", "-c", f'"{XENT}" compute "{csv[0]}" "{csv[1]}" > "{out}"'],
        [XENT, "compute", *csv, "-r", "mean"],
        "≤ 1.3",
    )
    compare(
        "compute 100k×1000 .npy -r mean vs numpy script",
        [XENT, "compute", *big, "-r", "mean"],
        [PY, str(HERE / "peers/loadtxt_numpy.py"), *big],
        "≤ 0.20",
    )
    on_shards = [
        XENT,
        "compute",
        str(d / "shards/scores-*.npy"),
        str(d / "shards/labels-*.npy"),
        "-r",
        "mean",
    ]
    compare(
        "the same on 8 shards (a glob) vs the single file",
        on_shards,
        [XENT, "compute", *big, "-r", "mean"],
        "≤ 1.1",
    )
    compare(
        "the 8 shards with --engine dask (a LocalCluster of 2 workers started for the run) "
        "vs --engine local",
        [*on_shards, "--engine", "dask"],
        on_shards,
        "≤ 2.0",
    )
    lm = [str(d / "lm_logits.npy"), str(d / "lm_labels.npy")]
    diff = [
        str(d / name) for name in ("1m_10_scores.npy", "1m_10_scores_b.npy", "1m_10_labels.npy")
    ]
    lm_quarter_mib = (d / "lm_logits.npy").stat().st_size / 2**20 / 4
    compare(
        "compute LM .npy --ignore-index -100 -r mean vs torch float32 script",
        [XENT, "compute", *lm, "--ignore-index", "-100", "-r", "mean"],
        [PY, str(HERE / "peers/torch_lm.py"), *lm],
        f"≤ 0.6; peak ≤ ¼ of the file, {lm_quarter_mib:.0f} MiB",
        rtol=1e-5,
    )
    compare(
        "softmax 100k×1000 .npy -o probs.npy vs np.load + softmax + np.save script",
        [XENT, "softmax", big[0], "-o", str(d / "probs-xent.npy")],
        [PY, str(HERE / "peers/softmax_numpy.py"), big[0], str(d / "probs-numpy.npy")],
        "≤ 0.7; peak ≤ ¼ of the input",
    )
    file_mib = (d / "100k_1000_scores.npy").stat().st_size / 2**20
    compare("xent --version vs python -c pass", [XENT, "--version"], [PY, "-c", "pass"], "≤ 3")
    compare(
        "xent softmax 2×3 CSV vs python -c 'import numpy'",
        [XENT, "softmax", str(d / "tiny.csv")],
        [PY, "-c", "import numpy"],
        "≤ 1.3",
    )
    compare(
        "xent diff 1M rows × 10,000 resamples vs np.load + numpy losses + scipy bootstrap script",
        [XENT, "diff", *diff, "--resamples", "10000", "-f", "json"],
        [PY, str(HERE / "peers/scipy_bootstrap.py"), *diff],
        "no target (issue: not minutes)",
        same=same_interval,
        repeats=1,
    )
    kinds = ("loss kernel (the CLI's block pass)", "loss engine (detection + block pass)")
    kernel_rows = [
        f"{what} {shape} float64, in-process, vs torch cross_entropy"
        for shape in ("1M×10", "10k×1000")
        for what in kinds
    ]
    if any(chosen(what) for what in kernel_rows):
        kernel = subprocess.run(
            [PY, str(HERE / "kernel.py")], capture_output=True, text=True, check=True
        )
        for line in kernel.stdout.splitlines():
            shape, ours_ms, torch_ms, threads, _, engine_ms, torch_again_ms = line.split()
            for what, mine_ms, peer_ms in zip(
                kinds, (ours_ms, engine_ms), (torch_ms, torch_again_ms), strict=True
            ):
                rows.append(
                    (
                        f"{what} {shape} float64, in-process, vs torch cross_entropy",
                        float(mine_ms) / 1000,
                        float(peer_ms) / 1000,
                        f"{float(mine_ms) / float(peer_ms):.2f}× (target ≤ 0.8)",
                        f"torch on {threads} threads",
                    )
                )
    print(
        f"Measured {date.today()} on {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; medians of {repeat}; the .npy is {file_mib:.0f} MiB.\n"
    )
    print("| what | xent | peer | ratio | peak memory (xent / peer), result |")
    print("|---|---|---|---|---|")
    for what, mine, theirs, ratio, note in rows:
        print(f"| {what} | {mine:.3f} s | {theirs:.3f} s | {ratio} | {note} |")


if __name__ == "__main__":
    main()

"""``xent`` as a real process: pipes, a closed pipe, stdin, and a pseudo-terminal."""

from __future__ import annotations

import ast
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from . import reference as ref
from .ptys import drain

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SCRIPT = Path(sys.executable).with_name("xent")
XENT = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "xent_cli"]
ISSUE_MEAN = float(
    (ref.sparse_softmax_ce([0.5, 1.5, 0.1], 1) + ref.sparse_softmax_ce([2.2, 1.3, 1.7], 2)) / 2
)


def run(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*XENT, *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def shell(command: str) -> subprocess.CompletedProcess[bytes]:
    xent = " ".join(XENT)
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command.replace("xent ", f"{xent} ")],
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )


def test_console_script_is_installed() -> None:
    assert SCRIPT.exists() or shutil.which("xent")


def test_bare_mean_in_command_substitution() -> None:
    done = shell(
        'm=$(xent compute samples/logits.csv samples/classes.csv -r mean) && echo "mean=$m"'
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.decode().strip().removeprefix("mean=")) == pytest.approx(
        ISSUE_MEAN, rel=1e-15
    )


def test_stdin_pipe_and_csv_downstream() -> None:
    done = shell(
        "cat samples/logits.csv | xent compute - samples/onehot.csv | cut -d, -f2 | tail -n +2"
    )
    assert done.returncode == 0, done.stderr
    values = [float(v) for v in done.stdout.decode().split()]
    assert sum(values) / 2 == pytest.approx(ISSUE_MEAN, rel=1e-15)
    assert done.stderr == b""


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "xent_cli", "--version"], capture_output=True, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout.decode().startswith("xent ")


def test_usage_line_of_the_command_built_alone() -> None:
    done = run("compute", "--help")
    assert done.stdout.decode().startswith("Usage: xent compute [OPTIONS] PREDICTIONS [LABELS]\n")


def test_error_exit_code_and_silence_on_stdout() -> None:
    done = run("compute", "samples/logits.csv", "samples/nope.csv")
    assert done.returncode == 66
    assert done.stdout == b""
    assert done.stderr.decode() == "xent: samples/nope.csv: no such file\n"
    bad = run("compute", "-", "samples/classes.csv", stdin=b"1,2,3\n4,x,6\n")
    assert bad.returncode == 65
    assert bad.stdout == b""
    assert bad.stderr.decode() == "xent: <stdin>:2:3: field 2 is 'x', not a number\n"


def test_usage_error_exit_code() -> None:
    done = run("compute", "samples/logits.csv", "samples/classes.csv", "-r", "median")
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.decode().startswith("xent: Invalid value for '--reduction'")


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    scores = tmp_path / "z.npy"
    labels = tmp_path / "y.npy"
    np.save(scores, rng.normal(size=(200_000, 4)))
    np.save(labels, rng.integers(0, 4, 200_000))
    done = shell(f"xent compute {scores} {labels} | head -1")
    assert done.stdout == b"row,loss,predicted,target\n"
    assert done.stderr == b""
    assert done.returncode == 0


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ["softmax", "samples/logits.csv"],  # a small write, failing when flushed at exit
        ["compute", "samples/logits.csv", "samples/classes.csv", "-f", "json"],
        ["explain"],  # a Rich table
    ],
)
def test_full_disk_is_one_line_and_exit_74(args: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [*XENT, *args], stdout=full, stderr=subprocess.PIPE, cwd=ROOT, timeout=60
        )
    assert done.returncode == 74
    assert done.stderr == b"xent: cannot write the output: No space left on device\n"


def test_output_is_whole_when_the_process_ends(tmp_path: Path) -> None:
    """xent leaves without the interpreter's teardown; everything written must still arrive."""
    rng = np.random.default_rng(8)
    scores = rng.normal(size=(50_000, 3))
    np.save(tmp_path / "z.npy", scores)
    done = run("softmax", str(tmp_path / "z.npy"), "-f", "csv")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 50_000
    last = np.array([float(v) for v in lines[-1].split(",")])
    exact = [float(ref.mp.exp(v)) for v in ref.log_softmax(scores[-1].tolist())]
    assert np.allclose(last, exact, rtol=1e-12, atol=0)


def test_closed_standard_streams() -> None:
    """``>&-``, ``2>&-`` and ``<&-``: one line (where stderr is open) and the exit code."""
    closed_out = shell("xent softmax samples/logits.csv >&-")
    assert closed_out.returncode == 74
    assert closed_out.stderr == b"xent: cannot write the output: standard output is closed\n"
    closed_err = shell("xent compute no-such.csv samples/classes.csv 2>&-")
    assert (closed_err.returncode, closed_err.stdout) == (66, b"")
    closed_in = shell("xent compute samples/logits.csv samples/classes.csv -r mean <&-")
    assert closed_in.returncode == 0, closed_in.stderr
    assert float(closed_in.stdout) == pytest.approx(ISSUE_MEAN, rel=1e-15)
    reads_closed_in = shell("xent compute - samples/classes.csv <&-")
    assert reads_closed_in.returncode == 66
    assert reads_closed_in.stderr == b"xent: <stdin>: standard input is closed\n"


@pytest.mark.parametrize("command", ["compute", "softmax"])
def test_closed_pipe_after_a_table_ends_quietly_with_0(tmp_path: Path, command: str) -> None:
    """Rich exits 1 on a closed pipe by itself; xent ends as it does for CSV: quietly, 0."""
    rng = np.random.default_rng(6)
    np.save(tmp_path / "z.npy", rng.normal(size=(5000, 3)))
    np.save(tmp_path / "y.npy", rng.integers(0, 3, 5000))
    labels = f" {tmp_path / 'y.npy'}" if command == "compute" else ""
    done = shell(f"xent {command} {tmp_path / 'z.npy'}{labels} -f table -q | head -1")
    assert done.returncode == 0
    assert done.stderr == b""
    assert done.stdout.decode().startswith("┏")


def _pty_run(args: list[str], stdin_tty: bool, env: dict[str, str]) -> tuple[int, bytes]:
    """Run with stdout (and optionally stdin) on a pseudo-terminal; return code and output."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*XENT, *args],
        stdout=terminal,
        stderr=terminal,
        stdin=terminal if stdin_tty else subprocess.DEVNULL,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "100", **env},
    )
    os.close(terminal)
    return drain(controller, process)


def test_table_on_a_terminal_with_and_without_colour() -> None:
    args = ["compute", "samples/scores.csv", "samples/labels.csv"]
    code, coloured = _pty_run(args, stdin_tty=False, env={"TERM": "xterm-256color", "NO_COLOR": ""})
    assert code == 0
    text = coloured.decode()
    assert "┏" in text
    assert "perplexity" in text
    assert "3 classes · scores" in text  # the reason line, on stderr
    assert "\x1b[" in text
    code, plain = _pty_run(args, stdin_tty=False, env={"TERM": "xterm-256color", "NO_COLOR": "1"})
    assert code == 0
    assert "\x1b[3" not in plain.decode()  # no colour codes
    assert "perplexity" in plain.decode()


def test_stdin_on_a_terminal_is_refused_not_waited_on() -> None:
    code, output = _pty_run(["compute", "-", "samples/classes.csv"], stdin_tty=True, env={})
    assert code == 2
    assert b"standard input is a terminal" in output


def test_softmax_pipes_into_compute() -> None:
    done = shell("xent softmax samples/logits.csv | xent compute - samples/classes.csv -f json")
    assert done.returncode == 0, done.stderr
    import json

    data = json.loads(done.stdout)
    assert data["loss"] == "sparse-categorical-ce"
    assert data["mean"] == pytest.approx(ISSUE_MEAN, rel=1e-14)


def test_softmax_with_missing_argument_reads_stdin() -> None:
    done = shell("printf '0,0\\n' | xent softmax")
    assert done.stdout == b"0.5,0.5\n"


def test_softmax_closed_pipe_on_large_input_is_quiet(tmp_path: Path) -> None:
    scores = tmp_path / "z.npy"
    np.save(scores, np.random.default_rng(5).normal(size=(300_000, 5)))
    done = shell(f"xent softmax {scores} | head -1")
    assert len(done.stdout.decode().split(",")) == 5
    assert done.stderr == b""
    assert done.returncode == 0


def test_ctrl_c_exits_130_quietly(tmp_path: Path) -> None:
    import signal
    import time

    process = subprocess.Popen(
        [*XENT, "compute", "-", "samples/classes.csv"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    time.sleep(1.5)  # waiting on stdin that never ends
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert out == b""
    assert b"Traceback" not in err


def test_slowly_arriving_stdin_is_read_to_the_end() -> None:
    done = shell(
        "(echo 0.5,1.5,0.1; sleep 1; echo 2.2,1.3,1.7) | xent compute - samples/classes.csv -r mean"
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == pytest.approx(ISSUE_MEAN, rel=1e-15)


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    scores, labels = tmp_path / "z.npy", tmp_path / "y.npy"
    rng = np.random.default_rng(9)
    np.save(scores, rng.normal(size=(1_000_000, 10)))  # 80 MB: streamed in blocks
    np.save(labels, rng.integers(0, 10, 1_000_000))
    fast = {"XENT_PROGRESS_DELAY": "0"}
    piped = run("compute", str(scores), str(labels), "-r", "mean", env=fast)
    assert piped.returncode == 0
    assert piped.stderr == b""  # no progress in a pipe
    args = ["compute", str(scores), str(labels), "-r", "mean", "-f", "csv"]
    code, output = _pty_run(args, stdin_tty=False, env={"TERM": "xterm-256color", **fast})
    assert code == 0
    assert b"%" in output  # the bar, on the terminal's stderr
    code, quiet = _pty_run([*args, "-q"], stdin_tty=False, env={"TERM": "xterm-256color", **fast})
    assert b"%" not in quiet


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("xent comp", "1", ["compute"]),
        ("xent compute --form", "2", ["--format"]),
        ("xent compute -f ", "3", ["auto", "table", "csv", "tsv", "json", "jsonl"]),
        ("xent explain --outcomes ", "3", ["2", "many"]),
    ],
)
def test_shell_completion(words: str, cword: str, expected: list[str]) -> None:
    done = run(env={"_XENT_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword})
    assert done.returncode == 0
    assert done.stdout.decode().split() == expected


@pytest.mark.parametrize(
    ("args", "loaded"),
    [
        (["--version"], set()),
        (["--help"], set()),
        (["compute", "--help"], set()),
        (["softmax", "samples/logits.csv"], {"numpy"}),
        (["compute", "samples/logits.csv", "samples/classes.csv"], {"numpy"}),
    ],
)
def test_start_up_loads_only_what_the_command_needs(args: list[str], loaded: set[str]) -> None:
    """Start-up budget (DESIGN §6): no numpy for help or the version; no rich, polars or dask
    for a small input written to a pipe."""
    heavy = ("numpy", "rich", "polars", "dask")
    modules, _ = at_exit(args)
    assert {m.split(".")[0] for m in modules if m.startswith(heavy)} == loaded


def test_regression_gh18_a_small_csv_loads_only_the_reader_it_needs() -> None:
    """Issue 18: ``xent softmax`` of a small CSV loads neither the shard reader, the rules
    of rank ≥ 3 inputs, nor the readers of arrays, safetensors and tables (each only for
    an input that needs it: ``readers.formats`` tells the formats apart from their first
    bytes), and the command runs with the garbage collector on (it is off only while the
    CLI's modules load)."""
    modules, collecting = at_exit(["softmax", "samples/logits.csv"])
    loaded = {m.removeprefix("xent_cli.readers.") for m in modules if "readers." in m}
    assert loaded == {"base", "compressed", "formats", "text"}
    assert "xent_cli.sequences" not in modules
    assert collecting


@pytest.mark.parametrize("rows", [2, 1000])
def test_a_pipe_given_by_its_path_is_read_from_its_first_byte(tmp_path: Path, rows: int) -> None:
    """``xent softmax <(…)``: a path that is not a regular file is read whole, once. Looking
    at its first 4 KiB for an array to stream took them from the pipe: a small input was
    empty, a larger one lost its first rows, the next one cut (exit 0)."""
    scores = tmp_path / "z.csv"
    np.savetxt(scores, np.random.default_rng(3).normal(size=(rows, 3)), delimiter=",")
    from_file = run("softmax", str(scores))
    for command in (f"xent softmax <(cat {scores})", f"xent softmax --delimiter , <(cat {scores})"):
        done = shell(command)
        assert done.returncode == 0, done.stderr
        assert done.stdout == from_file.stdout


def at_exit(args: list[str]) -> tuple[set[str], bool]:
    """The modules loaded, and whether the garbage collector is on, as ``xent ARGS`` leaves:
    the console script's own entry runs."""
    code = f"""
import gc, os, sys
leave = os._exit
def listed(code=0):
    sys.stderr.write(repr((sorted(sys.modules), gc.isenabled())) + "\\n")
    sys.stderr.flush()
    leave(code)
os._exit = listed
sys.argv = ["xent", *{args!r}]
from xent_cli.entry import main
main()
listed()
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    modules, collecting = ast.literal_eval(done.stderr.strip().splitlines()[-1])
    return set(modules), collecting

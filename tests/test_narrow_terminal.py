"""A terminal too narrow for a table gets CSV (issue 12): ``COLUMNS=0`` printed an empty
table and a 10-column terminal a table with no digits, both with exit 0.

Below :data:`~xent_cli.render.MIN_TABLE_WIDTH` columns the output is the report's CSV, as
``-f csv`` writes it, with one line on a terminal's stderr saying why. Expected numbers are
worked with :mod:`math` here, never taken from xent.
"""

from __future__ import annotations

import fcntl
import io
import json
import math
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xent_cli.cli import app
from xent_cli.render import MIN_TABLE_WIDTH
from xent_cli.terminal import Terminal

from .ptys import drain

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SCRIPT = Path(sys.executable).with_name("xent")
XENT = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "xent_cli"]
runner = CliRunner()

P = [[0.2, 0.8], [0.6, 0.4]]
Y = [1, 0]
LOSSES = [-math.log(0.8), -math.log(0.6)]  # −log p(target): 0.2231435513142097, 0.5108…


def softmax(z: list[float]) -> list[float]:
    exps = [math.exp(v) for v in z]
    return [e / math.fsum(exps) for e in exps]


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def note(width: int) -> str:
    reason = f"the terminal is {width} columns wide, tables need {MIN_TABLE_WIDTH}"
    return f"xent: {reason}; writing CSV\n"


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[str, str]:
    p, y = tmp_path / "p.csv", tmp_path / "y.csv"
    p.write_text("".join(f"{a},{b}\n" for a, b in P))
    y.write_text("".join(f"{label}\n" for label in Y))
    return str(p), str(y)


def run(
    args: list[str], width: int | None, *, tty: bool = True, stderr_tty: bool | None = None
) -> tuple[int, str, str]:
    """``xent ARGS`` on a faked terminal ``width`` columns wide (or a pipe: ``tty=False``)."""
    out, err = io.StringIO(), io.StringIO()
    terminal = Terminal(
        stdin=None,
        stdout=out,
        stderr=err,
        stdout_is_tty=tty,
        stderr_is_tty=tty if stderr_tty is None else stderr_tty,
        width=width,
    )
    result = runner.invoke(app, args, obj=terminal)
    return result.exit_code, out.getvalue(), err.getvalue()


def rows(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.splitlines()]


@pytest.mark.parametrize("width", [0, 1, 10, 39, 40, MIN_TABLE_WIDTH - 1])
@pytest.mark.parametrize("fmt", [[], ["-f", "table"]])
def test_regression_narrow_terminal_printed_no_numbers(
    inputs: tuple[str, str], width: int, fmt: list[str]
) -> None:
    code, out, err = run(["compute", *inputs, *fmt], width)
    assert code == 0, err
    header, *body = rows(out)
    assert header == ["row", "loss", "predicted", "target"]
    assert [int(r[0]) for r in body] == [0, 1]
    assert [float(r[1]) for r in body] == pytest.approx(LOSSES, rel=1e-15)
    assert [r[2:] for r in body] == [["1", "1"], ["0", "0"]]
    assert "┏" not in out
    assert err.endswith(note(width))  # after the reason line
    assert err.count("\n") == 2


@pytest.mark.parametrize("width", [MIN_TABLE_WIDTH, 80, 100])
def test_a_terminal_wide_enough_gets_the_table(inputs: tuple[str, str], width: int) -> None:
    code, out, err = run(["compute", *inputs], width)
    assert code == 0, err
    assert "┃ row ┃" in out
    assert "0.223144" in out  # -log(0.8) to 6 digits
    assert "0.510826" in out  # -log(0.6)
    assert "writing CSV" not in err
    assert all(len(line) <= width for line in out.splitlines())


@pytest.mark.parametrize(
    "args",
    [
        ["compute", "logits.csv", "classes.csv"],
        ["compute", "scores.csv", "labels.csv"],
        ["compute", "eval_dump.csv", "--label-column", "label"],
        ["compute", "spam_probs.csv", "spam_labels.csv"],
        ["compute", "tags_logits.csv", "tags_labels.csv"],
        ["softmax", "logits.csv"],
        ["sigmoid", "tags_logits.csv"],
        ["explain", "logits.csv", "classes.csv"],
    ],
)
def test_min_table_width_shows_every_number_whole(args: list[str]) -> None:
    # The premise of MIN_TABLE_WIDTH: at that width no table cuts a number short ("0.2…").
    files = [str(SAMPLES / a) if a.endswith(".csv") else a for a in args]
    code, out, err = run([*files, "-f", "table"], MIN_TABLE_WIDTH)
    assert code == 0, err
    assert "┏" in out or "┌" in out
    assert not re.search(r"[0-9.]…", out), out


@pytest.mark.parametrize(
    "args",
    [
        ["compute", "P", "Y"],
        ["compute", "P", "Y", "-r", "mean"],
        ["compute", "P", "Y", "-r", "sum"],
        ["compute", "P", "Y", "--confusion"],
        ["compute", "P", "Y", "--compare"],
        ["softmax", "P"],
        ["softmax", "P", "--log"],
        ["softmax", "P", "--argmax"],
        ["sigmoid", "P"],
        ["explain"],
        ["explain", "P", "Y"],
    ],
)
def test_narrow_output_is_what_f_csv_writes(inputs: tuple[str, str], args: list[str]) -> None:
    args = [{"P": inputs[0], "Y": inputs[1]}.get(a, a) for a in args]
    _, expected, _ = run([*args, "-f", "csv"], None, tty=False)
    code, out, err = run([*args, "-f", "table"], 10)
    assert code == 0, err
    assert out == expected
    assert err.count("writing CSV") == 1


def test_narrow_softmax_and_sigmoid_numbers(inputs: tuple[str, str]) -> None:
    code, out, _ = run(["softmax", inputs[0]], 20)
    assert code == 0
    assert [[float(v) for v in r] for r in rows(out)] == [
        pytest.approx(softmax(z), rel=1e-15) for z in P
    ]
    code, out, _ = run(["sigmoid", inputs[0]], 20)
    assert code == 0
    assert [[float(v) for v in r] for r in rows(out)] == [
        pytest.approx([sigmoid(v) for v in z], rel=1e-15) for z in P
    ]
    code, out, _ = run(["compute", *inputs, "-r", "mean"], 0)
    assert code == 0
    assert float(out) == pytest.approx(math.fsum(LOSSES) / 2, rel=1e-15)


def test_narrow_explain_names_the_chosen_row(inputs: tuple[str, str]) -> None:
    code, out, _ = run(["explain", *inputs], 10)
    assert code == 0
    chosen = [r[0] for r in rows(out)[1:] if r[-1] == "true"]
    assert chosen == ["sparse-categorical-ce"]


@pytest.mark.parametrize(("stderr_tty", "quiet"), [(False, False), (True, True)])
def test_the_note_is_only_for_a_terminals_stderr_and_not_with_q(
    inputs: tuple[str, str], stderr_tty: bool, quiet: bool
) -> None:
    args = ["compute", *inputs, *(["-q"] if quiet else [])]
    code, out, err = run(args, 10, stderr_tty=stderr_tty)
    assert code == 0
    assert out.startswith("row,loss,")
    assert err == ""


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl"])
def test_machine_formats_are_untouched_and_say_nothing(inputs: tuple[str, str], fmt: str) -> None:
    _, wide, _ = run(["compute", *inputs, "-f", fmt], 100)
    code, out, err = run(["compute", *inputs, "-f", fmt], 0)
    assert code == 0
    assert out == wide
    assert "writing CSV" not in err
    if fmt == "json":
        assert json.loads(out)["losses"] == pytest.approx(LOSSES, rel=1e-15)


def test_a_table_into_a_pipe_with_columns_0_is_csv(
    inputs: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # -f table into a pipe: Rich takes COLUMNS as the width, 0 included (it printed nothing).
    monkeypatch.setenv("COLUMNS", "0")
    code, out, err = run(["compute", *inputs, "-f", "table"], None, tty=False)
    assert code == 0
    assert [float(r[1]) for r in rows(out)[1:]] == pytest.approx(LOSSES, rel=1e-15)
    assert err == ""


def pty_run(args: list[str], columns: int, env: dict[str, str]) -> tuple[int, str]:
    """``xent ARGS`` as a process whose stdout and stderr are a pseudo-terminal ``columns``
    wide (0: one that does not know its size); COLUMNS is unset unless ``env`` sets it."""
    controller, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [*XENT, *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        cwd=ROOT,
        env={**environment, "NO_COLOR": "1", "TERM": "xterm", **env},
    )
    os.close(follower)
    code, output = drain(controller, process)
    return code, output.decode().replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is POSIX")
@pytest.mark.parametrize(
    ("columns", "env", "table"),
    [
        (30, {}, False),  # the terminal's own size
        (MIN_TABLE_WIDTH - 1, {}, False),
        (MIN_TABLE_WIDTH, {}, True),
        (100, {"COLUMNS": "0"}, False),  # COLUMNS wins, 0 included
        (100, {"COLUMNS": "10"}, False),
        (100, {"COLUMNS": "abc"}, True),  # garbage in COLUMNS is ignored: the terminal's 100
        (30, {"COLUMNS": "100"}, True),
        (0, {}, True),  # a terminal of unknown size: Rich assumes 80
    ],
)
def test_on_a_pseudo_terminal(
    inputs: tuple[str, str], columns: int, env: dict[str, str], table: bool
) -> None:
    code, output = pty_run(["compute", *inputs], columns, env)
    assert code == 0, output
    assert ("┏━━━━━┳" in output) is table, output  # the top of the per-row table
    assert ("writing CSV" in output) is not table, output
    if not table:
        assert note(int(env.get("COLUMNS", columns))) in output
        lines = output.splitlines()
        start = lines.index("row,loss,predicted,target")
        assert [float(r.split(",")[1]) for r in lines[start + 1 :]] == pytest.approx(
            LOSSES, rel=1e-15
        )

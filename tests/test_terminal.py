"""The terminal is built once and handed down: tests fake a tty or a pipe in-process."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xent_cli import terminal as terminal_module
from xent_cli.cli import app
from xent_cli.options import Format
from xent_cli.terminal import Terminal

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
runner = CliRunner()


def fake(
    *, tty: bool, stdin_tty: bool = False, stderr_tty: bool | None = None
) -> tuple[Terminal, io.StringIO, io.StringIO]:
    """A terminal (``tty``: stdout and stderr, unless ``stderr_tty`` says otherwise) or a pipe."""
    out, err = io.StringIO(), io.StringIO()
    terminal = Terminal(
        stdin=io.BytesIO(b"0.5,1.5\n"),
        stdout=out,
        stderr=err,
        stdin_is_tty=stdin_tty,
        stdout_is_tty=tty,
        stderr_is_tty=tty if stderr_tty is None else stderr_tty,
        width=100,
    )
    return terminal, out, err


def test_auto_is_a_table_on_a_faked_terminal_and_csv_in_a_faked_pipe() -> None:
    terminal, out, err = fake(tty=True)
    args = ["compute", str(SAMPLES / "logits.csv"), str(SAMPLES / "classes.csv")]
    assert runner.invoke(app, args, obj=terminal).exit_code == 0
    assert "┃ row ┃" in out.getvalue()
    assert "→ sparse-softmax-ce-with-logits" in err.getvalue()  # the reason line, on stderr
    terminal, out, err = fake(tty=False)
    assert runner.invoke(app, args, obj=terminal).exit_code == 0
    assert out.getvalue().splitlines()[0] == "row,loss,predicted,target"
    assert err.getvalue() == ""


def test_format_for() -> None:
    terminal, _, _ = fake(tty=True)
    assert terminal.format_for(Format.auto) is Format.table
    assert terminal.format_for(Format.json) is Format.json
    terminal, _, _ = fake(tty=False)
    assert terminal.format_for(Format.auto) is Format.csv


def test_stdin_of_the_faked_terminal_is_read() -> None:
    terminal, out, _ = fake(tty=False)
    assert runner.invoke(app, ["softmax", "-"], obj=terminal).exit_code == 0
    assert out.getvalue() == "0.2689414213699951,0.7310585786300049\n"


def test_a_terminal_on_stdin_is_refused_in_one_line() -> None:
    terminal, out, err = fake(tty=False, stdin_tty=True)
    result = runner.invoke(app, ["softmax", "-"], obj=terminal)
    assert result.exit_code == 2
    assert out.getvalue() == ""
    assert err.getvalue().startswith("xent: standard input is a terminal, not data")


def test_errors_go_to_the_terminals_stderr() -> None:
    terminal, out, err = fake(tty=False)
    result = runner.invoke(app, ["softmax", "missing.csv"], obj=terminal)
    assert result.exit_code == 66
    assert (out.getvalue(), err.getvalue()) == ("", "xent: missing.csv: no such file\n")


def test_no_color_is_a_field_of_the_terminal_not_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    for flags, escapes in (([], True), (["--no-color"], False)):
        terminal, out, _ = fake(tty=True)
        args = ["softmax", str(SAMPLES / "logits.csv"), "-f", "table", *flags]
        assert runner.invoke(app, args, obj=terminal).exit_code == 0
        assert ("\x1b[3" in out.getvalue()) is escapes  # a colour (bold alone may stay)
    assert "NO_COLOR" not in os.environ


REASON = (
    "xent: 3 classes · scores (values outside [0,1]) · hard targets (integer labels) → "
    "sparse-softmax-ce-with-logits\n"
)


@pytest.mark.parametrize("stdout_tty", [True, False])
@pytest.mark.parametrize("stderr_tty", [True, False])
@pytest.mark.parametrize("quiet", [False, True])
def test_regression_reason_line_was_hidden_whenever_stdout_was_piped(
    stdout_tty: bool, stderr_tty: bool, quiet: bool
) -> None:
    # issue 11, DESIGN §2 (v2): the reason line, the only clue to a misread file, was printed
    # only in table mode. It goes to stderr whenever stderr is a terminal, whatever stdout
    # is (a table or CSV), and never with -q.
    terminal, out, err = fake(tty=stdout_tty, stderr_tty=stderr_tty)
    args = ["compute", str(SAMPLES / "logits.csv"), str(SAMPLES / "classes.csv")]
    result = runner.invoke(app, [*args, *(["-q"] if quiet else [])], obj=terminal)
    assert result.exit_code == 0, err.getvalue()
    assert err.getvalue() == (REASON if stderr_tty and not quiet else "")
    assert ("┃ row ┃" in out.getvalue()) is stdout_tty  # the output itself is unchanged
    assert out.getvalue().startswith("row,loss") is not stdout_tty


def test_the_reason_line_comes_after_the_warnings(tmp_path: Path) -> None:
    z, c = tmp_path / "z.csv", tmp_path / "c.csv"
    z.write_text("0.5,1.5,0.1\n2.2,1.3,1.7\n")
    c.write_text("1\n2\n")
    terminal, out, err = fake(tty=False, stderr_tty=True)
    args = ["compute", str(z), str(c), "--class-weights", "0,0,0", "-r", "mean"]
    assert runner.invoke(app, args, obj=terminal).exit_code == 0
    warning, reason = err.getvalue().splitlines(keepends=True)
    assert warning.startswith("xent: warning: nothing left to average")
    assert reason == REASON
    assert out.getvalue() == "nan\n"


@pytest.mark.parametrize("stderr_tty", [True, False])
def test_explain_prints_no_reason_line_it_is_in_its_own_output(stderr_tty: bool) -> None:
    terminal, out, err = fake(tty=False, stderr_tty=stderr_tty)
    args = ["explain", str(SAMPLES / "logits.csv"), str(SAMPLES / "classes.csv"), "-f", "json"]
    assert runner.invoke(app, args, obj=terminal).exit_code == 0
    assert err.getvalue() == ""
    assert json.loads(out.getvalue())["reason"] == REASON.removeprefix("xent: ").rstrip()


@pytest.mark.parametrize("kind", ["csv", "parquet", "jsonl", "csv.gz"])
def test_every_streamed_format_shows_progress_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """No CSV run showed progress (a 5M-row CSV took 18 s silently): every input that
    streams reports its rows on a terminal's stderr after the delay, and none in a pipe."""
    import gzip

    import polars as pl

    from xent_cli.readers import arrays

    monkeypatch.setattr(arrays, "STREAM_BYTES", 0)
    monkeypatch.setattr(arrays, "BLOCK_BYTES", 256)
    monkeypatch.setenv("XENT_PROGRESS_DELAY", "0")
    rows = [[0.5, 1.5, float(i % 3)] for i in range(300)]
    frame = pl.DataFrame({"z": [r[:2] for r in rows], "y": [int(r[2]) % 2 for r in rows]})
    path = tmp_path / f"p.{kind}"
    if kind == "parquet":
        frame.write_parquet(path)
    elif kind == "jsonl":
        frame.write_ndjson(path)
    else:
        text = "".join(f"{a},{b},{int(y) % 2}\n" for a, b, y in rows).encode()
        path.write_bytes(gzip.compress(text) if kind.endswith(".gz") else text)
    column = "y" if kind in ("parquet", "jsonl") else "2"
    args = ["compute", str(path), "--label-column", column, "-r", "mean", "-f", "csv"]
    heard: list[int] = []  # the rows the bar hears of (Rich draws it only on a real terminal)
    told = terminal_module.Progress.__call__

    def listen(self: terminal_module.Progress, rows: int) -> None:
        heard.append(rows)
        told(self, rows)

    monkeypatch.setattr(terminal_module.Progress, "__call__", listen)
    terminal, out, _ = fake(tty=True)
    assert runner.invoke(app, args, obj=terminal).exit_code == 0
    assert float(out.getvalue()) > 0
    assert len(heard) > 5  # a piece at a time
    assert sum(heard) in (300, 600)  # every row, in one pass or two
    heard.clear()
    terminal, out, _ = fake(tty=False)
    assert runner.invoke(app, args, obj=terminal).exit_code == 0
    assert heard == []  # in a pipe: no bar

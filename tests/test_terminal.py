"""The terminal is built once and handed down: tests fake a tty or a pipe in-process."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xent_cli.cli import app
from xent_cli.options import Format
from xent_cli.terminal import Terminal

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
runner = CliRunner()


def fake(*, tty: bool, stdin_tty: bool = False) -> tuple[Terminal, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    terminal = Terminal(
        stdin=io.BytesIO(b"0.5,1.5\n"),
        stdout=out,
        stderr=err,
        stdin_is_tty=stdin_tty,
        stdout_is_tty=tty,
        stderr_is_tty=tty,
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

"""The terminal a command runs in, built once and handed down (httpie's ``Environment``).

Whether stdin/stdout/stderr are terminals, whether to use colour, the streams themselves,
and what follows from them: the format ``auto`` means, the Rich consoles, the progress bar.
Tests fake a terminal or a pipe by building one (``CliRunner.invoke(..., obj=Terminal(…))``).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from .options import Format

if TYPE_CHECKING:
    from rich.console import Console


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # closed stream
        return False


@dataclass
class Terminal:
    """The state of the terminal, in one object so tests can fake a tty or a pipe."""

    stdin: BinaryIO | None  # None: closed (<&-)
    stdout: IO[str]
    stderr: IO[str]
    stdin_is_tty: bool = False
    stdout_is_tty: bool = False
    stderr_is_tty: bool = False
    color: bool = True  # False: --no-color (Rich also honours NO_COLOR, FORCE_COLOR, TERM)
    width: int | None = None  # columns of a faked terminal (None: ask the terminal)

    @classmethod
    def current(cls) -> Terminal:
        """The process's own streams, as they are now."""
        return cls(
            stdin=sys.stdin.buffer if sys.stdin is not None else None,
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdin_is_tty=_isatty(sys.stdin),
            stdout_is_tty=_isatty(sys.stdout),
            stderr_is_tty=_isatty(sys.stderr),
        )

    def format_for(self, fmt: Format) -> Format:
        """``auto`` is a table on a terminal and CSV in a pipe; a table is CSV on a terminal
        too narrow for one (:meth:`narrow`)."""
        return Format.csv if self.narrow(fmt) is not None else self._wanted(fmt)

    def _wanted(self, fmt: Format) -> Format:
        if fmt is Format.auto:
            return Format.table if self.stdout_is_tty else Format.csv
        return fmt

    def narrow(self, fmt: Format) -> int | None:
        """The width of the console when ``fmt`` asks for a table and the console is
        narrower than :data:`~xent_cli.render.MIN_TABLE_WIDTH`, else ``None``.

        The width is the one Rich draws at: the faked ``width``, else ``COLUMNS`` when it
        is all digits (``0`` too: Rich then prints nothing), else the size of the first of
        stdin, stdout, stderr that is a terminal, else 80 (a terminal that reports 0
        columns, as a new pseudo-terminal does, is one of unknown size: 80). Garbage in
        ``COLUMNS`` (``abc``, ``-5``) is ignored.
        """
        if self._wanted(fmt) is not Format.table:
            return None
        from .render import MIN_TABLE_WIDTH

        width = self.console().width
        return width if width < MIN_TABLE_WIDTH else None

    def say(self, message: str) -> None:
        """A line on stderr, as ``xent: …``: one line, whatever a file or class name holds."""
        self.stderr.write(f"xent: {one_line(message)}\n")
        self.stderr.flush()

    def write(self, text: str) -> None:
        """Machine output on stdout."""
        self.stdout.write(text)
        self.stdout.flush()

    def console(self) -> Console:
        """A Rich console on stdout, made now so it sees the environment (NO_COLOR, COLUMNS).

        A closed pipe is left to the command's error handling (quiet, exit 0, as for CSV):
        Rich's own handler would exit 1.
        """
        from rich.console import Console

        class _Stdout(Console):
            def on_broken_pipe(self) -> None:
                self.quiet = True
                raise BrokenPipeError

        return _Stdout(
            file=self.stdout,
            highlight=False,
            no_color=True if not self.color else None,
            width=self.width,
        )

    def error_console(self) -> Console:
        """A Rich console on stderr (the progress bar)."""
        from rich.console import Console

        return Console(file=self.stderr, no_color=True if not self.color else None)

    def check_stdin(self, paths: list[str | None]) -> None:
        """At most one input is ``-``, and it is not a terminal nobody types into."""
        from .errors import UsageError

        if sum(path == "-" for path in paths) > 1:
            raise UsageError("only one input can be standard input (-)")
        if "-" in paths and self.stdin_is_tty:
            raise UsageError(
                "standard input is a terminal, not data: pipe data in "
                "(… | xent compute - y.csv) or give a file"
            )


def _seconds(text: str, default: float) -> float:
    """A number of seconds from the environment, or ``default`` for anything else.

    >>> _seconds("0", 1.0), _seconds("abc", 1.0), _seconds("", 1.0)
    (0.0, 1.0, 1.0)
    """
    try:
        value = float(text)
    except ValueError:
        return default
    return value if value >= 0 else default


class Progress:
    """A Rich progress bar on stderr, shown only on a terminal, after a second of work."""

    def __init__(self, total: int, terminal: Terminal, quiet: bool) -> None:
        self.delay = _seconds(os.environ.get("XENT_PROGRESS_DELAY", ""), 1.0)  # tests set 0
        self.total = total
        self.terminal = terminal
        self.enabled = terminal.stderr_is_tty and not quiet
        self.started = time.monotonic()
        self.done = 0
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Progress | None:
        return self if self.enabled else None

    def __call__(self, rows: int) -> None:
        self.done += rows
        if self.bar is None and time.monotonic() - self.started >= self.delay:
            from rich.progress import BarColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar

            self.bar = Bar(
                TextColumn("xent"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeRemainingColumn(),
                console=self.terminal.error_console(),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("rows", total=self.total)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


_ESCAPES = {code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})


def one_line(text: str) -> str:
    """``text`` with its control characters written as escapes, so that a file named with a
    line break (or an escape sequence) cannot split a message or drive the terminal.

    >>> print(one_line("bad\\nname.csv:2:1: no rows\\x1b[2J"))
    bad\\nname.csv:2:1: no rows\\x1b[2J
    """
    return text.translate(_ESCAPES)

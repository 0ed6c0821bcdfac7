"""The ``xent`` script: answers ``--version`` before Typer loads, loads the CLI with the
garbage collector off, and leaves quickly.

A finished run flushes its output and ends with ``os._exit``: the interpreter's teardown
(freeing numpy's and Typer's modules, joining idle worker threads) adds ~35 ms to every
command and does no work a command needs.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import NoReturn


def main() -> None:
    """Run xent; ``xent --version`` prints without importing Typer, numpy or rich."""
    if sys.stderr is None:  # 2>&-: messages have nowhere to go; exit codes still tell
        sys.stderr = open(os.devnull, "w")
    if sys.stdout is None:  # >&-: every command writes there
        from .errors import ExitCode

        sys.stderr.write("xent: cannot write the output: standard output is closed\n")
        leave(int(ExitCode.OUTPUT))
    for stream in (sys.stdout, sys.stderr):  # a class named 犬 on an ASCII terminal: '?'
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    if sys.argv[1:] in (["--version"], ["-V"]):
        from . import __version__

        leave(0, f"xent {__version__}\n")
    try:
        cli_main = _load_cli()
        cli_main()
        code: str | int | None = 0
    except SystemExit as done:
        code = done.code or 0
    except KeyboardInterrupt:  # Ctrl-C anywhere, even while modules load: quiet, 130
        sys.stderr.write("\n")
        code = 130
    except BrokenPipeError:  # help into `| head`: quiet
        code = 0
    except OSError as error:  # help or usage into a full disk: one line, 74
        from .errors import ExitCode, is_write_failure, write_failure

        if not is_write_failure(error):
            raise
        sys.stderr.write(f"xent: {write_failure(error)}\n")
        code = int(ExitCode.OUTPUT)
    if not isinstance(code, int):  # sys.exit("message"): Python prints it
        sys.exit(code)
    leave(code)


YOUNG_OBJECTS = 50_000  # new objects before a young collection (Python's default: 700)


def _load_cli() -> Callable[[], None]:
    """The CLI's ``main``, its modules (Typer's among them) loaded with the cyclic garbage
    collector off: what modules make lives as long as the process, so the ~30 collections
    loading them starts (~3 ms) free next to nothing. What they made is then frozen (never
    scanned again), and the collector waits for :data:`YOUNG_OBJECTS` new objects: the
    ~20,000 a command's own modules make as they load (numpy's among them) start none, and
    a long run collects less often (its cyclic garbage is a few hundred objects a run)."""
    gc.disable()
    try:
        from .cli import main as cli_main
    finally:
        gc.freeze()
        gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
        gc.enable()
    return cli_main


def leave(code: int, text: str = "") -> NoReturn:
    """Write ``text``, flush stdout and stderr, remove the tool's scratch files, then end
    the process at once with ``code``.

    A reader that went away (``| head``) is not an error; a full disk is one line and 74.
    """
    try:
        if sys.stdout is not None:
            if text:
                sys.stdout.write(text)
            sys.stdout.flush()
    except BrokenPipeError:
        pass
    except OSError as error:
        from .errors import ExitCode, write_failure

        sys.stderr.write(f"xent: {write_failure(error)}\n")
        code = int(ExitCode.OUTPUT)
    try:
        sys.stderr.flush()
    except OSError:
        pass
    readers = sys.modules.get("xent_cli.readers.base")  # its files, if it made any
    if readers is not None:
        readers.remove_scratch()
    os._exit(code)

"""The ``xent`` script: answers ``--version`` before Typer (and its ~100 ms import) loads."""

from __future__ import annotations

import sys


def main() -> None:
    """Run xent; ``xent --version`` prints without importing Typer, numpy or rich."""
    if sys.argv[1:] in (["--version"], ["-V"]):
        from . import __version__

        sys.stdout.write(f"xent {__version__}\n")
        return
    try:
        from .cli import main as cli_main

        cli_main()
    except KeyboardInterrupt:  # Ctrl-C anywhere, even while modules load: quiet, 130
        sys.stderr.write("\n")
        sys.exit(130)

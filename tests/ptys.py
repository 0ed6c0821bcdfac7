"""Pseudo-terminals for the tests that need a real terminal (Rich draws only on one)."""

from __future__ import annotations

import os
import select
import subprocess


def drain(controller: int, process: subprocess.Popen[bytes]) -> tuple[int, bytes]:
    """Everything ``process`` writes to the terminal whose controlling side is
    ``controller`` (closed here), and its exit code; a process silent for 30 s is killed."""
    output = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 30)
        if not ready:
            process.kill()
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the process has closed its side
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    return process.wait(timeout=30), output

"""What every test shares: a terminal width that does not depend on the developer's pane,
and blocks whose size in rows the tests that shrink ``BLOCK_BYTES`` can count on."""

from __future__ import annotations

import pytest

from xent_cli.readers import arrays


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich's width comes from COLUMNS or the real terminal; tables are drawn at 100 columns
    here unless a test sets its own (under 56, xent writes CSV: tests/test_narrow_terminal)."""
    monkeypatch.setenv("COLUMNS", "100")


@pytest.fixture(autouse=True)
def blocks_of_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """A block is ``BLOCK_BYTES`` of float64 values (tests set it to hold so many rows),
    without the bytes a row is allowed beside them (``ROW_BYTES``; real runs keep it:
    tests/test_totals.py measures them in a subprocess)."""
    monkeypatch.setattr(arrays, "ROW_BYTES", 0)

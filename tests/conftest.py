"""What every test shares: a terminal width that does not depend on the developer's pane."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich's width comes from COLUMNS or the real terminal; tables are drawn at 100 columns
    here unless a test sets its own (under 56, xent writes CSV: tests/test_narrow_terminal)."""
    monkeypatch.setenv("COLUMNS", "100")

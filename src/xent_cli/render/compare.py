"""``xent compute --compare`` → its report: each framework's mean beside the exact value,
their relative difference and why they differ."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xent_cli.options import Format
from xent_cli.writer import Frame, Values, json_number

from . import human

if TYPE_CHECKING:
    from rich.console import Console

    from xent_cli.compare import Comparison


def comparison_objects(rows: list[Comparison]) -> list[dict[str, Any]]:
    """Each framework's mean, its relative difference from the exact value, and why.

    ``mean`` is null where the framework has no equivalent (``applicable`` false) and
    where the mean is infinite (JSON has no Infinity).
    """
    return [
        {
            "framework": row.framework,
            "call": row.call,
            "applicable": row.value is not None,
            "mean": None if row.value is None else json_number(row.value),
            "relative_difference": row.difference,
            "why": row.why,
        }
        for row in rows
    ]


def comparison_table(rows: list[Comparison]) -> Any:
    """A Rich view that reads at 80 columns: a table of framework, mean, relative
    difference from exact and why; then each framework's call, a line each."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        header_style="bold",
        title="What each framework reports (mean)",
        title_justify="left",
        caption="float64 throughout; frameworks computing in float32 differ by a further "
        "~1e-7 relative",
        caption_justify="left",
    )
    table.add_column("framework", no_wrap=True)
    table.add_column("mean", justify="right", no_wrap=True)
    table.add_column("vs exact", justify="right", no_wrap=True)
    table.add_column("why")
    calls = Table.grid(padding=(0, 2))
    calls.add_column(no_wrap=True)
    calls.add_column(style="dim", overflow="fold")
    for row in rows:
        mean = "n/a" if row.value is None else human(row.value, 12)
        difference = row.difference
        shown = "—" if difference is None else ("0" if difference == 0 else f"{difference:.1e}")
        style = "bold green" if row.framework == "exact" else "bold"
        name = f"[{style}]{escape(row.framework)}[/]"
        table.add_row(name, mean, shown, escape(row.why))
        calls.add_row(name, escape(row.call))
    return Group(table, "", "[bold]calls[/]", calls)


@dataclass
class ComparisonReport:
    """One row per framework: CSV/TSV ``framework,call,mean,relative_difference,why`` (empty
    where there is no equivalent), JSON ``{"compare": [...]}``, JSONL an object a line."""

    rows: list[Comparison]

    def show(self, console: Console) -> None:
        console.print(comparison_table(self.rows))

    def table(self) -> Frame:
        rows = self.rows
        return Frame(
            [
                Values("framework", [row.framework for row in rows]),
                Values("call", [row.call for row in rows]),
                Values("mean", [row.value for row in rows]),
                Values("relative_difference", [row.difference for row in rows]),
                Values("why", [row.why for row in rows]),
            ]
        )

    def document(self) -> dict[str, Any]:
        return {"compare": comparison_objects(self.rows)}

    def records(self) -> list[dict[str, Any]]:
        return comparison_objects(self.rows)

    def messages(self, fmt: Format, *, stderr_is_tty: bool) -> list[str]:
        return []

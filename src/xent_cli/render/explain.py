"""``xent explain`` → its report: Rich views for a person, the table as CSV/TSV/JSON/JSONL
for a script."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xent_cli.decision_table import LOSS_ROWS
from xent_cli.explain import (
    GLOSSARY,
    Choice,
    DataExplanation,
    Example,
    choice_object,
    data_object,
    row_object,
    table_object,
)
from xent_cli.options import Format
from xent_cli.writer import Frame, Values

from . import human

if TYPE_CHECKING:
    from rich.console import Console


def values_text(values: list[float], digits: int = 8) -> str:
    """A short list of floats for a worked example.

    >>> values_text([1.0, -3.0, 10.0]), values_text([1.1601256622376641])
    ('[1, −3, 10]', '1.1601257')
    """
    shown = [human(v, digits).replace("-", "−") for v in values]
    return shown[0] if len(shown) == 1 else "[" + ", ".join(shown) + "]"


def decision_table(chosen: str | None) -> Any:
    """The six rows of the decision table as blocks that fit any width; ``chosen`` stands out.

    Each block: the loss name, its three answers (outcomes · predictions · targets), the
    per-row formula and its TensorFlow, Keras and PyTorch names.
    """
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table

    blocks: list[Any] = ["[bold]The decision table[/]"]
    for row in LOSS_ROWS:
        mark = chosen is not None and row.name == chosen
        dim = chosen is not None and not mark
        answers = escape(f"{row.outcomes} · {row.predictions} · targets {row.targets}")
        name = f"[bold green]▶ {row.name}[/]" if mark else f"[bold]{row.name}[/]"
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True, min_width=14, style="dim" if dim else "cyan")
        grid.add_column(style="dim" if dim else "")
        grid.add_row("  per-row loss", escape(row.formula))
        grid.add_row("  TensorFlow", escape(row.tensorflow))
        grid.add_row("  Keras", escape(row.keras))
        grid.add_row("  PyTorch", escape(row.pytorch))
        blocks.extend(["", f"{name}  [{'dim' if dim else 'default'}]{answers}[/]", grid])
    return Group(*blocks)


def glossary() -> Any:
    from rich.markup import escape
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for term, definition in GLOSSARY:
        grid.add_row(escape(term), escape(definition))
    return grid


def example_grid(example: Example) -> Any:
    from rich.markup import escape
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="cyan")
    grid.add_column()
    last = len(example.steps)
    for number, step in enumerate(example.steps, start=1):
        text = values_text(step.values, 10 if number == last else 8)
        grid.add_row(f"{number}. {escape(step.label)}", escape(text))
    return grid


def _bullets(console: Console, heading: str, lines: list[str]) -> None:
    from rich.markup import escape
    from rich.table import Table

    console.print(f"\n[bold]{heading}[/]")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for line in lines:
        grid.add_row("  •", escape(line))
    console.print(grid)


def print_table(console: Console) -> None:
    """``xent explain`` alone: the table and the terms."""
    console.print(decision_table(None))
    console.print("\n[bold]Terms[/]")
    console.print(glossary())


def print_choice(console: Console, choice: Choice) -> None:
    """The matching row, why it fits, the pitfalls and a worked example."""
    console.print(decision_table(choice.row.name))
    from rich.markup import escape

    console.print(f"\n[bold]Use[/] [bold green]{choice.row.name}[/]: {escape(choice.row.formula)}")
    if choice.assumed:
        console.print(f"[dim](assumed: {', '.join(choice.assumed)}; say otherwise to change it)[/]")
    _bullets(console, "Why it fits", choice.why)
    _bullets(console, "What goes wrong with the tempting alternatives", choice.pitfalls)
    console.print("\n[bold]Worked example[/] (computed by xent)")
    console.print(example_grid(choice.example))
    console.print("\n[bold]Terms[/]")
    console.print(glossary())


def print_data(console: Console, explanation: DataExplanation) -> None:
    """Detection on real files, each decision explained, and the first row walked through."""
    from rich.markup import escape
    from rich.table import Table

    decision = explanation.decision
    console.print(f"[bold]Loss:[/] [bold green]{decision.loss}[/]  {escape(decision.row.formula)}")
    table = Table(header_style="bold")
    table.add_column("question")
    table.add_column("answer, from the data")
    table.add_column("to change it", style="cyan")
    for question in explanation.questions:
        table.add_row(question.question, escape(question.answer), question.override)
    console.print(table)
    console.print(f"[dim]or pick the row outright with --loss NAME ({decision.loss} now)[/]")
    console.print("\n[bold]The first row, step by step[/]")
    console.print(example_grid(explanation.first_row))
    _bullets(console, "What goes wrong with the tempting alternatives", explanation.pitfalls)


@dataclass
class ExplainReport:
    """The decision table alone (``subject`` None), a described problem's row (a
    :class:`Choice`), or the detection on real files (a :class:`DataExplanation`)."""

    subject: Choice | DataExplanation | None

    @property
    def chosen(self) -> str | None:
        if isinstance(self.subject, Choice):
            return self.subject.row.name
        if isinstance(self.subject, DataExplanation):
            return self.subject.decision.loss
        return None

    def show(self, console: Console) -> None:
        if isinstance(self.subject, Choice):
            print_choice(console, self.subject)
        elif isinstance(self.subject, DataExplanation):
            print_data(console, self.subject)
        else:
            print_table(console)

    def records(self) -> list[dict[str, Any]]:
        """The table's rows, with a ``match`` column when a row was chosen."""
        chosen = self.chosen
        return [
            row_object(row, None if chosen is None else row.name == chosen) for row in LOSS_ROWS
        ]

    def table(self) -> Frame:
        records = self.records()
        return Frame([Values(name, [record[name] for record in records]) for name in records[0]])

    def document(self) -> dict[str, Any]:
        if isinstance(self.subject, Choice):
            return choice_object(self.subject)
        if isinstance(self.subject, DataExplanation):
            return data_object(self.subject)
        return table_object()

    def messages(self, fmt: Format) -> list[str]:
        return []

"""``xent explain`` → its report: Rich views for a person, the table as CSV/TSV/JSON/JSONL
for a script."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xent_cli.decision_table import LOSS_ROWS, LossRow
from xent_cli.explain import GLOSSARY, Choice, DataExplanation, Example
from xent_cli.options import Format
from xent_cli.writer import Frame, Values, json_number

from . import human
from .compute import outputs_name

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


def row_object(row: LossRow, match: bool | None = None) -> dict[str, Any]:
    """A table row as JSON (also the columns of the CSV form)."""
    obj: dict[str, Any] = {
        "loss": row.name,
        "outcomes": row.outcomes,
        "predictions": row.predictions,
        "targets": row.targets,
        "formula": row.formula,
        "tensorflow": row.tensorflow,
        "keras": row.keras,
        "pytorch": row.pytorch,
    }
    if match is not None:
        obj["match"] = match
    return obj


def example_object(example: Example) -> dict[str, Any]:
    """A worked example as JSON; ±∞ (a masked class, log 0) becomes null, and a note says so.

    >>> from xent_cli.explain import Step
    >>> example_object(Example([Step("log p", [0.0, -math.inf])], 0.0))["notes"]
    ['infinite values (log 0) are written as null: JSON has no Infinity']
    """
    obj: dict[str, Any] = {
        "steps": [
            {"step": step.label, "values": [json_number(v) for v in step.values]}
            for step in example.steps
        ],
        "loss": json_number(example.loss),
    }
    values = [v for step in example.steps for v in step.values] + [example.loss]
    if not all(math.isfinite(v) for v in values):
        obj["notes"] = ["infinite values (log 0) are written as null: JSON has no Infinity"]
    return obj


def choice_object(choice: Choice) -> dict[str, Any]:
    """``explain -f json`` with options: ``loss`` is the chosen row's name."""
    return {
        "loss": choice.row.name,
        "outcomes": choice.outcomes.value,
        "outputs": choice.outputs.value,
        "targets": choice.targets.value,
        "multilabel": choice.multilabel,
        "assumed": choice.assumed,
        "formula": choice.row.formula,
        "row": row_object(choice.row),
        "why": choice.why,
        "pitfalls": choice.pitfalls,
        "example": example_object(choice.example),
    }


def data_object(explanation: DataExplanation) -> dict[str, Any]:
    """``explain PRED LABELS -f json``: the detection's decisions and the first row."""
    decision = explanation.decision
    return {
        "loss": decision.loss,
        "reason": decision.reason,
        "outputs": outputs_name(decision),
        "targets": "hard" if decision.hard else "soft",
        "multilabel": decision.multilabel,
        "decisions": [
            {"question": q.question, "answer": q.answer, "override": q.override}
            for q in explanation.questions
        ],
        "first_row": example_object(explanation.first_row),
        "pitfalls": explanation.pitfalls,
    }


def table_object() -> dict[str, Any]:
    """``explain -f json`` with no options: the whole table and the glossary."""
    return {
        "loss": None,
        "table": [row_object(row) for row in LOSS_ROWS],
        "glossary": dict(GLOSSARY),
    }


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

    def messages(self, fmt: Format, *, stderr_is_tty: bool) -> list[str]:
        return []

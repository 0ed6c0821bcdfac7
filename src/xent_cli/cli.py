"""The Typer app: parameters, help text, and the one place errors become exit codes.

This module imports no numpy or rich at module level: ``xent --help`` and ``--version``
stay fast, and the engine is loaded only when a command runs.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import IO, TYPE_CHECKING, Annotated, Any, BinaryIO, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from . import __version__
from .errors import ExitCode, UsageError, XentError, is_write_failure, write_failure

if TYPE_CHECKING:
    from rich.console import Console

    from .compute import Comparison, Result
    from .transform import Matrix

T = TypeVar("T")


class Format(str, Enum):
    auto = "auto"
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"
    jsonl = "jsonl"


class Reduction(str, Enum):
    none = "none"
    mean = "mean"
    sum = "sum"


class Outputs(str, Enum):
    auto = "auto"
    scores = "scores"
    probs = "probs"


class Targets(str, Enum):
    auto = "auto"
    hard = "hard"
    soft = "soft"


class Task(str, Enum):
    auto = "auto"
    binary = "binary"
    multiclass = "multiclass"
    multilabel = "multilabel"


class LossName(str, Enum):
    binary_ce = "binary-ce"
    categorical_ce = "categorical-ce"
    sparse_categorical_ce = "sparse-categorical-ce"
    sigmoid_ce_with_logits = "sigmoid-ce-with-logits"
    softmax_ce_with_logits = "softmax-ce-with-logits"
    sparse_softmax_ce_with_logits = "sparse-softmax-ce-with-logits"


class LogBase(str, Enum):
    e = "e"
    two = "2"
    ten = "10"


class Like(str, Enum):
    keras = "keras"
    torch = "torch"
    tf = "tf"
    sklearn = "sklearn"


def _numbers(text: str | None, option: str) -> tuple[float, ...] | None:
    """``1,2,3`` → (1.0, 2.0, 3.0); anything else is a usage error naming the option."""
    if text is None:
        return None
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise UsageError(
            f"{option} takes numbers separated by commas, like 1,2,3; not {text!r}"
        ) from None
    return values


class OutcomeCount(str, Enum):
    two = "2"
    many = "many"


@dataclass
class Terminal:
    """The state of the terminal, in one object so tests can fake a tty or a pipe."""

    stdin: BinaryIO | None  # None: closed (<&-)
    stdout: IO[str]
    stdin_is_tty: bool
    stdout_is_tty: bool
    stderr_is_tty: bool = False

    @classmethod
    def current(cls) -> Terminal:
        return cls(
            stdin=sys.stdin.buffer if sys.stdin is not None else None,
            stdout=sys.stdout,
            stdin_is_tty=_isatty(sys.stdin),
            stdout_is_tty=_isatty(sys.stdout),
            stderr_is_tty=_isatty(sys.stderr),
        )


class _Progress:
    """A Rich progress bar on stderr, shown only on a terminal, after a second of work."""

    def __init__(self, total: int, terminal: Terminal, quiet: bool) -> None:
        self.delay = float(os.environ.get("XENT_PROGRESS_DELAY", "1.0"))  # tests set 0
        self.total = total
        self.enabled = terminal.stderr_is_tty and not quiet
        self.started = time.monotonic()
        self.done = 0
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> _Progress | None:
        return self if self.enabled else None

    def __call__(self, rows: int) -> None:
        self.done += rows
        if self.bar is None and time.monotonic() - self.started >= self.delay:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("xent"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("rows", total=self.total)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # closed stream
        return False


def _stderr_console() -> object:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _say(message: str) -> None:
    """A line on stderr, as ``xent: …``."""
    sys.stderr.write(f"xent: {message}\n")
    sys.stderr.flush()


def _guarded(debug: bool, action: Callable[[], T]) -> T:
    """Run ``action``; turn xent's errors, Ctrl-C and closed pipes into exit codes."""
    try:
        return action()
    except XentError as error:
        if debug:
            raise
        _say(error.message)
        raise typer.Exit(int(error.exit_code)) from None
    except KeyboardInterrupt:
        from .parallel import stop

        stop()
        sys.stderr.write("\n")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except BrokenPipeError:
        _quiet_closed_pipe()
        raise typer.Exit(int(ExitCode.OK)) from None
    except OSError as error:
        if debug or not is_write_failure(error):
            raise
        _say(write_failure(error))
        raise typer.Exit(int(ExitCode.OUTPUT)) from None


def _quiet_closed_pipe() -> None:
    """stdout's reader went away (``| head``): stop quietly, and let exit not flush into it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _check_stdin(paths: list[str | None], terminal: Terminal) -> None:
    if sum(path == "-" for path in paths) > 1:
        raise UsageError("only one input can be standard input (-)")
    if "-" in paths and terminal.stdin_is_tty:
        raise UsageError(
            "standard input is a terminal, not data: pipe data in (… | xent compute - y.csv) "
            "or give a file"
        )


class _OneLineErrors:
    """Click's usage errors as one ``xent: …`` line (exit 2); Ctrl-C 130; bare ``xent``: help."""

    def main(self, args: Any = None, prog_name: Any = None, **extra: Any) -> Any:
        extra.pop("standalone_mode", None)
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)  # type: ignore[misc]
        except typer.Abort:
            sys.exit(int(ExitCode.INTERRUPTED))
        except Exception as error:
            message = getattr(error, "format_message", None)
            exit_code = getattr(error, "exit_code", None)
            if message is None or not isinstance(exit_code, int):
                raise
            if type(error).__name__ == "NoArgsIsHelpError":  # bare `xent`: help, not an error
                sys.stdout.write(message() + "\n")
                sys.exit(int(ExitCode.OK))
            context = getattr(error, "ctx", None)
            where = getattr(context, "command_path", None) or "xent"
            _say(f"{message().rstrip('.')} (see '{where} --help')")
            sys.exit(exit_code)
        sys.exit(code if isinstance(code, int) else 0)


class _Group(_OneLineErrors, TyperGroup):  # type: ignore[misc]
    """The ``xent`` group."""


class _Command(_OneLineErrors, TyperCommand):  # type: ignore[misc]
    """One ``xent`` command (built alone when it runs, see :func:`main`)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """``PREDICTIONS [LABELS]`` in the usage line, not Typer's ``{PREDICTIONS}``."""
        pieces: list[str] = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"xent {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="xent",
    cls=_Group,
    help="Pick the right cross-entropy for your model's outputs and labels; compute it exactly.",
    no_args_is_help=True,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """xent: which cross-entropy fits, and what number it gives."""


FormatOption = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        help="Output format; auto is a table on a terminal and CSV in a pipe.",
        case_sensitive=False,
    ),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="Hide the reason line, warnings and progress.")
]
NoColorOption = Annotated[
    bool,
    typer.Option(
        "--no-color",
        help="No colour (NO_COLOR, FORCE_COLOR and TERM=dumb are respected too).",
        callback=lambda value: _no_color(value),
    ),
]


def _no_color(value: bool) -> bool:
    if value:
        os.environ["NO_COLOR"] = "1"  # Rich reads it when each console is made
    return value


DebugOption = Annotated[
    bool, typer.Option("--debug", help="Show a traceback on errors.", hidden=True)
]


@app.command(cls=_Command)
def compute(
    predictions: Annotated[
        str,
        typer.Argument(
            help="Model outputs: CSV, TSV, .npy or .npz; - reads stdin.",
            show_default=False,
            metavar="PREDICTIONS",
        ),
    ],
    labels: Annotated[
        str | None,
        typer.Argument(
            help="Targets: class indices or names, one-hot/soft/multi-hot rows, or 0/1 (or [0,1]) "
            "for one output column; - reads stdin.",
            show_default=False,
            metavar="[LABELS]",
        ),
    ] = None,
    fmt: FormatOption = Format.auto,
    reduction: Annotated[
        Reduction,
        typer.Option(
            "--reduction",
            "-r",
            help="none: a loss per row; mean or sum: one number.",
            case_sensitive=False,
        ),
    ] = Reduction.none,
    outputs: Annotated[
        Outputs,
        typer.Option(help="What the predictions hold (auto: detect).", case_sensitive=False),
    ] = Outputs.auto,
    targets: Annotated[
        Targets, typer.Option(help="What the targets hold (auto: detect).", case_sensitive=False)
    ] = Targets.auto,
    task: Annotated[
        Task, typer.Option(help="The kind of problem (auto: detect).", case_sensitive=False)
    ] = Task.auto,
    loss: Annotated[
        LossName | None,
        typer.Option(
            help="Pick the row of the decision table outright.",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    epsilon: Annotated[
        float,
        typer.Option(
            help="Clip probabilities to [ε, 1−ε] before the log (Keras's 1e-7); 0 = exact."
        ),
    ] = 1e-7,
    key: Annotated[
        str | None,
        typer.Option(help="The array of a .npz PREDICTIONS file to read.", show_default=False),
    ] = None,
    label_key: Annotated[
        str | None,
        typer.Option(help="The array of a .npz LABELS file to read.", show_default=False),
    ] = None,
    label_column: Annotated[
        str | None,
        typer.Option(
            help="Take the labels from this column of PREDICTIONS (a header name, or a 0-based "
            "index; -1 is the last), instead of a LABELS file.",
            show_default=False,
        ),
    ] = None,
    label_smoothing: Annotated[
        float,
        typer.Option(
            help="y' = y(1−A) + A/K for classes (PyTorch, Keras; class indices too), "
            "y(1−A) + A/2 for binary columns (Keras).",
            rich_help_panel="Framework options",
        ),
    ] = 0.0,
    class_weights: Annotated[
        str | None,
        typer.Option(
            help="PyTorch's weight, e.g. 1,2,3: class indices give w_y·ℓ and a mean of "
            "Σ w_y·ℓ / Σ w_y; soft targets −Σ w_k·y_k·log p_k and a mean over rows; "
            "binary columns weight each column.",
            show_default=False,
            rich_help_panel="Framework options",
        ),
    ] = None,
    ignore_index: Annotated[
        int | None,
        typer.Option(
            help="Rows whose class index is I give 0 and leave the mean (PyTorch's ignore_index).",
            show_default=False,
            rich_help_panel="Framework options",
        ),
    ] = None,
    pos_weight: Annotated[
        str | None,
        typer.Option(
            help="Weight Q of positive targets, −[Q·y·log p + (1−y)·log(1−p)]: TF's "
            "weighted_cross_entropy_with_logits, PyTorch's pos_weight "
            "(one value or one per column).",
            show_default=False,
            rich_help_panel="Framework options",
        ),
    ] = None,
    base: Annotated[
        LogBase,
        typer.Option(
            help="Logarithm base: e (nats), 2 (bits), 10 (dits).",
            rich_help_panel="Framework options",
        ),
    ] = LogBase.e,
    focal_gamma: Annotated[
        float | None,
        typer.Option(
            help="Focal loss: multiply each term by (1 − p)^γ (p of the target; binary: "
            "p_t = y·p + (1−y)(1−p)), as Keras's *FocalCrossentropy and optax's "
            "sigmoid_focal_loss define it.",
            show_default=False,
            rich_help_panel="Framework options",
        ),
    ] = None,
    focal_alpha: Annotated[
        float | None,
        typer.Option(
            help="Focal α: binary terms × (α·y + (1−α)(1−y)); classes × α (Keras's default "
            "is 0.25 for CategoricalFocalCrossentropy; xent's is none).",
            show_default=False,
            rich_help_panel="Framework options",
        ),
    ] = None,
    like: Annotated[
        Like | None,
        typer.Option(
            help="Report the number that framework reports, with its clipping, renormalising "
            "and reductions.",
            show_default=False,
            rich_help_panel="Framework options",
        ),
    ] = None,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare",
            help="One table: what Keras, TF, PyTorch and scikit-learn report here, the exact "
            "value, and why each differs.",
            rich_help_panel="Framework options",
        ),
    ] = False,
    top: Annotated[
        int,
        typer.Option(
            "--top", help="Also list the K worst rows (in a pipe: only those, worst first).", min=0
        ),
    ] = 0,
    show_confusion: Annotated[
        bool,
        typer.Option(
            "--confusion",
            help="Confusion counts for hard targets (in a CSV pipe: instead of rows).",
        ),
    ] = False,
    no_color: NoColorOption = False,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Compute the cross-entropy of PREDICTIONS against LABELS, row by row.

    \b
    Examples:
      xent compute samples/scores.csv samples/labels.csv
      xent compute samples/scores.csv samples/labels.csv -r mean
      xent softmax samples/logits.csv | xent compute - samples/classes.csv -f json

    The loss is chosen from the decision table (see `xent explain`) and the reason is
    shown; override any part with --outputs, --targets, --task or --loss.
    """
    terminal = Terminal.current()

    def run() -> None:
        from .compute import Settings, load
        from .compute import compute as compute_result

        _check_stdin([predictions, labels], terminal)
        settings = Settings(
            outputs=outputs.value,
            targets=targets.value,
            task=task.value,
            loss=loss.value if loss is not None else None,
            epsilon=epsilon,
            key=key,
            label_key=label_key,
            label_column=label_column,
            label_smoothing=label_smoothing,
            class_weights=_numbers(class_weights, "--class-weights"),
            ignore_index=ignore_index,
            pos_weight=_numbers(pos_weight, "--pos-weight"),
            base=base.value,
            focal_gamma=focal_gamma,
            focal_alpha=focal_alpha,
            like=like.value if like is not None else "xent",
        )
        inputs = load(predictions, labels, settings, stdin=terminal.stdin, stream=not compare)
        if compare:
            from .compute import compare as compare_frameworks

            _emit_comparison(compare_frameworks(inputs, settings), fmt, terminal)
            return
        bare = (
            reduction is not Reduction.none
            and _format_for(fmt, terminal) in ("csv", "tsv")
            and not show_confusion
        )
        passes = 2 if inputs.stream is not None else 1
        with _Progress(inputs.n_rows * passes, terminal, quiet) as progress:
            result = compute_result(inputs, settings, detail=not bare, progress=progress)
        _emit(result, fmt, reduction, quiet, terminal, top=top, show_confusion=show_confusion)

    _guarded(debug, run)


KeyOption = Annotated[
    str | None, typer.Option(help="The array of a .npz file to read.", show_default=False)
]
ScoresArgument = Annotated[
    str,
    typer.Argument(
        help="Scores (logits): CSV, TSV, .npy or .npz; - or nothing reads stdin.",
        show_default=False,
        metavar="[SCORES]",
    ),
]


@app.command(cls=_Command)
def softmax(
    scores: ScoresArgument = "-",
    temperature: Annotated[
        float,
        typer.Option("--temperature", "-t", help="Softmax of z/T; T > 1 flattens, T < 1 sharpens."),
    ] = 1.0,
    log: Annotated[
        bool, typer.Option("--log", help="Log-softmax, z − logsumexp(z), exact for large |z|.")
    ] = False,
    argmax: Annotated[
        bool, typer.Option("--argmax", help="Print only the winning class of each row.")
    ] = False,
    fmt: FormatOption = Format.auto,
    key: KeyOption = None,
    no_color: NoColorOption = False,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Softmax of each row of SCORES: pₖ = e^(zₖ) / Σⱼ e^(zⱼ), with the argmax class.

    \b
    Examples:
      xent softmax samples/logits.csv
      xent softmax samples/logits.csv --temperature 2 --log
      xent softmax samples/logits.csv | xent compute - samples/classes.csv
    """
    terminal = Terminal.current()

    def run() -> None:
        from .transform import softmax_matrix

        _check_stdin([scores], terminal)
        matrix = softmax_matrix(scores, terminal.stdin, key=key, temperature=temperature, log=log)
        if argmax:
            _emit_argmax(matrix, fmt, terminal, log=log)
        else:
            _emit_matrix(matrix, fmt, terminal, quiet, bars=not log)

    _guarded(debug, run)


@app.command(cls=_Command)
def sigmoid(
    scores: ScoresArgument = "-",
    fmt: FormatOption = Format.auto,
    key: KeyOption = None,
    no_color: NoColorOption = False,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """σ(z) = 1 / (1 + e^(−z)) of every score: binary and multi-label probabilities.

    \b
    Examples:
      xent sigmoid samples/tags_logits.csv
      xent sigmoid samples/tags_logits.csv -f json
    """
    terminal = Terminal.current()

    def run() -> None:
        from .transform import sigmoid_matrix

        _check_stdin([scores], terminal)
        matrix = sigmoid_matrix(scores, terminal.stdin, key=key)
        _emit_matrix(matrix, fmt, terminal, quiet, bars=True)

    _guarded(debug, run)


@app.command(cls=_Command)
def explain(
    predictions: Annotated[
        str | None,
        typer.Argument(
            help="Model outputs to run the detection on (optional).",
            show_default=False,
            metavar="[PREDICTIONS]",
        ),
    ] = None,
    labels: Annotated[
        str | None,
        typer.Argument(help="Targets for PREDICTIONS.", show_default=False, metavar="[LABELS]"),
    ] = None,
    outcomes: Annotated[
        OutcomeCount | None,
        typer.Option(help="2 outcomes (one output column) or many classes.", show_default=False),
    ] = None,
    outputs: Annotated[
        Outputs | None,
        typer.Option(help="The predictions are probabilities or scores.", show_default=False),
    ] = None,
    targets: Annotated[
        Targets | None,
        typer.Option(help="The targets are hard (one class) or soft.", show_default=False),
    ] = None,
    multilabel: Annotated[
        bool, typer.Option("--multilabel", help="Several yes/no labels per row.")
    ] = False,
    fmt: FormatOption = Format.auto,
    key: KeyOption = None,
    label_key: Annotated[
        str | None, typer.Option(help="The array of a .npz LABELS file.", show_default=False)
    ] = None,
    label_column: Annotated[
        str | None,
        typer.Option(help="Take the labels from this column of PREDICTIONS.", show_default=False),
    ] = None,
    no_color: NoColorOption = False,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Explain the decision table: which loss fits, why, and a worked example.

    \b
    Examples:
      xent explain
      xent explain --outcomes many --outputs scores --targets soft
      xent explain samples/scores.csv samples/labels.csv
      xent explain --multilabel -f json | jq -r .loss

    With no arguments, the table itself; with --outcomes/--outputs/--targets/--multilabel,
    the matching row; with PREDICTIONS and LABELS, the detection on those files.
    """
    terminal = Terminal.current()

    def run() -> None:
        from . import explain as content
        from . import render_explain

        outputs_value = None if outputs in (None, Outputs.auto) else outputs.value
        targets_value = None if targets in (None, Targets.auto) else targets.value
        outcomes_value = None if outcomes is None else outcomes.value
        subject: content.Choice | content.DataExplanation | None = None
        if predictions is not None:
            from .compute import Settings, load
            from .compute import compute as compute_result

            _check_stdin([predictions, labels], terminal)
            task = (
                "multilabel"
                if multilabel
                else {"2": "binary", "many": "multiclass"}.get(outcomes_value or "", "auto")
            )
            settings = Settings(
                outputs=outputs_value or "auto",
                targets=targets_value or "auto",
                task=task,  # type: ignore[arg-type]
                key=key,
                label_key=label_key,
                label_column=label_column,
            )
            inputs = load(predictions, labels, settings, stdin=terminal.stdin)
            result = compute_result(inputs, settings)
            subject = content.explain_decision(
                result.decision, inputs.predictions, settings.epsilon
            )
        elif outcomes_value or outputs_value or targets_value or multilabel:
            subject = content.choose(
                outcomes=outcomes_value,  # type: ignore[arg-type]
                outputs=outputs_value,
                targets=targets_value,
                multilabel=multilabel,
            )
        chosen = _format_for(fmt, terminal)
        if chosen != "table":
            _write(terminal, render_explain.machine_text(subject, chosen))
            return
        console = _console(terminal)
        if isinstance(subject, content.Choice):
            render_explain.print_choice(console, subject)
        elif isinstance(subject, content.DataExplanation):
            render_explain.print_data(console, subject)
        else:
            render_explain.print_table(console)

    _guarded(debug, run)


def _format_for(fmt: Format, terminal: Terminal) -> str:
    """``auto`` is a table on a terminal and CSV in a pipe."""
    if fmt is Format.auto:
        return "table" if terminal.stdout_is_tty else "csv"
    chosen: str = fmt.value
    return chosen


def _write(terminal: Terminal, text: str) -> None:
    terminal.stdout.write(text)
    terminal.stdout.flush()


def _console(terminal: Terminal) -> Console:
    """A Rich console on stdout, made now so it sees the environment (NO_COLOR, COLUMNS).

    A closed pipe is left to :func:`_guarded` (quiet, exit 0, as for CSV): Rich's own
    handler would exit 1.
    """
    from rich.console import Console

    class _Stdout(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return _Stdout(file=terminal.stdout, highlight=False)


def _emit_matrix(
    matrix: Matrix, fmt: Format, terminal: Terminal, quiet: bool, *, bars: bool
) -> None:
    from . import render

    chosen = _format_for(fmt, terminal)
    if chosen == "table":
        console = _console(terminal)
        table = render.probability_table(
            matrix.values, matrix.names, bars=bars, winners=matrix.winners, width=console.width
        )
        console.print(table)
        return
    text, nulls = render.matrix_text(matrix.values, chosen, matrix.header)  # type: ignore[arg-type]
    if nulls and not quiet:
        _say("warning: −∞ values are written as null (JSON has no Infinity)")
    _write(terminal, text)


def _emit_argmax(matrix: Matrix, fmt: Format, terminal: Terminal, *, log: bool) -> None:
    from . import render

    assert matrix.winners is not None
    names = matrix.names
    classes = [names[int(w)] for w in matrix.winners]
    chosen = _format_for(fmt, terminal)
    if chosen != "table":
        text = render.labels_text(classes, chosen, numeric=matrix.header is None)  # type: ignore[arg-type]
        _write(terminal, text)
        return
    picked = matrix.values[range(len(classes)), matrix.winners]
    _console(terminal).print(render.argmax_table(classes, picked, log=log))


def _emit_comparison(rows: list[Comparison], fmt: Format, terminal: Terminal) -> None:
    from . import render

    chosen = _format_for(fmt, terminal)
    if chosen == "table":
        _console(terminal).print(render.comparison_table(rows))
        return
    _write(terminal, render.comparison_text(rows, chosen))  # type: ignore[arg-type]


def _emit(
    result: Result,
    fmt: Format,
    reduction: Reduction,
    quiet: bool,
    terminal: Terminal,
    *,
    top: int = 0,
    show_confusion: bool = False,
) -> None:
    from . import render

    chosen = _format_for(fmt, terminal)
    if not quiet:
        for warning in result.warnings:
            _say(f"warning: {warning}")
    if chosen == "table":
        if not quiet:
            _say(result.decision.reason)
        render.print_table(
            _console(terminal), result, reduction.value, top=top, show_confusion=show_confusion
        )
        return
    text = render.machine_text(
        result,
        chosen,  # type: ignore[arg-type]
        reduction.value,
        top=top,
        show_confusion=show_confusion,
    )
    _write(terminal, text)


def main() -> None:
    """Run ``xent``; ``xent COMMAND …`` builds only that command's parser.

    Typer converts every parameter of every command when it builds the group (about
    20 ms for xent's four commands); building just the one that runs keeps start-up
    close to numpy's own import. Help for the group and shell completion use the full app.
    """
    args = sys.argv[1:]
    names = {info.callback.__name__: info for info in app.registered_commands if info.callback}
    if args and args[0] in names and not any(k.endswith("_COMPLETE") for k in os.environ):
        single = typer.Typer(
            add_completion=False,
            pretty_exceptions_enable=False,
            rich_markup_mode=None,
            context_settings={"help_option_names": ["-h", "--help"]},
        )
        single.registered_commands.append(names[args[0]])
        typer.main.get_command(single).main(args[1:], prog_name=f"xent {args[0]}")
        return
    app(prog_name="xent")

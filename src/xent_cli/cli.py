"""The Typer app: parameters, help text, and the one place errors become exit codes.

This module imports no numpy or rich at module level: ``xent --help`` and ``--version``
stay fast, and the engine is loaded only when a command runs.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Annotated, Any, BinaryIO, Literal

import typer
from typer.core import TyperCommand, TyperGroup

from . import __version__
from .decision_table import LOSS_NAMES
from .errors import (
    ExitCode,
    UsageError,
    WorseError,
    XentError,
    is_write_failure,
    memory_failure,
    write_failure,
)
from .options import (
    DELIMITER_AUTO,
    Base,
    Engine,
    Format,
    Like,
    Outcomes,
    Outputs,
    Reduction,
    Targets,
    Task,
)
from .options import delimiter as delimiter_choice
from .terminal import Progress, Terminal

if TYPE_CHECKING:
    from .output import AtomicFile
    from .result import Result
    from .settings import Settings
    from .totals import Totals
    from .transform import Mapping
    from .writer import Report

    LossName = str
else:
    LossName = Literal[LOSS_NAMES]  # the choices of --loss: the decision table's rows


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


def _names(text: str | None) -> tuple[str, ...]:
    """``A,B,C`` (CSV: a name with a comma is quoted) → its names."""
    if text is None:
        return ()
    import csv

    return tuple(name.strip() for name in next(csv.reader([text])))


def _classes(text: str | None) -> tuple[str, ...] | None:
    """``--classes A,B,C`` → its names, two or more."""
    if text is None:
        return None
    names = _names(text)
    if len(names) < 2 or "" in names:
        raise UsageError(f"--classes takes two or more names separated by commas, not {text!r}")
    return names


def _settings(
    *,
    delimiter: str,
    classes: str | None,
    drop: str | None,
    epsilon: str = "auto",
    class_weights: str | None = None,
    pos_weight: str | None = None,
    **chosen: Any,
) -> Settings:
    """The run's settings from the options as typed: delimiters, lists and ε parsed, the
    rest as given."""
    from .settings import Settings

    return Settings(
        delimiter=delimiter_choice(delimiter),
        classes=_classes(classes),
        drop=_names(drop),
        epsilon=_epsilon(epsilon),
        class_weights=_numbers(class_weights, "--class-weights"),
        pos_weight=_numbers(pos_weight, "--pos-weight"),
        **chosen,
    )


@contextlib.contextmanager
def _engine(name: Engine, scheduler: str | None) -> Iterator[None]:
    """The passes over rows run on ``name`` within (``--engine``, ``--scheduler``)."""
    if name is Engine.local:
        if scheduler is not None:
            raise UsageError("--scheduler names a Dask scheduler: give --engine dask too")
        yield
        return
    from .cluster import dask_engine
    from .parallel import engine

    with dask_engine(scheduler) as chosen, engine(chosen):
        yield


def _settings_of(params: dict[str, Any]) -> Settings:
    """The run's settings from a command's parameters (its ``locals()``): those named as
    :class:`~xent_cli.settings.Settings` fields, parsed by :func:`_settings`."""
    from dataclasses import fields

    from .settings import Settings

    names = {field.name for field in fields(Settings)}
    return _settings(**{name: value for name, value in params.items() if name in names})


def _epsilon(text: str) -> float | None:
    """``--epsilon``: ``auto`` (None: decided from the dtype) or a number."""
    if text.lower() == "auto":
        return None
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"--epsilon takes a number or auto, not {text!r}") from None


def command(body: Callable[..., None]) -> Callable[..., None]:
    """A command's body run with its :class:`Terminal` in ``ctx.obj`` (built once: given by
    the caller, or the process's own; ``--no-color`` turns its colour off), and xent's
    errors, Ctrl-C and closed pipes turned into exit codes."""

    @functools.wraps(body)
    def run(**params: Any) -> None:
        context: typer.Context = params["ctx"]
        terminal = context.obj if isinstance(context.obj, Terminal) else Terminal.current()
        if params.get("no_color"):
            terminal = replace(terminal, color=False)
        context.obj = terminal
        try:
            body(**params)
        except XentError as error:
            if params.get("debug"):
                raise
            terminal.say(error.message)
            raise typer.Exit(int(error.exit_code)) from None
        except KeyboardInterrupt:
            from .parallel import stop

            stop()
            terminal.stderr.write("\n")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except MemoryError as error:
            if params.get("debug"):
                raise
            terminal.say(memory_failure(error))
            raise typer.Exit(int(ExitCode.OS_ERROR)) from None
        except BrokenPipeError:
            _quiet_closed_pipe(terminal.stdout)
            raise typer.Exit(int(ExitCode.OK)) from None
        except OSError as error:
            if params.get("debug") or not is_write_failure(error):
                raise
            terminal.say(write_failure(error))
            raise typer.Exit(int(ExitCode.OUTPUT)) from None

    return run


def _quiet_closed_pipe(stdout: IO[str]) -> None:
    """stdout's reader went away (``| head``): stop quietly, and let exit not flush into it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
    except (OSError, ValueError):
        pass


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
            Terminal.current().say(f"{message().rstrip('.')} (see '{where} --help')")
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
    ),
]


DebugOption = Annotated[
    bool, typer.Option("--debug", help="Show a traceback on errors.", hidden=True)
]

PredictionsArgument = Annotated[
    str,
    typer.Argument(
        help="Model outputs: CSV/TSV, .npy, .npz, .safetensors, Parquet, Arrow or "
        "NDJSON (text compressed too), a quoted glob or a directory of shards; - reads "
        "stdin.",
        show_default=False,
        metavar="PREDICTIONS",
    ),
]
LabelsArgument = Annotated[
    str | None,
    typer.Argument(
        help="Targets: class indices or names, one-hot/soft/multi-hot rows, or 0/1 (or [0,1]) "
        "for one output column; - reads stdin.",
        show_default=False,
        metavar="[LABELS]",
    ),
]
OutputsOption = Annotated[
    Outputs,
    typer.Option(help="What the predictions hold (auto: detect).", case_sensitive=False),
]
TargetsOption = Annotated[
    Targets, typer.Option(help="What the targets hold (auto: detect).", case_sensitive=False)
]
TaskOption = Annotated[
    Task, typer.Option(help="The kind of problem (auto: detect).", case_sensitive=False)
]
LossOption = Annotated[
    LossName | None,
    typer.Option(
        help="Pick the row of the decision table outright.",
        case_sensitive=False,
        show_default=False,
    ),
]
PredictionsKeyOption = Annotated[
    str | None,
    typer.Option(
        help="The array of a .npz or .safetensors PREDICTIONS file, or the list column "
        "of a table, to read.",
        show_default=False,
    ),
]
LabelKeyOption = Annotated[
    str | None,
    typer.Option(
        help="The array of a .npz or .safetensors LABELS file, or the column of a "
        "labels table, to read.",
        show_default=False,
    ),
]
LabelColumnOption = Annotated[
    str | None,
    typer.Option(
        help="Take the labels from this column of PREDICTIONS (a header name, or a 0-based "
        "index; -1 is the last), instead of a LABELS file.",
        show_default=False,
    ),
]
SampleWeightsOption = Annotated[
    str | None,
    typer.Option(
        help="A file of one weight ≥ 0 per row, scikit-learn's sample_weight: every mean is "
        "weighted, Σ w·x / Σ w (the loss's Σ w·ℓ / N under --like keras|tf); per-row losses "
        "are shown unweighted.",
        show_default=False,
        rich_help_panel="Framework options",
    ),
]
WeightColumnOption = Annotated[
    str | None,
    typer.Option(
        help="Take the sample weights from this column of PREDICTIONS instead.",
        show_default=False,
        rich_help_panel="Framework options",
    ),
]
IgnoreIndexOption = Annotated[
    int | None,
    typer.Option(
        help="Rows (positions) whose class index is I are left out: their loss is 0 and "
        "they count in no mean, accuracy or bin (PyTorch's ignore_index; Hugging Face pads "
        "labels with -100).",
        show_default=False,
        rich_help_panel="Framework options",
    ),
]
ClassAxisOption = Annotated[
    int | None,
    typer.Option(
        help="The classes' axis of predictions of rank ≥ 3: 1 for PyTorch's N×C×d1…; "
        "default the last (TensorFlow, Keras, JAX, Hugging Face logits).",
        show_default=False,
        rich_help_panel="Sequences",
    ),
]
ShiftOption = Annotated[
    bool,
    typer.Option(
        "--shift",
        help="Causal LM (Hugging Face's ForCausalLMLoss): the scores at position t "
        "against the label at t+1, i.e. logits[:, :-1] with labels[:, 1:].",
        rich_help_panel="Sequences",
    ),
]

EngineOption = Annotated[
    Engine,
    typer.Option(
        help="local: this machine's cores; dask: row blocks and shards as tasks on a Dask "
        "cluster (--scheduler, $DASK_SCHEDULER_ADDRESS, else a local cluster of 2 workers "
        "in this process), the same numbers bit for bit; needs pip install 'xent[dask]'.",
        case_sensitive=False,
        rich_help_panel="Engine",
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        help="The address of a running dask.distributed scheduler (tcp://host:8786); "
        "the workers must see the input files at the same paths.",
        show_default=False,
        rich_help_panel="Engine",
    ),
]
EpsilonOption = Annotated[
    str,
    typer.Option(
        help="Clip probabilities to [ε, 1−ε] before the log. auto: the machine epsilon "
        "of the predictions' dtype (2.2e-16 for float64 and text; scikit-learn's "
        "eps='auto'), or Keras's 1e-7 with --like keras|tf; 0 = exact (may be inf)."
    ),
]

LabelSmoothingOption = Annotated[
    float,
    typer.Option(
        help="y' = y(1−A) + A/K for classes (PyTorch, Keras; class indices too), "
        "y(1−A) + A/2 for binary columns (Keras).",
        rich_help_panel="Framework options",
    ),
]

ClassWeightsOption = Annotated[
    str | None,
    typer.Option(
        help="PyTorch's weight, e.g. 1,2,3: class indices give w_y·ℓ and a mean of "
        "Σ w_y·ℓ / Σ w_y; soft targets −Σ w_k·y_k·log p_k and a mean over rows; "
        "binary columns weight each column.",
        show_default=False,
        rich_help_panel="Framework options",
    ),
]

BaseOption = Annotated[
    Base,
    typer.Option(
        help="Logarithm base: e (nats), 2 (bits), 10 (dits).",
        rich_help_panel="Framework options",
    ),
]

LikeOption = Annotated[
    Like | None,
    typer.Option(
        help="Report the number that framework reports, with its clipping, renormalising "
        "and reductions. keras is Keras 3 on its TensorFlow backend "
        "(keras/src/backend/tensorflow/nn.py); on its JAX, NumPy and PyTorch backends the "
        "sparse loss divides by the sum before clipping, as the categorical one does.",
        show_default=False,
        rich_help_panel="Framework options",
    ),
]


@app.command(cls=_Command)
@command
def compute(
    ctx: typer.Context,
    predictions: PredictionsArgument,
    labels: LabelsArgument = None,
    fmt: FormatOption = Format.auto,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Also write the per-row losses (all rows, the columns of -f csv) to FILE, "
            "in the format its extension names: .csv, .tsv, .json, .jsonl, .npy (the losses, "
            "float64) or .parquet; whole or not at all. Standard output then shows the "
            "summary, as -r mean does (-r sum: the sum). - is standard output.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    reduction: Annotated[
        Reduction,
        typer.Option(
            "--reduction",
            "-r",
            help="none: a loss per row (per position of sequences); row: per row, the mean "
            "over its positions, their count and perplexity; mean or sum: one number.",
            case_sensitive=False,
        ),
    ] = Reduction.none,
    outputs: OutputsOption = Outputs.auto,
    targets: TargetsOption = Targets.auto,
    task: TaskOption = Task.auto,
    loss: LossOption = None,
    epsilon: EpsilonOption = "auto",
    key: PredictionsKeyOption = None,
    label_key: LabelKeyOption = None,
    label_column: LabelColumnOption = None,
    delimiter: DelimiterOption = DELIMITER_AUTO,
    classes: ClassesOption = None,
    drop: DropOption = None,
    sample_weights: SampleWeightsOption = None,
    weight_column: WeightColumnOption = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            help="A column of PREDICTIONS (a header name or a 0-based index) that names each "
            "row: kept as the column id, after row, in every per-row output.",
            show_default=False,
        ),
    ] = None,
    label_smoothing: LabelSmoothingOption = 0.0,
    class_weights: ClassWeightsOption = None,
    ignore_index: IgnoreIndexOption = None,
    class_axis: ClassAxisOption = None,
    shift: ShiftOption = False,
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
    base: BaseOption = Base.e,
    focal_gamma: Annotated[
        float | None,
        typer.Option(
            help="Focal loss: multiply each class term yₖ·log pₖ by (1 − pₖ)^γ (binary: by "
            "(1 − p_t)^γ, p_t = y·p + (1−y)(1−p)), as Keras's *FocalCrossentropy and optax's "
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
    like: LikeOption = None,
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
            "--top",
            help="Also list the K worst rows (of sequences: positions; in a pipe: only those, "
            "worst first).",
            min=0,
            rich_help_panel="Evaluation",
        ),
    ] = 0,
    show_confusion: Annotated[
        bool,
        typer.Option(
            "--confusion",
            help="Confusion counts for hard targets (in a CSV pipe: instead of rows). Up to "
            "1,000 classes the K×K matrix; with more, CSV/TSV list target,predicted,count for "
            "each pair that occurs, and JSON's confusion holds classes and pairs. On a "
            "terminal: the matrix up to 20 classes if it fits, else the 20 most frequent "
            "confusions.",
            rich_help_panel="Evaluation",
        ),
    ] = False,
    show_per_class: Annotated[
        bool,
        typer.Option(
            "--per-class",
            help="Per true class, for hard targets: its rows, mean loss (ML.NET's "
            "PerClassLogLoss), recall, precision and mean predicted probability. CSV/TSV "
            "print class,count,loss,recall,precision,mean_p instead of rows (empty: no "
            "value), JSONL a line per class, JSON the list per_class; a table on a terminal.",
            rich_help_panel="Evaluation",
        ),
    ] = False,
    accuracy_at: Annotated[
        int | None,
        typer.Option(
            "--accuracy-at",
            help="Add to the summary (JSON: accuracy_at_k, with k) the share of counted rows "
            "whose target is among the K highest-scored classes, a tie counting for the "
            "target (scikit-learn's top_k_accuracy_score).",
            min=1,
            metavar="K",
            show_default=False,
            rich_help_panel="Evaluation",
        ),
    ] = None,
    engine: EngineOption = Engine.local,
    scheduler: SchedulerOption = None,
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
      xent compute samples/scores.csv samples/labels.csv -f json --accuracy-at 2 --per-class

    The loss is chosen from the decision table (see `xent explain`) and the reason is
    shown; override any part with --outputs, --targets, --task or --loss.
    """
    terminal: Terminal = ctx.obj
    terminal.check_stdin([predictions, labels, sample_weights])
    if output is not None:
        if compare:
            raise UsageError("--compare prints one table, not a loss per row: -o does not apply")
        if output == "-" and reduction in (Reduction.mean, Reduction.sum):
            raise UsageError(
                f"-o - writes the rows to standard output, where -r {reduction.value} writes "
                "its number; give -o a file"
            )
    chosen = terminal.format_for(fmt)
    if show_confusion and show_per_class and chosen in (Format.csv, Format.tsv):
        raise UsageError(
            "--confusion and --per-class each print a table instead of the rows in "
            f"{chosen.value.upper()}: ask for one, or for both with -f json"
        )
    kind = None if output in (None, "-") else _output_format(output)
    from .inputs import load

    settings = _settings_of(locals())
    with contextlib.ExitStack() as stack:
        named = (predictions, labels, sample_weights)
        sink = None if kind is None else stack.enter_context(_atomic_file(output or "", named))
        stack.enter_context(_engine(engine, scheduler))
        bare = (  # a number is all that is printed
            reduction in (Reduction.mean, Reduction.sum)
            and chosen in (Format.csv, Format.tsv)
            and not show_confusion
            and not show_per_class
            and sink is None
        )
        inputs = load(
            predictions,
            labels,
            settings,
            stdin=terminal.stdin,
            stream=not compare,
            bounded=not compare,
        )
        if compare:
            from .compare import compare as compare_frameworks
            from .render.compare import ComparisonReport

            _emit(ComparisonReport(compare_frameworks(inputs, settings)), fmt, terminal)
            return
        from .render.compute import ComputeReport, summary_printed

        # with -o FILE the rows go to the file, and standard output shows the summary
        listing = reduction in (Reduction.none, Reduction.row)
        shown = Reduction.mean if sink is not None and listing else reduction
        # the figures only where printed: standard output's summary, or -o FILE.json
        evaluate = summary_printed(chosen, shown) or kind == "json"
        passes = 2 if inputs.stream is not None else 1
        # a terminal's histogram of the losses of positions in blocks: a pass of its own
        spread = inputs.label_blocks is not None and chosen is Format.table and not bare
        passes += spread + bool(inputs.label_blocks is not None and top)
        result: Result | Totals
        with Progress(inputs.n_rows * passes, terminal, quiet) as progress:
            if inputs.label_blocks is not None:  # labels in blocks: memory a block's
                from .totals import Asked, totals

                asked = Asked(
                    detail=not bare,
                    figures=evaluate and not bare,
                    k=accuracy_at,
                    spread=spread,
                    top=top,
                    confusion=show_confusion,
                    per_class=show_per_class,
                )
                result = totals(inputs, settings, progress, asked)
            else:
                from .compute import compute as compute_result

                result = compute_result(
                    inputs, settings, detail=not bare, progress=progress, evaluate=evaluate
                )
        listed = reduction if reduction is Reduction.row else Reduction.none
        written = ComputeReport(result, listed)  # -r row: each row's mean, else every entry
        if sink is not None and kind is not None:
            from .output import write

            write(written, kind, sink)
    report = ComputeReport(
        result,
        shown,
        top,
        show_confusion,
        show_per_class=show_per_class,
        accuracy_at=accuracy_at,
    )
    _emit(report, fmt, terminal, quiet)
    if sink is not None:  # the rows are in the file: standard output showed the summary
        _wrote(terminal, quiet, written.listing_size(), sink.path)


KeyOption = Annotated[
    str | None, typer.Option(help="The array of a .npz file to read.", show_default=False)
]
DropOption = Annotated[
    str | None,
    typer.Option(
        help="Columns of PREDICTIONS that are not predictions: header names or 0-based "
        "indices, separated by commas.",
        show_default=False,
    ),
]
ClassesOption = Annotated[
    str | None,
    typer.Option(
        help="Names of the classes of predictions without a header, in column order (one "
        "column: negative,positive); labels may be those names, or numbers such as 1,2 "
        "(scikit-learn's labels=).",
        show_default=False,
    ),
]
DelimiterOption = Annotated[
    str,
    typer.Option(
        "--delimiter",
        "-d",
        help="Of text inputs: one character, tab, space (runs of blanks), or auto: ',', "
        "tab, ';' or blanks, from the first lines.",
    ),
]
MatrixOutputOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="Write the matrix (or --argmax's classes) to FILE instead of standard output, "
        "in the format its extension names: .csv, .tsv, .json, .jsonl, .npy (float64) or "
        ".parquet; whole or not at all. - is standard output.",
        metavar="FILE",
        show_default=False,
    ),
]
ScoresArgument = Annotated[
    str,
    typer.Argument(
        help="Scores (logits): CSV/TSV, .npy, .npz, .safetensors, Parquet, Arrow or NDJSON, "
        "or a glob or directory of shards; - or nothing reads stdin.",
        show_default=False,
        metavar="[SCORES]",
    ),
]


@app.command(cls=_Command)
@command
def softmax(
    ctx: typer.Context,
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
    output: MatrixOutputOption = None,
    key: KeyOption = None,
    delimiter: DelimiterOption = DELIMITER_AUTO,
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
    terminal: Terminal = ctx.obj
    terminal.check_stdin([scores])
    from .transform import Mapping

    _map_rows(
        terminal,
        scores,
        Mapping("softmax", temperature=temperature, log=log),
        argmax=argmax,
        fmt=fmt,
        output=output,
        key=key,
        delimiter=delimiter_choice(delimiter),
        quiet=quiet,
    )


@app.command(cls=_Command)
@command
def sigmoid(
    ctx: typer.Context,
    scores: ScoresArgument = "-",
    fmt: FormatOption = Format.auto,
    output: MatrixOutputOption = None,
    key: KeyOption = None,
    delimiter: DelimiterOption = DELIMITER_AUTO,
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
    terminal: Terminal = ctx.obj
    terminal.check_stdin([scores])
    from .transform import Mapping

    _map_rows(
        terminal,
        scores,
        Mapping("sigmoid"),
        fmt=fmt,
        output=output,
        key=key,
        delimiter=delimiter_choice(delimiter),
        quiet=quiet,
    )


def _map_rows(
    terminal: Terminal,
    scores: str,
    mapping: Mapping,
    *,
    fmt: Format,
    output: str | None,
    key: str | None,
    delimiter: str,
    quiet: bool,
    argmax: bool = False,
) -> None:
    """``softmax``/``sigmoid``: the mapped rows streamed to standard output (a large
    ``.npy`` is checked whole first, so an error leaves nothing partial there), or to
    ``-o FILE`` (one pass; the file appears whole or not at all)."""
    from .render.matrix import ArgmaxReport, MatrixReport
    from .transform import Transformed, open_scores

    def report_for(matrix: Transformed, progress: Progress | None) -> MatrixReport | ArgmaxReport:
        if argmax:
            return ArgmaxReport(matrix, mapping.log, progress)
        return MatrixReport(matrix, not mapping.log, progress)

    def opened() -> Transformed:
        found = open_scores(
            scores,
            terminal.stdin,
            key=key,
            delimiter=delimiter,
            masked_rows=mapping.kind == "sigmoid",  # σ(−∞) = 0; a softmax needs one score
        )
        return Transformed(found, mapping)

    if output is None or output == "-":
        matrix = opened()
        passes = 2 if matrix.scores.streamed else 1
        with Progress(matrix.n_rows * passes, terminal, quiet) as progress:
            matrix.scores.check(progress)
            _emit(report_for(matrix, progress), fmt, terminal, quiet)
        return
    from .output import write
    from .writer import late_messages

    kind = _output_format(output)
    with _atomic_file(output, [scores]) as sink:
        matrix = opened()
        with Progress(matrix.n_rows, terminal, quiet) as progress:
            report = report_for(matrix, progress)
            write(report, kind, sink, progress)
    if not quiet and kind not in ("npy", "parquet"):
        for message in late_messages(report, Format(kind)):
            terminal.say(message)
    shape = f"{matrix.n_rows:,} rows" if argmax else f"{matrix.n_rows:,}×{matrix.n_columns:,}"
    _wrote(terminal, quiet, shape, output)


def _output_format(path: str) -> str:
    """The format ``-o path`` names (a directory is said to be one, whatever its name)."""
    from .output import OutputError, output_format

    if os.path.isdir(path):
        raise OutputError(f"cannot write {path}: it is a directory")
    return output_format(path)


def _atomic_file(path: str, inputs: Sequence[str | None] = ()) -> AtomicFile:
    """FILE of ``-o``, written whole or not at all; one of the command's ``inputs`` is
    refused (it would be replaced by what was read from it)."""
    from .output import AtomicFile

    for given in inputs:
        if given and given != "-" and os.path.isfile(given) and os.path.exists(path):
            if os.path.samefile(given, path):
                raise UsageError(f"-o {path} is an input of this command: write another file")
    return AtomicFile(path)


def _wrote(terminal: Terminal, quiet: bool, what: str, path: str) -> None:
    """One line on a terminal's stderr (never in a pipe or a log) saying where rows went."""
    if terminal.stderr_is_tty and not quiet:
        terminal.say(f"wrote {what} to {path}")


@app.command(cls=_Command)
@command
def explain(
    ctx: typer.Context,
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
        Outcomes | None,
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
    delimiter: DelimiterOption = DELIMITER_AUTO,
    label_key: Annotated[
        str | None, typer.Option(help="The array of a .npz LABELS file.", show_default=False)
    ] = None,
    label_column: Annotated[
        str | None,
        typer.Option(help="Take the labels from this column of PREDICTIONS.", show_default=False),
    ] = None,
    ignore_index: IgnoreIndexOption = None,
    class_axis: ClassAxisOption = None,
    shift: ShiftOption = False,
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
    terminal: Terminal = ctx.obj
    from . import explain as content
    from .render.explain import ExplainReport

    outputs_given = None if outputs in (None, Outputs.auto) else outputs
    targets_given = None if targets in (None, Targets.auto) else targets
    subject: content.Choice | content.DataExplanation | None = None
    if predictions is not None:
        terminal.check_stdin([predictions, labels])
        from .compute import compute as compute_result
        from .inputs import load

        task = Task.multilabel if multilabel else Task.auto
        if outcomes is not None and not multilabel:
            task = Task.binary if outcomes is Outcomes.two else Task.multiclass
        settings = _settings(
            outputs=outputs_given or Outputs.auto,
            targets=targets_given or Targets.auto,
            task=task,
            key=key,
            label_key=label_key,
            label_column=label_column,
            delimiter=delimiter,
            classes=None,
            drop=None,
            ignore_index=ignore_index,
            class_axis=class_axis,
            shift=shift,
        )
        inputs = load(predictions, labels, settings, stdin=terminal.stdin)
        result = compute_result(inputs, settings)
        used = result.settings.clipping if result.settings is not None else 0.0
        subject = content.explain_decision(result.decision, inputs.predictions, used)
    elif outcomes or outputs_given or targets_given or multilabel:
        subject = content.choose(
            outcomes=outcomes, outputs=outputs_given, targets=targets_given, multilabel=multilabel
        )
    _emit(ExplainReport(subject), fmt, terminal, quiet)


Strategy = Literal["uniform", "quantile"]  # evaluation.STRATEGIES (numpy-free here)


@app.command(cls=_Command)
@command
def calibration(
    ctx: typer.Context,
    predictions: PredictionsArgument,
    labels: LabelsArgument = None,
    bins: Annotated[
        int,
        typer.Option(
            "--bins",
            help="How many bins of confidence (torchmetrics' n_bins, scikit-learn's n_bins), "
            "1 to 1,000,000.",
            min=1,
            max=1_000_000,
            metavar="B",
        ),
    ] = 15,
    strategy: Annotated[
        Strategy,
        typer.Option(
            help="uniform: bins of equal width over [0, 1]; quantile: of equal count, edges at "
            "the confidences' quantiles (scikit-learn's calibration_curve strategy).",
            case_sensitive=False,
        ),
    ] = "uniform",
    fmt: FormatOption = Format.auto,
    outputs: OutputsOption = Outputs.auto,
    targets: TargetsOption = Targets.auto,
    task: TaskOption = Task.auto,
    loss: LossOption = None,
    key: PredictionsKeyOption = None,
    label_key: LabelKeyOption = None,
    label_column: LabelColumnOption = None,
    delimiter: DelimiterOption = DELIMITER_AUTO,
    classes: ClassesOption = None,
    drop: DropOption = None,
    sample_weights: SampleWeightsOption = None,
    weight_column: WeightColumnOption = None,
    ignore_index: IgnoreIndexOption = None,
    class_axis: ClassAxisOption = None,
    shift: ShiftOption = False,
    engine: EngineOption = Engine.local,
    scheduler: SchedulerOption = None,
    no_color: NoColorOption = False,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Calibration of PREDICTIONS against LABELS: reliability bins, ECE, MCE and RMSCE.

    \b
    Examples:
      xent calibration samples/calibration_probs.csv samples/calibration_labels.csv
      xent calibration samples/scores.csv samples/labels.csv --bins 10 -f json
      xent calibration samples/scores.csv samples/labels.csv --strategy quantile --bins 2

    Confidence is each row's top-label probability (one output column: p, against y); a
    row falls in the bin (e_k-1, e_k], a confidence of exactly 1 in the last. Per
    non-empty bin: bin,lower,upper,count,confidence,accuracy,gap (gap = accuracy −
    confidence; negative: over-confident).
    """
    terminal: Terminal = ctx.obj
    terminal.check_stdin([predictions, labels, sample_weights])
    from .compute import compute as compute_result
    from .inputs import load
    from .render.calibration import CalibrationReport

    settings = _settings_of(locals())
    with _engine(engine, scheduler):
        inputs = load(predictions, labels, settings, stdin=terminal.stdin, stream=True)
        passes = 2 if inputs.stream is not None else 1
        with Progress(inputs.n_rows * passes, terminal, quiet) as progress:
            result = compute_result(inputs, settings, progress=progress, evaluate=True)
    _emit(CalibrationReport.of(result, bins, strategy), fmt, terminal, quiet)


@app.command(cls=_Command)
@command
def diff(
    ctx: typer.Context,
    first: Annotated[
        str,
        typer.Argument(
            help="Model A's predictions (the old run): any format compute reads.",
            show_default=False,
            metavar="A",
        ),
    ],
    second: Annotated[
        str,
        typer.Argument(
            help="Model B's predictions (the new run), for the same rows.",
            show_default=False,
            metavar="B",
        ),
    ],
    labels: LabelsArgument = None,
    fmt: FormatOption = Format.auto,
    resamples: Annotated[
        int,
        typer.Option(help="Bootstrap resamples of the rows.", min=1, rich_help_panel="Statistics"),
    ] = 10_000,
    confidence: Annotated[
        float,
        typer.Option(
            help="The interval's confidence level, in (0, 1).",
            rich_help_panel="Statistics",
        ),
    ] = 0.95,
    seed: Annotated[
        int,
        typer.Option(
            help="The resampling's seed: the same seed gives the same interval.",
            min=0,
            rich_help_panel="Statistics",
        ),
    ] = 0,
    top: Annotated[
        int,
        typer.Option(
            "--top",
            help="Also list the K rows most improved and the K most worsened (in a pipe: "
            "only those).",
            min=0,
        ),
    ] = 0,
    fail_if_worse: Annotated[
        bool,
        typer.Option(
            "--fail-if-worse",
            help="Exit 1 when B is worse beyond the interval (its low end above 0): a CI gate.",
        ),
    ] = False,
    outputs: OutputsOption = Outputs.auto,
    targets: TargetsOption = Targets.auto,
    task: TaskOption = Task.auto,
    loss: LossOption = None,
    epsilon: EpsilonOption = "auto",
    key: PredictionsKeyOption = None,
    label_key: LabelKeyOption = None,
    label_column: LabelColumnOption = None,
    delimiter: DelimiterOption = DELIMITER_AUTO,
    classes: ClassesOption = None,
    drop: DropOption = None,
    sample_weights: SampleWeightsOption = None,
    weight_column: WeightColumnOption = None,
    ignore_index: IgnoreIndexOption = None,
    class_axis: ClassAxisOption = None,
    shift: ShiftOption = False,
    label_smoothing: LabelSmoothingOption = 0.0,
    class_weights: ClassWeightsOption = None,
    base: BaseOption = Base.e,
    like: LikeOption = None,
    engine: EngineOption = Engine.local,
    scheduler: SchedulerOption = None,
    no_color: NoColorOption = False,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Is model B better than model A on the same rows? Paired Δloss, bootstrap CI, McNemar.

    \b
    Examples:
      xent diff samples/scores.csv samples/scores_b.csv samples/labels.csv
      xent diff samples/scores.csv samples/scores_b.csv samples/labels.csv -f json
      xent diff samples/scores.csv samples/scores_b.csv samples/labels.csv --fail-if-worse

    Both are read, decided and computed as compute does, with the same labels and options;
    per row: row,loss_a,loss_b,delta (delta = loss_b − loss_a: negative, B better), then
    predicted_a,predicted_b,target for hard targets. The summary's interval is a paired
    bootstrap of the mean delta (percentile method).
    """
    terminal: Terminal = ctx.obj
    if not 0 < confidence < 1:
        raise UsageError(f"--confidence is a level in (0, 1), such as 0.95, not {confidence}")
    terminal.check_stdin([first, second, labels, sample_weights])
    from .compute import compute as compute_result
    from .diff import Diff, Resampling, check_comparable
    from .inputs import load
    from .render.diff import DiffReport

    settings = _settings_of(locals())
    labels, stdin = _read_once(labels, terminal.stdin)
    with _engine(engine, scheduler):
        both = [
            load(path, labels, settings, stdin=stdin(), stream=True) for path in (first, second)
        ]
        check_comparable(*both)
        passes = sum(2 if inputs.stream is not None else 1 for inputs in both)
        with Progress(both[0].n_rows * passes, terminal, quiet) as progress:
            results = [compute_result(inputs, settings, progress=progress) for inputs in both]
    found = Diff(results[0], results[1], Resampling(resamples, confidence, seed))
    with Progress(resamples, terminal, quiet) as progress:
        found.resample(progress)  # 10⁴ resamples of 10⁶ rows take seconds: shown
    _emit(DiffReport(found, (first, second), top), fmt, terminal, quiet)
    if fail_if_worse and found.worse_beyond_noise:
        low, high = found.interval
        unit = found.a.unit
        raise WorseError(
            f"B is worse: its mean loss is {found.mean_delta:.6g} {unit} a row above A's, "
            f"{confidence:.0%} CI [{low:.6g}, {high:.6g}] all above 0"
        )


def _read_once(
    labels: str | None, stdin: BinaryIO | None
) -> tuple[str | None, Callable[[], BinaryIO | None]]:
    """LABELS that ``diff`` reads twice (once for each model): standard input or a pipe
    (``<(…)``, ``/dev/stdin``) is read once here, and each read gets its bytes anew."""
    import io

    if labels is None or (labels != "-" and os.path.isfile(labels)):
        return labels, lambda: stdin
    if labels == "-":
        data = stdin.read() if stdin is not None else b""
    else:
        try:
            with open(labels, "rb") as handle:
                data = handle.read()
        except OSError:
            return labels, lambda: stdin  # the reader names the problem
    return "-", lambda: io.BytesIO(data)


def _emit(report: Report, fmt: Format, terminal: Terminal, quiet: bool = False) -> None:
    from .writer import emit

    emit(report, fmt, terminal, quiet=quiet)


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

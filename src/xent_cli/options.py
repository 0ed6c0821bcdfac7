"""What a user can choose, named once: formats, reductions, detection overrides, frameworks.

numpy-free, so the CLI offers these choices at start-up; the engine takes the same enums
(each is a ``str``, so ``Format.csv == "csv"``). :class:`Settings` holds one run's choices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from .errors import UsageError

DEFAULT_EPSILON = 1e-7  # xent's clipping of probabilities (Keras's backend epsilon())


class Format(str, Enum):
    """Output formats; ``auto`` is a table on a terminal and CSV in a pipe."""

    auto = "auto"
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"
    jsonl = "jsonl"


class Reduction(str, Enum):
    """``none``: a loss per row; ``mean`` or ``sum``: one number."""

    none = "none"
    mean = "mean"
    sum = "sum"


class Outputs(str, Enum):
    """What the predictions hold."""

    auto = "auto"
    scores = "scores"
    probs = "probs"


class Targets(str, Enum):
    """What the targets hold."""

    auto = "auto"
    hard = "hard"
    soft = "soft"


class Task(str, Enum):
    """The kind of problem."""

    auto = "auto"
    binary = "binary"
    multiclass = "multiclass"
    multilabel = "multilabel"


class Outcomes(str, Enum):
    """``xent explain --outcomes``: one output column (2 outcomes) or K classes."""

    two = "2"
    many = "many"


class Base(str, Enum):
    """The logarithm's base, and the unit of a loss in it.

    >>> Base("2").unit, round(Base.ten.log_e, 6)
    ('bits', 2.302585)
    """

    e = "e"
    two = "2"
    ten = "10"

    @property
    def unit(self) -> str:
        return {"e": "nats", "2": "bits", "10": "dits"}[self.value]

    @property
    def log_e(self) -> float:
        """ln of the base: a loss in nats divided by this is a loss in this base."""
        return 1.0 if self is Base.e else math.log(float(self.value))


class Like(str, Enum):
    """A framework whose number ``--like`` reports (``None``: xent's own)."""

    keras = "keras"
    tf = "tf"
    torch = "torch"
    sklearn = "sklearn"


def choice(kind: type[Enum], value: object, option: str) -> Enum:
    """``value`` as a member of ``kind``; a name it does not have is a usage error.

    >>> choice(Reduction, "mean", "reduction") is Reduction.mean
    True
    """
    try:
        return kind(value)
    except ValueError:
        names = ", ".join(str(member.value) for member in kind)
        raise UsageError(f"{option} must be one of {names}, not {value!r}") from None


@dataclass
class Settings:
    """What the user chose for one run; ``auto`` leaves it to detection."""

    outputs: Outputs = Outputs.auto
    targets: Targets = Targets.auto
    task: Task = Task.auto
    loss: str | None = None
    epsilon: float = DEFAULT_EPSILON
    key: str | None = None
    label_key: str | None = None
    label_column: str | None = None
    label_smoothing: float = 0.0
    class_weights: tuple[float, ...] | None = None
    ignore_index: int | None = None
    pos_weight: tuple[float, ...] | None = None
    base: Base = Base.e
    focal_gamma: float | None = None
    focal_alpha: float | None = None
    like: Like | None = None

    @property
    def plain(self) -> bool:
        """No option that changes the kernel: the table's fast kernels apply."""
        return (
            self.label_smoothing == 0
            and self.class_weights is None
            and self.pos_weight is None
            and self.focal_gamma is None
            and self.like is None
        )

    def check(self) -> None:
        """Option values that are out of range are usage errors (exit 2)."""
        if not 0.0 <= self.epsilon < 0.5:
            raise UsageError(f"--epsilon must be in [0, 0.5), not {self.epsilon}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise UsageError(f"--label-smoothing must be in [0, 1), not {self.label_smoothing}")
        for name, values in (
            ("--class-weights", self.class_weights),
            ("--pos-weight", self.pos_weight),
        ):
            if values is not None and not all(math.isfinite(v) and v >= 0 for v in values):
                raise UsageError(f"{name} must be finite and ≥ 0")
        if self.focal_gamma is not None and not (
            math.isfinite(self.focal_gamma) and self.focal_gamma >= 0
        ):
            raise UsageError(f"--focal-gamma must be ≥ 0, not {self.focal_gamma}")
        if self.focal_alpha is not None:
            if self.focal_gamma is None:
                raise UsageError("--focal-alpha needs --focal-gamma")
            if not 0.0 <= self.focal_alpha <= 1.0:
                raise UsageError(f"--focal-alpha must be in [0, 1], not {self.focal_alpha}")

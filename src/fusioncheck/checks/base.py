"""Check plug-ins: the base class, findings and per-class tallies, and the registry.

A check looks at one sequence (through a :class:`SequenceContext`) and returns a :class:`CheckOutput`:
findings (one per suspicious object or stream) and, per class, how many boxes it evaluated and how
many it flagged, so that the report can give rates that distinguish "not flagged" from "not seen".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from fusioncheck.context import SequenceContext


class Severity(StrEnum):
    """How bad a finding is."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One suspected problem, as written to ``report.json`` (see the report schema).

    Attributes:
        check: finding type, e.g. ``undersized_box`` (DESIGN.md lists the names).
        severity: error, warning or info.
        sequence: sequence name.
        score: 0..1, higher = more certain it is a problem.
        message: one human-readable sentence.
        annotation: the box's source token, if the finding is about a box.
        instance: the box's track id, if any.
        sensor: the sensor channel whose data is the evidence, if any.
        timestamp_us: time of the evidence, microseconds.
        category: the object class, if any.
        position_m: ``(x, y, z)`` metres, global frame, if any.
        values: the measured values behind the finding (JSON-serialisable scalars).
    """

    check: str
    severity: Severity
    sequence: str
    score: float
    message: str
    annotation: str | None = None
    instance: str | None = None
    sensor: str | None = None
    timestamp_us: int | None = None
    category: str | None = None
    position_m: tuple[float, float, float] | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"finding score must lie in 0..1, got {self.score}")


@dataclass
class ClassTally:
    """Per class and finding type: boxes evaluated and boxes flagged."""

    evaluated: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)

    def add(self, check: str, evaluated: int, flagged: int) -> None:
        """Count ``evaluated`` boxes of which ``flagged`` were flagged by ``check``."""
        self.evaluated[check] = self.evaluated.get(check, 0) + evaluated
        self.flagged[check] = self.flagged.get(check, 0) + flagged

    def merge(self, other: ClassTally) -> None:
        """Add another tally into this one."""
        for check, n in other.evaluated.items():
            self.add(check, n, other.flagged.get(check, 0))


@dataclass
class CheckOutput:
    """What one check returns for one sequence.

    Attributes:
        findings: the findings.
        tallies: class -> evaluated/flagged counts per finding type.
        notes: what the check could not see and why (e.g. "no LiDAR channel"): never skip silently.
        statistics: check-specific summary values for the report (JSON-serialisable); written to
            ``sequences[].statistics.<check name>``.
        sections: per-sequence report tables the check fills, by table name: ``"sync"`` and
            ``"calibration"`` (DESIGN.md's ``sequences[].sync[]`` / ``calibration[]`` rows) or a new
            table (``sequences[].<name>[]``, declared in the report schema). Rows of several checks
            that fill the same table are concatenated.
        class_samples: class -> sample name -> list of JSON-serialisable items that a run-level
            statistic needs from every sequence (e.g. per-track size residuals for a bootstrap over
            tracks). The runner concatenates them over sequences; a registered class-level reducer
            (:func:`register_class_reducer`) turns them into ``classes.<name>.<field>``.
    """

    findings: list[Finding] = field(default_factory=list)
    tallies: dict[str, ClassTally] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    statistics: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    class_samples: dict[str, dict[str, list[Any]]] = field(default_factory=dict)

    def tally(self, category: str, check: str, evaluated: int, flagged: int) -> None:
        """Count boxes of ``category`` evaluated/flagged by ``check``."""
        self.tallies.setdefault(category, ClassTally()).add(check, evaluated, flagged)


class Check(ABC):
    """A check plug-in. Subclasses set ``name`` and ``finding_types`` and implement :meth:`run`.

    Checks read sensor data only through the context (which reads through the data source), and never
    write files.
    """

    #: Registry name (used in policies and ``--checks``).
    name: ClassVar[str]
    #: Finding types this check can emit.
    finding_types: ClassVar[tuple[str, ...]]
    #: Tunable parameters and their defaults; a policy may override any of them (and nothing else).
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **parameters: Any) -> None:
        unknown = sorted(set(parameters) - set(self.defaults))
        if unknown:
            from fusioncheck.errors import PolicyError

            raise PolicyError(
                f"check {self.name}: unknown parameter(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(self.defaults)) or 'none'}"
            )
        self.parameters: dict[str, Any] = {**self.defaults, **parameters}

    @abstractmethod
    def run(self, context: SequenceContext) -> CheckOutput:
        """Check one sequence."""

    def plot(self, context: SequenceContext, output: CheckOutput, out_dir: Path) -> list[Path]:
        """Write this check's diagnostic plots of one sequence into ``out_dir``; return their paths.

        Called by the pipeline only when plots are asked for, after :meth:`run`. The default draws
        nothing. Implementations delegate the drawing to a module of :mod:`fusioncheck.plots` (only
        report and plot modules write files).
        """
        return []


_REGISTRY: dict[str, type[Check]] = {}

C = TypeVar("C", bound=type[Check])


def register(cls: C) -> C:
    """Class decorator adding a check to the registry under its ``name``."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"two checks registered under the name {cls.name!r}")
    _REGISTRY[cls.name] = cls
    return cls


_CLASS_REDUCERS: dict[str, Callable[[dict[str, list[Any]]], Any]] = {}


def register_class_reducer(field_name: str, reducer: Callable[[dict[str, list[Any]]], Any]) -> None:
    """Register how ``classes.<name>.<field_name>`` of report.json is computed from merged samples.

    ``reducer`` receives, for one class, sample name -> items concatenated over every sequence of the
    run (see :attr:`CheckOutput.class_samples`) and returns a JSON-serialisable value.
    """
    if field_name in _CLASS_REDUCERS and _CLASS_REDUCERS[field_name] is not reducer:
        raise ValueError(f"two class reducers registered for the field {field_name!r}")
    _CLASS_REDUCERS[field_name] = reducer


def class_reducers() -> dict[str, Callable[[dict[str, list[Any]]], Any]]:
    """Report field -> reducer of every registered class-level statistic (built-in checks imported)."""
    import fusioncheck.checks.builtin  # noqa: F401  (registers the built-in checks and reducers)

    return dict(_CLASS_REDUCERS)


def registered_checks() -> dict[str, type[Check]]:
    """Name -> check class of every registered check (importing the built-in checks first)."""
    import fusioncheck.checks.builtin  # noqa: F401  (registers the built-in checks)

    return dict(_REGISTRY)

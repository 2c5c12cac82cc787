"""One pure function checks one sequence: ``check_sequence(source, name, policy) -> SequenceResult``.

The runner maps it over sequences (serially, in a process pool, or as Ray tasks) and merges the results.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fusioncheck.checks.base import ClassTally, Finding, registered_checks
from fusioncheck.context import SequenceContext
from fusioncheck.errors import FusioncheckError
from fusioncheck.loaders.base import DataSource
from fusioncheck.policy import Policy


@dataclass
class SequenceResult:
    """Everything the checks found in one sequence.

    Attributes:
        name: sequence name.
        dataroot: the input it came from.
        frames: number of keyframes.
        annotations: number of boxes.
        class_counts: class -> number of boxes.
        findings: all findings, ordered by check then score (highest first).
        tallies: class -> evaluated/flagged counts per finding type.
        notes: what could not be checked and why.
        statistics: check name -> its summary values.
        sections: report table name -> rows (``sync``, ``calibration``, ...; see ``CheckOutput``).
        class_samples: class -> sample name -> items, for run-level class statistics.
        plots: paths of the diagnostic plots written for this sequence (when plots were asked for).
        error: set when the sequence could not be checked (the message names file and record).
        seconds: wall time spent.
    """

    name: str
    dataroot: str
    frames: int = 0
    annotations: int = 0
    class_counts: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    tallies: dict[str, ClassTally] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    statistics: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    class_samples: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    plots: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


def check_sequence(
    source: DataSource, name: str, policy: Policy, plot_dir: Path | None = None
) -> SequenceResult:
    """Run every check the policy enables on one sequence.

    When ``plot_dir`` is given, each check then draws its plots into ``plot_dir/<sequence name>/``.

    Bad input (any :class:`FusioncheckError`) is caught and returned as ``SequenceResult.error`` so a
    batch run goes on; programming errors propagate.
    """
    start = time.perf_counter()
    result = SequenceResult(name=name, dataroot=source.root)
    try:
        sequence = source.load_sequence(name)
        result.frames = len(sequence.keyframes)
        boxes = sequence.annotations
        result.annotations = len(boxes)
        result.class_counts = dict(sorted(Counter(b.category for b in boxes).items()))
        context = SequenceContext(source, sequence)
        available = registered_checks()
        for check_name, parameters in policy.checks.items():
            check = available[check_name](**parameters)
            output = check.run(context)
            if plot_dir is not None:
                seq_dir = plot_dir / _safe_name(name)
                seq_dir.mkdir(parents=True, exist_ok=True)
                result.plots.extend(str(p) for p in check.plot(context, output, seq_dir))
            for table, rows in output.sections.items():
                result.sections.setdefault(table, []).extend(rows)
            for category, samples in output.class_samples.items():
                merged = result.class_samples.setdefault(category, {})
                for sample_name, items in samples.items():
                    merged.setdefault(sample_name, []).extend(items)
            result.findings.extend(output.findings)
            result.notes.extend(output.notes)
            for category, tally in output.tallies.items():
                result.tallies.setdefault(category, ClassTally()).merge(tally)
            if output.statistics:
                result.statistics[check_name] = output.statistics
    except FusioncheckError as exc:
        result.error = str(exc)
    result.findings.sort(key=lambda f: (f.check, -f.score, f.timestamp_us or 0, f.annotation or ""))
    result.seconds = time.perf_counter() - start
    return result


def _safe_name(name: str) -> str:
    """Return ``name`` made usable as a folder name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "sequence"

"""Map :func:`fusioncheck.pipeline.check_sequence` over every sequence of every input.

Engines: ``local`` runs serially (``workers=1``) or in a process pool (one process per worker, which is
how fusioncheck scales on one machine: parallel across sequences, not inside a frame).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache

from fusioncheck.errors import FusioncheckError
from fusioncheck.loaders import open_source
from fusioncheck.loaders.base import DataSource
from fusioncheck.pipeline import SequenceResult, check_sequence
from fusioncheck.policy import Policy
from fusioncheck.report.builder import InputRecord


@dataclass(frozen=True)
class Task:
    """One sequence of one input."""

    path: str
    format: str
    sequence: str


@cache
def _source(path: str, format_name: str) -> DataSource:
    """Open each input once per process."""
    return open_source(path, format_name)


def _run_task(task: Task, policy: Policy) -> SequenceResult:
    try:
        source = _source(task.path, task.format)
    except FusioncheckError as exc:
        return SequenceResult(name=task.sequence, dataroot=task.path, error=str(exc))
    return check_sequence(source, task.sequence, policy)


def plan(paths: Sequence[str], format_name: str) -> tuple[list[Task], list[InputRecord]]:
    """Open every input and list its sequences; inputs that cannot be opened are recorded with the error."""
    tasks: list[Task] = []
    inputs: list[InputRecord] = []
    for path in paths:
        try:
            source = _source(path, format_name)
        except FusioncheckError as exc:
            inputs.append(InputRecord(path, format_name, str(exc)))
            continue
        inputs.append(InputRecord(path, source.format_name))
        tasks.extend(Task(path, format_name, name) for name in source.sequence_names())
    return tasks, inputs


def run_tasks(
    tasks: Sequence[Task], policy: Policy, workers: int = 1, progress: bool | None = None
) -> list[SequenceResult]:
    """Check every task; results come back in task order."""
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=len(tasks), unit="seq", disable=not show, desc="checking")
    results: list[SequenceResult] = []
    try:
        if workers <= 1 or len(tasks) <= 1:
            for task in tasks:
                results.append(_run_task(task, policy))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for result in pool.map(_run_task, tasks, [policy] * len(tasks)):
                    results.append(result)
                    bar.update()
    finally:
        bar.close()
    return results

"""Map :func:`fusioncheck.pipeline.check_sequence` over every sequence of every input.

Engines:

- ``local``: serially in this process (``workers=1``) or in a process pool (one process per worker,
  which is how fusioncheck scales on one machine: parallel across sequences, not inside a frame);
- ``ray``: the same function as Ray tasks, on a local Ray instance or a cluster (``ray_address``);
  needs the optional extra ``fusioncheck[ray]``.

Results stream: each one is written to ``OUT/sequences/`` (:class:`~fusioncheck.report.result_store.
ResultStore`) the moment it arrives, so a killed run loses only the sequences in flight, and
``resume=True`` skips every sequence whose stored result has the current fingerprint. At most
``2 * workers`` sequences are in flight, and each worker holds one sequence: memory is bounded by one
sequence per worker, not by the dataset. A sequence that fails (unreadable file, bad calibration, even a
crash of its worker process) becomes a result with ``error`` set, and the run goes on.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fusioncheck.errors import FusioncheckError, PolicyError
from fusioncheck.fingerprint import sequence_fingerprint
from fusioncheck.loaders import open_source
from fusioncheck.loaders.base import DataSource
from fusioncheck.pipeline import SequenceResult, check_sequence
from fusioncheck.policy import Policy
from fusioncheck.report.builder import InputRecord
from fusioncheck.report.result_store import ResultStore, normalise

ENGINES = ("local", "ray")
#: Inputs kept open (parsed tables) per process; tasks are planned input by input, so a few suffice.
_SOURCE_CACHE_SIZE = 2
#: A task whose worker process dies is tried this many times in all before it is recorded as an error.
_ATTEMPTS = 2


@dataclass(frozen=True)
class Task:
    """One sequence of one input."""

    path: str
    format: str
    sequence: str


@dataclass
class BatchOutcome:
    """What a batch run produced.

    Attributes:
        results: one per task, in task order.
        computed: sequences checked in this run.
        resumed: sequences whose stored result was reused.
    """

    results: list[SequenceResult]
    computed: int
    resumed: int


_sources: OrderedDict[tuple[str, str], DataSource] = OrderedDict()


def _source(path: str, format_name: str) -> DataSource:
    """Open an input, keeping the last few open in this process."""
    key = (path, format_name)
    source = _sources.get(key)
    if source is None:
        source = open_source(path, format_name)
        _sources[key] = source
        if len(_sources) > _SOURCE_CACHE_SIZE:
            _sources.popitem(last=False)
    else:
        _sources.move_to_end(key)
    return source


def _fingerprint(task: Task, policy: Policy, plots: bool) -> str | None:
    """Return the task's input fingerprint (None when its input cannot be opened)."""
    try:
        return sequence_fingerprint(_source(task.path, task.format), task.sequence, policy, plots)
    except FusioncheckError:
        return None


def _run_task(
    task: Task, policy: Policy, plot_dir: Path | None = None, fingerprint: bool = False
) -> tuple[SequenceResult, str | None]:
    """Check one task; any failure becomes ``SequenceResult.error`` (the batch goes on).

    With ``fingerprint``, the fingerprint of the task's inputs is taken first (in the worker, so that a
    batch of hundreds of logs does not wait for the main process to take them all) and returned too.
    """
    start = time.perf_counter()
    digest = _fingerprint(task, policy, plot_dir is not None) if fingerprint else None
    try:
        source = _source(task.path, task.format)
        return check_sequence(source, task.sequence, policy, plot_dir), digest
    except FusioncheckError as exc:
        message = str(exc)
    except Exception as exc:  # a bug must not stop a delivery-sized batch; it is recorded with its place
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        message = (
            f"internal error {type(exc).__name__}: {exc} (at {Path(frame.filename).name}:{frame.lineno}; "
            "please report it)"
        )
    failed = SequenceResult(
        name=task.sequence, dataroot=task.path, error=message, seconds=time.perf_counter() - start
    )
    return failed, digest


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
    """Check every task (no result files); results come back in task order."""
    return run_batch(tasks, policy, workers=workers, progress=progress).results


def run_batch(
    tasks: Sequence[Task],
    policy: Policy,
    *,
    workers: int = 1,
    engine: str = "local",
    ray_address: str | None = None,
    store: ResultStore | None = None,
    resume: bool = False,
    plot_dir: Path | None = None,
    progress: bool | None = None,
) -> BatchOutcome:
    """Check every task, streaming results to ``store`` and reusing stored ones when ``resume``.

    Results are normalised to their stored JSON form (see :func:`~fusioncheck.report.result_store.
    normalise`) so a resumed run merges exactly what an uninterrupted run merges.

    Raises:
        PolicyError: unknown engine, or ``engine="ray"`` without Ray installed.
        KeyboardInterrupt: on Ctrl-C, after the results that arrived were written.
    """
    from tqdm import tqdm

    if engine not in ENGINES:
        raise PolicyError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    results: list[SequenceResult | None] = [None] * len(tasks)
    pending: list[int] = []
    for i, task in enumerate(tasks):
        stored = None
        if store is not None and resume and store.path_of(task.path, task.sequence).is_file():
            stored = store.read(task.path, task.sequence, _fingerprint(task, policy, plot_dir is not None))
        if stored is not None:
            results[i] = stored
        else:
            pending.append(i)
    resumed = len(tasks) - len(pending)

    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=len(tasks), initial=resumed, unit="seq", disable=not show, desc="checking")
    try:
        arrivals = _execute(
            [tasks[i] for i in pending],
            pending,
            policy,
            workers,
            engine,
            ray_address,
            plot_dir,
            store is not None,
        )
        for i, result, fingerprint in arrivals:
            result = normalise(result)
            if store is not None:
                task = tasks[i]
                store.write(task.path, task.format, task.sequence, fingerprint, result)
            results[i] = result
            bar.update()
            if result.error:
                bar.write(f"error in {tasks[i].sequence} ({tasks[i].path}): {result.error}")
    finally:
        bar.close()
    done = [r for r in results if r is not None]
    if len(done) != len(tasks):  # _execute yields every pending index once, unless interrupted
        raise RuntimeError(f"{len(tasks) - len(done)} sequence(s) got no result")
    return BatchOutcome(done, computed=len(pending), resumed=resumed)


def _execute(
    tasks: list[Task],
    indices: list[int],
    policy: Policy,
    workers: int,
    engine: str,
    ray_address: str | None,
    plot_dir: Path | None,
    fingerprint: bool,
) -> Iterator[tuple[int, SequenceResult, str | None]]:
    """Yield ``(index, result, fingerprint)`` for every task as results arrive (any order)."""
    if not tasks:
        return
    if engine == "ray":
        yield from _execute_ray(tasks, indices, policy, workers, ray_address, plot_dir, fingerprint)
    elif workers <= 1 or len(tasks) <= 1:
        for index, task in zip(indices, tasks, strict=True):
            yield index, *_run_task(task, policy, plot_dir, fingerprint)
    else:
        yield from _execute_pool(tasks, indices, policy, workers, plot_dir, fingerprint)


# ---------------------------------------------------------------------------------------- process pool


def _watch_parent(parent: int) -> None:
    """Worker initializer: exit when the main process is gone (e.g. killed with SIGKILL)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="fusioncheck-parent-watch").start()


def _execute_pool(
    tasks: list[Task],
    indices: list[int],
    policy: Policy,
    workers: int,
    plot_dir: Path | None,
    fingerprint: bool,
) -> Iterator[tuple[int, SequenceResult, str | None]]:
    queue: list[tuple[int, Task, int]] = [(i, t, 1) for i, t in zip(indices, tasks, strict=True)]
    queue.reverse()  # pop() from the end keeps task order
    while queue:
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(queue)), initializer=_watch_parent, initargs=(os.getpid(),)
        )
        in_flight: dict[Future[tuple[SequenceResult, str | None]], tuple[int, Task, int]] = {}
        broken: list[tuple[int, Task, int]] = []
        try:
            while queue or in_flight:
                while queue and len(in_flight) < 2 * workers and not broken:
                    item = queue.pop()
                    try:
                        in_flight[pool.submit(_run_task, item[1], policy, plot_dir, fingerprint)] = item
                    except BrokenProcessPool:
                        broken.append(item)
                if not in_flight:
                    break
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    item = in_flight.pop(future)
                    try:
                        yield item[0], *future.result()
                    except BrokenProcessPool:
                        broken.append(item)
            pool.shutdown(wait=True)
        except BaseException:
            _terminate(pool)
            raise
        # A worker died (out of memory, a crash in native code): retry its tasks in a fresh pool.
        for index, task, attempt in broken:
            if attempt < _ATTEMPTS:
                queue.append((index, task, attempt + 1))
            else:
                yield (
                    index,
                    SequenceResult(
                        name=task.sequence,
                        dataroot=task.path,
                        error=f"the worker process checking this sequence died {attempt} times "
                        "(out of memory, or a crash in native code)",
                    ),
                    None,
                )


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel queued work and end its worker processes."""
    processes: dict[Any, Any] = getattr(pool, "_processes", None) or {}
    pool.shutdown(wait=False, cancel_futures=True)
    for process in list(processes.values()):
        if process.is_alive():
            process.terminate()


# ------------------------------------------------------------------------------------------------ ray


def _execute_ray(
    tasks: list[Task],
    indices: list[int],
    policy: Policy,
    workers: int,
    ray_address: str | None,
    plot_dir: Path | None,
    fingerprint: bool,
) -> Iterator[tuple[int, SequenceResult, str | None]]:
    try:
        import ray
    except ImportError as exc:
        raise PolicyError(
            "--engine ray needs Ray: pip install 'fusioncheck[ray]' (or pip install ray)"
        ) from exc
    started_here = not ray.is_initialized()
    if started_here:
        if ray_address:
            ray.init(address=ray_address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    remote: Callable[..., Any] = ray.remote(num_cpus=1, max_retries=_ATTEMPTS - 1)(_run_task).remote
    policy_ref = ray.put(policy)
    queue = list(zip(indices, tasks, strict=True))
    queue.reverse()
    in_flight: dict[Any, tuple[int, Task]] = {}
    limit = 2 * max(workers, int(ray.cluster_resources().get("CPU", workers)))
    try:
        while queue or in_flight:
            while queue and len(in_flight) < limit:
                index, task = queue.pop()
                in_flight[remote(task, policy_ref, plot_dir, fingerprint)] = (index, task)
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                index, task = in_flight.pop(ref)
                try:
                    result, digest = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    result = SequenceResult(
                        name=task.sequence, dataroot=task.path, error=f"Ray task failed: {exc}"
                    )
                    digest = None
                yield index, result, digest
    except BaseException:
        for ref in in_flight:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started_here:
            ray.shutdown()

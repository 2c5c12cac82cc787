"""Map :func:`fusioncheck.pipeline.check_sequence` over every sequence of every input.

Engines:

- ``local``: serially in this process (``workers=1``) or in a process pool (one process per worker,
  which is how fusioncheck scales on one machine: parallel across sequences, not inside a frame);
- ``ray``: the same function as Ray tasks, on a local Ray instance or a cluster (``ray_address``);
  needs the optional extra ``fusioncheck[ray]``.

Results stream: each one is written to ``OUT/sequences/`` (:class:`~fusioncheck.report.result_store.
ResultStore`) the moment it arrives, so a killed run loses only the sequences in flight, and
``resume=True`` reuses every stored result whose fingerprint matches (checked by the workers; on a Ray
cluster the output folder must be on a file system the workers share, like the inputs). At most
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
from fusioncheck.scene.samples import CameraImage, LidarSweep, RadarScan, SensorSample
from fusioncheck.scene.sequence import Sequence as FcSequence

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


class _SequenceOnce(DataSource):
    """A source that builds each sequence once: the fingerprint and the checks share one scene model."""

    def __init__(self, inner: DataSource) -> None:
        self.inner = inner
        self.format_name = inner.format_name
        self._built: dict[str, FcSequence] = {}

    @property
    def root(self) -> str:
        """The wrapped source's dataroot."""
        return self.inner.root

    def sequence_names(self) -> list[str]:
        """Return the wrapped source's sequences."""
        return self.inner.sequence_names()

    def load_sequence(self, name: str) -> FcSequence:
        """Build a sequence (once; frozen, so it can be shared)."""
        if name not in self._built:
            self._built[name] = self.inner.load_sequence(name)
        return self._built[name]

    def read_lidar(self, sample: SensorSample) -> LidarSweep:
        """Read a LiDAR sample through the wrapped source."""
        return self.inner.read_lidar(sample)

    def read_radar(self, sample: SensorSample) -> RadarScan:
        """Read a radar sample through the wrapped source."""
        return self.inner.read_radar(sample)

    def read_image(self, sample: SensorSample, scale: float = 1.0, grey: bool = False) -> CameraImage:
        """Decode an image through the wrapped source."""
        return self.inner.read_image(sample, scale, grey)


def _fingerprint(task: Task, policy: Policy, plots: bool, source: DataSource) -> str | None:
    """Return the task's input fingerprint (None when its sequence cannot be built)."""
    try:
        return sequence_fingerprint(source, task.sequence, policy, plots)
    except FusioncheckError:
        return None


#: What a worker returns for a task: the result, its input fingerprint, and whether it was resumed.
Outcome = tuple[SequenceResult, str | None, bool]


def _run_task(
    task: Task,
    policy: Policy,
    plot_dir: Path | None = None,
    fingerprint: bool = False,
    resume_dir: Path | None = None,
) -> Outcome:
    """Check one task; any failure becomes ``SequenceResult.error`` (the batch goes on).

    With ``fingerprint``, the fingerprint of the task's inputs is taken first and returned too. With
    ``resume_dir`` (an output folder), a stored result with that fingerprint is returned instead of
    checking again. Both happen in the worker, so a batch of hundreds of logs never waits for the main
    process to build every sequence.
    """
    start = time.perf_counter()
    digest = None
    try:
        source = _SequenceOnce(_source(task.path, task.format))
        if fingerprint or resume_dir is not None:
            digest = _fingerprint(task, policy, plot_dir is not None, source)
        if resume_dir is not None:
            stored = ResultStore(resume_dir).read(task.path, task.sequence, digest)
            if stored is not None:
                return stored, digest, True
        return check_sequence(source, task.sequence, policy, plot_dir), digest, False
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
    return failed, digest, False


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
    resume_dir = store.out_dir if (store is not None and resume) else None
    resumed = 0
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=len(tasks), unit="seq", disable=not show, desc="checking")
    try:
        arrivals = _execute(
            list(tasks), policy, workers, engine, ray_address, plot_dir, store is not None, resume_dir
        )
        for i, result, fingerprint, reused in arrivals:
            if reused:
                resumed += 1
            else:
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
    return BatchOutcome(done, computed=len(tasks) - resumed, resumed=resumed)


def _execute(
    tasks: list[Task],
    policy: Policy,
    workers: int,
    engine: str,
    ray_address: str | None,
    plot_dir: Path | None,
    fingerprint: bool,
    resume_dir: Path | None,
) -> Iterator[tuple[int, SequenceResult, str | None, bool]]:
    """Yield ``(index, result, fingerprint, resumed)`` for every task as results arrive (any order)."""
    if not tasks:
        return
    args = (policy, plot_dir, fingerprint, resume_dir)
    if engine == "ray":
        yield from _execute_ray(tasks, workers, ray_address, args)
    elif workers <= 1 or len(tasks) <= 1:
        for index, task in enumerate(tasks):
            yield index, *_run_task(task, *args)
    else:
        yield from _execute_pool(tasks, workers, args)


# ---------------------------------------------------------------------------------------- process pool


def _watch_parent(parent: int) -> None:
    """Worker initializer: exit when the main process is gone (e.g. killed with SIGKILL)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="fusioncheck-parent-watch").start()


def _execute_pool(
    tasks: list[Task], workers: int, args: tuple[Any, ...]
) -> Iterator[tuple[int, SequenceResult, str | None, bool]]:
    queue: list[tuple[int, Task, int]] = [(i, t, 1) for i, t in enumerate(tasks)]
    queue.reverse()  # pop() from the end keeps task order
    while queue:
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(queue)), initializer=_watch_parent, initargs=(os.getpid(),)
        )
        in_flight: dict[Future[Outcome], tuple[int, Task, int]] = {}
        broken: list[tuple[int, Task, int]] = []
        try:
            while queue or in_flight:
                while queue and len(in_flight) < 2 * workers and not broken:
                    item = queue.pop()
                    try:
                        in_flight[pool.submit(_run_task, item[1], *args)] = item
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
                    False,
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
    tasks: list[Task], workers: int, ray_address: str | None, args: tuple[Any, ...]
) -> Iterator[tuple[int, SequenceResult, str | None, bool]]:
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
    policy_ref = ray.put(args[0])
    queue = list(enumerate(tasks))
    queue.reverse()
    in_flight: dict[Any, tuple[int, Task]] = {}
    limit = 2 * max(workers, int(ray.cluster_resources().get("CPU", workers)))
    try:
        while queue or in_flight:
            while queue and len(in_flight) < limit:
                index, task = queue.pop()
                in_flight[remote(task, policy_ref, *args[1:])] = (index, task)
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                index, task = in_flight.pop(ref)
                try:
                    result, digest, reused = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    result = SequenceResult(
                        name=task.sequence, dataroot=task.path, error=f"Ray task failed: {exc}"
                    )
                    digest, reused = None, False
                yield index, result, digest, reused
    except BaseException:
        for ref in in_flight:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started_here:
            ray.shutdown()

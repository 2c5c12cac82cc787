"""Benchmark: what the size statistics add to the box-fit check, per frame.

The box-fit check measures every box against its keyframe sweep; the size statistics (per-box size
evidence from the sensor-side faces and the top, per-class bias in the sequence, per-box refined
verdicts, class-level findings) ride on that pass. Side by side, on the same keyframes in one run, in
alternating order:

* ``box_fit``: the check with size statistics switched off (``min_points_size`` above any box's count,
  so no box gets evidence and the class statistics have nothing to do);
* ``box_fit+size``: the check as shipped.

Reported per dataroot: median CPU milliseconds per keyframe of each (process time: on a shared machine
wall time mostly measures the other processes), and the overhead ratio. The run-level
bootstrap over tracks (:func:`fusioncheck.checks.size_bias.class_size_bias`, once per class per run, not
per frame) is timed separately on the same log's samples. Dataroots: a small simulated log written to a
temporary folder and, when present, the real PandaSet excerpt.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from fusioncheck.checks.box_fit import BoxFitCheck
from fusioncheck.checks.size_bias import class_size_bias
from fusioncheck.context import SequenceContext
from fusioncheck.loaders.nuscenes import NuScenesSource

_OFF = 10**9


def _time_dataroot(root: Path, repeats: int) -> dict[str, Any]:
    source = NuScenesSource(root)
    contexts = [SequenceContext(source, source.load_sequence(n)) for n in source.sequence_names()]
    frames = sum(len(c.sequence.keyframes) for c in contexts)
    checks = {"box_fit": BoxFitCheck(min_points_size=_OFF), "box_fit+size": BoxFitCheck()}
    for check in checks.values():  # warm-up: numba cache, file cache
        for context in contexts:
            check.run(context)
    times: dict[str, list[float]] = {name: [] for name in checks}
    samples: dict[str, dict[str, list[Any]]] = {}
    for r in range(repeats):
        names = list(checks) if r % 2 == 0 else list(reversed(checks))
        for name in names:
            # CPU time of this process: on a shared machine wall time mostly measures the neighbours.
            start = time.process_time()
            outputs = [checks[name].run(context) for context in contexts]
            times[name].append(1e3 * (time.process_time() - start) / max(frames, 1))
            if name == "box_fit+size":
                samples = {}
                for output in outputs:
                    for category, per in output.class_samples.items():
                        for sample, items in per.items():
                            samples.setdefault(category, {}).setdefault(sample, []).extend(items)
    start = time.process_time()
    for per in samples.values():
        class_size_bias(per)
    reducer_ms = 1e3 * (time.process_time() - start)
    median = {name: statistics.median(v) for name, v in times.items()}
    return {
        "dataroot": str(root),
        "keyframes": frames,
        "median_ms_per_frame": median,
        "overhead": median["box_fit+size"] / median["box_fit"] - 1.0,
        "run_reducer_ms": reducer_ms,
        "classes": len(samples),
    }


def run_size_bench(repeats: int = 5, dataroots: list[Path] | None = None) -> dict[str, Any]:
    """Time box_fit with and without size statistics on each dataroot (simulated one when none given)."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        roots = list(dataroots or [])
        if not roots:
            from fusioncheck.simulate import SimConfig, simulate

            sim = Path(tmp) / "sim"
            simulate(
                sim,
                scenes=1,
                seed=3,
                config=replace(SimConfig.small(), lidar_azimuth_steps=1080, n_objects=40),
            )
            roots.append(sim)
            pandaset = (
                Path(__file__).resolve().parents[3].parent
                / "shared"
                / "realdata"
                / "nuscenes"
                / "pandaset-public"
            )
            if pandaset.is_dir():
                roots.append(pandaset)
        for root in roots:
            results.append(_time_dataroot(root, repeats))
    return {"repeats": repeats, "dataroots": results}


def format_size_bench(result: dict[str, Any]) -> str:
    """Plain-text table of a :func:`run_size_bench` result."""
    lines = [
        f"size statistics on top of box_fit: medians of {result['repeats']} runs, CPU ms per keyframe",
        "",
        f"{'dataroot':<40}{'frames':>7}{'box_fit':>10}{'+size':>10}{'overhead':>10}{'run reducer ms':>16}",
    ]
    for r in result["dataroots"]:
        m = r["median_ms_per_frame"]
        lines.append(
            f"{Path(r['dataroot']).name:<40}{r['keyframes']:>7}{m['box_fit']:>10.1f}{m['box_fit+size']:>10.1f}"
            f"{100 * r['overhead']:>9.1f}%{r['run_reducer_ms']:>16.1f}"
        )
    return "\n".join(lines)

"""Benchmark: every time offset of a full simulated scene, and the sync kernels against plain loops.

The scene is the full rig (``SimConfig()``: 40 keyframes, 6 cameras at 1600x900, 5 radars) with keyframe
sweeps and images only (``write_sweeps=False``; every radar scan is written), with clock faults on the
labels (+20 ms), CAM_FRONT_LEFT (+30 ms) and RADAR_FRONT (-40 ms). Timed:

* ``scene``: :meth:`fusioncheck.checks.sync.SyncCheck.estimates` on a fresh context (files read and images
  decoded inside the timing; kernels compiled beforehand), wall time per stream kind and in total, and the
  CPU time of the whole (one process: on a shared machine the wall time includes waiting for a core);
* ``label objective``: the objective curves of the scene's label evidence over the coarse grid (101
  offsets) by the numba kernel against its plain-numpy formulation (what one would write without numba);
* ``camera objective``: the scores of one camera frame over 101 offsets by the fused numba kernel against
  a Python loop over offsets of the package's projection and edge-score kernels, and against a loop of
  ``cv2.projectPoints`` with the same scoring (what users would otherwise run).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fusioncheck.checks.sync import SyncCheck
from fusioncheck.context import SequenceContext
from fusioncheck.geometry.camera import project_points
from fusioncheck.kernels.box_offset_score import offset_curves
from fusioncheck.kernels.box_offset_score_reference import offset_curves_reference
from fusioncheck.kernels.camera_offset_score import offset_scores
from fusioncheck.kernels.edge_distance import EdgeParameters
from fusioncheck.kernels.edge_score import score_projected
from fusioncheck.kernels.warmup import warm_up_all
from fusioncheck.loaders.nuscenes import NuScenesSource
from fusioncheck.simulate import FaultSpec, SimConfig, simulate
from fusioncheck.sync.camera import (
    CameraSyncSettings,
    _attach_image,
    _camera_from_global,
    _frame,
    _lidar_for,
    decode_scale,
    lidar_edges,
)
from fusioncheck.sync.estimate import SearchSettings
from fusioncheck.sync.labels import LabelSyncSettings, gather_label_evidence
from fusioncheck.sync.lidar_timing import spin_model_for

FAULTS = {
    "label_time_offset_ms": 20.0,
    "stream_time_offsets": {"CAM_FRONT_LEFT": 30.0, "RADAR_FRONT": -40.0},
}


def _median_time(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _median_cpu_time(fn: Any, repeats: int) -> float:
    """Median CPU seconds of this process (insensitive to other processes competing for the cores)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def run_sync_bench(repeats: int = 3, work: Path | None = None) -> dict[str, Any]:
    """Simulate the scene (or reuse ``work``), time everything; return the results as a dictionary."""
    warm_up_all()
    tmp = None
    if work is None:
        tmp = tempfile.TemporaryDirectory(prefix="fusioncheck-bench-sync-")
        work = Path(tmp.name)
    root = work / "scene"
    if not (root / "faults.json").exists():
        simulate(root, 1, 7, FaultSpec.from_dict(FAULTS), replace(SimConfig(), write_sweeps=False))
    source = NuScenesSource(root)
    name = source.sequence_names()[0]

    def fresh() -> SequenceContext:
        return SequenceContext(source, source.load_sequence(name))

    result: dict[str, Any] = {"scene": {"keyframes": len(fresh().sequence.keyframes), "repeats": repeats}}
    for kind in ("labels", "radar", "camera", "labels,radar,camera"):
        check = SyncCheck(streams=kind)
        result["scene"][kind] = _median_time(lambda c=check: c.estimates(fresh()), repeats)
    result["scene"]["cpu_all"] = _median_cpu_time(lambda: SyncCheck().estimates(fresh()), repeats)
    estimates = SyncCheck().estimates(fresh())
    result["estimates"] = {e.stream: (e.offset_ms, e.status) for e in estimates}

    context = fresh()
    lidar = context.reference_lidar or ""
    evidence = gather_label_evidence(context, lidar, LabelSyncSettings(), SearchSettings()).compile()
    offsets_s = np.linspace(-0.25, 0.25, 101)
    args = (evidence.local, evidence.slope, evidence.group, evidence.weight, evidence.half, offsets_s, 0.3)
    result["label_objective"] = {
        "points": int(evidence.local.shape[0]),
        "numba_s": _median_time(lambda: offset_curves(*args), max(repeats, 5)),
        "numpy_s": _median_time(lambda: offset_curves_reference(*args), max(repeats, 2)),
    }

    channel = "CAM_FRONT_LEFT"
    camera = context.sequence.sensors[channel]
    assert camera.intrinsics is not None
    settings = CameraSyncSettings()
    scale = decode_scale(camera.intrinsics, settings)
    from fusioncheck.checks.edge_evidence import scaled_intrinsics

    intrinsics = scaled_intrinsics(camera.intrinsics, scale)
    camera_from_ego = camera.ego_from_sensor.inverse()
    image_sample = context.sequence.samples[channel][len(context.sequence.samples[channel]) // 2]
    lidar_sample = _lidar_for(context, lidar, image_sample.timestamp_us, settings.max_lidar_gap_s)
    assert lidar_sample is not None
    edges = lidar_edges(context, lidar_sample, spin_model_for(context.sequence, lidar), settings)
    assert edges is not None
    frame = _frame(context, image_sample, lidar_sample, edges, camera_from_ego, intrinsics)
    assert frame is not None
    _attach_image(context, frame, intrinsics, scale, settings, EdgeParameters(decay_px=settings.decay_px))
    assert frame.attraction is not None
    attraction = frame.attraction
    poses = context.sequence.ego_poses
    rot, trans = _camera_from_global(poses, image_sample.timestamp_us + offsets_s * 1e6, camera_from_ego)

    def fused() -> None:
        offset_scores(
            frame.points_m, frame.velocity_mps, frame.time_s, frame.weight, offsets_s, (rot, trans),
            intrinsics, attraction,
        )  # fmt: skip

    def python_loop() -> None:
        for k, o in enumerate(offsets_s):
            world = frame.points_m + frame.velocity_mps * (o - frame.time_s)[:, None]
            uv, _d, valid = project_points(world @ rot[k].T + trans[k], intrinsics)
            score_projected(uv, valid, frame.weight, attraction)

    matrix = intrinsics.matrix
    distortion = intrinsics.distortion if intrinsics.distortion.size else np.zeros(5)

    def opencv_loop() -> None:
        for k, o in enumerate(offsets_s):
            world = frame.points_m + frame.velocity_mps * (o - frame.time_s)[:, None]
            cam = world @ rot[k].T + trans[k]
            front = cam[:, 2] > 0.1
            uv, _ = cv2.projectPoints(cam[front], np.zeros(3), np.zeros(3), matrix, distortion)
            uv64 = np.asarray(uv, dtype=np.float64).reshape(-1, 2)
            score_projected(uv64, np.ones(int(front.sum()), bool), frame.weight[front], attraction)

    result["camera_objective"] = {
        "points": int(frame.points_m.shape[0]),
        "offsets": int(offsets_s.size),
        "fused_numba_s": _median_time(fused, max(repeats, 5)),
        "python_loop_s": _median_time(python_loop, max(repeats, 3)),
        "opencv_loop_s": _median_time(opencv_loop, max(repeats, 3)),
    }
    if tmp is not None:
        tmp.cleanup()
    return result


def format_sync_bench(result: dict[str, Any]) -> str:
    """Human-readable summary with ratios."""
    s = result["scene"]
    lo = result["label_objective"]
    co = result["camera_objective"]
    lines = [
        f"sync on a {s['keyframes']}-keyframe scene, 6 cameras, 5 radars (median of {s['repeats']}):",
        f"  labels {s['labels']:.2f} s, radars {s['radar']:.2f} s, cameras {s['camera']:.2f} s, "
        f"all streams {s['labels,radar,camera']:.2f} s wall, {s['cpu_all']:.2f} s CPU (target <= 10 s; "
        "single process: wall time grows with the load of other processes)",
        "  estimates: "
        + ", ".join(
            f"{k} {v[0]:+.1f}" if v[0] is not None else f"{k} n/a" for k, v in result["estimates"].items()
        ),
        f"label objective, {lo['points']} points x 101 offsets: numba {lo['numba_s'] * 1e3:.1f} ms, "
        f"numpy {lo['numpy_s'] * 1e3:.1f} ms ({lo['numpy_s'] / lo['numba_s']:.0f}x)",
        f"camera objective, {co['points']} points x {co['offsets']} offsets: fused numba "
        f"{co['fused_numba_s'] * 1e3:.1f} ms, python loop of kernels {co['python_loop_s'] * 1e3:.1f} ms "
        f"({co['python_loop_s'] / co['fused_numba_s']:.0f}x), cv2.projectPoints loop "
        f"{co['opencv_loop_s'] * 1e3:.1f} ms ({co['opencv_loop_s'] / co['fused_numba_s']:.0f}x)",
    ]
    return "\n".join(lines)

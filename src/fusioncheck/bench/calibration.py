"""Benchmark of camera-calibration scoring: one camera image with its LiDAR sweep, image decode excluded.

Measured per frame (medians over frames x repeats):

- ``edges``: Canny + distance transform + attraction + local-mean removal of the decoded grey image;
- ``lidar_edges``: depth-edge positions (scan-line and vertical ring neighbours) and reflectance edges;
- ``search``: the whole correction search of ``camera_calibration`` (per-axis scans, pattern search,
  translation, statistics) on the frame;
- ``total``: the three together: what the check spends per camera image.

Each stage is reported as wall time (``median_ms``) and as this process's CPU time (``median_cpu_ms``,
``time.process_time``), with the 1-minute load average before and after the run: on a shared machine the
wall time grows with the load of other processes, the CPU time much less. Image decode (JPEG/PNG to
grey pixels) and reading the LiDAR file are excluded; everything the check does with the decoded pixels
and the sweep is included.

Side by side, the inner loop that dominates the search — scoring one candidate extrinsic — is timed with
the fused numba kernel (:func:`fusioncheck.kernels.edge_score.score_transforms`) and the way a user would
write it with OpenCV (``cv2.projectPoints`` of the rotated points, then bilinear sampling of the map with
``cv2.remap``), on the same points and map; the scores must agree. The search scores each distinct
candidate once (``candidates_per_search``); ``opencv_search_estimate_ms`` is that count times the OpenCV
candidate time (an extrapolation, not a run: what the search's scoring alone would cost done with OpenCV).

Frames: the real KITTI excerpt (``../shared/realdata/kitti``) when present, else a small simulated scene.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fusioncheck.bench.points_in_boxes import _machine


def _frames(root: Path | None) -> tuple[Any, list[tuple[Any, Any, str]], str]:
    from fusioncheck.loaders import open_source

    if root is None:
        default = Path(__file__).resolve().parents[3].parent / "shared" / "realdata" / "kitti"
        root = default if (default / "training" / "velodyne").is_dir() else None
    if root is None:
        from fusioncheck.simulate import SimConfig, simulate

        tmp = Path(tempfile.mkdtemp(prefix="fusioncheck-bench-"))
        simulate(tmp / "sim", scenes=1, seed=5, config=SimConfig.small())
        root = tmp / "sim"
    source = open_source(root)
    frames = []
    for name in source.sequence_names():
        sequence = source.load_sequence(name)
        lidar = "LIDAR_TOP"
        for camera in sequence.channels(
            __import__("fusioncheck.scene.sensors", fromlist=["Modality"]).Modality.CAMERA
        ):
            for kf in sequence.keyframes[:3]:
                if lidar in kf.samples and camera in kf.samples:
                    frames.append((sequence, kf, camera))
            if len(frames) >= 12:
                break
    return source, frames[:12], str(root)


def run_calibration_bench(repeats: int = 5, root: Path | None = None) -> dict[str, Any]:
    """Time calibration scoring per camera image; see the module docstring."""
    from fusioncheck.checks.calibration_search import (
        EdgeObjective,
        FrameParameters,
        SearchParameters,
        calibration_frame,
        rotation_from_rpy_deg,
        search_correction,
    )
    from fusioncheck.checks.camera_calibration import (
        CameraCalibrationCheck,
        attraction_maps,
        field_of_view,
        lidar_edge_points,
    )
    from fusioncheck.checks.edge_evidence import scaled_intrinsics
    from fusioncheck.context import SequenceContext
    from fusioncheck.geometry.camera import DEFAULT_MIN_DEPTH_M, distortion_coefficients, max_valid_radius
    from fusioncheck.kernels import warmup
    from fusioncheck.kernels.edge_score import score_transforms

    warmup.warm_up_all()
    source, frames, where = _frames(root)
    check = CameraCalibrationCheck()
    p = check.parameters
    times: dict[str, list[float]] = {"edges": [], "lidar_edges": [], "search": [], "total": []}
    cpu: dict[str, list[float]] = {k: [] for k in times}
    candidates: list[int] = []
    load_before = os.getloadavg()[0]
    fused, opencv, agreement = [], [], []
    for sequence, kf, camera in frames:
        context = SequenceContext(source, sequence)
        sensor = sequence.sensors[camera]
        cam_sample, lidar_sample = kf.samples[camera], kf.samples["LIDAR_TOP"]
        image = source.read_image(cam_sample, grey=True)  # decode: excluded
        sweep = context.read_lidar(lidar_sample)
        intrinsics = scaled_intrinsics(sensor.intrinsics, image.scale)
        cam_from_lidar = (
            sensor.ego_from_sensor.inverse() @ cam_sample.global_from_ego.inverse()
            @ lidar_sample.global_from_ego @ sequence.sensors["LIDAR_TOP"].ego_from_sensor
        )  # fmt: skip
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            maps = attraction_maps(image.pixels, image.scale, (float(p["decay_px"]),))
            t1, c1 = time.perf_counter(), time.process_time()
            in_view = field_of_view(sweep.xyz, cam_from_lidar, intrinsics, image.pixels.shape[:2])
            points, weights = lidar_edge_points(sweep, float(p["reflectance_weight"]), in_view)
            t2, c2 = time.perf_counter(), time.process_time()
            frame = calibration_frame(
                maps, cam_from_lidar.transform_points(points), weights, intrinsics, SearchParameters().blocks,
                FrameParameters(local_mean_px=int(p["local_mean_px"])), image.scale,
            )  # fmt: skip
            t3, c3 = time.perf_counter(), time.process_time()
            if frame is None:
                break
            objective = EdgeObjective([frame], intrinsics)
            search_correction(objective)
            t4, c4 = time.perf_counter(), time.process_time()
            candidates.append(objective.evaluations)
            for clock, (a, b, c, d, e) in ((times, (t0, t1, t2, t3, t4)), (cpu, (c0, c1, c2, c3, c4))):
                clock["edges"].append(b - a + (d - c))
                clock["lidar_edges"].append(c - b)
                clock["search"].append(e - d)
                clock["total"].append(e - a)
        if frame is None:
            continue
        # One candidate extrinsic (0.3 deg yaw), fused kernel vs OpenCV projectPoints + remap.
        rotation = rotation_from_rpy_deg(np.array([0.0, 0.0, 0.3]))
        m = intrinsics.matrix
        k8 = distortion_coefficients(intrinsics.distortion)
        r = max_valid_radius(k8)
        camera_tuple = (m[0, 0], m[1, 1], m[0, 2], m[1, 2], m[0, 1])
        att = frame.attractions[-1]
        for _ in range(repeats):
            t0 = time.perf_counter()
            s_fused = score_transforms(
                frame.points_cam, frame.weights, rotation[None], np.zeros((1, 3)), camera_tuple, k8, r * r,
                DEFAULT_MIN_DEPTH_M, att,
            )[0]  # fmt: skip
            t1 = time.perf_counter()
            moved = frame.points_cam @ rotation.T
            uv, _ = cv2.projectPoints(moved, np.zeros(3), np.zeros(3), m, intrinsics.distortion)
            uv = uv.reshape(-1, 2).astype(np.float32)
            h, w = att.shape
            ok = (
                (moved[:, 2] >= DEFAULT_MIN_DEPTH_M)
                & (uv[:, 0] >= -0.5)
                & (uv[:, 0] < w - 0.5)
                & (uv[:, 1] >= -0.5)
                & (uv[:, 1] < h - 0.5)
            )
            sampled = cv2.remap(
                att,
                uv[:, 0].reshape(-1, 1),
                uv[:, 1].reshape(-1, 1),
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
            s_cv = float(np.sum(frame.weights[ok] * sampled.reshape(-1)[ok]))
            t2 = time.perf_counter()
            fused.append(t1 - t0)
            opencv.append(t2 - t1)
        agreement.append(abs(s_fused - s_cv) / max(abs(s_fused), 1e-9))
    med = {k: statistics.median(v) * 1e3 for k, v in times.items() if v}
    med_cpu = {k: statistics.median(v) * 1e3 for k, v in cpu.items() if v}
    per_search = statistics.median(candidates) if candidates else 0.0
    opencv_ms = statistics.median(opencv) * 1e3
    return {
        "frames": len(frames),
        "data": where,
        "repeats": repeats,
        "excluded": "image decode and reading the LiDAR file",
        "median_ms": med,
        "median_cpu_ms": med_cpu,
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "candidate_score_ms": {
            "fusioncheck_numba": statistics.median(fused) * 1e3,
            "opencv_projectPoints_remap": opencv_ms,
            "ratio": statistics.median(opencv) / statistics.median(fused),
            "max_relative_difference": max(agreement) if agreement else None,
        },
        "candidates_per_search": per_search,
        "opencv_search_estimate_ms": per_search * opencv_ms,
        "machine": _machine(),
    }


def format_calibration_bench(result: dict[str, Any]) -> str:
    """Human-readable summary of :func:`run_calibration_bench`."""
    med = result["median_ms"]
    c = result["candidate_score_ms"]
    nan = float("nan")
    total, edges, lidar, search = (med.get(k, nan) for k in ("total", "edges", "lidar_edges", "search"))
    cpu = result.get("median_cpu_ms", {})
    load = result.get("load_average_1min", {})
    lines = [
        f"calibration scoring, {result['frames']} camera images from {result['data']} "
        f"({result['repeats']} repeats; excluded: {result.get('excluded', 'image decode')}; "
        f"load average {load.get('before', nan):.1f} -> {load.get('after', nan):.1f} "
        f"on {result['machine'].get('cpu_count')} cores)",
        f"  per image, wall: total {total:.1f} ms = edges {edges:.1f} + LiDAR edges {lidar:.1f} "
        f"+ search {search:.1f} ms (medians)",
        f"  per image, CPU:  total {cpu.get('total', nan):.1f} ms = edges {cpu.get('edges', nan):.1f} "
        f"+ LiDAR edges {cpu.get('lidar_edges', nan):.1f} + search {cpu.get('search', nan):.1f} ms (medians)",
        f"  one candidate extrinsic: numba {c['fusioncheck_numba']:.3f} ms vs OpenCV projectPoints + remap "
        f"{c['opencv_projectPoints_remap']:.3f} ms ({c['ratio']:.1f}x); max relative score difference "
        f"{c['max_relative_difference']:.1e}",
        f"  search: {result.get('candidates_per_search', 0):.0f} distinct candidates scored "
        f"(numba {search:.1f} ms in all; their scoring alone with OpenCV "
        f"~{result.get('opencv_search_estimate_ms', nan):.0f} ms, extrapolated)",
    ]
    return "\n".join(lines)

"""Benchmark: points in oriented boxes, fusioncheck's kernel against what users would otherwise run.

Peers, timed side by side in one run on the same synthetic frames (:mod:`fusioncheck.bench.synthetic`),
each producing per-box point indices or counts:

* ``devkit``: a loop of nuscenes-devkit's ``points_in_box`` over the boxes, re-implemented faithfully in
  plain numpy (``Box.corners`` from a pyquaternion orientation, then the dot-product test against three
  edge vectors of one corner), on the devkit's ``(4, N)`` point layout;
* ``open3d``: a loop of ``OrientedBoundingBox(center, R, extent).get_point_indices_within_bounding_box``
  over the boxes, on a ``Vector3dVector`` built once per frame (its cost is reported separately and not
  included in the loop's time);
* ``fusioncheck``: :func:`fusioncheck.kernels.points_in_boxes.points_in_boxes` with shell statistics
  (margin 0.3 m, ground points not shell-eligible), including its input copies.

Each repetition runs every implementation twice in a row, the implementations in rotating order. The
second call of each pair is timed *warm* (its data in the CPU caches, as in a ``timeit`` loop); the first
is timed *cold*, right after the other implementations ran and displaced its data from the caches, as
happens in a pipeline that does other work between frames. The result reports medians of both. The
numba-cache measurement starts two fresh interpreters one after the other and times the first kernel
call in each (the second must load the compiled kernel from the cache instead of compiling it).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from fusioncheck.bench.synthetic import FRAME_SPECS, SyntheticFrame, make_frame
from fusioncheck.kernels.points_in_boxes import points_in_boxes
from fusioncheck.typing import BoolArray, FloatArray, IntArray

#: Shell margin the fusioncheck run computes statistics for, metres.
SHELL_MARGIN_M = 0.3
_IMPLEMENTATIONS = ("devkit", "open3d", "fusioncheck")


class DevkitBox:
    """The part of nuscenes-devkit's ``Box`` that ``points_in_box`` uses (devkit conventions).

    Attributes:
        center: ``(3,)`` float64 centre, metres.
        wlh: ``(3,)`` float64 ``(width, length, height)``, metres (the devkit's order).
        orientation: a ``pyquaternion.Quaternion``.
    """

    def __init__(self, center: FloatArray, wlh: FloatArray, orientation: Any) -> None:
        self.center = np.asarray(center, dtype=float)
        self.wlh = np.asarray(wlh, dtype=float)
        self.orientation = orientation

    def corners(self, wlh_factor: float = 1.0) -> FloatArray:
        """``(3, 8)`` corners; the first four face forward (devkit order)."""
        w, l, h = self.wlh * wlh_factor  # noqa: E741 - the devkit's names
        x_corners = l / 2 * np.array([1, 1, 1, 1, -1, -1, -1, -1])
        y_corners = w / 2 * np.array([1, -1, -1, 1, 1, -1, -1, 1])
        z_corners = h / 2 * np.array([1, 1, -1, -1, 1, 1, -1, -1])
        corners = np.vstack((x_corners, y_corners, z_corners))
        corners = np.dot(self.orientation.rotation_matrix, corners)
        x, y, z = self.center
        corners[0, :] = corners[0, :] + x
        corners[1, :] = corners[1, :] + y
        corners[2, :] = corners[2, :] + z
        return corners


def devkit_points_in_box(
    box: DevkitBox, points: npt.NDArray[np.floating], wlh_factor: float = 1.0
) -> BoolArray:
    """nuscenes-devkit's ``points_in_box``: ``(N,)`` mask of ``(3, N)`` points inside ``box``."""
    corners = box.corners(wlh_factor=wlh_factor)
    p1 = corners[:, 0]
    p_x = corners[:, 4]
    p_y = corners[:, 1]
    p_z = corners[:, 3]
    i = p_x - p1
    j = p_y - p1
    k = p_z - p1
    v = points - p1.reshape((-1, 1))
    iv = np.dot(i, v)
    jv = np.dot(j, v)
    kv = np.dot(k, v)
    mask_x = np.logical_and(0 <= iv, iv <= np.dot(i, i))  # noqa: SIM300 - as in the devkit
    mask_y = np.logical_and(0 <= jv, jv <= np.dot(j, j))  # noqa: SIM300 - as in the devkit
    mask_z = np.logical_and(0 <= kv, kv <= np.dot(k, k))  # noqa: SIM300 - as in the devkit
    return np.logical_and(np.logical_and(mask_x, mask_y), mask_z)


def run_points_in_boxes_bench(
    repeats: int = 20,
    sizes: Iterable[str] = ("nuscenes", "waymo"),
    *,
    measure_cache: bool = True,
    cold_cache: bool = False,
) -> dict[str, Any]:
    """Time the three implementations on each synthetic frame and check that they agree.

    Args:
        repeats: repetitions per frame (each runs every implementation once); medians are reported.
        sizes: frame kinds, keys of :data:`fusioncheck.bench.synthetic.FRAME_SPECS` (``nuscenes``,
            ``waymo``, ``dense``).
        measure_cache: also time the first kernel call in two fresh interpreters.
        cold_cache: run that measurement on an empty temporary numba cache (so the first interpreter
            compiles) instead of the installed one.

    Returns:
        A JSON-serialisable dict: ``benchmark``, ``repeats``, ``shell_margin_m``, ``machine``,
        ``frames`` (one entry per frame: ``name``, ``points``, ``boxes``; per implementation the warm
        ``median_ms`` and ``min_ms`` and the ``cold_median_ms``; ``ratio_devkit`` and ``ratio_open3d`` (peer
        time / fusioncheck time, warm) and ``cold_ratio_devkit``, ``cold_ratio_open3d``;
        ``open3d_points_ms``; ``points_in_boxes``, ``shell_points``; ``agreement`` per peer) and
        ``numba_cache`` (``mode`` and two ``runs`` with ``first_call_s``, ``second_call_s``, ``import_s``,
        ``cache_hits``, ``cache_misses``, ``cache_path``; or ``None``).
    """
    import open3d as o3d  # noqa: F401 - fail early, before the frames are made

    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    names = list(sizes)
    unknown = [n for n in names if n not in FRAME_SPECS]
    if unknown:
        raise ValueError(f"unknown frame sizes {unknown}; known: {', '.join(FRAME_SPECS)}")
    frames = [_bench_frame(make_frame(name), repeats) for name in names]
    return {
        "benchmark": "points_in_boxes",
        "repeats": repeats,
        "shell_margin_m": SHELL_MARGIN_M,
        "machine": _machine(),
        "frames": frames,
        "numba_cache": _measure_cache(cold_cache) if measure_cache else None,
    }


def format_points_in_boxes_bench(result: dict[str, Any]) -> str:
    """Plain-text tables of a :func:`run_points_in_boxes_bench` result."""
    machine = result["machine"]
    lines = [
        f"points in boxes: medians of {result['repeats']} runs (warm: back-to-back calls; cold: right after "
        f"the other implementations), fusioncheck with shell margin {result['shell_margin_m']} m "
        f"({machine['cpu_count']} CPUs, numpy {machine['numpy']}, numba {machine['numba']}, "
        f"open3d {machine['open3d']})",
        "",
        f"{'frame':<10}{'points':>10}{'boxes':>7}{'':>2}{'devkit ms':>11}{'open3d ms':>11}"
        f"{'fusioncheck ms':>16}{'devkit/fc':>11}{'open3d/fc':>11}",
    ]
    for frame in result["frames"]:
        for label, median, ratio_devkit, ratio_open3d in (
            ("warm", frame["median_ms"], frame["ratio_devkit"], frame["ratio_open3d"]),
            ("cold", frame["cold_median_ms"], frame["cold_ratio_devkit"], frame["cold_ratio_open3d"]),
        ):
            lines.append(
                f"{frame['name']:<10}{frame['points']:>10,}{frame['boxes']:>7}  {median['devkit']:>9.2f}"
                f"{median['open3d']:>11.2f}{median['fusioncheck']:>16.3f}{ratio_devkit:>10.0f}x"
                f"{ratio_open3d:>10.1f}x  {label}"
            )
    lines += ["", "agreement of per-box counts with fusioncheck (inclusive float64 rule):"]
    for frame in result["frames"]:
        for peer in ("devkit", "open3d"):
            a = frame["agreement"][peer]
            lines.append(
                f"  {frame['name']:<10}{peer:<8}{a['boxes_equal']}/{frame['boxes']} boxes equal, "
                f"{a['points_differing']} point memberships differ"
            )
    lines.append("")
    for frame in result["frames"]:
        lines.append(
            f"  {frame['name']:<10}open3d Vector3dVector from the points (not in its time): "
            f"{frame['open3d_points_ms']:.2f} ms"
        )
    cache = result.get("numba_cache")
    if cache:
        lines += ["", f"numba cache ({cache['mode']}): first kernel call in a fresh interpreter"]
        for k, run in enumerate(cache["runs"], start=1):
            lines.append(
                f"  process {k}: first call {run['first_call_s']:.3f} s, second call "
                f"{1e3 * run['second_call_s']:.3f} ms, import {run['import_s']:.2f} s, "
                f"cache hits {run['cache_hits']}, misses {run['cache_misses']}"
            )
    return "\n".join(lines)


# --- one frame -----------------------------------------------------------------------------------------


def _bench_frame(frame: SyntheticFrame, repeats: int) -> dict[str, Any]:
    """Time and compare the three implementations on one frame."""
    import open3d as o3d
    from pyquaternion import Quaternion

    boxes = frame.boxes
    n_boxes = len(boxes)
    # What each user holds before the per-frame work starts: the devkit's (4, N) cloud and Box objects,
    # and our (N, 5) cloud with BoxArrays.
    devkit_points = np.ascontiguousarray(frame.points[:, :4].T)
    devkit_boxes = [
        DevkitBox(boxes.centers_m[j], boxes.sizes_m[j][[1, 0, 2]], Quaternion(frame.quat_wxyz[j]))
        for j in range(n_boxes)
    ]
    eligible = ~frame.ground

    def run_devkit() -> list[IntArray]:
        xyz = devkit_points[:3, :]
        return [np.flatnonzero(devkit_points_in_box(box, xyz)) for box in devkit_boxes]

    o3d_points_ms: list[float] = []

    def make_o3d_points() -> Any:
        start = time.perf_counter()
        vector = o3d.utility.Vector3dVector(frame.points[:, :3].astype(np.float64))
        o3d_points_ms.append(1e3 * (time.perf_counter() - start))
        return vector

    o3d_points = make_o3d_points()

    def run_open3d() -> list[list[int]]:
        return [
            o3d.geometry.OrientedBoundingBox(
                boxes.centers_m[j], boxes.rotations[j], boxes.sizes_m[j]
            ).get_point_indices_within_bounding_box(o3d_points)
            for j in range(n_boxes)
        ]

    def run_fusioncheck() -> Any:
        return points_in_boxes(frame.points, boxes, SHELL_MARGIN_M, eligible)

    runs: dict[str, Callable[[], Any]] = {
        "devkit": run_devkit,
        "open3d": run_open3d,
        "fusioncheck": run_fusioncheck,
    }
    outputs = {name: run() for name, run in runs.items()}  # first calls: imports, allocator, JIT cache
    warm: dict[str, list[float]] = {name: [] for name in runs}
    cold: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(repeats):
        order = _IMPLEMENTATIONS[r % 3 :] + _IMPLEMENTATIONS[: r % 3]
        for name in order:
            for samples in (cold, warm):
                start = time.perf_counter()
                runs[name]()
                samples[name].append(1e3 * (time.perf_counter() - start))
        make_o3d_points()

    median = {name: statistics.median(t) for name, t in warm.items()}
    cold_median = {name: statistics.median(t) for name, t in cold.items()}
    result = outputs["fusioncheck"]
    fc_sets = _index_sets(result.point_box, n_boxes)
    agreement = {
        "devkit": _agreement([np.asarray(i) for i in outputs["devkit"]], result.counts, fc_sets),
        "open3d": _agreement(
            [np.asarray(i, dtype=np.int64) for i in outputs["open3d"]], result.counts, fc_sets
        ),
    }
    return {
        "name": frame.name,
        "points": int(frame.points.shape[0]),
        "boxes": n_boxes,
        "median_ms": median,
        "min_ms": {name: min(t) for name, t in warm.items()},
        "cold_median_ms": cold_median,
        "open3d_points_ms": statistics.median(o3d_points_ms),
        "ratio_devkit": median["devkit"] / median["fusioncheck"],
        "ratio_open3d": median["open3d"] / median["fusioncheck"],
        "cold_ratio_devkit": cold_median["devkit"] / cold_median["fusioncheck"],
        "cold_ratio_open3d": cold_median["open3d"] / cold_median["fusioncheck"],
        "points_in_boxes": int(np.count_nonzero(result.point_box >= 0)),
        "shell_points": int(np.count_nonzero(result.point_shell_box >= 0)),
        "agreement": agreement,
    }


def _index_sets(point_box: IntArray, n_boxes: int) -> list[IntArray]:
    """Per box, the indices of the points whose lowest containing box it is (exact for disjoint boxes)."""
    order = np.argsort(point_box, kind="stable")
    bounds = np.searchsorted(point_box[order], np.arange(n_boxes + 1))
    return [order[bounds[j] : bounds[j + 1]] for j in range(n_boxes)]


def _agreement(peer_sets: list[IntArray], counts: IntArray, fc_sets: list[IntArray]) -> dict[str, Any]:
    """How far a peer's per-box index sets agree with fusioncheck's counts and point memberships."""
    peer_counts = np.array([s.size for s in peer_sets], dtype=np.int64)
    equal = peer_counts == counts
    differing = sum(int(np.setxor1d(p, f).size) for p, f in zip(peer_sets, fc_sets, strict=True))
    return {
        "boxes_equal": int(np.count_nonzero(equal)),
        "fraction_equal": float(np.mean(equal)) if equal.size else 1.0,
        "boxes_differing": [int(j) for j in np.flatnonzero(~equal)],
        "points_differing": differing,
    }


def _machine() -> dict[str, Any]:
    """Versions and CPU count of this run."""
    import numba
    import open3d as o3d

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "open3d": o3d.__version__,
    }


# --- numba cache ---------------------------------------------------------------------------------------

_CACHE_PROBE = """
import json, time
start = time.perf_counter()
import numpy as np
from fusioncheck.kernels.points_in_boxes import kernel_cache_stats, points_in_boxes
from fusioncheck.scene.boxes import BoxArrays
imported = time.perf_counter()
rng = np.random.default_rng(0)
points = rng.uniform(-20.0, 20.0, (1000, 5)).astype(np.float32)
boxes = BoxArrays(rng.uniform(-15.0, 15.0, (8, 3)), rng.uniform(0.5, 5.0, (8, 3)), np.stack([np.eye(3)] * 8))
t0 = time.perf_counter()
points_in_boxes(points, boxes, 0.3)
t1 = time.perf_counter()
points_in_boxes(points, boxes, 0.3)
t2 = time.perf_counter()
print(json.dumps({"import_s": imported - start, "first_call_s": t1 - t0, "second_call_s": t2 - t1,
                  **kernel_cache_stats()}))
"""


def _measure_cache(cold: bool) -> dict[str, Any]:
    """First-call time of the kernel in two fresh interpreters, one after the other."""
    env = dict(os.environ)
    env.pop("NUMBA_DISABLE_JIT", None)
    with tempfile.TemporaryDirectory(prefix="fusioncheck-numba-cache-") as cache_dir:
        if cold:
            env["NUMBA_CACHE_DIR"] = cache_dir
        runs = []
        for _ in range(2):
            completed = subprocess.run(
                [sys.executable, "-c", _CACHE_PROBE], env=env, capture_output=True, text=True, check=False
            )
            if completed.returncode != 0:
                raise RuntimeError(f"numba cache probe failed:\n{completed.stderr}")
            runs.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    return {"mode": "cold temporary cache" if cold else "installed cache", "runs": runs}

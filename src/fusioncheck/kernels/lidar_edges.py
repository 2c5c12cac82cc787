"""Numba kernels for LiDAR edge extraction: a camera's field-of-view mask and vertical ring neighbours.

Used by :mod:`fusioncheck.checks.camera_calibration` and :func:`fusioncheck.checks.edge_evidence.
depth_edges`; both replace numpy paths that made several full passes (and float64 copies) over a sweep.
Their numpy references stay in those modules (:func:`fusioncheck.checks.camera_calibration.
field_of_view_reference`, :func:`fusioncheck.checks.edge_evidence.vertical_neighbours_reference`) and the
tests compare the two.
"""

from __future__ import annotations

import numba
import numpy as np

from fusioncheck.typing import BoolArray, FloatArray, IntArray


@numba.njit(cache=True)
def _fov_kernel(
    points: np.ndarray, rotation: np.ndarray, translation: np.ndarray, half_u: float, half_v: float,
    min_depth_m: float, out: np.ndarray,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    r00, r01, r02 = rotation[0, 0], rotation[0, 1], rotation[0, 2]
    r10, r11, r12 = rotation[1, 0], rotation[1, 1], rotation[1, 2]
    r20, r21, r22 = rotation[2, 0], rotation[2, 1], rotation[2, 2]
    t0, t1, t2 = translation[0], translation[1], translation[2]
    for i in range(points.shape[0]):
        x = np.float64(points[i, 0])
        y = np.float64(points[i, 1])
        z = np.float64(points[i, 2])
        cz = r20 * x + r21 * y + r22 * z + t2
        if not cz > min_depth_m:
            out[i] = False
            continue
        cx = r00 * x + r01 * y + r02 * z + t0
        cy = r10 * x + r11 * y + r12 * z + t1
        out[i] = abs(cx) < half_u * cz and abs(cy) < half_v * cz


def fov_mask(
    points_xyz: np.ndarray, rotation: FloatArray, translation: FloatArray, half_u: float, half_v: float,
    min_depth_m: float = 0.5,
) -> BoolArray:  # fmt: skip
    """Which points lie in front of a camera inside a pinhole frustum.

    Args:
        points_xyz: ``(N, 3)`` metres, LiDAR frame, float32 or float64 (any strides: a view of the sweep's
            columns is read in place, each coordinate converted to float64).
        rotation: ``(3, 3)`` rotation of ``camera_from_lidar``.
        translation: ``(3,)`` translation of ``camera_from_lidar``, metres.
        half_u: tangent of the frustum's horizontal half-angle (camera x right).
        half_v: tangent of the frustum's vertical half-angle (camera y down).
        min_depth_m: camera z a point must exceed, metres.

    Returns:
        ``(N,)`` bool: ``z > min_depth_m and |x| < half_u z and |y| < half_v z`` in the camera frame.
    """
    pts = np.asarray(points_xyz)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ValueError(f"points_xyz: expected shape (N, 3), got {pts.shape}")
    if pts.dtype not in (np.float32, np.float64):
        pts = pts.astype(np.float64)
    out = np.empty(pts.shape[0], dtype=np.bool_)
    _fov_kernel(
        pts,
        np.ascontiguousarray(rotation, dtype=np.float64),
        np.ascontiguousarray(translation, dtype=np.float64),
        float(half_u), float(half_v), float(min_depth_m), out,
    )  # fmt: skip
    return out


@numba.njit(cache=True)
def _nearest_into(
    azimuth: np.ndarray, points: np.ndarray, line: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    n_line = line.shape[0]
    for q in range(points.shape[0]):
        p = points[q]
        if n_line == 0:
            out[p] = -1
            continue
        if n_line == 1:
            out[p] = line[0]
            continue
        a = azimuth[p]
        # searchsorted(side="left"): the first index whose azimuth is not below a (NaN sorts last).
        lo, hi = 0, n_line
        while lo < hi:
            mid = (lo + hi) >> 1
            if azimuth[line[mid]] < a:
                lo = mid + 1
            else:
                hi = mid
        j = min(max(lo, 1), n_line - 1)
        left = line[j - 1]
        right = line[j]
        out[p] = left if abs(azimuth[left] - a) <= abs(azimuth[right] - a) else right


@numba.njit(cache=True)
def _vertical_kernel(
    azimuth: np.ndarray, order: np.ndarray, starts: np.ndarray, ends: np.ndarray, by_elevation: np.ndarray,
    up: np.ndarray, down: np.ndarray,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    for k in range(by_elevation.shape[0] - 1):
        lo = by_elevation[k]
        hi = by_elevation[k + 1]
        lower = order[starts[lo] : ends[lo]]
        upper = order[starts[hi] : ends[hi]]
        _nearest_into(azimuth, lower, upper, up)
        _nearest_into(azimuth, upper, lower, down)


def vertical_neighbours(
    azimuth: FloatArray, order: IntArray, starts: IntArray, ends: IntArray, by_elevation: IntArray
) -> tuple[IntArray, IntArray]:
    """Nearest-azimuth point of the ring next above (``up``) and below (``down``) in elevation.

    Args:
        azimuth: ``(N,)`` radians per point.
        order: ``(N,)`` point indices sorted by ring, then azimuth.
        starts: ``(R,)`` start of each ring's slice of ``order``.
        ends: ``(R,)`` end (exclusive) of each ring's slice of ``order``.
        by_elevation: ``(R,)`` rings sorted by elevation, lowest first.

    Returns:
        ``up``, ``down``: ``(N,)`` int64 point index, -1 where there is no ring above/below.
    """
    n = int(np.asarray(azimuth).shape[0])
    up = np.full(n, -1, dtype=np.int64)
    down = np.full(n, -1, dtype=np.int64)
    _vertical_kernel(
        np.ascontiguousarray(azimuth, dtype=np.float64), np.ascontiguousarray(order, dtype=np.int64),
        np.ascontiguousarray(starts, dtype=np.int64), np.ascontiguousarray(ends, dtype=np.int64),
        np.ascontiguousarray(by_elevation, dtype=np.int64), up, down,
    )  # fmt: skip
    return up, down


@numba.njit(cache=True)
def _segment_medians_kernel(
    values: np.ndarray, order: np.ndarray, starts: np.ndarray, ends: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    for k in range(starts.shape[0]):
        n = ends[k] - starts[k]
        if n == 0:
            out[k] = np.nan
            continue
        seg = np.empty(n)
        has_nan = False
        for q in range(n):
            seg[q] = values[order[starts[k] + q]]
            has_nan = has_nan or np.isnan(seg[q])
        if has_nan:  # numpy's median of a segment with NaN is NaN
            out[k] = np.nan
            continue
        seg.sort()
        h = n // 2
        # np.median: the middle value, or the mean of the two middle values (sum, then divide).
        out[k] = seg[h] if n % 2 == 1 else (seg[h - 1] + seg[h]) / 2.0


def segment_medians(values: FloatArray, order: IntArray, starts: IntArray, ends: IntArray) -> FloatArray:
    """``np.median(values[order[s:e]])`` for every segment ``(s, e)`` of ``starts``/``ends``: ``(R,)``.

    Used for the median elevation of every ring (``order`` sorted by ring); NaN where a segment holds a
    NaN (as numpy) or is empty.
    """
    out = np.empty(np.asarray(starts).shape[0], dtype=np.float64)
    _segment_medians_kernel(
        np.ascontiguousarray(values, dtype=np.float64), np.ascontiguousarray(order, dtype=np.int64),
        np.ascontiguousarray(starts, dtype=np.int64), np.ascontiguousarray(ends, dtype=np.int64), out,
    )  # fmt: skip
    return out


def warm_up() -> None:
    """Compile (or load from the numba cache) the kernels, float32 strided and float64 points."""
    sweep = np.zeros((4, 4), dtype=np.float32)
    sweep[:, 0] = 5.0
    for pts in (sweep[:, :3], np.zeros((4, 3)), np.ascontiguousarray(sweep[:, :3])):
        fov_mask(pts, np.eye(3), np.zeros(3), 1.0, 1.0)
    az = np.array([0.1, 0.2, 0.15, 0.3])
    vertical_neighbours(az, np.array([0, 1, 2, 3]), np.array([0, 2]), np.array([2, 4]), np.array([1, 0]))
    segment_medians(az, np.array([0, 1, 2, 3]), np.array([0, 2]), np.array([2, 4]))

"""Scan lines (rings) of a rotating LiDAR recovered from the storage order of its points.

Some formats (KITTI's Velodyne ``.bin``) store a sweep one laser after another, each laser's points in
firing order, but carry no ring index. Within one laser's scan the azimuth advances monotonically (up to
noise and missing returns) through one revolution, wrapping once across +-pi; the next laser's scan then
starts again near the first one's start azimuth. :func:`rings_from_scan_order` walks the points once and
starts a new ring when, more than half a revolution into the current ring, the azimuth crosses the
azimuth of the sweep's first point (every scan of a sweep starts there, KITTI: straight ahead).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from fusioncheck.typing import FloatArray, IntArray


@numba.njit(cache=True)
def _wrap(a: float) -> float:  # pragma: no cover - compiled
    while a < -math.pi:
        a += 2.0 * math.pi
    while a >= math.pi:
        a -= 2.0 * math.pi
    return a


@numba.njit(cache=True)
def _rings(azimuth: np.ndarray, direction: float, out: np.ndarray) -> None:  # pragma: no cover - compiled
    n = azimuth.shape[0]
    ring = 0
    reference = azimuth[0] * direction
    travelled = 0.0
    previous = reference
    for i in range(n):
        a = azimuth[i] * direction
        step = _wrap(a - previous)
        travelled += step
        # Crossing the sweep's start azimuth after more than half a revolution: the next laser's scan.
        if travelled > math.pi and _wrap(previous - reference) < 0.0 <= _wrap(a - reference):
            ring += 1
            travelled = _wrap(a - reference)
        previous = a
        out[i] = ring


@numba.njit(cache=True)
def _spin_direction_kernel(azimuth: np.ndarray) -> float:  # pragma: no cover - compiled
    # The sign of np.median(steps) in one pass, without sorting: with k negative steps out of n, the median
    # is negative when k > n // 2 (odd n) / k > n / 2 (even n); for even n and k == n / 2 it is the mean of
    # the largest negative and the smallest non-negative step.
    n = azimuth.shape[0] - 1
    negative = 0
    largest_negative = -np.inf
    smallest_non_negative = np.inf
    for i in range(n):
        step = (azimuth[i + 1] - azimuth[i] + math.pi) % (2.0 * math.pi) - math.pi
        if np.isnan(step):
            return -1.0  # np.median is NaN, and NaN >= 0 is False
        if step < 0.0:
            negative += 1
            largest_negative = max(largest_negative, step)
        else:
            smallest_non_negative = min(smallest_non_negative, step)
    if n % 2 == 1:
        return 1.0 if negative <= n // 2 else -1.0
    if negative < n // 2:
        return 1.0
    if negative > n // 2:
        return -1.0
    return 1.0 if (largest_negative + smallest_non_negative) / 2.0 >= 0.0 else -1.0


def spin_direction(azimuth: FloatArray) -> float:
    """``+1`` (counter-clockwise) or ``-1``: the sign of the median azimuth step of a sweep in storage order.

    Args:
        azimuth: ``(N,)`` radians per point, storage order, ``N >= 2``.

    Returns:
        ``1.0`` when ``np.median(wrapped steps) >= 0`` else ``-1.0`` (one pass, no sort; same decision).
    """
    a = np.ascontiguousarray(azimuth, dtype=np.float64)
    if a.shape[0] < 2:
        return 1.0
    return float(_spin_direction_kernel(a))


def spin_direction_reference(azimuth: FloatArray) -> float:
    """Plain-numpy reference of :func:`spin_direction`; for tests."""
    a = np.asarray(azimuth, dtype=np.float64)
    steps = (np.diff(a) + np.pi) % (2.0 * np.pi) - np.pi if a.shape[0] > 1 else np.zeros(1)
    return 1.0 if np.median(steps) >= 0.0 else -1.0


def rings_from_scan_order(points_xyz: FloatArray, azimuth: FloatArray | None = None) -> IntArray:
    """Ring index per point from the storage (firing) order of a sweep.

    Args:
        points_xyz: ``(N, 3)`` metres, LiDAR sensor frame (x forward, y left, z up), in storage order.
        azimuth: ``(N,)`` ``arctan2(y, x)`` of the points, radians, when the caller has it already.

    Returns:
        ``(N,)`` int64 ring index, 0 for the first stored laser scan, increasing by one per scan. Rings are
        numbered in storage order, not by elevation.
    """
    p = np.asarray(points_xyz, dtype=np.float64)
    n = p.shape[0]
    out = np.zeros(n, dtype=np.int64)
    if n == 0:
        return out
    if azimuth is None:
        azimuth = np.arctan2(p[:, 1], p[:, 0])
    elif np.shape(azimuth) != (n,):
        raise ValueError(f"azimuth: expected shape ({n},), got {np.shape(azimuth)}")
    azimuth = np.ascontiguousarray(azimuth, dtype=np.float64)
    # Spin direction: the sign of the typical azimuth step (counter-clockwise for KITTI's HDL-64).
    direction = spin_direction(azimuth)
    _rings(azimuth, direction, out)
    return out


def warm_up() -> None:
    """Compile (or load from the numba cache) the ring kernel."""
    a = np.linspace(0.0, 4.0 * np.pi, 50)
    rings_from_scan_order(np.stack([np.cos(a), np.sin(a), np.zeros(50)], axis=1))
    spin_direction(np.array([0.0, 0.1]))

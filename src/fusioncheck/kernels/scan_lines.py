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
    steps = (np.diff(azimuth) + np.pi) % (2.0 * np.pi) - np.pi if n > 1 else np.zeros(1)
    direction = 1.0 if np.median(steps) >= 0.0 else -1.0
    _rings(azimuth, direction, out)
    return out


def warm_up() -> None:
    """Compile (or load from the numba cache) the ring kernel."""
    a = np.linspace(0.0, 4.0 * np.pi, 50)
    rings_from_scan_order(np.stack([np.cos(a), np.sin(a), np.zeros(50)], axis=1))

"""Ray ground scan: walk outward along each azimuth sector, keeping the lowest cells that continue the ground.

The classic ray-ground filter of rotating-LiDAR pipelines: in a polar grid around the sensor, the ground
height of a sector's next range bin is the bin's lowest point if it lies within ``max_slope`` (rise over
run, over at most two bins) plus ``step_m`` of the ground found so far; otherwise the bin holds an
obstacle (a car, a wall, a bush) and the ground is carried forward underneath it.
"""

from __future__ import annotations

import numba
import numpy as np

from fusioncheck.typing import BoolArray, FloatArray


@numba.njit(cache=True)
def _scan(
    low_z: np.ndarray, bin_m: float, max_slope: float, step_m: float, start_m: float
) -> tuple[np.ndarray, np.ndarray]:
    n_sectors, n_bins = low_z.shape
    ground = np.empty((n_sectors, n_bins))
    observed = np.zeros((n_sectors, n_bins), dtype=np.bool_)
    for s in range(n_sectors):
        g = start_m
        last_r = 0.0
        for b in range(n_bins):
            v = low_z[s, b]
            r = (b + 0.5) * bin_m
            # The allowance grows with the gap since the last ground bin, but only up to two bins: over a
            # longer gap (an occluded stretch) a larger rise is more likely a roof than a hill.
            allowed = max_slope * min(r - last_r, 2.0 * bin_m) + step_m
            if not np.isnan(v) and abs(v - g) <= allowed:
                g = v
                last_r = r
                observed[s, b] = True
            ground[s, b] = g
    return ground, observed


def ray_ground_scan(
    low_z: FloatArray, bin_m: float, max_slope: float, step_m: float, start_m: float
) -> tuple[FloatArray, BoolArray]:
    """Ground height per polar cell.

    Args:
        low_z: ``(S, B)`` float64, the lowest point height per (sector, range bin), metres; NaN = no point.
        bin_m: range bin length, metres (bin ``b`` is centred at ``(b + 0.5) * bin_m``).
        max_slope: largest accepted ground slope, rise over run.
        step_m: extra height step accepted between consecutive ground bins (curbs, noise), metres.
        start_m: ground height assumed at the sensor's foot, metres.

    Returns:
        ``ground`` ``(S, B)`` float64 metres (carried forward under obstacles) and ``observed`` ``(S, B)``
        bool, True where the bin's own points are ground.
    """
    z = np.ascontiguousarray(low_z, dtype=np.float64)
    ground, observed = _scan(z, float(bin_m), float(max_slope), float(step_m), float(start_m))
    return ground, observed


def warm_up() -> None:
    """Compile (or load from the numba cache) the scan kernel."""
    low_z = np.array([[-1.8, np.nan, -1.7], [-1.8, -0.5, -1.8]], dtype=np.float64)
    ray_ground_scan(low_z, bin_m=1.0, max_slope=0.3, step_m=0.1, start_m=-1.8)

"""Local ground height around the sensor from one LiDAR sweep (a polar ray-ground model).

Used to exclude ground points from box-face spill and to measure how far a box floats above or sinks
below the road. Points inside boxes are left out of the fit; the rest go into a polar grid around the
sensor (``sector_deg`` x ``bin_m``), and each sector is walked outward keeping the lowest cells that
continue the ground within ``max_slope`` (see :mod:`fusioncheck.kernels.ground_scan`). Far bins that only
hold walls or vegetation therefore do not lift the ground, and curbs and slopes are followed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.errors import check_shape
from fusioncheck.kernels.ground_scan import ray_ground_scan
from fusioncheck.typing import BoolArray, FloatArray


@dataclass(frozen=True, eq=False)
class GroundModel:
    """Ground height on a polar grid around the sensor, in a z-up frame.

    Attributes:
        origin_m: ``(2,)`` x, y of the sensor (grid centre), metres.
        sector_rad: angular width of a sector, radians.
        bin_m: range bin length, metres.
        heights_m: ``(S, B)`` float64 ground height per cell, metres.
        observed: ``(S, B)`` bool, True where the cell's own points are ground (else carried forward).
    """

    origin_m: FloatArray
    sector_rad: float
    bin_m: float
    heights_m: FloatArray
    observed: BoolArray

    @staticmethod
    def fit(
        points: FloatArray,
        eligible: BoolArray,
        origin_m: FloatArray,
        fallback_start_m: float = 0.0,
        sector_deg: float = 2.0,
        bin_m: float = 1.0,
        max_range_m: float = 100.0,
        max_slope: float = 0.3,
        step_m: float = 0.15,
    ) -> GroundModel:
        """Fit to the ``eligible`` rows of ``points`` ``(N, 3)`` (metres, z-up frame).

        ``origin_m`` is the sensor position (only x, y are used). The scan starts from the ground height
        seen in the near bins; ``fallback_start_m`` is used when they hold too few points.
        """
        check_shape("points", points, (-1, 3))
        origin = np.asarray(origin_m, dtype=np.float64)[:2]
        n_sectors = round(360.0 / sector_deg)
        n_bins = int(np.ceil(max_range_m / bin_m))
        p = np.asarray(points, dtype=np.float64)[np.asarray(eligible, dtype=bool)]
        d = p[:, :2] - origin
        r = np.hypot(d[:, 0], d[:, 1])
        keep = r < n_bins * bin_m
        sector = (np.floor((np.arctan2(d[keep, 1], d[keep, 0]) + np.pi) / (2 * np.pi) * n_sectors)).astype(
            np.int64
        )
        sector = np.minimum(sector, n_sectors - 1)
        cell = sector * n_bins + (r[keep] / bin_m).astype(np.int64)
        low = np.full(n_sectors * n_bins, np.inf)
        np.minimum.at(low, cell, p[keep, 2])
        low[np.isinf(low)] = np.nan
        low_z = low.reshape(n_sectors, n_bins)
        start = _start_height(low_z, bin_m, fallback_start_m)
        heights, observed = ray_ground_scan(low_z, bin_m, max_slope, step_m, start)
        return GroundModel(origin, 2 * np.pi / n_sectors, bin_m, heights, observed)

    def _cells(self, xy: FloatArray) -> tuple[np.ndarray, np.ndarray, BoolArray]:
        q = np.asarray(xy, dtype=np.float64).reshape(-1, 2) - self.origin_m
        n_sectors, n_bins = self.heights_m.shape
        sector = np.floor((np.arctan2(q[:, 1], q[:, 0]) + np.pi) / self.sector_rad).astype(np.int64)
        sector = np.clip(sector, 0, n_sectors - 1)
        b = np.floor(np.hypot(q[:, 0], q[:, 1]) / self.bin_m).astype(np.int64)
        inside = b < n_bins
        return sector, np.minimum(b, n_bins - 1), inside

    def height_at(self, xy: FloatArray) -> FloatArray:
        """Ground height ``(K,)`` at ``(K, 2)`` positions; NaN beyond the grid's range."""
        sector, b, inside = self._cells(xy)
        return np.where(inside, self.heights_m[sector, b], np.nan)

    def observed_at(self, xy: FloatArray) -> BoolArray:
        """``(K,)`` True where the ground at the position was seen directly (not carried forward)."""
        sector, b, inside = self._cells(xy)
        return np.asarray(inside & self.observed[sector, b])

    def ground_mask(self, points: FloatArray, clearance_m: float) -> BoolArray:
        """``(N,)`` True for points less than ``clearance_m`` above the local ground (or below it)."""
        p = np.asarray(points, dtype=np.float64)
        h = self.height_at(p[:, :2])
        return np.asarray(np.isfinite(h) & (p[:, 2] < h + clearance_m))


def _start_height(low_z: FloatArray, bin_m: float, fallback_m: float) -> float:
    """Ground height at the sensor's foot: the median of the lower half of the near bins' (3-15 m) minima."""
    lo, hi = int(3.0 / bin_m), int(15.0 / bin_m)
    near = low_z[:, lo:hi]
    values = np.sort(near[np.isfinite(near)])
    if values.size < 10:
        return fallback_m
    # The lower half of the near bins' minima: obstacles only ever lift a bin's minimum.
    return float(np.median(values[: max(1, values.size // 2)]))

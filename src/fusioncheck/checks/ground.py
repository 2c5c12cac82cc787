"""Local ground height from a LiDAR sweep: a grid of low percentiles of the points outside every box.

Used to exclude ground points from box-face spill and to measure how far a box floats above or sinks
below the road. The model is deliberately simple (no plane fit), so slopes and curbs are followed cell by
cell; cells whose value stands out from their neighbourhood (a tree crown, a wall top over a hidden
ground) are replaced by the neighbourhood median.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from fusioncheck.errors import check_shape
from fusioncheck.typing import BoolArray, FloatArray, IntArray

#: A cell's value may exceed its neighbourhood's median by this much before it counts as an outlier.
_OUTLIER_STEP_M = 0.5


@dataclass(frozen=True, eq=False)
class GroundGrid:
    """Ground height per ``cell_m`` square cell of the x-y plane of one frame (z up).

    Attributes:
        cell_m: cell edge length, metres.
        origin_m: ``(2,)`` x, y of the lower-left corner of cell ``(0, 0)``, metres.
        heights_m: ``(nx, ny)`` float64 ground height per cell; NaN where no point supports it.
        support: ``(nx, ny)`` int64 number of points per cell.
    """

    cell_m: float
    origin_m: FloatArray
    heights_m: FloatArray
    support: IntArray

    @staticmethod
    def fit(points: FloatArray, eligible: BoolArray, cell_m: float = 2.0, percentile: float = 10.0) -> GroundGrid:
        """Fit the grid to the ``eligible`` rows of ``points`` ``(N, 3)`` (metres, a z-up frame)."""
        check_shape("points", points, (-1, 3))
        p = np.asarray(points, dtype=np.float64)[np.asarray(eligible, dtype=bool)]
        if p.shape[0] == 0:
            return GroundGrid(cell_m, np.zeros(2), np.full((1, 1), np.nan), np.zeros((1, 1), dtype=np.int64))
        origin = np.floor(p[:, :2].min(axis=0) / cell_m) * cell_m
        ij = np.floor((p[:, :2] - origin) / cell_m).astype(np.int64)
        shape = (int(ij[:, 0].max()) + 1, int(ij[:, 1].max()) + 1)
        flat = ij[:, 0] * shape[1] + ij[:, 1]
        order = np.lexsort((p[:, 2], flat))
        flat_sorted = flat[order]
        cells, start, count = np.unique(flat_sorted, return_index=True, return_counts=True)
        rank = start + np.floor(count * percentile / 100.0).astype(np.int64)
        heights = np.full(shape[0] * shape[1], np.nan)
        heights[cells] = p[order[rank], 2]
        support = np.zeros(shape[0] * shape[1], dtype=np.int64)
        support[cells] = count
        heights = heights.reshape(shape)
        support = support.reshape(shape)
        return GroundGrid(cell_m, origin, _suppress_outliers(heights), support)

    def height_at(self, xy: FloatArray) -> FloatArray:
        """Ground height ``(K,)`` at ``(K, 2)`` positions; NaN outside the grid or over unsupported cells."""
        q = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        ij = np.floor((q - self.origin_m) / self.cell_m).astype(np.int64)
        nx, ny = self.heights_m.shape
        inside = (ij[:, 0] >= 0) & (ij[:, 0] < nx) & (ij[:, 1] >= 0) & (ij[:, 1] < ny)
        out = np.full(q.shape[0], np.nan)
        out[inside] = self.heights_m[ij[inside, 0], ij[inside, 1]]
        return out

    def support_near(self, xy: FloatArray) -> int:
        """Number of points in the distinct supported cells that the ``(K, 2)`` positions fall in."""
        q = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        ij = np.floor((q - self.origin_m) / self.cell_m).astype(np.int64)
        nx, ny = self.support.shape
        inside = (ij[:, 0] >= 0) & (ij[:, 0] < nx) & (ij[:, 1] >= 0) & (ij[:, 1] < ny)
        cells = np.unique(ij[inside, 0] * ny + ij[inside, 1])
        return int(self.support.reshape(-1)[cells].sum())

    def fallback_height(self) -> float:
        """Median ground height over all supported cells (NaN when there is none)."""
        values = self.heights_m[np.isfinite(self.heights_m)]
        return float(np.median(values)) if values.size else float("nan")

    def ground_mask(self, points: FloatArray, clearance_m: float) -> BoolArray:
        """``(N,)`` True for points within ``clearance_m`` above the local ground (or below it)."""
        p = np.asarray(points, dtype=np.float64)
        h = self.height_at(p[:, :2])
        h = np.where(np.isfinite(h), h, self.fallback_height())
        return np.asarray(p[:, 2] < h + clearance_m)


def _suppress_outliers(heights: FloatArray) -> FloatArray:
    """Replace cells that stand far above their 5x5 neighbourhood median (and fill gaps from it)."""
    finite = np.isfinite(heights)
    if finite.sum() < 3:
        return heights
    filled = np.where(finite, heights, np.nanmedian(heights))
    neighbourhood = ndimage.median_filter(filled, size=5, mode="nearest")
    out = heights.copy()
    outlier = finite & (heights > neighbourhood + _OUTLIER_STEP_M)
    out[outlier] = neighbourhood[outlier]
    return out

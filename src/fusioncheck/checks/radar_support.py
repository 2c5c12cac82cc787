"""Associate radar returns with the labelled boxes moved to the scan's own timestamp.

A return supports a box when it lies inside the box's footprint grown by a gate (x-y only: the ARS 408
measures no elevation). The gate is ``gate_m + gate_per_m * range`` on every side: radar positions
scatter more with range (azimuth error times range), and a return comes from anywhere on the visible
outline. A return inside two grown boxes goes to the one whose centre is nearer. One points-in-boxes
kernel pass does the work (boxes made tall enough to hold any return height).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.checks.box_motion import BoxesAt
from fusioncheck.checks.radar_returns import GlobalReturns
from fusioncheck.kernels.points_in_boxes import points_in_boxes
from fusioncheck.scene.boxes import BoxArrays
from fusioncheck.typing import FloatArray, IntArray

#: Boxes are made this tall for association (metres): radar heights say nothing.
_TALL_M = 1000.0


@dataclass(frozen=True)
class Association:
    """Which box each return of a scan supports.

    Attributes:
        box: ``(N,)`` int64 index into the :class:`BoxesAt` boxes, -1 for none.
        predicted_radial_mps: ``(N,)`` the radial velocity the associated box's track predicts at the
            return (``v_box . los``, m/s); NaN for unassociated returns.
    """

    box: IntArray
    predicted_radial_mps: FloatArray


def associate(returns: GlobalReturns, boxes: BoxesAt, gate_m: float, gate_per_m: float) -> Association:
    """Associate the returns of one scan with ``boxes`` (taken at the scan's timestamp)."""
    n = len(returns)
    out = np.full(n, -1, dtype=np.int64)
    if n == 0 or len(boxes) == 0:
        return Association(out, np.full(n, np.nan))
    b = boxes.boxes
    # Grow each box by the gate of its own range, so one kernel pass suffices.
    box_range = np.hypot(*(b.centers_m[:, :2] - returns.origin_m[:2]).T)
    grow = gate_m + gate_per_m * box_range
    sizes = b.sizes_m.copy()
    sizes[:, :2] += 2.0 * grow[:, None]
    sizes[:, 2] = _TALL_M
    grown = BoxArrays(b.centers_m, sizes, b.rotations)
    hits = points_in_boxes(returns.positions_m, grown)
    out[:] = hits.point_box
    inside = np.flatnonzero(out >= 0)
    if inside.size:
        # Overlapping grown boxes: the kernel gives the lowest index; prefer the nearest centre instead.
        multi = hits.counts.sum() > inside.size
        if multi:
            for i in inside:
                d = np.einsum("mij,mi->mj", b.rotations, returns.positions_m[i] - b.centers_m)
                within = np.all(np.abs(d[:, :2]) <= sizes[:, :2] / 2, axis=1)
                candidates = np.flatnonzero(within)
                if candidates.size > 1:
                    dist = np.hypot(*(b.centers_m[candidates, :2] - returns.positions_m[i, :2]).T)
                    out[i] = candidates[int(np.argmin(dist))]
    predicted = np.full(n, np.nan)
    ok = out >= 0
    predicted[ok] = np.sum(boxes.velocities_mps[out[ok], :2] * returns.los[ok], axis=1)
    return Association(out, predicted)

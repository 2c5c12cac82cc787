"""Objective curves of a time offset: how far points lie from the faces of boxes moved along their motion.

Every point ``i`` belongs to one group ``g`` (an object track) and is given in its box's own frame at
offset 0 (``local_m[i]``) together with the rate at which it moves through that frame as the candidate
offset changes (``slope_mps[i]``): at offset ``o`` (seconds) the point sits at
``q = local_m[i] + o * slope_mps[i]``. The loss of a point is its truncated squared distance to the
nearest face of the box, divided by ``tau_m**2`` so that it lies in 0..1:

- outside the box: the Euclidean distance to the box;
- inside: the distance to the nearest side face (x, y) or, with ``use_z``, to the top face.

The bottom face never counts: points near a box's floor are ground, and callers remove them first.
With ``use_z`` false the box is a rectangle in x-y (radar returns have no elevation).

LiDAR and radar return from an object's surface, so the loss is smallest where the box's faces pass
through the points; truncation at ``tau_m`` keeps stray points (clutter, a neighbour) from dominating.
The curve of a group is the weighted sum of its points' losses at every candidate offset.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from fusioncheck.typing import FloatArray, IntArray


@njit(cache=True)
def _offset_curves(
    local_m: FloatArray,
    slope_mps: FloatArray,
    group: IntArray,
    weight: FloatArray,
    half_m: FloatArray,
    offsets_s: FloatArray,
    tau_m: float,
    use_z: bool,
    depth_m: float,
    n_groups: int,
) -> FloatArray:
    n_offsets = offsets_s.shape[0]
    out = np.zeros((n_groups, n_offsets))
    tau2 = tau_m * tau_m
    for i in range(local_m.shape[0]):
        g = group[i]
        hx = half_m[g, 0]
        hy = half_m[g, 1]
        hz = half_m[g, 2]
        w = weight[i] / tau2
        for k in range(n_offsets):
            o = offsets_s[k]
            ax = abs(local_m[i, 0] + o * slope_mps[i, 0]) - hx
            ay = abs(local_m[i, 1] + o * slope_mps[i, 1]) - hy
            dx = ax if ax > 0.0 else 0.0
            dy = ay if ay > 0.0 else 0.0
            d2 = dx * dx + dy * dy
            inside = -ax if -ax < -ay else -ay
            if use_z:
                az = local_m[i, 2] + o * slope_mps[i, 2] - hz
                if az > 0.0:
                    d2 += az * az
                elif -az < inside:
                    inside = -az
            if d2 == 0.0:
                d2 = (inside - depth_m) * (inside - depth_m)
            elif depth_m > 0.0:
                d = np.sqrt(d2) + depth_m
                d2 = d * d
            out[g, k] += w * (d2 if d2 < tau2 else tau2)
    return out


def offset_curves(
    local_m: FloatArray,
    slope_mps: FloatArray,
    group: IntArray,
    weight: FloatArray,
    half_m: FloatArray,
    offsets_s: FloatArray,
    tau_m: float,
    use_z: bool = True,
    depth_m: float = 0.0,
) -> FloatArray:
    """Objective curve of every group over candidate offsets (see the module docstring).

    Args:
        local_m: ``(N, 3)`` float64 point positions in their box's frame at offset 0, metres.
        slope_mps: ``(N, 3)`` float64 motion of each point through its box frame per second of offset.
        group: ``(N,)`` int64 group (object) index of each point, ``0 <= group < G``.
        weight: ``(N,)`` float64 weight of each point.
        half_m: ``(G, 3)`` float64 half sizes of each group's box, metres.
        offsets_s: ``(K,)`` float64 candidate offsets, seconds.
        tau_m: truncation distance, metres (> 0).
        use_z: also measure against the top face (False: rectangles in x-y).
        depth_m: the expected depth of returns inside the outline (radar energy comes back from inside
            the body): the loss measures from the surface moved inward by this much (0 for LiDAR).

    Returns:
        ``(G, K)`` float64 summed weighted losses (lower = better aligned).
    """
    n_groups = int(half_m.shape[0])
    if tau_m <= 0.0:
        raise ValueError(f"tau_m must be positive, got {tau_m}")
    return _offset_curves(
        np.ascontiguousarray(local_m, dtype=np.float64),
        np.ascontiguousarray(slope_mps, dtype=np.float64),
        np.ascontiguousarray(group, dtype=np.int64),
        np.ascontiguousarray(weight, dtype=np.float64),
        np.ascontiguousarray(half_m, dtype=np.float64),
        np.ascontiguousarray(offsets_s, dtype=np.float64),
        float(tau_m),
        bool(use_z),
        float(depth_m),
        n_groups,
    )


def warm_up() -> None:
    """Compile the kernel (or load it from the numba cache) on a tiny input."""
    offset_curves(
        np.zeros((2, 3)), np.ones((2, 3)), np.zeros(2, dtype=np.int64), np.ones(2), np.ones((1, 3)),
        np.array([-0.1, 0.0, 0.1]), 0.3,
    )  # fmt: skip

"""Plain-numpy reference of :mod:`fusioncheck.kernels.box_offset_score` (for tests; same formula)."""

from __future__ import annotations

import numpy as np

from fusioncheck.typing import FloatArray, IntArray


def offset_curves_reference(
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
    """Compute the same as :func:`fusioncheck.kernels.box_offset_score.offset_curves`."""
    q = local_m[None, :, :] + offsets_s[:, None, None] * slope_mps[None, :, :]  # (K, N, 3)
    h = half_m[group]  # (N, 3)
    ax = np.abs(q[..., 0]) - h[:, 0]
    ay = np.abs(q[..., 1]) - h[:, 1]
    d2 = np.maximum(ax, 0.0) ** 2 + np.maximum(ay, 0.0) ** 2
    inside = np.minimum(-ax, -ay)
    if use_z:
        az = q[..., 2] - h[:, 2]
        d2 = d2 + np.maximum(az, 0.0) ** 2
        inside = np.minimum(inside, -az)
    d2 = np.where(d2 == 0.0, (inside - depth_m) ** 2, (np.sqrt(d2) + depth_m) ** 2)
    loss = np.minimum(d2, tau_m**2) / tau_m**2 * weight[None, :]  # (K, N)
    out = np.zeros((half_m.shape[0], offsets_s.size))
    for g in range(half_m.shape[0]):
        out[g] = loss[:, group == g].sum(axis=1)
    return out

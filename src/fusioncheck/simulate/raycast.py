"""Ray casting against yaw-rotated boxes and the ground plane ``z = 0`` (numba kernel + numpy reference).

A ray ``origin + r * direction`` (unit direction, ``r > 0``) hits the nearest of: the ground plane (when
it points down) and every box it enters from outside. Boxes may move between rays: each ray selects a
*state* row of the box poses (one row per LiDAR firing time). Ranges are metres along the ray.

Hit codes: ``>= 0`` the box (part) index, ``GROUND`` (-1) the ground, ``MISS`` (-2) nothing within
``max_range_m``. ``cos_incidence`` is ``|direction . normal|`` of the surface hit (0 for misses).

Culling: each box may carry an azimuth interval (centre, half width, radians, global frame); a ray whose
azimuth ``atan2(dy, dx)`` lies outside it skips the box. Intervals must be conservative for every ray
and state they are used with (see :func:`azimuth_intervals`); a half width ``>= pi`` never culls and a
negative one always does.
"""

from __future__ import annotations

import numba
import numpy as np

from fusioncheck.errors import check_shape
from fusioncheck.typing import FloatArray, IntArray

GROUND = -1
MISS = -2


@numba.njit(cache=True)
def _slab(o: float, d: float, half: float, t_near: float, t_far: float) -> tuple[float, float, bool]:
    """Clip ``[t_near, t_far]`` by one slab ``|o + t d| <= half``; the flag says this slab set t_near."""
    if abs(d) < 1e-15:
        if abs(o) > half:
            return 1.0, 0.0, False
        return t_near, t_far, False
    t1 = (-half - o) / d
    t2 = (half - o) / d
    if t1 > t2:
        t1, t2 = t2, t1
    entered = False
    if t1 > t_near:
        t_near = t1
        entered = True
    if t2 < t_far:
        t_far = t2
    return t_near, t_far, entered


@numba.njit(cache=True)
def _cast_rays_kernel(
    origins: np.ndarray,
    directions: np.ndarray,
    state_index: np.ndarray,
    part_centers: np.ndarray,
    part_yaws: np.ndarray,
    part_half_sizes: np.ndarray,
    azimuth_center: np.ndarray,
    azimuth_half_width: np.ndarray,
    max_range_m: float,
    ranges: np.ndarray,
    hits: np.ndarray,
    cos_incidence: np.ndarray,
) -> None:
    n_rays = origins.shape[0]
    n_parts = part_half_sizes.shape[0]
    pi = np.pi
    for r in range(n_rays):
        ox, oy, oz = origins[r, 0], origins[r, 1], origins[r, 2]
        dx, dy, dz = directions[r, 0], directions[r, 1], directions[r, 2]
        best = max_range_m
        best_hit = -2
        best_cos = 0.0
        if dz < 0.0:
            t_ground = -oz / dz
            if 0.0 < t_ground < best:
                best = t_ground
                best_hit = -1
                best_cos = -dz
        azimuth = np.arctan2(dy, dx)
        s = state_index[r]
        for p in range(n_parts):
            hw = azimuth_half_width[p]
            if hw < 0.0:
                continue
            if hw < pi:
                da = azimuth - azimuth_center[p]
                da = (da + pi) % (2.0 * pi) - pi
                if abs(da) > hw:
                    continue
            c = np.cos(part_yaws[s, p])
            sn = np.sin(part_yaws[s, p])
            px = ox - part_centers[s, p, 0]
            py = oy - part_centers[s, p, 1]
            pz = oz - part_centers[s, p, 2]
            lx = c * px + sn * py
            ly = -sn * px + c * py
            ldx = c * dx + sn * dy
            ldy = -sn * dx + c * dy
            t_near = -np.inf
            t_far = np.inf
            axis = -1
            t_near, t_far, entered = _slab(lx, ldx, part_half_sizes[p, 0], t_near, t_far)
            if entered:
                axis = 0
            t_near, t_far, entered = _slab(ly, ldy, part_half_sizes[p, 1], t_near, t_far)
            if entered:
                axis = 1
            t_near, t_far, entered = _slab(pz, dz, part_half_sizes[p, 2], t_near, t_far)
            if entered:
                axis = 2
            if t_near > t_far or t_near <= 0.0 or t_near >= best:
                continue
            best = t_near
            best_hit = p
            if axis == 0:
                best_cos = abs(ldx)
            elif axis == 1:
                best_cos = abs(ldy)
            else:
                best_cos = abs(dz)
        if best_hit == -2:
            ranges[r] = np.inf
        else:
            ranges[r] = best
        hits[r] = best_hit
        cos_incidence[r] = best_cos


def cast_rays(
    origins: FloatArray,
    directions: FloatArray,
    part_centers: FloatArray,
    part_yaws: FloatArray,
    part_half_sizes: FloatArray,
    max_range_m: float,
    state_index: IntArray | None = None,
    azimuth_center: FloatArray | None = None,
    azimuth_half_width: FloatArray | None = None,
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Cast ``R`` rays against ``P`` boxes in ``S`` states and the ground plane (global frame).

    Args:
        origins: ``(R, 3)`` ray origins, metres.
        directions: ``(R, 3)`` unit directions.
        part_centers: ``(S, P, 3)`` box centres per state, metres.
        part_yaws: ``(S, P)`` box yaws per state, radians (boxes rotate about z only).
        part_half_sizes: ``(P, 3)`` half ``(length, width, height)``, metres.
        max_range_m: hits farther than this are misses.
        state_index: ``(R,)`` state row of each ray; all zeros when omitted.
        azimuth_center: ``(P,)`` culling interval centres, radians; no culling when omitted.
        azimuth_half_width: ``(P,)`` culling interval half widths, radians.

    Returns:
        ranges: ``(R,)`` float64 metres (``inf`` for misses); hits: ``(R,)`` int64 hit codes;
        cos_incidence: ``(R,)`` float64.
    """
    o = np.ascontiguousarray(origins, dtype=np.float64)
    d = np.ascontiguousarray(directions, dtype=np.float64)
    check_shape("origins", o, (-1, 3))
    check_shape("directions", d, (o.shape[0], 3))
    centers = np.ascontiguousarray(part_centers, dtype=np.float64)
    n_parts = centers.shape[1] if centers.ndim == 3 else -1
    check_shape("part_centers", centers, (-1, n_parts, 3))
    yaws = np.ascontiguousarray(part_yaws, dtype=np.float64)
    check_shape("part_yaws", yaws, (centers.shape[0], n_parts))
    half = np.ascontiguousarray(part_half_sizes, dtype=np.float64)
    check_shape("part_half_sizes", half, (n_parts, 3))
    idx = (
        np.zeros(o.shape[0], dtype=np.int64)
        if state_index is None
        else np.ascontiguousarray(state_index, np.int64)
    )
    check_shape("state_index", idx, (o.shape[0],))
    if idx.size and (idx.min() < 0 or idx.max() >= max(centers.shape[0], 1)):
        raise ValueError("state_index out of range of part_centers' states")
    if azimuth_center is None or azimuth_half_width is None:
        az_c = np.zeros(n_parts)
        az_hw = np.full(n_parts, 4.0)
    else:
        az_c = np.ascontiguousarray(azimuth_center, dtype=np.float64)
        az_hw = np.ascontiguousarray(azimuth_half_width, dtype=np.float64)
        check_shape("azimuth_center", az_c, (n_parts,))
        check_shape("azimuth_half_width", az_hw, (n_parts,))
    if centers.shape[0] == 0:
        centers = np.zeros((1, n_parts, 3))
        yaws = np.zeros((1, n_parts))
    ranges = np.empty(o.shape[0])
    hits = np.empty(o.shape[0], dtype=np.int64)
    cos = np.empty(o.shape[0])
    _cast_rays_kernel(o, d, idx, centers, yaws, half, az_c, az_hw, float(max_range_m), ranges, hits, cos)
    return ranges, hits, cos


def cast_rays_reference(
    origins: FloatArray,
    directions: FloatArray,
    part_centers: FloatArray,
    part_yaws: FloatArray,
    part_half_sizes: FloatArray,
    max_range_m: float,
    state_index: IntArray | None = None,
) -> tuple[FloatArray, IntArray]:
    """Plain-numpy brute force of :func:`cast_rays` (no culling); returns ``ranges`` and ``hits``."""
    o = np.asarray(origins, dtype=np.float64)
    d = np.asarray(directions, dtype=np.float64)
    idx = np.zeros(o.shape[0], dtype=np.int64) if state_index is None else np.asarray(state_index)
    centers = np.asarray(part_centers, dtype=np.float64)[idx]  # (R, P, 3)
    yaws = np.asarray(part_yaws, dtype=np.float64)[idx]  # (R, P)
    half = np.asarray(part_half_sizes, dtype=np.float64)[None]  # (1, P, 3)
    c, s = np.cos(yaws), np.sin(yaws)
    p = o[:, None, :] - centers
    local_o = np.stack([c * p[..., 0] + s * p[..., 1], -s * p[..., 0] + c * p[..., 1], p[..., 2]], -1)
    dd = np.broadcast_to(d[:, None, :], p.shape)
    local_d = np.stack([c * dd[..., 0] + s * dd[..., 1], -s * dd[..., 0] + c * dd[..., 1], dd[..., 2]], -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (-half - local_o) / local_d
        t2 = (half - local_o) / local_d
    parallel = np.abs(local_d) < 1e-15
    inside_slab = np.abs(local_o) <= half
    lo = np.where(parallel, np.where(inside_slab, -np.inf, np.inf), np.minimum(t1, t2))
    hi = np.where(parallel, np.where(inside_slab, np.inf, -np.inf), np.maximum(t1, t2))
    t_near = lo.max(-1)
    t_far = hi.min(-1)
    valid = (t_near <= t_far) & (t_near > 0) & (t_near < max_range_m)
    t_box = np.where(valid, t_near, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_ground = np.where(d[:, 2] < 0, -o[:, 2] / d[:, 2], np.inf)
    t_ground = np.where((t_ground > 0) & (t_ground < max_range_m), t_ground, np.inf)
    n_parts = t_box.shape[1]
    all_t = np.concatenate([t_ground[:, None], t_box], axis=1) if n_parts else t_ground[:, None]
    best = np.argmin(all_t, axis=1)
    ranges = all_t[np.arange(o.shape[0]), best]
    hits = np.where(np.isfinite(ranges), best - 1, MISS).astype(np.int64)
    return ranges, hits


def azimuth_intervals(
    origin: FloatArray,
    part_centers: FloatArray,
    part_half_sizes: FloatArray,
    pad_m: FloatArray | float,
    max_range_m: float,
) -> tuple[FloatArray, FloatArray]:
    """Conservative azimuth culling intervals of boxes seen from ``origin``.

    Args:
        origin: ``(3,)`` viewpoint, metres, global frame.
        part_centers: ``(P, 3)`` box centres, metres.
        part_half_sizes: ``(P, 3)`` half sizes, metres.
        pad_m: ``(P,)`` or scalar extra radius covering motion of the viewpoint and the box, metres.
        max_range_m: boxes entirely beyond this range are culled for every ray.

    Returns:
        centre ``(P,)`` and half width ``(P,)`` in radians (negative: always culled; ``pi``: never).
    """
    rel = np.asarray(part_centers, dtype=np.float64)[:, :2] - np.asarray(origin, dtype=np.float64)[None, :2]
    dist = np.hypot(rel[:, 0], rel[:, 1])
    radius = np.hypot(part_half_sizes[:, 0], part_half_sizes[:, 1]) + np.asarray(pad_m, dtype=np.float64)
    centre = np.arctan2(rel[:, 1], rel[:, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.where(dist > radius, np.arcsin(np.clip(radius / dist, 0.0, 1.0)), np.pi)
    half = np.where(dist - radius > max_range_m, -1.0, half)
    return centre, np.asarray(half)

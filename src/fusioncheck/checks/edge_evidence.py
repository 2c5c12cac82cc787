"""Edge evidence shared by camera checks: LiDAR depth discontinuities and their alignment with image edges.

After Levinson & Thrun (RSS 2013): a LiDAR point whose neighbour along the scan line is much farther away
lies on an object's silhouette, and a correct camera-LiDAR extrinsic (and a correct time offset) projects
it onto an image edge. :func:`depth_discontinuities` finds those points and weighs them by the depth jump;
:func:`edge_alignment_score` projects them into a camera (with the package's distortion-aware projection,
honouring its ``valid`` mask) and sums weight x edge attraction (:mod:`fusioncheck.kernels.edge_distance`,
scored by the numba kernel of :mod:`fusioncheck.kernels.edge_score`).

Used by the calibration check (rotations/translations of the extrinsic) and by time-offset estimation
(shifts of the camera time).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from fusioncheck.errors import check_shape
from fusioncheck.geometry.camera import project_points
from fusioncheck.kernels.edge_score import score_projected
from fusioncheck.kernels.lidar_edges import segment_medians, vertical_neighbours
from fusioncheck.kernels.scan_lines import rings_from_scan_order
from fusioncheck.scene.sensors import CameraIntrinsics
from fusioncheck.typing import BoolArray, FloatArray, IntArray

#: Half-width of the azimuth band around the scan seam ignored when rings come from the storage order, deg.
_SEAM_GUARD_DEG = 1.5


@dataclass(frozen=True)
class DiscontinuityParameters:
    """Which LiDAR points count as depth discontinuities.

    Attributes:
        min_jump_m: smallest range difference to a neighbour that makes the nearer point an edge point,
            metres.
        max_gap_deg: two points are neighbours only if their azimuths differ by at most this, degrees (a
            larger gap is a missing return or the scan's start).
        max_weight_m: the weight (the jump) is capped at this, metres, so that a silhouette against the
            sky-far background does not outweigh many silhouettes against near background.
        min_range_m: points nearer than this (the ego vehicle's own body) are ignored, metres.
        vertical: also compare each point with the nearest-azimuth point of the ring next above it in
            elevation (finds top and bottom edges, which constrain the camera's pitch; scan-line
            neighbours only find left and right edges).
        vertical_min_ratio: a vertical jump must also exceed this fraction of the near point's range:
            consecutive rings hitting flat ground are far apart in range (a ring pair at 0.4 deg spacing
            and 20 m is about 2 m apart, ~10 %), which is not an edge.
        smooth_ratio: along a scan line, the jump must exceed this multiple of the range step on the near
            point's other side: a wall seen at a grazing angle steps in range by about the same amount
            from point to point (a ramp, not an edge), a silhouette jumps once off a smooth surface.
    """

    min_jump_m: float = 0.5
    max_gap_deg: float = 1.0
    max_weight_m: float = 10.0
    min_range_m: float = 2.0
    vertical: bool = True
    vertical_min_ratio: float = 0.3
    smooth_ratio: float = 3.0

    def __post_init__(self) -> None:
        for name in (
            "min_jump_m",
            "max_gap_deg",
            "max_weight_m",
            "min_range_m",
            "vertical_min_ratio",
            "smooth_ratio",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")


def depth_discontinuities(
    points_sensor: FloatArray,
    ring: np.ndarray | None = None,
    parameters: DiscontinuityParameters | None = None,
) -> tuple[IntArray, FloatArray]:
    """LiDAR points on the near side of a depth jump to a neighbour: ``(indices, weights)``.

    See :func:`depth_edges`, which also gives the edge positions.
    """
    indices, weights, _ = depth_edges(points_sensor, ring, parameters)
    return indices, weights


def depth_edges(
    points_sensor: FloatArray,
    ring: np.ndarray | None = None,
    parameters: DiscontinuityParameters | None = None,
    scan_order: IntArray | None = None,
) -> tuple[IntArray, FloatArray, FloatArray]:
    """LiDAR points on the near side of a depth jump to a neighbour, and where the edge itself lies.

    Scan lines: ``ring`` gives the beam index of each point (e.g. nuScenes' 5th column); without it the
    rings are recovered from the storage order (:func:`~fusioncheck.kernels.scan_lines.
    rings_from_scan_order`; KITTI's HDL-64 files store one laser's scan after another). Each ring is
    ordered by azimuth, and consecutive points are *horizontal* neighbours when their azimuths differ by at
    most ``max_gap_deg``. With ``vertical``, each point's *vertical* neighbour is the nearest-azimuth point
    of the ring next above in (median) elevation, within the same azimuth gap.

    A point is an edge point when a neighbour's range exceeds its own by more than ``min_jump_m`` (along
    the scan line also by ``smooth_ratio`` times the step to its other neighbour; for vertical neighbours
    by more than ``vertical_min_ratio`` of its range); its weight is the largest
    such jump, capped at ``max_weight_m`` (L&T use the jump's square root; the cap serves the same purpose
    of limiting the weight of sky-far backgrounds).

    Args:
        points_sensor: ``(N, 3)`` metres, LiDAR sensor frame (any float dtype), z up.
        ring: ``(N,)`` integer beam index per point, or ``None`` to recover it from the storage order.
        parameters: thresholds (defaults: :class:`DiscontinuityParameters`).
        scan_order: ``(N,)`` ``np.lexsort((azimuth, ring))`` when the caller has it (with ``ring`` given;
            :func:`scan_line_order`), to sort once for several edge kinds.

    The silhouette itself lies somewhere between the near point and the far neighbour's ray, on average
    half a sampling step beyond the near point: a ring's last hit on a car roof is below the roof's edge.
    Edge *positions* are therefore the near point moved half-way (in direction, at its own range) towards
    the far neighbour of its largest jump; scoring them instead of the raw points removes a systematic
    bias of half the beam spacing (a pitch bias of ~0.2 deg for an HDL-64, more for sparser sensors).

    Returns:
        ``indices`` ``(M,)`` int64 into ``points_sensor`` (ascending), ``weights`` ``(M,)`` float64,
        metres (the capped jump), and ``positions`` ``(M, 3)`` float64, metres, sensor frame.
    """
    p = parameters or DiscontinuityParameters()
    pts = np.asarray(points_sensor, dtype=np.float64)
    check_shape("points_sensor", pts, (-1, 3))
    n = pts.shape[0]
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((0, 3))
    azimuth = np.arctan2(pts[:, 1], pts[:, 0])
    rng = np.sqrt(np.einsum("ij,ij->i", pts, pts))
    if ring is not None:
        r = np.asarray(ring).reshape(-1).astype(np.int64)
        if r.shape[0] != n:
            raise ValueError(f"ring: expected {n} beam indices, got {r.shape[0]}")
    else:
        r = rings_from_scan_order(pts)
        # Around the azimuth where every scan starts, the recovered rings can swap a few points between
        # lasers; points there take no part.
        seam = np.abs(_wrap(azimuth - azimuth[0])) <= math.radians(_SEAM_GUARD_DEG)
        rng = np.where(seam, np.nan, rng)
    order = _order(azimuth, r, scan_order if ring is not None else None)
    max_gap = math.radians(p.max_gap_deg)
    usable = np.isfinite(rng) & (rng >= p.min_range_m)
    weight = np.zeros(n)
    near_parts: list[IntArray] = []
    far_parts: list[IntArray] = []
    jump_parts: list[FloatArray] = []

    def add_pairs(
        a: IntArray,
        b: IntArray,
        min_ratio: float,
        max_elevation_gap: float = math.inf,
        beyond_a: FloatArray | None = None,
        beyond_b: FloatArray | None = None,
    ) -> None:
        """Mark the near point of each pair ``(a, b)`` whose range jump is large enough.

        ``beyond_a``/``beyond_b``: the range step on the *other* side of ``a``/``b`` (the surface the near
        point lies on); a jump must exceed ``smooth_ratio`` times it.
        """
        gap = np.abs(_wrap(azimuth[b] - azimuth[a]))
        ok = usable[a] & usable[b] & (gap <= max_gap)
        if math.isfinite(max_elevation_gap):
            ok &= np.abs(elevation[b] - elevation[a]) <= max_elevation_gap
        jump = np.where(ok, rng[b] - rng[a], 0.0)
        a_front = (jump > p.min_jump_m) & (jump > min_ratio * rng[a])
        b_front = (-jump > p.min_jump_m) & (-jump > min_ratio * rng[b])
        if beyond_a is not None:
            a_front &= jump > p.smooth_ratio * beyond_a
        if beyond_b is not None:
            b_front &= -jump > p.smooth_ratio * beyond_b
        np.maximum.at(weight, a[a_front], jump[a_front])
        np.maximum.at(weight, b[b_front], -jump[b_front])
        near_parts.extend([a[a_front], b[b_front]])
        far_parts.extend([b[a_front], a[b_front]])
        jump_parts.extend([jump[a_front], -jump[b_front]])

    elevation = np.arctan2(pts[:, 2], np.hypot(pts[:, 0], pts[:, 1]))
    a_all, b_all = order[:-1], order[1:]
    same_line = r[b_all] == r[a_all]
    steps = np.where(same_line & usable[a_all] & usable[b_all], np.abs(rng[b_all] - rng[a_all]), 0.0)
    # The step before a pair (on a's far side) and after it (on b's far side); 0 at the ends of a line.
    before = np.concatenate([[0.0], steps[:-1]])
    after = np.concatenate([steps[1:], [0.0]])
    add_pairs(a_all[same_line], b_all[same_line], 0.0, beyond_a=before[same_line], beyond_b=after[same_line])
    if p.vertical:
        sorted_ring = r[order]
        # The first index of every ring value (np.unique(..., return_index=True) of sorted values).
        starts = np.concatenate([[0], np.flatnonzero(sorted_ring[1:] != sorted_ring[:-1]) + 1])
        ends = np.append(starts[1:], n)
        median_el = segment_medians(elevation, order, starts, ends)
        by_elevation = np.argsort(median_el)
        # A vertical pair must be about one ring spacing apart in elevation (not a point of a third ring
        # near a scan seam, where ring assignment from the storage order is least certain).
        spacing = np.diff(median_el[by_elevation])
        max_elevation_gap = 2.0 * float(np.median(spacing)) if spacing.size else math.inf
        up, down = vertical_neighbours(azimuth, order, starts, ends, by_elevation)
        a = np.flatnonzero(up >= 0)
        b = up[a]

        def step(i: IntArray, j: IntArray) -> FloatArray:
            ok = (j >= 0) & usable[i] & usable[np.maximum(j, 0)]
            return np.where(ok, np.abs(rng[np.maximum(j, 0)] - rng[i]), 0.0)

        add_pairs(
            a, b, p.vertical_min_ratio, max_elevation_gap, beyond_a=step(a, down[a]), beyond_b=step(b, up[b])
        )
    indices = np.flatnonzero(weight > 0.0)
    partner = np.full(n, -1, dtype=np.int64)
    if near_parts:
        near = np.concatenate(near_parts)
        far = np.concatenate(far_parts)
        order_by_jump = np.argsort(np.concatenate(jump_parts), kind="stable")
        partner[near[order_by_jump]] = far[order_by_jump]  # the largest jump is assigned last
    unit = pts / np.maximum(rng, 1e-9)[:, None]
    direction = unit[indices] + unit[partner[indices]]
    direction /= np.maximum(np.linalg.norm(direction, axis=1), 1e-9)[:, None]
    positions = direction * rng[indices, None]
    return indices.astype(np.int64), np.minimum(weight[indices], p.max_weight_m), positions


def edge_alignment_score(
    points_cam: FloatArray,
    weights: FloatArray,
    matrix: FloatArray,
    distortion: FloatArray,
    attraction: np.ndarray,
) -> float:
    """Levinson & Thrun's alignment score of depth-discontinuity points with image edges.

    Args:
        points_cam: ``(N, 3)`` metres, camera frame (x right, y down, z forward).
        weights: ``(N,)`` weights of the points (e.g. :func:`depth_discontinuities`' jumps).
        matrix: ``(3, 3)`` camera matrix for the resolution of ``attraction`` (scale ``fx, fy, cx, cy``
            by the decode scale for a reduced image: ``c' = (c + 0.5) * s - 0.5``).
        distortion: OpenCV coefficients ``k1, k2, p1, p2[, k3[, k4, k5, k6]]`` (0, 4, 5 or 8 values).
        attraction: ``(H, W)`` edge-attraction image (:func:`~fusioncheck.kernels.edge_distance.
            edge_attraction_image`).

    Returns:
        ``sum_i w_i D(u_i, v_i)`` over the points that project validly (in front of the camera, inside the
        distortion model's valid field of view) into the image; 0 when none does.
    """
    image = np.asarray(attraction)
    if image.ndim != 2:
        raise ValueError(f"attraction: expected an (H, W) image, got shape {image.shape}")
    intrinsics = CameraIntrinsics(
        matrix=matrix, distortion=distortion, width_px=image.shape[1], height_px=image.shape[0]
    )
    return edge_alignment_score_intrinsics(points_cam, weights, intrinsics, image)


def edge_alignment_score_intrinsics(
    points_cam: FloatArray, weights: FloatArray, intrinsics: CameraIntrinsics, attraction: np.ndarray
) -> float:
    """:func:`edge_alignment_score` with the camera given as :class:`CameraIntrinsics`."""
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    pts = np.asarray(points_cam, dtype=np.float64)
    check_shape("points_cam", pts, (-1, 3))
    if w.shape[0] != pts.shape[0]:
        raise ValueError(f"weights: expected {pts.shape[0]} values, got {w.shape[0]}")
    uv, _depth, valid = project_points(pts, intrinsics)
    score, _ = score_projected(uv, valid, w, attraction)
    return score


def scaled_intrinsics(intrinsics: CameraIntrinsics, scale: float) -> CameraIntrinsics:
    """Intrinsics of the same camera for an image decoded at ``scale`` pixels per original pixel.

    With pixel centres at integer coordinates, a pixel coordinate maps as ``u' = (u + 0.5) * s - 0.5``:
    focal lengths and skew scale by ``s``, the principal point as a pixel coordinate. Distortion (in
    normalised coordinates) is unchanged.
    """
    if not (math.isfinite(scale) and scale > 0.0):
        raise ValueError(f"scale must be a positive finite number, got {scale}")
    if scale == 1.0:
        return intrinsics
    m = intrinsics.matrix.copy()
    m[0, :2] *= scale
    m[1, 1] *= scale
    m[0, 2] = (m[0, 2] + 0.5) * scale - 0.5
    m[1, 2] = (m[1, 2] + 0.5) * scale - 0.5
    return CameraIntrinsics(
        matrix=m,
        distortion=intrinsics.distortion,
        width_px=round(intrinsics.width_px * scale),
        height_px=round(intrinsics.height_px * scale),
    )


def in_view(points_cam: FloatArray, intrinsics: CameraIntrinsics, shape: tuple[int, int]) -> BoolArray:
    """Which camera-frame points project validly into an image of ``shape = (H, W)``: ``(N,)`` bool."""
    uv, _depth, valid = project_points(np.asarray(points_cam, dtype=np.float64), intrinsics)
    h, w = shape
    with np.errstate(invalid="ignore"):
        inside = valid & (uv[:, 0] >= -0.5) & (uv[:, 0] < w - 0.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] < h - 0.5)
    return np.asarray(inside, dtype=np.bool_)


@dataclass(frozen=True)
class ReflectanceParameters:
    """Which LiDAR points count as reflectance edges (paint on the road, signs, number plates).

    Attributes:
        min_jump: smallest intensity difference to a scan-line neighbour, as a fraction of the sweep's
            99th intensity percentile (so that 0..1 and 0..255 intensity scales behave alike).
        max_range_step_m: both points must lie on one surface: ranges within this, metres.
        weight: the weight of a reflectance edge point (depth edges weigh their jump in metres).
        max_gap_deg: neighbours' largest azimuth difference, degrees.
        min_range_m: nearer points are ignored, metres.
    """

    min_jump: float = 0.5
    max_range_step_m: float = 0.3
    weight: float = 3.0
    max_gap_deg: float = 1.0
    min_range_m: float = 2.0


def reflectance_discontinuities(
    points_sensor: FloatArray,
    intensity: FloatArray,
    ring: np.ndarray | None = None,
    parameters: ReflectanceParameters | None = None,
    scan_order: IntArray | None = None,
) -> tuple[IntArray, FloatArray]:
    """LiDAR points on the bright side of an intensity edge along their scan line.

    Lane markings, kerb paint and signs are edges in the image and intensity edges in the LiDAR. On the
    road they lie near the camera and along many directions, so they constrain the camera's pitch and
    roll, which depth edges (mostly vertical silhouettes) constrain poorly.

    Args:
        points_sensor: ``(N, 3)`` metres, LiDAR sensor frame.
        intensity: ``(N,)`` intensity (reflectance) per point, any non-negative scale.
        ring: ``(N,)`` beam index, or ``None`` to recover rings from the storage order.
        parameters: thresholds (defaults: :class:`ReflectanceParameters`).
        scan_order: ``(N,)`` ``np.lexsort((azimuth, ring))`` when the caller has it (with ``ring`` given).

    Returns:
        ``indices`` ``(M,)`` int64 (ascending) and ``weights`` ``(M,)`` float64 (all ``parameters.weight``).
    """
    p = parameters or ReflectanceParameters()
    pts = np.asarray(points_sensor, dtype=np.float64)
    check_shape("points_sensor", pts, (-1, 3))
    inten = np.asarray(intensity, dtype=np.float64).reshape(-1)
    n = pts.shape[0]
    if inten.shape[0] != n:
        raise ValueError(f"intensity: expected {n} values, got {inten.shape[0]}")
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    scale = float(np.nanpercentile(inten, 99.0))
    if not scale > 0.0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    azimuth = np.arctan2(pts[:, 1], pts[:, 0])
    rng = np.sqrt(np.einsum("ij,ij->i", pts, pts))
    r = rings_from_scan_order(pts) if ring is None else np.asarray(ring).reshape(-1).astype(np.int64)
    order = _order(azimuth, r, scan_order if ring is not None else None)
    a, b = order[:-1], order[1:]
    gap = np.abs(_wrap(azimuth[b] - azimuth[a]))
    ok = (
        (r[a] == r[b])
        & (gap <= math.radians(p.max_gap_deg))
        & (np.abs(rng[a] - rng[b]) <= p.max_range_step_m)
        & (rng[a] >= p.min_range_m) & (rng[b] >= p.min_range_m)
    )  # fmt: skip
    step = (inten[b] - inten[a]) / scale
    bright = np.concatenate([b[ok & (step > p.min_jump)], a[ok & (-step > p.min_jump)]])
    indices = np.unique(bright).astype(np.int64)
    return indices, np.full(indices.size, p.weight)


def scan_line_order(points_sensor: FloatArray, ring: np.ndarray) -> IntArray:
    """``(N,)`` point indices sorted by ring, then azimuth (``np.lexsort((azimuth, ring))``), stable."""
    pts = np.asarray(points_sensor, dtype=np.float64)
    return np.lexsort((np.arctan2(pts[:, 1], pts[:, 0]), np.asarray(ring).reshape(-1).astype(np.int64)))


def _order(azimuth: FloatArray, ring: IntArray, given: IntArray | None) -> IntArray:
    if given is None:
        return np.lexsort((azimuth, ring))
    order = np.asarray(given)
    if order.shape != azimuth.shape:
        raise ValueError(f"scan_order: expected shape {azimuth.shape}, got {order.shape}")
    return order


def _wrap(angle: FloatArray) -> FloatArray:
    """Angles wrapped to ``[-pi, pi)``."""
    return np.asarray((angle + math.pi) % (2.0 * math.pi) - math.pi)


def vertical_neighbours_reference(
    azimuth: FloatArray, order: IntArray, starts: IntArray, ends: IntArray, by_elevation: IntArray
) -> tuple[IntArray, IntArray]:
    """Plain-numpy reference of :func:`~fusioncheck.kernels.lidar_edges.vertical_neighbours`; for tests."""
    n = azimuth.shape[0]
    up = np.full(n, -1, dtype=np.int64)
    down = np.full(n, -1, dtype=np.int64)
    for lo, hi in itertools.pairwise(by_elevation):
        lower = order[starts[lo] : ends[lo]]
        upper = order[starts[hi] : ends[hi]]
        up[lower] = _nearest_by_azimuth(azimuth, lower, upper)
        down[upper] = _nearest_by_azimuth(azimuth, upper, lower)
    return up, down


def _nearest_by_azimuth(azimuth: FloatArray, points: IntArray, line: IntArray) -> IntArray:
    """Return, per point of ``points``, the nearest-azimuth point of ``line`` (azimuth-sorted), or -1."""
    if line.size == 0:
        return np.full(points.size, -1, dtype=np.int64)
    if line.size == 1:
        return np.full(points.size, line[0], dtype=np.int64)
    j = np.clip(np.searchsorted(azimuth[line], azimuth[points]), 1, line.size - 1)
    left, right = line[j - 1], line[j]
    return np.where(
        np.abs(azimuth[left] - azimuth[points]) <= np.abs(azimuth[right] - azimuth[points]), left, right
    )

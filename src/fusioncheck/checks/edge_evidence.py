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

import math
from dataclasses import dataclass

import numpy as np

from fusioncheck.errors import check_shape
from fusioncheck.geometry.camera import project_points
from fusioncheck.kernels.edge_score import score_projected
from fusioncheck.scene.sensors import CameraIntrinsics
from fusioncheck.typing import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class DiscontinuityParameters:
    """Which LiDAR points count as depth discontinuities.

    Attributes:
        min_jump_m: smallest range difference to a scan-line neighbour that makes the nearer point an
            edge point, metres.
        max_gap_deg: two consecutive points of a scan line are neighbours only if their azimuths differ by
            at most this, degrees (a larger gap is a missing return, a ring change, or the scan's start).
        max_weight_m: the weight (the jump) is capped at this, metres, so that a silhouette against the
            sky-far background does not outweigh many silhouettes against near background.
        min_range_m: points nearer than this (the ego vehicle's own body) are ignored, metres.
    """

    min_jump_m: float = 0.5
    max_gap_deg: float = 1.0
    max_weight_m: float = 10.0
    min_range_m: float = 2.0

    def __post_init__(self) -> None:
        for name in ("min_jump_m", "max_gap_deg", "max_weight_m", "min_range_m"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")


def depth_discontinuities(
    points_sensor: FloatArray,
    ring: np.ndarray | None = None,
    parameters: DiscontinuityParameters | None = None,
) -> tuple[IntArray, FloatArray]:
    """LiDAR points on the near side of a depth jump along their scan line.

    Scan lines: with ``ring`` (the beam index of each point, e.g. nuScenes' 5th column) the points of
    each ring are ordered by azimuth; without it the storage order is taken as the scan order (KITTI's
    HDL-64 files store one ring after another, each in firing order). Either way, consecutive points are
    neighbours only when their azimuths differ by at most ``max_gap_deg``.

    A point is an edge point when a neighbour's range exceeds its own by more than ``min_jump_m``; its
    weight is the larger such jump, capped at ``max_weight_m`` (L&T use the jump's square root; the cap
    serves the same purpose of limiting the weight of sky-far backgrounds).

    Args:
        points_sensor: ``(N, 3)`` metres, LiDAR sensor frame (any float dtype).
        ring: ``(N,)`` integer beam index per point, or ``None`` to use the storage order.
        parameters: thresholds (defaults: :class:`DiscontinuityParameters`).

    Returns:
        ``indices`` ``(M,)`` int64 into ``points_sensor`` (ascending) and ``weights`` ``(M,)`` float64,
        metres (the capped jump).
    """
    p = parameters or DiscontinuityParameters()
    pts = np.asarray(points_sensor, dtype=np.float64)
    check_shape("points_sensor", pts, (-1, 3))
    n = pts.shape[0]
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    azimuth = np.arctan2(pts[:, 1], pts[:, 0])
    rng = np.sqrt(np.einsum("ij,ij->i", pts, pts))
    if ring is not None:
        r = np.asarray(ring).reshape(-1)
        if r.shape[0] != n:
            raise ValueError(f"ring: expected {n} beam indices, got {r.shape[0]}")
        order = np.lexsort((azimuth, r))
        same_line = r[order[1:]] == r[order[:-1]]
    else:
        order = np.arange(n)
        same_line = np.ones(n - 1, dtype=bool)
    a, b = order[:-1], order[1:]
    gap = np.abs(np.angle(np.exp(1j * (azimuth[b] - azimuth[a]))))
    usable = np.isfinite(rng[a]) & np.isfinite(rng[b]) & (rng[a] >= p.min_range_m) & (rng[b] >= p.min_range_m)
    neighbours = same_line & usable & (gap <= math.radians(p.max_gap_deg))
    jump = np.where(neighbours, rng[b] - rng[a], 0.0)
    weight = np.zeros(n)
    a_front = jump > p.min_jump_m
    b_front = -jump > p.min_jump_m
    np.maximum.at(weight, a[a_front], jump[a_front])
    np.maximum.at(weight, b[b_front], -jump[b_front])
    indices = np.flatnonzero(weight > 0.0)
    return indices.astype(np.int64), np.minimum(weight[indices], p.max_weight_m)


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

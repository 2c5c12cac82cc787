"""Edge-alignment score of LiDAR edge points in one image at many candidate time offsets (one numba call).

For candidate ``k`` the points move to ``world = points + velocity * (offset_k - time)`` (static points
have zero velocity), go into the camera frame through ``camera_from_global[k]`` (rotation ``R_k``,
translation ``t_k``), are projected with the package's distortion-aware projection kernel
(:func:`fusioncheck.geometry.camera._project_kernel`, same formula) and scored on the edge-attraction
image with the edge-score kernel (:func:`fusioncheck.kernels.edge_score._score_kernel`, bilinear). Per
candidate the kernel returns the weighted score and the weight of the points that land inside the image,
so the caller can use the mean attraction. Looping over candidates inside numba removes ~1 ms of Python
overhead per candidate (a few hundred candidates per frame).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from fusioncheck.geometry.camera import (
    DEFAULT_MIN_DEPTH_M,
    _project_kernel,
    distortion_coefficients,
    max_valid_radius,
)
from fusioncheck.kernels.edge_score import _score_kernel
from fusioncheck.scene.sensors import CameraIntrinsics
from fusioncheck.typing import FloatArray


@njit(cache=True)
def _offset_scores(
    points: FloatArray,
    velocity: FloatArray,
    time_s: FloatArray,
    weight: FloatArray,
    offsets_s: FloatArray,
    rotations: FloatArray,
    translations: FloatArray,
    intrinsic: FloatArray,
    k: FloatArray,
    r2_max: float,
    min_depth_m: float,
    image: np.ndarray,
) -> tuple[FloatArray, FloatArray]:  # pragma: no cover - compiled
    n = points.shape[0]
    n_offsets = offsets_s.shape[0]
    cam = np.empty((n, 3))
    uv = np.empty((n, 2))
    valid = np.empty(n, dtype=np.bool_)
    per_point = np.empty(n)
    scores = np.zeros(n_offsets)
    seen = np.zeros(n_offsets)
    h, w = image.shape
    for j in range(n_offsets):
        r = rotations[j]
        t = translations[j]
        for i in range(n):
            dt = offsets_s[j] - time_s[i]
            x = points[i, 0] + velocity[i, 0] * dt
            y = points[i, 1] + velocity[i, 1] * dt
            z = points[i, 2] + velocity[i, 2] * dt
            for a in range(3):
                cam[i, a] = r[a, 0] * x + r[a, 1] * y + r[a, 2] * z + t[a]
        _project_kernel(
            cam, intrinsic[0], intrinsic[1], intrinsic[2], intrinsic[3], intrinsic[4], k, r2_max, min_depth_m,
            uv, valid,
        )  # fmt: skip
        scores[j] = _score_kernel(uv, valid, weight, image, per_point)
        total = 0.0
        for i in range(n):
            u = uv[i, 0]
            v = uv[i, 1]
            if valid[i] and u >= -0.5 and u < w - 0.5 and v >= -0.5 and v < h - 0.5:
                total += weight[i]
        seen[j] = total
    return scores, seen


def offset_scores(
    points_m: FloatArray,
    velocity_mps: FloatArray,
    time_s: FloatArray,
    weight: FloatArray,
    offsets_s: FloatArray,
    camera_from_global: tuple[FloatArray, FloatArray],
    intrinsics: CameraIntrinsics,
    attraction: np.ndarray,
) -> tuple[FloatArray, FloatArray]:
    """Score of the points in one image at every candidate offset.

    Args:
        points_m: ``(N, 3)`` float64 global positions at the points' capture times, metres.
        velocity_mps: ``(N, 3)`` float64 global velocities (0 for static points).
        time_s: ``(N,)`` capture times relative to the image stamp, seconds.
        weight: ``(N,)`` point weights.
        offsets_s: ``(K,)`` candidate offsets, seconds.
        camera_from_global: rotations ``(K, 3, 3)`` and translations ``(K, 3)`` of the camera pose at
            ``stamp + offset_k`` (global -> camera frame).
        intrinsics: the camera at the resolution of ``attraction``.
        attraction: ``(H, W)`` float32 edge-attraction image (any real values).

    Returns:
        ``scores`` ``(K,)``: ``sum w_i D(u_i, v_i)`` over in-image points, and ``seen`` ``(K,)``: the
        weight of the points inside the image.
    """
    k = distortion_coefficients(intrinsics.distortion)
    r_max = max_valid_radius(k)
    m = intrinsics.matrix
    rotations, translations = camera_from_global
    return _offset_scores(
        np.ascontiguousarray(points_m, dtype=np.float64),
        np.ascontiguousarray(velocity_mps, dtype=np.float64),
        np.ascontiguousarray(time_s, dtype=np.float64),
        np.ascontiguousarray(weight, dtype=np.float64),
        np.ascontiguousarray(offsets_s, dtype=np.float64),
        np.ascontiguousarray(rotations, dtype=np.float64),
        np.ascontiguousarray(translations, dtype=np.float64),
        np.array([m[0, 0], m[1, 1], m[0, 2], m[1, 2], m[0, 1]], dtype=np.float64),
        np.ascontiguousarray(k, dtype=np.float64),
        float(r_max * r_max),
        float(DEFAULT_MIN_DEPTH_M),
        np.ascontiguousarray(attraction, dtype=np.float32),
    )


def warm_up() -> None:
    """Compile the kernel (or load it from the numba cache) on a tiny input."""
    intrinsics = CameraIntrinsics(np.array([[100.0, 0.0, 8.0], [0.0, 100.0, 8.0], [0.0, 0.0, 1.0]]))
    offset_scores(
        np.array([[0.0, 0.0, 10.0]]), np.zeros((1, 3)), np.zeros(1), np.ones(1), np.zeros(2),
        (np.stack([np.eye(3)] * 2), np.zeros((2, 3))), intrinsics, np.ones((16, 16), np.float32),
    )  # fmt: skip

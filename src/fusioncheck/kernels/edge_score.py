"""Edge-alignment scoring: weighted sum of an edge-attraction image sampled at projected pixels.

The inner loop of Levinson & Thrun's calibration objective (RSS 2013): for projected LiDAR depth
discontinuities ``i`` with weights ``w_i`` at pixels ``(u_i, v_i)``,

    S = sum_i w_i * D(u_i, v_i)

where ``D`` is the edge-attraction image (:mod:`fusioncheck.kernels.edge_distance`). ``D`` is sampled
bilinearly so that ``S`` changes smoothly with sub-pixel shifts of the projection (a small rotation of the
extrinsic moves every pixel by a fraction of a pixel). Points that are not valid or fall outside the image
(pixel centres at integer coordinates, the image covering ``[-0.5, W - 0.5) x [-0.5, H - 0.5)``)
contribute nothing; at the border the nearest pixel row/column is repeated.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from fusioncheck.typing import BoolArray, FloatArray


@numba.njit(cache=True)
def _sample_bilinear(image: np.ndarray, u: float, v: float) -> float:  # pragma: no cover - compiled
    h, w = image.shape
    uc = min(max(u, 0.0), w - 1.0)
    vc = min(max(v, 0.0), h - 1.0)
    # uc, vc >= 0: truncation is the floor (and cheaper than math.floor).
    u0 = min(int(uc), w - 1)
    v0 = min(int(vc), h - 1)
    u1 = min(u0 + 1, w - 1)
    v1 = min(v0 + 1, h - 1)
    fu = uc - u0
    fv = vc - v0
    top = image[v0, u0] * (1.0 - fu) + image[v0, u1] * fu
    bottom = image[v1, u0] * (1.0 - fu) + image[v1, u1] * fu
    return top * (1.0 - fv) + bottom * fv


@numba.njit(cache=True)
def _score_kernel(
    uv: np.ndarray, valid: np.ndarray, weights: np.ndarray, image: np.ndarray, per_point: np.ndarray
) -> float:  # pragma: no cover - compiled; covered by the NUMBA_DISABLE_JIT run
    h, w = image.shape
    total = 0.0
    for i in range(uv.shape[0]):
        per_point[i] = 0.0
        if not valid[i]:
            continue
        u = uv[i, 0]
        v = uv[i, 1]
        if not (u >= -0.5 and u < w - 0.5 and v >= -0.5 and v < h - 0.5):
            continue
        s = weights[i] * _sample_bilinear(image, u, v)
        per_point[i] = s
        total += s
    return total


def _prepare(
    uv: FloatArray, valid: BoolArray, weights: FloatArray, attraction: np.ndarray
) -> tuple[FloatArray, BoolArray, FloatArray, np.ndarray]:
    p = np.ascontiguousarray(uv, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"uv: expected shape (N, 2), got {p.shape}")
    ok = np.ascontiguousarray(valid, dtype=np.bool_)
    w = np.ascontiguousarray(weights, dtype=np.float64)
    if ok.shape != (p.shape[0],) or w.shape != (p.shape[0],):
        raise ValueError(f"valid and weights must have shape ({p.shape[0]},), got {ok.shape} and {w.shape}")
    image = np.ascontiguousarray(attraction, dtype=np.float32)
    if image.ndim != 2 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"attraction: expected a non-empty (H, W) image, got shape {image.shape}")
    return p, ok, w, image


def score_projected(
    uv: FloatArray, valid: BoolArray, weights: FloatArray, attraction: np.ndarray
) -> tuple[float, FloatArray]:
    """Weighted edge attraction at projected pixels.

    Args:
        uv: ``(N, 2)`` pixel coordinates (u right, v down), NaN allowed where not valid.
        valid: ``(N,)`` bool, False for points the projection rejected (behind the camera, ...).
        weights: ``(N,)`` weights (L&T: depth-discontinuity magnitude), any sign.
        attraction: ``(H, W)`` edge-attraction image (float32 preferred; other dtypes are converted).

    Returns:
        ``(score, per_point)``: the sum ``sum_i w_i D(u_i, v_i)`` over valid in-image points, and
        ``(N,)`` float64 per-point contributions (0 for skipped points).
    """
    p, ok, w, image = _prepare(uv, valid, weights, attraction)
    per_point = np.empty(p.shape[0], dtype=np.float64)
    total = _score_kernel(p, ok, w, image, per_point)
    return float(total), per_point


def score_projected_reference(
    uv: FloatArray, valid: BoolArray, weights: FloatArray, attraction: np.ndarray
) -> tuple[float, FloatArray]:
    """Plain-numpy reference of :func:`score_projected` (same bilinear rule); for tests."""
    p, ok, w, image = _prepare(uv, valid, weights, attraction)
    h, wd = image.shape
    with np.errstate(invalid="ignore"):
        inside = ok & (p[:, 0] >= -0.5) & (p[:, 0] < wd - 0.5) & (p[:, 1] >= -0.5) & (p[:, 1] < h - 0.5)
    u = np.clip(p[inside, 0], 0.0, wd - 1.0)
    v = np.clip(p[inside, 1], 0.0, h - 1.0)
    u0 = np.minimum(np.floor(u).astype(np.int64), wd - 1)
    v0 = np.minimum(np.floor(v).astype(np.int64), h - 1)
    u1 = np.minimum(u0 + 1, wd - 1)
    v1 = np.minimum(v0 + 1, h - 1)
    fu = u - u0
    fv = v - v0
    img = image.astype(np.float64)
    top = img[v0, u0] * (1.0 - fu) + img[v0, u1] * fu
    bottom = img[v1, u0] * (1.0 - fu) + img[v1, u1] * fu
    per_point = np.zeros(p.shape[0])
    per_point[inside] = w[inside] * (top * (1.0 - fv) + bottom * fv)
    return float(per_point.sum()), per_point


def warm_up() -> None:
    """Compile (or load from the numba cache) the scoring kernel."""
    image = np.linspace(0.0, 1.0, 12, dtype=np.float32).reshape(3, 4)
    uv = np.array([[1.5, 0.5], [np.nan, np.nan], [10.0, 1.0]])
    score_projected(uv, np.array([True, False, True]), np.array([1.0, 2.0, 3.0]), image)
    points = np.array([[0.0, 0.0, 2.0], [0.1, 0.0, 3.0]])
    score_transforms(
        points, np.ones(2), np.eye(3)[None], np.zeros((1, 3)), (2.0, 2.0, 1.5, 1.0, 0.0), np.zeros(8),
        math.inf, 0.1, image,
    )  # fmt: skip


@numba.njit(cache=True)
def _score_transforms_kernel(
    points: np.ndarray,
    weights: np.ndarray,
    rotations: np.ndarray,
    translations: np.ndarray,
    camera: np.ndarray,
    k: np.ndarray,
    r2_max: float,
    min_depth_m: float,
    image: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled; covered by the NUMBA_DISABLE_JIT run
    fx, fy, cx, cy, skew = camera[0], camera[1], camera[2], camera[3], camera[4]
    k1, k2, p1, p2, k3, k4, k5, k6 = k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]
    distorted = k1 != 0.0 or k2 != 0.0 or p1 != 0.0 or p2 != 0.0 or k3 != 0.0 or k4 != 0.0
    distorted = distorted or k5 != 0.0 or k6 != 0.0
    h, w = image.shape
    n_cand = rotations.shape[0]
    r = np.empty((n_cand, 12))
    for m in range(n_cand):
        for a in range(3):
            for b in range(3):
                r[m, 3 * a + b] = rotations[m, a, b]
            r[m, 9 + a] = translations[m, a]
        out[m] = 0.0
    # Points outer, candidates inner: the candidates of one search step move a point by a few pixels, so
    # the image rows it samples stay in cache. Each candidate still sums its points in index order (the
    # same additions as a candidate-by-candidate loop).
    for i in range(points.shape[0]):
        x0 = points[i, 0]
        y0 = points[i, 1]
        z0 = points[i, 2]
        wi = weights[i]
        for m in range(n_cand):
            px = r[m, 0] * x0 + r[m, 1] * y0 + r[m, 2] * z0 + r[m, 9]
            py = r[m, 3] * x0 + r[m, 4] * y0 + r[m, 5] * z0 + r[m, 10]
            pz = r[m, 6] * x0 + r[m, 7] * y0 + r[m, 8] * z0 + r[m, 11]
            if not pz >= min_depth_m:
                continue
            # The projection of fusioncheck.geometry.camera, same formula and operation order.
            iz = 1.0 / pz
            x = px * iz
            y = py * iz
            r2 = x * x + y * y
            if not r2 < r2_max:
                continue
            if distorted:
                r4 = r2 * r2
                r6 = r4 * r2
                a1 = 2.0 * x * y
                a2 = r2 + 2.0 * x * x
                a3 = r2 + 2.0 * y * y
                cdist = 1.0 + k1 * r2 + k2 * r4 + k3 * r6
                icdist2 = 1.0 / (1.0 + k4 * r2 + k5 * r4 + k6 * r6)
                xd = x * cdist * icdist2 + p1 * a1 + p2 * a2
                yd = y * cdist * icdist2 + p1 * a3 + p2 * a1
            else:
                # All coefficients zero: the model above is the identity (cdist = icdist2 = 1, no tangential
                # terms), to the last bit.
                xd = x
                yd = y
            u = xd * fx + skew * yd + cx
            v = yd * fy + cy
            if not (u >= -0.5 and u < w - 0.5 and v >= -0.5 and v < h - 0.5):
                continue
            out[m] += wi * _sample_bilinear(image, u, v)


def score_transforms(
    points_cam: FloatArray,
    weights: FloatArray,
    rotations: FloatArray,
    translations: FloatArray,
    camera: tuple[float, float, float, float, float],
    distortion8: FloatArray,
    r2_max: float,
    min_depth_m: float,
    attraction: np.ndarray,
) -> FloatArray:
    """Edge score of rigidly moved points for many candidate transforms in one pass.

    For every candidate ``m`` the points are moved ``p' = R_m p + t_m`` (camera frame), projected with the
    package's OpenCV-order distortion model (points nearer than ``min_depth_m`` or beyond the model's valid
    radius skipped) and scored like :func:`score_projected`.

    Args:
        points_cam: ``(N, 3)`` metres, camera frame.
        weights: ``(N,)`` weights.
        rotations: ``(M, 3, 3)`` rotation matrices.
        translations: ``(M, 3)`` translations, metres.
        camera: ``(fx, fy, cx, cy, skew)`` pixels.
        distortion8: ``(8,)`` OpenCV coefficients ``k1, k2, p1, p2, k3, k4, k5, k6``.
        r2_max: squared valid radius of the distortion model (``inf`` without distortion).
        min_depth_m: nearest valid depth, metres.
        attraction: ``(H, W)`` edge-attraction image.

    Returns:
        ``(M,)`` float64 scores.
    """
    pts = np.ascontiguousarray(points_cam, dtype=np.float64)
    w = np.ascontiguousarray(weights, dtype=np.float64)
    rot = np.ascontiguousarray(rotations, dtype=np.float64)
    tr = np.ascontiguousarray(translations, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3 or w.shape != (pts.shape[0],):
        raise ValueError(f"points_cam (N, 3) and weights (N,) expected, got {pts.shape} and {w.shape}")
    if rot.ndim != 3 or rot.shape[1:] != (3, 3) or tr.shape != (rot.shape[0], 3):
        raise ValueError(f"rotations (M, 3, 3) and translations (M, 3) expected, got {rot.shape}, {tr.shape}")
    image = np.ascontiguousarray(attraction, dtype=np.float32)
    out = np.empty(rot.shape[0], dtype=np.float64)
    _score_transforms_kernel(
        pts, w, rot, tr, np.asarray(camera, dtype=np.float64),
        np.ascontiguousarray(distortion8, dtype=np.float64), float(r2_max), float(min_depth_m), image, out,
    )  # fmt: skip
    return out

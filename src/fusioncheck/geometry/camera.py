"""Pinhole projection with OpenCV's distortion model, guarded against its folded (wrapped) field of view.

Camera frame: x right, y down, z forward (OpenCV, nuScenes). Pixel coordinates put the centre of the
top-left pixel at ``(0, 0)``, as OpenCV does, so the image covers ``[-0.5, width - 0.5)`` horizontally.

The distortion formula is OpenCV's ``projectPoints`` term by term and in the same operation order
(``modules/3d/src/calibration_base.cpp``): with ``x = X * (1 / Z)``, ``y = Y * (1 / Z)`` and
``r2 = x*x + y*y``,

    xd = x * cdist * icdist2 + p1 * 2xy + p2 * (r2 + 2x²),
    yd = y * cdist * icdist2 + p1 * (r2 + 2y²) + p2 * 2xy,
    cdist = 1 + k1 r2 + k2 r2² + k3 r2³,  icdist2 = 1 / (1 + k4 r2 + k5 r2² + k6 r2³),
    u = fx * xd + skew * yd + cx,  v = fy * yd + cy,

so that pixels agree with ``cv2.projectPoints`` to the last bit (``cv2.projectPoints`` ignores the skew
``K[0, 1]``; with zero skew, the usual case, the extra term adds an exact zero).

Polynomial distortion is only a valid model up to the radius where the radial mapping stops increasing:
beyond it, ``cv2.projectPoints`` folds points far outside the field of view back into the image. Such
points are marked invalid here (see :func:`max_valid_radius`).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

import numba
import numpy as np
from numpy.polynomial import polynomial as poly

from fusioncheck.errors import check_shape
from fusioncheck.typing import BoolArray, FloatArray

if TYPE_CHECKING:
    from fusioncheck.scene.sensors import CameraIntrinsics

#: Number of OpenCV distortion coefficients the projection uses: ``k1, k2, p1, p2, k3, k4, k5, k6``.
NUM_DISTORTION_COEFFICIENTS = 8

#: Default nearest depth (metres, camera z) a point must have to be projected.
DEFAULT_MIN_DEPTH_M = 0.1


def distortion_coefficients(distortion: FloatArray) -> FloatArray:
    """OpenCV coefficients ``(K,)``, ``K`` in 0, 4, 5, 8, zero-padded to ``(8,)`` float64.

    Order: ``k1, k2, p1, p2, k3, k4, k5, k6`` (OpenCV's order; missing coefficients are zero).
    """
    d = np.asarray(distortion, dtype=np.float64).reshape(-1)
    if d.size not in (0, 4, 5, NUM_DISTORTION_COEFFICIENTS):
        raise ValueError(
            "distortion: expected 0, 4, 5 or 8 OpenCV coefficients (k1,k2,p1,p2[,k3[,k4,k5,k6]]), "
            f"got {d.size}"
        )
    out = np.zeros(NUM_DISTORTION_COEFFICIENTS)
    out[: d.size] = d
    return out


def max_valid_radius(distortion: FloatArray) -> float:
    """Normalised image radius up to which the radial distortion mapping is strictly increasing.

    The radial mapping is ``r -> r * (1 + k1 r² + k2 r⁴ + k3 r⁶) / (1 + k4 r² + k5 r⁴ + k6 r⁶)`` with
    ``r = sqrt(x² + y²)``, ``x = X/Z``, ``y = Y/Z`` (camera frame). Returns its first stationary point (or
    the first pole of the denominator, if that comes first), or ``inf`` when the mapping increases
    everywhere (e.g. no distortion). Tangential terms ``p1, p2`` are not part of this bound.

    Args:
        distortion: ``(K,)`` OpenCV coefficients ``k1, k2, p1, p2[, k3[, k4, k5, k6]]``, ``K`` in 0, 4, 5, 8.

    Returns:
        The radius (dimensionless, ``tan`` of the off-axis angle), cached per coefficient tuple.
    """
    k = distortion_coefficients(distortion)
    return _max_valid_radius(tuple(float(c) for c in k))


@lru_cache(maxsize=256)
def _max_valid_radius(k: tuple[float, ...]) -> float:
    if not all(math.isfinite(c) for c in k):
        raise ValueError(f"distortion: coefficients must be finite, got {k}")
    k1, k2, _p1, _p2, k3, k4, k5, k6 = k
    # In s = r²: f(r) = r N(s) / D(s), and f'(r) = g(s) / D(s)² with g = (N + 2 s N') D - 2 s N D'.
    num = np.array([1.0, k1, k2, k3])
    den = np.array([1.0, k4, k5, k6])
    two_s = np.array([0.0, 2.0])
    g = poly.polysub(
        poly.polymul(poly.polyadd(num, poly.polymul(two_s, poly.polyder(num))), den),
        poly.polymul(poly.polymul(two_s, num), poly.polyder(den)),
    )
    s_stop = min(_first_positive_root(g), _first_positive_root(den))
    return math.sqrt(s_stop) if math.isfinite(s_stop) else math.inf


def _first_positive_root(coefficients: FloatArray) -> float:
    """Smallest positive real root of a polynomial (coefficients lowest degree first), else ``inf``.

    Near-real complex pairs count as real: the bound then errs towards marking points invalid.
    """
    c = poly.polytrim(np.asarray(coefficients, dtype=np.float64))
    if c.size < 2:
        return math.inf
    roots = poly.polyroots(c)
    real = roots.real[(np.abs(roots.imag) <= 1e-9 * np.maximum(1.0, np.abs(roots.real))) & (roots.real > 0)]
    if real.size == 0:
        return math.inf
    s = float(real.min())
    # Newton polishing: the companion-matrix roots carry a relative error of ~1e-12 and more for
    # clustered roots; a few steps bring a simple root to machine precision.
    dc = poly.polyder(c)
    for _ in range(3):
        slope = float(poly.polyval(s, dc))
        if slope == 0.0:
            break
        step = float(poly.polyval(s, c)) / slope
        if not math.isfinite(step) or abs(step) > 1e-6 * s:
            break
        s -= step
    return s


@numba.njit(cache=True)
def _project_kernel(
    points: FloatArray,
    fx: float,
    fy: float,
    cx: float,
    cy: float,
    skew: float,
    k: FloatArray,
    r2_max: float,
    min_depth_m: float,
    uv: FloatArray,
    valid: BoolArray,
) -> None:  # pragma: no cover - compiled; covered by the NUMBA_DISABLE_JIT run
    k1, k2, p1, p2, k3, k4, k5, k6 = k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]
    for i in range(points.shape[0]):
        px = points[i, 0]
        py = points[i, 1]
        pz = points[i, 2]
        uv[i, 0] = math.nan
        uv[i, 1] = math.nan
        valid[i] = False
        if not (math.isfinite(px) and math.isfinite(py) and math.isfinite(pz)) or pz < min_depth_m:
            continue
        # Same operation order as OpenCV's projectPoints (multiply by the reciprocal, left-to-right sums).
        iz = 1.0 / pz
        x = px * iz
        y = py * iz
        r2 = x * x + y * y
        if not r2 < r2_max:
            continue
        r4 = r2 * r2
        r6 = r4 * r2
        a1 = 2.0 * x * y
        a2 = r2 + 2.0 * x * x
        a3 = r2 + 2.0 * y * y
        cdist = 1.0 + k1 * r2 + k2 * r4 + k3 * r6
        icdist2 = 1.0 / (1.0 + k4 * r2 + k5 * r4 + k6 * r6)
        xd = x * cdist * icdist2 + p1 * a1 + p2 * a2
        yd = y * cdist * icdist2 + p1 * a3 + p2 * a1
        uv[i, 0] = xd * fx + skew * yd + cx
        uv[i, 1] = yd * fy + cy
        valid[i] = True


def _prepare(
    points_cam: FloatArray, intrinsics: CameraIntrinsics, min_depth_m: float
) -> tuple[FloatArray, FloatArray, float]:
    """Validate the inputs; return float64 C-contiguous points, padded coefficients, squared valid radius."""
    if not (math.isfinite(min_depth_m) and min_depth_m > 0.0):
        raise ValueError(f"min_depth_m must be a positive finite number of metres, got {min_depth_m}")
    points = np.ascontiguousarray(points_cam, dtype=np.float64)
    check_shape("points_cam", points, (-1, 3))
    k = distortion_coefficients(intrinsics.distortion)
    r_max = max_valid_radius(k)
    return points, k, r_max * r_max


def project_points(
    points_cam: FloatArray, intrinsics: CameraIntrinsics, min_depth_m: float = DEFAULT_MIN_DEPTH_M
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Project points in the camera frame to distorted pixel coordinates (fused numba kernel).

    Args:
        points_cam: ``(N, 3)`` metres, camera frame (x right, y down, z forward); any float dtype.
        intrinsics: camera matrix and OpenCV distortion coefficients.
        min_depth_m: nearest depth (camera z, metres, > 0) a point must have to be valid.

    Returns:
        ``uv``: ``(N, 2)`` float64 pixel coordinates ``(u right, v down)``, NaN where not valid;
        ``depth``: ``(N,)`` float64, metres, the camera z of every point (also of invalid ones);
        ``valid``: ``(N,)`` bool, False for points nearer than ``min_depth_m`` or behind the camera,
        non-finite points, and points beyond :func:`max_valid_radius` of the distortion model. Image
        bounds are not tested: see :func:`in_image`.
    """
    points, k, r2_max = _prepare(points_cam, intrinsics, min_depth_m)
    m = intrinsics.matrix
    uv = np.empty((points.shape[0], 2), dtype=np.float64)
    valid = np.empty(points.shape[0], dtype=np.bool_)
    _project_kernel(
        points, float(m[0, 0]), float(m[1, 1]), float(m[0, 2]), float(m[1, 2]), float(m[0, 1]),
        k, r2_max, float(min_depth_m), uv, valid,
    )  # fmt: skip
    return uv, points[:, 2].copy(), valid


def project_points_reference(
    points_cam: FloatArray, intrinsics: CameraIntrinsics, min_depth_m: float = DEFAULT_MIN_DEPTH_M
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Plain-numpy reference of :func:`project_points`, same formula and order; for tests."""
    points, k, r2_max = _prepare(points_cam, intrinsics, min_depth_m)
    k1, k2, p1, p2, k3, k4, k5, k6 = k
    m = intrinsics.matrix
    fx, fy, cx, cy, skew = m[0, 0], m[1, 1], m[0, 2], m[1, 2], m[0, 1]
    px, py, pz = points[:, 0], points[:, 1], points[:, 2]
    with np.errstate(all="ignore"):
        valid = np.isfinite(points).all(axis=1) & (pz >= min_depth_m)
        iz = 1.0 / pz
        x = px * iz
        y = py * iz
        r2 = x * x + y * y
        valid &= r2 < r2_max
        r4 = r2 * r2
        r6 = r4 * r2
        a1 = 2.0 * x * y
        a2 = r2 + 2.0 * x * x
        a3 = r2 + 2.0 * y * y
        cdist = 1.0 + k1 * r2 + k2 * r4 + k3 * r6
        icdist2 = 1.0 / (1.0 + k4 * r2 + k5 * r4 + k6 * r6)
        xd = x * cdist * icdist2 + p1 * a1 + p2 * a2
        yd = y * cdist * icdist2 + p1 * a3 + p2 * a1
        uv = np.stack([xd * fx + skew * yd + cx, yd * fy + cy], axis=1)
    uv[~valid] = np.nan
    return uv, pz.copy(), valid


def in_image(uv: FloatArray, width_px: int, height_px: int, margin_px: float = 0.0) -> BoolArray:
    """Which pixel coordinates fall on the image.

    Pixel centres are at integer coordinates (OpenCV), so the image covers ``-0.5 <= u < width - 0.5`` and
    ``-0.5 <= v < height - 0.5``: exactly the points whose rounded coordinates index a pixel.

    Args:
        uv: ``(N, 2)`` pixel coordinates; NaN rows count as outside.
        width_px: image width in pixels (> 0).
        height_px: image height in pixels (> 0).
        margin_px: a positive margin keeps only points at least this far inside the border; a negative
            one also accepts points up to ``-margin_px`` outside it.

    Returns:
        ``(N,)`` bool mask.
    """
    if width_px <= 0 or height_px <= 0:
        raise ValueError(f"image size must be positive, got {width_px} x {height_px} px")
    p = np.asarray(uv, dtype=np.float64)
    check_shape("uv", p, (-1, 2))
    lo = -0.5 + margin_px
    with np.errstate(invalid="ignore"):
        inside = (
            (p[:, 0] >= lo)
            & (p[:, 0] < width_px - 0.5 - margin_px)
            & (p[:, 1] >= lo)
            & (p[:, 1] < height_px - 0.5 - margin_px)
        )
    return np.asarray(inside, dtype=np.bool_)


def warm_up() -> None:
    """Compile (or load from the numba cache) the projection kernel."""
    from fusioncheck.scene.sensors import CameraIntrinsics

    intrinsics = CameraIntrinsics(
        matrix=np.array([[500.0, 0.0, 320.0], [0.0, 500.0, 180.0], [0.0, 0.0, 1.0]]),
        distortion=np.array([-0.1, 0.01, 0.0, 0.0, 0.0]),
        width_px=640,
        height_px=360,
    )
    project_points(np.array([[0.0, 0.0, 5.0], [1.0, -1.0, -2.0]]), intrinsics)

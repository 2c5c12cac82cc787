"""Camera-LiDAR extrinsic validation by edge alignment (after Levinson & Thrun, RSS 2013): the search.

Input: for each frame of one camera, the LiDAR depth-discontinuity points in the camera frame (as the
*stated* extrinsic puts them), their weights, and the image's edge-attraction map. The objective of a
candidate correction ``C`` (a small rigid motion in the camera frame, ``p' = R p + t``) is

    J(C) = sum_frames sum_i w_i A_f(project(R p_i + t)) / sum_frames sum_i w_i,

with ``A_f`` the edge attraction minus its local mean (a box filter of ``local_mean_px``): subtracting
the local mean makes a point score zero on average wherever it lands, so a correction cannot gain by
pushing points into texture-rich regions (foliage, gravel) rather than onto their own edges.

Search: a coarse-to-fine pattern search over the three rotation angles (all 26 neighbours of the best
point at the current step, steps 1 deg down to 1/16 deg), then over the translation, then the rotation
again. Evidence that the stated extrinsic is wrong is judged on image blocks: the points are split into
``blocks`` vertical strips of every image, the gain ``J_b(C) - J_b(I)`` is computed per strip, and its
mean over its standard error (``z``) says whether the improvement is consistent across the image or
carried by one lucky region. L&T's own statistic, the fraction of the 26 rotation neighbours (at
``optimality_step_deg``) that score *below* the stated extrinsic, is reported as ``fraction_worse``.

Angles and axes: a correction is reported as ``roll, pitch, yaw`` in degrees about the camera-centred
axes *forward* (camera z), *left* (camera -x) and *up* (camera -y), and a translation ``forward, left,
up`` in metres along the same axes. ``ego_from_camera_corrected = ego_from_camera_stated @ correction``:
if the stated extrinsic is the true one rotated by ``E`` in the camera frame (``stated = true @ E``), the
correction is ``E^-1`` (about ``-E`` for small angles).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from fusioncheck.geometry.camera import DEFAULT_MIN_DEPTH_M, distortion_coefficients, max_valid_radius
from fusioncheck.geometry.se3 import SE3
from fusioncheck.kernels.edge_score import score_transforms
from fusioncheck.scene.sensors import CameraIntrinsics
from fusioncheck.typing import FloatArray

#: Camera-frame unit vectors of the reported axes: forward (z), left (-x), up (-y).
_AXES_CAM = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
_NEIGHBOURS = np.array([d for d in itertools.product((-1, 0, 1), repeat=3) if any(d)], dtype=np.float64)


def rotation_from_rpy_deg(rpy_deg: FloatArray) -> FloatArray:
    """Camera-frame rotation matrix of a rotation vector ``roll, pitch, yaw`` (degrees, reported axes)."""
    rotvec = np.radians(np.asarray(rpy_deg, dtype=np.float64)) @ _AXES_CAM
    matrix, _ = cv2.Rodrigues(rotvec.reshape(3, 1))
    return np.asarray(matrix, dtype=np.float64)


def rotations_from_rpy_deg(rpy_deg: FloatArray) -> FloatArray:
    """``(M, 3, 3)`` rotation matrices of ``(M, 3)`` roll/pitch/yaw rotation vectors in degrees.

    :func:`rotation_from_rpy_deg` for many candidates at once: the Rodrigues formula in OpenCV's order
    (``c I + (1 - c) r r^T + s [r]_x`` with the unit axis ``r``), without one ``cv2.Rodrigues`` call each.
    """
    rotvec = np.radians(np.asarray(rpy_deg, dtype=np.float64).reshape(-1, 3)) @ _AXES_CAM
    theta = np.sqrt(np.sum(rotvec * rotvec, axis=1))
    small = theta < np.finfo(np.float64).eps
    axis = rotvec * (1.0 / np.where(small, 1.0, theta))[:, None]
    c, s = np.cos(theta), np.sin(theta)
    x, y, z = axis[:, 0], axis[:, 1], axis[:, 2]
    out = (1.0 - c)[:, None, None] * (axis[:, :, None] * axis[:, None, :])
    out[:, 0, 0] += c
    out[:, 1, 1] += c
    out[:, 2, 2] += c
    out[:, 0, 1] -= s * z
    out[:, 0, 2] += s * y
    out[:, 1, 0] += s * z
    out[:, 1, 2] -= s * x
    out[:, 2, 0] -= s * y
    out[:, 2, 1] += s * x
    out[small] = np.eye(3)
    return out


def rpy_deg_from_rotation(rotation: FloatArray) -> FloatArray:
    """Inverse of :func:`rotation_from_rpy_deg`: ``(3,)`` roll, pitch, yaw in degrees."""
    rotvec, _ = cv2.Rodrigues(np.asarray(rotation, dtype=np.float64))
    return np.asarray(np.degrees(_AXES_CAM @ rotvec.reshape(3)), dtype=np.float64)


def translation_cam(translation_flu_m: FloatArray) -> FloatArray:
    """Camera-frame translation ``(3,)`` of a ``forward, left, up`` translation in metres."""
    return np.asarray(np.asarray(translation_flu_m, dtype=np.float64) @ _AXES_CAM, dtype=np.float64)


def correction_transform(rpy_deg: FloatArray, translation_flu_m: FloatArray) -> SE3:
    """Return the camera-frame motion ``p' = R p + t`` of a correction (reported angles and translation)."""
    return SE3(rotation_from_rpy_deg(rpy_deg), translation_cam(translation_flu_m))


@dataclass(frozen=True)
class SearchParameters:
    """How the correction is searched and judged.

    Attributes:
        rotation_steps_deg: pattern-search steps for the rotation, coarse to fine.
        max_rotation_deg: the search stays within this angle per axis.
        translation_steps_m: pattern-search steps for the translation (empty: no translation search).
        max_translation_m: the search stays within this offset per axis.
        optimality_step_deg: grid step of L&T's local-optimality statistic.
        blocks: vertical image strips per frame for the consistency statistic.
        scan_step_deg: step of the per-axis scans over the whole range that seed the search.
        peaks_per_axis: best separated peaks kept per axis scan (the stated value 0 is always kept).
        starts: best peak combinations refined by pattern search.
        prior_per_deg: a correction must beat the stated extrinsic by this many units of the objective's
            noise per degree of rotation (a Laplace prior: small corrections are a priori more likely;
            keeps narrow spurious peaks far away from winning on noise).
    """

    rotation_steps_deg: tuple[float, ...] = (0.25, 0.125, 0.0625)
    max_rotation_deg: float = 3.0
    translation_steps_m: tuple[float, ...] = (0.08, 0.04, 0.02)
    max_translation_m: float = 0.3
    optimality_step_deg: float = 0.25
    blocks: int = 6
    scan_step_deg: float = 0.125
    prior_per_deg: float = 1.0
    peaks_per_axis: int = 2
    starts: int = 3


@dataclass(frozen=True, eq=False)
class CalibrationFrame:
    """The evidence of one image.

    Attributes:
        points_cam: ``(N, 3)`` metres, depth-discontinuity points in the camera frame (stated extrinsic).
        weights: ``(N,)`` their weights.
        attractions: ``(H, W)`` float32 local-mean-subtracted edge attraction of the image, coarse to fine
            (one per attraction decay length; the search uses the coarse ones for its coarse steps).
        block: ``(N,)`` int64 vertical strip of the image each point projects to (stated extrinsic).
    """

    points_cam: FloatArray
    weights: FloatArray
    attractions: tuple[np.ndarray, ...]
    block: np.ndarray


@dataclass
class SearchResult:
    """What the search found for one camera.

    Attributes:
        rotation_deg: ``(3,)`` roll, pitch, yaw correction, degrees.
        translation_m: ``(3,)`` forward, left, up correction, metres.
        score_stated: objective at the stated extrinsic.
        score_best: objective at the correction.
        gain_z: block-consistency of the gain (mean / standard error over blocks).
        fraction_worse: L&T's fraction of rotation neighbours scoring below the stated extrinsic.
        prominence: gain of the correction over the stated extrinsic minus the prior's cost of the
            correction, in units of the objective's robust spread along the per-axis scans (how far the
            optimum stands out of the objective's noise).
        points: discontinuity points used.
        frames: frames used.
        at_search_limit: the rotation correction reached ``max_rotation_deg`` on some axis.
        objective_curves: per axis (roll, pitch, yaw), ``(offsets_deg, scores)`` around the stated
            extrinsic, for plots.
    """

    rotation_deg: FloatArray
    translation_m: FloatArray
    score_stated: float
    score_best: float
    gain_z: float
    fraction_worse: float
    prominence: float
    points: int
    frames: int
    at_search_limit: bool
    objective_curves: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)


class EdgeObjective:
    """The objective ``J`` over a set of frames of one camera, evaluated for many candidates at once."""

    def __init__(self, frames: list[CalibrationFrame], intrinsics: CameraIntrinsics, level: int = -1) -> None:
        self.frames = frames
        self.level = level
        self.intrinsics = intrinsics
        m = intrinsics.matrix
        self.camera = (float(m[0, 0]), float(m[1, 1]), float(m[0, 2]), float(m[1, 2]), float(m[0, 1]))
        self.k = distortion_coefficients(intrinsics.distortion)
        r = max_valid_radius(self.k)
        self.r2_max = r * r
        self.total_weight = float(sum(f.weights.sum() for f in frames))
        self._cache: dict[tuple[float, ...], float] = {}

    @property
    def evaluations(self) -> int:
        """Distinct candidates scored so far (each is scored once, see :meth:`__call__`)."""
        return len(self._cache)

    def per_frame(self, rotations: FloatArray, translations: FloatArray) -> FloatArray:
        """``(F, M)`` raw weighted scores of every frame for ``M`` candidate motions."""
        return np.stack([
            score_transforms(
                f.points_cam, f.weights, rotations, translations, self.camera, self.k, self.r2_max,
                DEFAULT_MIN_DEPTH_M, f.attractions[self.level],
            )
            for f in self.frames
        ])  # fmt: skip

    def __call__(self, rpy_deg: FloatArray, translation_flu_m: FloatArray) -> FloatArray:
        """Objective ``(M,)`` of ``M`` candidates: ``rpy_deg`` and ``translation_flu_m`` ``(M, 3)``."""
        rpy = np.atleast_2d(np.asarray(rpy_deg, dtype=np.float64))
        flu = np.atleast_2d(np.asarray(translation_flu_m, dtype=np.float64))
        if rpy.shape != flu.shape:
            raise ValueError(
                f"rpy_deg and translation_flu_m: expected equal (M, 3) shapes, got {rpy.shape}, {flu.shape}"
            )
        keys = list(map(tuple, np.concatenate([rpy, flu], axis=1).tolist()))
        # A pattern search revisits candidates (overlapping neighbourhoods, starts converging on one peak):
        # each distinct candidate is scored once (the kernel scores candidates independently, so a cached
        # value is the value a new evaluation would give).
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if missing:
            todo = np.array(missing, dtype=np.float64)
            rotations = rotations_from_rpy_deg(todo[:, :3])
            translations = todo[:, 3:] @ _AXES_CAM
            values = self.per_frame(rotations, translations).sum(axis=0) / max(self.total_weight, 1e-12)
            self._cache.update(zip(missing, values.tolist(), strict=True))
        return np.array([self._cache[k] for k in keys], dtype=np.float64)

    def block_scores(self, rpy_deg: FloatArray, translation_flu_m: FloatArray, blocks: int) -> FloatArray:
        """``(F * blocks,)`` objective of one candidate per (frame, image strip), normalised per strip."""
        rotation = rotation_from_rpy_deg(rpy_deg)[None]
        translation = translation_cam(translation_flu_m)[None]
        out = []
        for f in self.frames:
            for b in range(blocks):
                sel = f.block == b
                w = f.weights[sel]
                if w.size == 0:
                    out.append(np.nan)
                    continue
                s = score_transforms(
                    f.points_cam[sel], w, rotation, translation, self.camera, self.k, self.r2_max,
                    DEFAULT_MIN_DEPTH_M, f.attractions[self.level],
                )  # fmt: skip
                out.append(float(s[0]) / float(w.sum()))
        return np.asarray(out)


def _pattern_search(
    objective: EdgeObjective,
    rpy: FloatArray,
    translation: FloatArray,
    best: float,
    steps: tuple[float, ...],
    limit: float,
    rotate: bool,
) -> tuple[FloatArray, FloatArray, float]:
    """Coarse-to-fine search over rotation (``rotate``) or translation; returns the new best point."""
    rpy, translation = rpy.copy(), translation.copy()
    for step in steps:
        for _ in range(12):
            centre = rpy if rotate else translation
            candidates = np.clip(centre + step * _NEIGHBOURS, -limit, limit)
            if rotate:
                scores = objective(candidates, np.repeat(translation[None], len(candidates), axis=0))
            else:
                scores = objective(np.repeat(rpy[None], len(candidates), axis=0), candidates)
            i = int(np.argmax(scores))
            if scores[i] <= best:
                break
            best = float(scores[i])
            if rotate:
                rpy = candidates[i]
            else:
                translation = candidates[i]
    return rpy, translation, best


def search_correction(
    objective: EdgeObjective, parameters: SearchParameters | None = None, curves: bool = False
) -> SearchResult:
    """Find the correction that maximises the edge objective, and the evidence for it.

    Args:
        objective: the frames of one camera.
        parameters: search steps, limits and the consistency blocks (defaults: :class:`SearchParameters`).
        curves: also sample the objective along each rotation axis around the stated extrinsic (plots).
    """
    p = parameters or SearchParameters()
    zero = np.zeros(3)
    stated = float(objective(zero[None], zero[None])[0])
    # The optimum of a wrong extrinsic is narrow (about the attraction's decay) and may lie degrees away
    # behind weaker local maxima: scan each axis over the whole range first, combine the best peaks of
    # every axis, and refine the best few combinations by pattern search.
    offsets = np.arange(-p.max_rotation_deg, p.max_rotation_deg + 1e-9, p.scan_step_deg)
    peaks_per_axis = []
    scans = {}
    for axis in range(3):
        grid = np.zeros((offsets.size, 3))
        grid[:, axis] = offsets
        values = objective(grid, np.zeros_like(grid))
        scans[axis] = values
        order = np.argsort(values)[::-1]
        peaks = [0.0]
        for i in order:
            if len(peaks) > p.peaks_per_axis:
                break
            if all(abs(offsets[i] - q) > 2.0 * p.scan_step_deg for q in peaks):
                peaks.append(float(offsets[i]))
        peaks_per_axis.append(peaks)
    combos = np.array(list(itertools.product(*peaks_per_axis)), dtype=np.float64)
    combo_scores = objective(combos, np.zeros_like(combos))
    noise = float(np.median([1.4826 * np.median(np.abs(v - np.median(v))) for v in scans.values()]))
    penalty = p.prior_per_deg * noise

    def penalised(score: float, angles: FloatArray) -> float:
        return score - penalty * float(np.linalg.norm(angles))

    best, rpy, translation = stated, zero, zero
    for i in np.argsort(combo_scores)[::-1][: p.starts]:
        candidate, _, score = _pattern_search(
            objective,
            combos[i],
            zero,
            float(combo_scores[i]),
            p.rotation_steps_deg,
            p.max_rotation_deg,
            rotate=True,
        )
        if penalised(score, candidate) > penalised(best, rpy):
            best, rpy = score, candidate
    if p.translation_steps_m:
        rpy, translation, best = _pattern_search(
            objective, rpy, translation, best, p.translation_steps_m, p.max_translation_m, rotate=False
        )
        rpy, translation, best = _pattern_search(
            objective, rpy, translation, best, p.rotation_steps_deg[-2:], p.max_rotation_deg, rotate=True
        )
    neighbours = p.optimality_step_deg * _NEIGHBOURS
    around = objective(neighbours, np.zeros_like(neighbours))
    fraction_worse = float(np.mean(around < stated))
    gains = objective.block_scores(rpy, translation, p.blocks) - objective.block_scores(zero, zero, p.blocks)
    gains = gains[np.isfinite(gains)]
    if gains.size >= 2 and np.std(gains, ddof=1) > 0:
        gain_z = float(np.mean(gains) / (np.std(gains, ddof=1) / math.sqrt(gains.size)))
    else:
        gain_z = 0.0
    result = SearchResult(
        rotation_deg=rpy,
        translation_m=translation,
        score_stated=stated,
        score_best=best,
        gain_z=gain_z,
        fraction_worse=fraction_worse,
        prominence=(penalised(best, rpy) - stated) / noise if noise > 0 else 0.0,
        points=int(sum(f.weights.size for f in objective.frames)),
        frames=len(objective.frames),
        at_search_limit=bool(np.any(np.abs(rpy) >= p.max_rotation_deg - 1e-9)),
    )
    if curves:
        offsets = np.linspace(-2.0, 2.0, 41)
        for axis, name in enumerate(("roll", "pitch", "yaw")):
            grid = np.zeros((offsets.size, 3))
            grid[:, axis] = offsets
            result.objective_curves[name] = (offsets.tolist(), objective(grid, np.zeros_like(grid)).tolist())
    return result


@dataclass(frozen=True)
class FrameParameters:
    """How one image and its LiDAR sweep become a :class:`CalibrationFrame`.

    Attributes:
        local_mean_px: side of the box filter whose mean is subtracted from the edge attraction, pixels at
            the original resolution (0 = no subtraction).
        margin_px: points must project at least this far inside the image (stated extrinsic), pixels at
            the original resolution, so the same points stay in view for every candidate correction.
        max_depth_m: farther points are dropped, metres (their image edges are rarely resolved).
    """

    local_mean_px: int = 41
    margin_px: float = 30.0
    max_depth_m: float = 80.0


def calibration_frame(
    attractions: tuple[np.ndarray, ...],
    points_cam: FloatArray,
    weights: FloatArray,
    intrinsics: CameraIntrinsics,
    blocks: int,
    parameters: FrameParameters | None = None,
    scale: float = 1.0,
    decay_ratios: tuple[float, ...] = (),
) -> CalibrationFrame | None:
    """Evidence of one image: the points that project into it, and the band-passed attraction.

    Args:
        attractions: ``(H, W)`` edge-attraction images (:func:`~fusioncheck.kernels.edge_distance.
            edge_attraction`) at ``scale`` times the original resolution, coarse (long decay) to fine.
        points_cam: ``(N, 3)`` depth-discontinuity points, metres, camera frame (stated extrinsic).
        weights: ``(N,)`` their weights.
        intrinsics: the camera at the resolution of ``attraction``.
        blocks: vertical strips for the consistency statistic.
        parameters: filters (defaults: :class:`FrameParameters`).
        scale: pixels of ``attraction`` per original pixel (scales the pixel parameters).
        decay_ratios: per map, its decay length over the finest map's; the local-mean filter of a map is
            ``local_mean_px`` times its ratio (1 for every map when empty).

    Returns:
        The frame, or ``None`` when no point projects into the image.
    """
    from fusioncheck.geometry.camera import project_points

    p = parameters or FrameParameters()
    h, w = attractions[0].shape
    pts = np.asarray(points_cam, dtype=np.float64)
    uv, depth, valid = project_points(pts, intrinsics)
    margin = p.margin_px * scale
    with np.errstate(invalid="ignore"):
        keep = (
            valid & (depth <= p.max_depth_m) & (uv[:, 0] >= margin) & (uv[:, 0] <= w - 1 - margin)
            & (uv[:, 1] >= margin) & (uv[:, 1] <= h - 1 - margin)
        )  # fmt: skip
    if not keep.any():
        return None
    maps = []
    for level, attraction in enumerate(attractions):
        a = np.asarray(attraction, dtype=np.float32)
        # Coarser maps (longer decays) get a proportionally wider mean filter, so that their basin stays.
        ratio = decay_ratios[level] if decay_ratios else 1.0
        window = round(p.local_mean_px * scale * ratio) | 1
        if p.local_mean_px > 0 and window > 1:
            a = a - cv2.blur(a, (window, window), borderType=cv2.BORDER_REFLECT)
        maps.append(a)
    block = np.minimum((uv[keep, 0] / w * blocks).astype(np.int64), blocks - 1)
    return CalibrationFrame(pts[keep], np.asarray(weights, dtype=np.float64)[keep], tuple(maps), block)

"""Camera vs LiDAR: the offset at which LiDAR depth edges, moved with ego and objects, land on image edges.

Model. An image stamped ``t_c`` with offset ``o`` was exposed at ``t_c + o`` (global shutter). A LiDAR
edge point (near side of a depth discontinuity, :func:`fusioncheck.checks.edge_evidence.
depth_discontinuities`) captured at ``t_p`` lies at ``P`` in the global frame (sweeps are ego-motion
compensated to their stamp); if it sits in a moving box, its object moves at the track's velocity ``v``,
so at ``t_c + o`` it is at ``P + v (t_c + o - t_p)``, static points stay at ``P``. The camera at
``t_c + o`` is at ``G(t_c + o) ego_from_camera`` (pose track, extrapolated at constant velocity past its
ends). Each candidate offset projects the points (distortion-aware, :func:`fusioncheck.geometry.camera.
project_points`) and scores them on the image's edge-attraction map (Levinson & Thrun;
:mod:`fusioncheck.kernels.edge_distance`, :mod:`fusioncheck.kernels.edge_score`, decay shortened to
``decay_px`` for a sharp optimum). The objective of a frame is minus its score over its total weight; the
interval resamples frames.

Sensitivity. Time shows in the image only as far as points move in it: a forward camera of a vehicle
driving straight sees the static scene expand slowly from the vanishing point. Each frame's *image
motion* (weighted mean pixel displacement per ms of offset, at the reduced resolution) is measured; frames
below ``min_motion_px_per_ms`` carry no evidence, and a camera left with fewer than ``min_frames`` such
frames is reported not estimable with the reason, rather than as a number the data cannot support.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from fusioncheck.checks.edge_evidence import DiscontinuityParameters, depth_discontinuities, scaled_intrinsics
from fusioncheck.context import SequenceContext
from fusioncheck.errors import InputError
from fusioncheck.geometry import quaternion
from fusioncheck.geometry.camera import project_points
from fusioncheck.geometry.se3 import SE3
from fusioncheck.kernels.camera_offset_score import offset_scores
from fusioncheck.kernels.edge_distance import EdgeParameters, edge_attraction, edge_map
from fusioncheck.scene.poses import PoseTrack
from fusioncheck.scene.samples import SensorSample
from fusioncheck.scene.sensors import CameraIntrinsics
from fusioncheck.sync.estimate import (
    SearchSettings,
    SyncEstimate,
    estimate_drift,
    estimate_from_curves,
    not_estimable,
)
from fusioncheck.sync.lidar_timing import SpinModel, spin_model_for, sweep_point_times_s
from fusioncheck.typing import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class CameraSyncSettings:
    """Parameters of the camera estimator.

    Attributes:
        max_width_px: images are decoded (grey) at the largest of the scales 1, 1/2, 1/4 that keeps them
            at most this wide (texture of full-size real images gives edges everywhere; half size is also
            faster).
        decay_px: decay length of the edge attraction at that scale, pixels.
        max_frames: at most this many images per camera (evenly spread over the sequence).
        max_points: at most this many edge points per LiDAR sweep (the heaviest).
        box_margin_m: an edge point within a moving box grown by this moves with the box.
        min_motion_px_per_ms: frames whose edge points move less in the image carry no evidence.
        min_motion_mrad_per_ms: a camera whose informative frames' median image motion (as an angle,
            milliradians per ms of offset) is below this is not estimable: a sub-pixel edge bias (or a
            focal-length error) would shift its offset by tens of ms.
        edge_uncertainty_px: systematic uncertainty of where image and LiDAR put an edge (Canny on a
            blurred, compressed image), pixels at the decode scale.
        outline_uncertainty: the LiDAR outline is known to a fraction of an azimuth step only (the
            half-step correction is an expectation); this fraction of the step, in pixels, is the other
            candidate. The interval is widened by the larger of the two divided by the camera's median
            image motion (measured: a forward-looking camera of a car at 15 m/s kept a ~8 ms bias).
        min_frames: fewer informative frames: not estimable.
        strips: with fewer frames than ``min_frames`` each image is cut into this many vertical strips
            that are resampled instead (a single keyframe still gets an interval).
        max_lidar_gap_s: an image needs a LiDAR sweep stamped within this of it.
        background_px: the attraction's local mean (box of half-width this, pixels) is subtracted.
    """

    max_width_px: int = 1000
    decay_px: float = 8.0
    max_frames: int = 40
    max_points: int = 8000
    box_margin_m: float = 0.5
    min_motion_px_per_ms: float = 0.03
    min_motion_mrad_per_ms: float = 0.15
    edge_uncertainty_px: float = 0.5
    outline_uncertainty: float = 0.25
    min_frames: int = 3
    strips: int = 8
    max_lidar_gap_s: float = 0.06
    background_px: float = 24.0


def poses_at(poses: PoseTrack, t_us: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``global_from_ego`` at many times (vectorised :meth:`PoseTrack.at`), extrapolated past the ends.

    Beyond the track's ends the rotation is held and the translation continues at the end's velocity.

    Returns:
        rotations ``(K, 3, 3)`` and translations ``(K, 3)``, global frame.
    """
    t = np.asarray(t_us, dtype=np.float64)
    stamps = poses.timestamps_us
    n = stamps.size
    if n == 1:
        return (
            np.repeat(quaternion.to_matrix(poses.quats_wxyz[:1]), t.size, axis=0),
            np.repeat(poses.translations_m[:1], t.size, axis=0),
        )
    clamped = np.clip(t, stamps[0], stamps[-1])
    i = np.clip(np.searchsorted(stamps, clamped, side="right") - 1, 0, n - 2)
    f = (clamped - stamps[i]) / (stamps[i + 1] - stamps[i]).astype(np.float64)
    quats = quaternion.slerp(poses.quats_wxyz[i], poses.quats_wxyz[i + 1], f)
    translations = (1.0 - f)[:, None] * poses.translations_m[i] + f[:, None] * poses.translations_m[i + 1]
    velocity = (poses.translations_m[i + 1] - poses.translations_m[i]) / ((stamps[i + 1] - stamps[i]) * 1e-6)[
        :, None
    ]
    translations = translations + velocity * ((t - clamped) * 1e-6)[:, None]
    return quaternion.to_matrix(quats), translations


def _camera_from_global(
    poses: PoseTrack, t_us: FloatArray, camera_from_ego: SE3
) -> tuple[FloatArray, FloatArray]:
    """Rotations ``(K, 3, 3)``, translations ``(K, 3)`` taking global points into the camera at ``t_us``."""
    rot, trans = poses_at(poses, t_us)
    ego_from_global_r = np.transpose(rot, (0, 2, 1))
    ego_from_global_t = -np.einsum("kij,kj->ki", ego_from_global_r, trans)
    r = np.einsum("ij,kjl->kil", camera_from_ego.rotation, ego_from_global_r)
    t = ego_from_global_t @ camera_from_ego.rotation.T + camera_from_ego.translation
    return r, t


@dataclass
class _Frame:
    """One image with the LiDAR edge points to project into it."""

    sample: SensorSample
    points_m: FloatArray  # (N, 3) global, at their capture time
    velocity_mps: FloatArray  # (N, 3) global (0 for static points)
    time_s: FloatArray  # (N,) capture time relative to the image stamp
    weight: FloatArray  # (N,)
    attraction: np.ndarray | None = None  # (H, W) float32, once the image is decoded


def silhouette_points(
    xyz: FloatArray, ring: np.ndarray | None, indices: IntArray, min_jump_m: float
) -> tuple[BoolArray, FloatArray, float]:
    """Which depth-discontinuity points are silhouettes, and where the silhouette itself lies.

    On a wall seen at a grazing angle neighbouring ranges differ by more than any jump threshold at
    every point, but they change *linearly* along the scan line; at a silhouette they do not. A point
    is kept when the second difference of the range along its scan line (ring, ordered by azimuth;
    storage order without rings) exceeds ``min_jump_m``.

    The last return on an object lies up to one azimuth step inside its outline. Left uncorrected this
    biases time offsets: roadside objects show the silhouette that faces the road, so the points all
    lie on the side away from the vanishing point, and a forward camera would prefer the offset that
    contracts the scene. Each kept point is therefore turned half way toward its far neighbour's azimuth
    (range and height kept), the expected position of the outline.

    Args:
        xyz: ``(N, 3)`` sensor-frame points, metres.
        ring: ``(N,)`` beam index or None.
        indices: ``(M,)`` candidate points (:func:`depth_discontinuities`).
        min_jump_m: threshold on the second difference, metres.

    Returns:
        ``keep`` ``(M,)`` bool, ``outline`` ``(M, 3)`` float64 corrected sensor-frame positions, and the
        median azimuth step between neighbours of a scan line, radians.
    """
    n = xyz.shape[0]
    rng = np.linalg.norm(xyz, axis=1)
    azimuth = np.arctan2(xyz[:, 1], xyz[:, 0])
    if ring is not None:
        order = np.lexsort((azimuth, ring))
        line = np.asarray(ring)[order]
    else:
        order = np.arange(n)
        line = np.zeros(n)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    r, az = rng[order], azimuth[order]
    same = line[1:] == line[:-1]
    prev_r = np.concatenate([[np.nan], np.where(same, r[:-1], np.nan)])
    next_r = np.concatenate([np.where(same, r[1:], np.nan), [np.nan]])
    prev_az = np.concatenate([[np.nan], az[:-1]])
    next_az = np.concatenate([az[1:], [np.nan]])
    k = pos[indices]
    second = prev_r[k] + next_r[k] - 2.0 * r[k]
    with np.errstate(invalid="ignore"):
        keep = np.asarray(~np.isfinite(second) | (np.abs(second) > min_jump_m))
        far_next = np.nan_to_num(next_r[k], nan=-np.inf) >= np.nan_to_num(prev_r[k], nan=-np.inf)
    far_az = np.where(far_next, next_az[k], prev_az[k])
    step = np.angle(np.exp(1j * (far_az - az[k])))
    turned = az[k] + 0.5 * np.where(np.isfinite(step), step, 0.0)
    radial = np.hypot(xyz[indices, 0], xyz[indices, 1])
    outline = np.column_stack([radial * np.cos(turned), radial * np.sin(turned), xyz[indices, 2]])
    gaps = np.abs(np.angle(np.exp(1j * (az[1:] - az[:-1]))))[same]
    step_rad = float(np.median(gaps)) if gaps.size else 0.0
    return keep, outline, step_rad


def _lidar_for(context: SequenceContext, lidar: str, t_us: int, max_gap_s: float) -> SensorSample | None:
    samples = context.sequence.samples.get(lidar, ())
    if not samples:
        return None
    stamps = np.array([s.timestamp_us for s in samples])
    i = int(np.argmin(np.abs(stamps - t_us)))
    return samples[i] if abs(stamps[i] - t_us) * 1e-6 <= max_gap_s else None


def _moving_boxes(
    context: SequenceContext, t_us: float
) -> list[tuple[FloatArray, FloatArray, FloatArray, FloatArray]]:
    """Centre, rotation, half size and velocity of every track moving at ``t_us`` (global)."""
    out = []
    for track in context.sequence.tracks.values():
        if len(track) < 2 or not track.covers(t_us):
            continue
        state = track.state_at(t_us)
        v = state.velocity_mps
        if not np.all(np.isfinite(v)) or np.linalg.norm(v[:2]) < 0.5:
            continue
        out.append((state.center_m, quaternion.to_matrix(state.quat_wxyz[None])[0], 0.5 * state.size_m, v))
    return out


@dataclass(frozen=True)
class LidarEdges:
    """Silhouette points of one LiDAR sweep, shared by every camera.

    Attributes:
        points_m: ``(N, 3)`` global positions at capture time (outline-corrected), metres.
        velocity_mps: ``(N, 3)`` global velocity (the moving box's; 0 for static points).
        time_s: ``(N,)`` capture time relative to the sweep's stamp, seconds.
        weight: ``(N,)`` depth-jump weights, metres.
        azimuth_step_rad: median azimuth step between neighbouring returns of a scan line.
    """

    points_m: FloatArray
    velocity_mps: FloatArray
    time_s: FloatArray
    weight: FloatArray
    azimuth_step_rad: float


#: Edge points per LiDAR sample token, shared by the cameras of one sequence.
EdgeCache = dict[str, LidarEdges | None]


def lidar_edges(
    context: SequenceContext,
    lidar_sample: SensorSample,
    model: SpinModel,
    settings: CameraSyncSettings,
    label_offset_ms: float = 0.0,
) -> LidarEdges | None:
    """Silhouette points of a sweep in the global frame, with their times and velocities (None: none).

    A point moves with the labelled box it lies in; the tracks are read at the sweep's stamp minus the
    labels' own offset (``label_offset_ms``), where the boxes show the world at the sweep's time.
    """
    sequence = context.sequence
    lidar = sequence.sensors[lidar_sample.channel]
    sweep = context.read_lidar(lidar_sample)
    xyz = sweep.xyz.astype(np.float64)
    ring = sweep.points[:, 4] if "ring" in sweep.column_names and np.ptp(sweep.points[:, 4]) > 0 else None
    discontinuity = DiscontinuityParameters()
    idx, weight = depth_discontinuities(xyz, ring, discontinuity)
    keep, outline, step_rad = silhouette_points(xyz, ring, idx, discontinuity.min_jump_m)
    idx, weight, outline = idx[keep], weight[keep], outline[keep]
    if idx.size == 0:
        return None
    if idx.size > settings.max_points:
        keep = np.sort(np.argsort(-weight, kind="stable")[: settings.max_points])
        idx, weight, outline = idx[keep], weight[keep], outline[keep]
    points = lidar_sample.global_from_ego.compose(lidar.ego_from_sensor).transform_points(outline)
    velocity = np.zeros_like(points)
    for center, rotation, half, v in _moving_boxes(
        context, lidar_sample.timestamp_us - label_offset_ms * 1e3
    ):
        local = np.abs((points - center) @ rotation)
        inside = np.all(local <= half + settings.box_margin_m, axis=1)
        velocity[inside] = v
    return LidarEdges(points, velocity, sweep_point_times_s(sweep, model)[idx], weight, step_rad)


def _frame(
    context: SequenceContext,
    image_sample: SensorSample,
    lidar_sample: SensorSample,
    edges_of_sweep: LidarEdges,
    camera_from_ego: SE3,
    intrinsics: CameraIntrinsics,
) -> _Frame | None:
    """Select the sweep's edge points near the camera's view, timed relative to the image (no pixels yet)."""
    # Only points near the camera's view at offset 0 (a 25 % margin around the image) can matter.
    r, t = _camera_from_global(
        context.sequence.ego_poses, np.array([image_sample.timestamp_us]), camera_from_ego
    )
    cam = edges_of_sweep.points_m @ r[0].T + t[0]
    uv, _depth, valid = project_points(cam, intrinsics)
    w, h = intrinsics.width_px, intrinsics.height_px
    with np.errstate(invalid="ignore"):
        near = valid & (np.abs(uv[:, 0] - w / 2) < 0.75 * w) & (np.abs(uv[:, 1] - h / 2) < 0.75 * h)
    if not np.any(near):
        return None
    dt_s = (lidar_sample.timestamp_us - image_sample.timestamp_us) * 1e-6
    return _Frame(
        image_sample,
        edges_of_sweep.points_m[near],
        edges_of_sweep.velocity_mps[near],
        edges_of_sweep.time_s[near] + dt_s,
        edges_of_sweep.weight[near],
    )


def _attach_image(
    context: SequenceContext,
    frame: _Frame,
    intrinsics: CameraIntrinsics,
    scale: float,
    settings: CameraSyncSettings,
    edges: EdgeParameters,
) -> None:
    """Decode the frame's image and set its (high-passed) edge attraction."""
    image_sample = frame.sample
    image = context.source.read_image(image_sample, scale=scale, grey=True)
    if image.pixels.shape[:2] != (intrinsics.height_px, intrinsics.width_px) and intrinsics.width_px > 0:
        raise InputError(
            f"image is {image.pixels.shape[1]}x{image.pixels.shape[0]} px at scale {scale:g}, the "
            f"calibration says {intrinsics.width_px}x{intrinsics.height_px}",
            path=image_sample.path,
            table="sample_data",
            record=image_sample.token,
        )
    # Issue 5's edge map and attraction, with the 3x3-mask distance transform: 4x faster than the
    # precise mask at these sizes, and its < 2 % distance error is immaterial to an 8 px decay.
    edge = edge_map(image.pixels, edges)
    if edge.any():
        distance = cv2.distanceTransform(np.where(edge, 0, 255).astype(np.uint8), cv2.DIST_L2, 3)
    else:
        distance = np.full(edge.shape, float(sum(edge.shape)), dtype=np.float32)
    attraction = edge_attraction(distance, edges)
    # High-pass: the edge density rises toward the vanishing point, so a plain attraction favours
    # offsets that contract the projected points there (forward cameras back in time, rear cameras
    # ahead). Subtracting the attraction's local mean leaves only how well points sit *on* edges.
    size = 2 * round(settings.background_px) + 1
    frame.attraction = (attraction - cv2.blur(attraction, (size, size))).astype(np.float32)


def _project(
    frame: _Frame, offset_s: float, poses: PoseTrack, camera_from_ego: SE3, intrinsics: CameraIntrinsics
) -> tuple[FloatArray, np.ndarray]:
    t_us = frame.sample.timestamp_us + offset_s * 1e6
    world = frame.points_m + frame.velocity_mps * (offset_s - frame.time_s)[:, None]
    r, t = _camera_from_global(poses, np.array([t_us]), camera_from_ego)
    cam = world @ r[0].T + t[0]
    uv, _depth, valid = project_points(cam, intrinsics)
    return uv, valid


def _image_motion_px_per_ms(
    frame: _Frame, poses: PoseTrack, camera_from_ego: SE3, intrinsics: CameraIntrinsics
) -> tuple[float, FloatArray]:
    """Image motion around offset 0: the weighted mean over in-image points and per point, pixels per ms.

    Returns:
        ``(mean, per_point)``: ``per_point`` ``(N,)`` is 0 for points outside the image.
    """
    uv0, ok0 = _project(frame, -0.01, poses, camera_from_ego, intrinsics)
    uv1, ok1 = _project(frame, 0.01, poses, camera_from_ego, intrinsics)
    h, w = intrinsics.height_px, intrinsics.width_px
    with np.errstate(invalid="ignore"):
        ok = ok0 & ok1 & (uv0[:, 0] >= 0) & (uv0[:, 0] < w) & (uv0[:, 1] >= 0) & (uv0[:, 1] < h)
    per_point = np.zeros(frame.weight.size)
    if not np.any(ok):
        return 0.0, per_point
    per_point[ok] = np.linalg.norm(uv1[ok] - uv0[ok], axis=1) / 20.0
    return float(np.average(per_point[ok], weights=frame.weight[ok])), per_point


def _angular_motion(motions_px_per_ms: list[float], intrinsics: CameraIntrinsics) -> float:
    """Median image motion of the frames as an angle, milliradians per ms of offset."""
    focal_px = float(np.sqrt(intrinsics.matrix[0, 0] * intrinsics.matrix[1, 1]))
    return 1e3 * float(np.median(motions_px_per_ms)) / focal_px


def decode_scale(intrinsics: CameraIntrinsics, settings: CameraSyncSettings) -> float:
    """Return the decode scale of a camera: the largest of 1, 0.5, 0.25 keeping it <= ``max_width_px``."""
    for scale in (1.0, 0.5, 0.25):
        if intrinsics.width_px * scale <= settings.max_width_px:
            return scale
    return 0.125


def _strips(
    frames: list[_Frame], n_strips: int, poses: PoseTrack, camera_from_ego: SE3, intrinsics: CameraIntrinsics
) -> list[_Frame]:
    """Split every frame into ``n_strips`` vertical image strips (by where its points project at offset 0)."""
    out = []
    for frame in frames:
        uv, _valid = _project(frame, 0.0, poses, camera_from_ego, intrinsics)
        width = intrinsics.width_px
        strip = np.clip(np.nan_to_num(uv[:, 0], nan=-1.0) * n_strips // width, 0, n_strips - 1).astype(int)
        for k in range(n_strips):
            mine = strip == k
            if np.count_nonzero(mine & (frame.weight > 0)) >= 5:
                out.append(
                    _Frame(frame.sample, frame.points_m[mine], frame.velocity_mps[mine], frame.time_s[mine],
                           frame.weight[mine], frame.attraction)
                )  # fmt: skip
    return out


def estimate_camera_offset(
    context: SequenceContext,
    channel: str,
    settings: CameraSyncSettings,
    search: SearchSettings,
    cache: EdgeCache | None = None,
    label_offset_ms: float = 0.0,
) -> SyncEstimate:
    """Offset of camera ``channel`` against the reference LiDAR (module docstring), interval and support."""
    sequence = context.sequence
    lidar = context.reference_lidar
    if lidar is None:
        return not_estimable(channel, "", "the sequence has no LiDAR channel")
    cache = {} if cache is None else cache
    camera = sequence.sensors[channel]
    assert camera.intrinsics is not None  # guaranteed for cameras by Sensor
    scale = decode_scale(camera.intrinsics, settings)
    intrinsics = scaled_intrinsics(camera.intrinsics, scale)
    camera_from_ego = camera.ego_from_sensor.inverse()
    poses = sequence.ego_poses
    model = spin_model_for(sequence, lidar)
    edges = EdgeParameters(decay_px=settings.decay_px)
    images = list(sequence.samples.get(channel, ()))
    if len(images) > settings.max_frames:
        pick = np.unique(np.round(np.linspace(0, len(images) - 1, settings.max_frames)).astype(int))
        images = [images[i] for i in pick]
    frames: list[_Frame] = []
    problems: list[str] = []
    weak = 0
    motions: list[float] = []
    for image_sample in images:
        lidar_sample = _lidar_for(context, lidar, image_sample.timestamp_us, settings.max_lidar_gap_s)
        if lidar_sample is None:
            continue
        try:
            if lidar_sample.token not in cache:
                cache[lidar_sample.token] = lidar_edges(
                    context, lidar_sample, model, settings, label_offset_ms
                )
            sweep_edges = cache[lidar_sample.token]
            frame = None
            if sweep_edges is not None:
                frame = _frame(context, image_sample, lidar_sample, sweep_edges, camera_from_ego, intrinsics)
        except InputError as exc:
            problems.append(str(exc))
            continue
        if frame is None:
            continue
        motion, per_point = _image_motion_px_per_ms(frame, poses, camera_from_ego, intrinsics)
        if motion < settings.min_motion_px_per_ms:
            weak += 1
            continue
        # A point carries timing evidence in proportion to how fast it moves in the image.
        frame.weight = frame.weight * per_point
        frames.append(frame)
        motions.append(motion)
    # Images are decoded only now, for the frames that carry evidence, and only if the camera as a whole
    # moves enough in its images (checked first, on the projected points alone).
    if frames and _angular_motion(motions, intrinsics) >= settings.min_motion_mrad_per_ms:
        decoded = []
        for frame in frames:
            try:
                _attach_image(context, frame, intrinsics, scale, settings, edges)
            except InputError as exc:
                problems.append(str(exc))
                continue
            decoded.append(frame)
        motions = [m for f, m in zip(frames, motions, strict=True) if f.attraction is not None]
        frames = decoded
    note = f"; {len(problems)} unreadable file(s) skipped, first: {problems[0]}" if problems else ""
    if 0 < len(frames) < settings.min_frames:
        # Too few images to resample: resample vertical strips of them (different objects) instead.
        n_images = len(frames)
        frames = _strips(frames, settings.strips, poses, camera_from_ego, intrinsics)
        note += f"; {n_images} image(s): the interval resamples {len(frames)} image strips"
    if len(frames) < settings.min_frames:
        reason = (
            f"{len(frames)} informative frame(s) (fewer than {settings.min_frames}); {weak} frame(s) where "
            f"the LiDAR edges move less than {settings.min_motion_px_per_ms:g} px/ms in the image "
            "(ego at rest or moving along the optical axis)" + note
        )
        return not_estimable(channel, lidar, reason, len(frames))
    motion_px_per_ms = float(np.median(motions))
    motion_mrad_per_ms = _angular_motion(motions, intrinsics)
    steps = [e.azimuth_step_rad for e in cache.values() if e is not None]
    focal_px = float(np.sqrt(intrinsics.matrix[0, 0] * intrinsics.matrix[1, 1]))
    outline_px = settings.outline_uncertainty * (float(np.median(steps)) if steps else 0.0) * focal_px
    bias_px = max(settings.edge_uncertainty_px, outline_px)
    systematic_ms = bias_px / motion_px_per_ms
    if motion_mrad_per_ms < settings.min_motion_mrad_per_ms:
        reason = (
            f"the LiDAR edges move only {motion_mrad_per_ms:.3f} mrad/ms in the image (median of "
            f"{len(frames)} frames; ego motion along the optical axis?): a "
            f"{bias_px:.1f} px edge bias alone would shift the offset by "
            f"{systematic_ms:.0f} ms{note}"
        )
        return not_estimable(channel, lidar, reason, len(frames))

    def curves_of(offsets_ms: FloatArray, subset: list[_Frame] = frames) -> FloatArray:
        # Minus the mean attraction of the points inside the image: a sum would favour offsets that
        # keep more points in view (a forward camera's points converge as it moves back in time).
        out = np.zeros((len(subset), offsets_ms.size))
        offsets_s = np.asarray(offsets_ms, dtype=np.float64) * 1e-3
        for i, frame in enumerate(subset):
            assert frame.attraction is not None  # every frame kept was decoded above
            rotations, translations = _camera_from_global(
                poses, frame.sample.timestamp_us + offsets_s * 1e6, camera_from_ego
            )
            scores, seen = offset_scores(
                frame.points_m, frame.velocity_mps, frame.time_s, frame.weight, offsets_s,
                (rotations, translations), intrinsics, frame.attraction,
            )  # fmt: skip
            out[i] = np.where(seen > 0, -scores / np.maximum(seen, 1e-12), 0.0)
        return out

    result = estimate_from_curves(channel, lidar, curves_of, len(frames), search)
    times_us = np.array([f.sample.timestamp_us for f in frames], dtype=np.float64)

    def half_curves(keep: np.ndarray) -> tuple[Callable[[FloatArray], FloatArray], int]:
        subset = [f for f, k in zip(frames, keep, strict=True) if k]
        return (lambda offsets_ms: curves_of(offsets_ms, subset)), len(subset)

    result = estimate_drift(result, times_us, half_curves, search)
    if result.ci95_ms is not None:
        lo, hi = result.ci95_ms
        result.ci95_ms = (lo - systematic_ms, hi + systematic_ms)
    if note or weak:
        extra = f"{weak} frame(s) without image motion left out{note}" if weak else note.lstrip("; ")
        result.reason = extra if result.reason is None else f"{result.reason}; {extra}"
    return result

"""Check ``camera_calibration``: whether each camera's extrinsic agrees with what the LiDAR sees.

After Levinson & Thrun (RSS 2013). For every camera, up to ``max_frames`` keyframes (evenly spread over
the sequence) contribute their LiDAR depth edges (:func:`~fusioncheck.checks.edge_evidence.
depth_discontinuities`) and reflectance edges (road paint; :func:`~fusioncheck.checks.edge_evidence.
reflectance_discontinuities`), moved into the camera frame at the *camera's* timestamp through the ego
poses (so ego motion between the LiDAR and camera captures is not mistaken for a calibration error), and
the image's edge attraction. Evidence of all frames is pooled before deciding. The search
(:mod:`fusioncheck.checks.calibration_search`) finds the correction of the stated extrinsic that
maximises the alignment of LiDAR edges with image edges, and how consistently image strips agree on it.

Status per camera (``sequences[].calibration[]``):

- ``suspect``: the best correction rotates by at least ``rotation_threshold_deg`` in pitch or yaw, or by
  ``roll_threshold_deg`` in roll (about the optical axis, which moves pixels only far from the image
  centre and is estimated least precisely), or shifts by ``translation_threshold_m``, and its gain over
  the stated extrinsic stands out of the objective's noise (``prominence >= min_prominence``, in robust
  standard deviations of the objective along the per-axis scans); a ``calibration_suspect`` finding
  says by how much. ``gain_z`` (consistency of the gain over image strips) and L&T's ``fraction_worse``
  are reported beside it.
- ``ok``: otherwise.
- ``not_estimable``: fewer than ``min_points`` edge points project into the images, no frame has both an
  image and a LiDAR sweep, or the images have (almost) no edges; ``reason`` says which.

Correction convention (see :mod:`fusioncheck.checks.calibration_search`): roll/pitch/yaw in degrees about
the camera's forward/left/up axes and a forward/left/up translation in metres, such that
``ego_from_camera_corrected = ego_from_camera_stated @ correction``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from fusioncheck.checks.base import Check, CheckOutput, Finding, Severity, register
from fusioncheck.checks.calibration_search import (
    CalibrationFrame,
    EdgeObjective,
    FrameParameters,
    SearchParameters,
    SearchResult,
    calibration_frame,
    correction_transform,
    rpy_deg_from_rotation,
    search_correction,
)
from fusioncheck.checks.edge_evidence import (
    DiscontinuityParameters,
    ReflectanceParameters,
    depth_edges,
    reflectance_discontinuities,
    scaled_intrinsics,
    scan_line_order,
)
from fusioncheck.errors import TimeRangeError
from fusioncheck.geometry.se3 import SE3
from fusioncheck.kernels.edge_distance import EdgeParameters, edge_attraction, edge_distance, edge_map
from fusioncheck.kernels.lidar_edges import fov_mask
from fusioncheck.kernels.scan_lines import rings_from_scan_order
from fusioncheck.scene.sensors import CameraIntrinsics, Modality
from fusioncheck.typing import FloatArray

if TYPE_CHECKING:
    from pathlib import Path

    from fusioncheck.context import SequenceContext
    from fusioncheck.scene.samples import LidarSweep, SensorSample

_DECODE_SCALES = (1.0, 0.5, 0.25)


def decode_scale(width_px: int, max_width_px: int) -> float:
    """Return the largest reduced-decode scale (1, 1/2, 1/4) keeping an image within ``max_width_px``."""
    for s in _DECODE_SCALES:
        if width_px * s <= max_width_px:
            return s
    return _DECODE_SCALES[-1]


def lidar_edge_points(
    sweep: LidarSweep, reflectance_weight: float, keep: np.ndarray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Return depth-edge positions and reflectance-edge points, ``(M, 3)`` m (sensor frame), and weights.

    ``keep``: ``(N,)`` bool, the points worth looking at (e.g. the camera's field of view with a margin);
    rings are recovered from the whole sweep first, so the scan structure survives the selection.
    """
    names = sweep.column_names
    xyz = np.asarray(sweep.xyz, dtype=np.float64)
    ring_column = sweep.points[:, names.index("ring")].astype(np.int64) if "ring" in names else None
    if ring_column is not None and np.unique(ring_column).size > 1:
        ring = ring_column
        usable = np.ones(xyz.shape[0], dtype=bool)
    else:
        azimuth = np.arctan2(xyz[:, 1], xyz[:, 0])
        ring = rings_from_scan_order(xyz, azimuth)
        # Near the azimuth where every scan starts, recovered rings are least certain (see depth_edges);
        # only the points kept need the test.
        usable = np.ones(xyz.shape[0], dtype=bool) if keep is None else np.asarray(keep, dtype=bool).copy()
        a = azimuth[usable]
        usable[usable] = np.abs((a - azimuth[0] + np.pi) % (2 * np.pi) - np.pi) > np.radians(1.5)
        if not scan_lines_plausible(xyz, ring):
            raise ScanLinesUnknown(
                "the LiDAR sweep has no ring (beam) index and its storage order is not a scan order, so its "
                "depth edges cannot be found"
            )
    if keep is not None:
        usable &= keep
    xyz, ring = xyz[usable], ring[usable]
    order = scan_line_order(xyz, ring)  # sorted once for both edge kinds
    idx, weights, positions = depth_edges(xyz, ring, DiscontinuityParameters(), scan_order=order)
    if reflectance_weight > 0.0 and "intensity" in names:
        r_idx, r_w = reflectance_discontinuities(
            xyz,
            sweep.points[usable, names.index("intensity")].astype(np.float64),
            ring,
            ReflectanceParameters(weight=reflectance_weight),
            scan_order=order,
        )
        keep = ~np.isin(r_idx, idx)
        positions = np.concatenate([positions, xyz[r_idx[keep]]])
        weights = np.concatenate([weights, r_w[keep]])
    return positions, weights


class ScanLinesUnknown(Exception):
    """A sweep's scan lines can be neither read (ring column) nor recovered (storage order)."""


def scan_lines_plausible(points: np.ndarray, ring: np.ndarray, max_spread_deg: float = 2.0) -> bool:
    """Tell whether recovered rings look like a spinning LiDAR's lasers: >= 8 rings of (mostly) one elevation.

    The test uses points beyond 5 m (nearer ones see the lasers' mounting offsets); the median over rings
    of the elevation's interquartile range must stay below ``max_spread_deg``.
    """
    n_rings = int(ring.max()) + 1 if ring.size else 0
    if n_rings < 8:
        return False
    step = max(1, points.shape[0] // 20000)  # a subsample is plenty for a spread
    sub_points, sub_ring = points[::step], ring[::step]
    far = np.hypot(sub_points[:, 0], sub_points[:, 1]) > 5.0
    elevation = np.degrees(np.arctan2(sub_points[far, 2], np.hypot(sub_points[far, 0], sub_points[far, 1])))
    r = sub_ring[far]
    spreads = []
    for k in np.unique(r)[:: max(1, n_rings // 16)]:
        e = elevation[r == k]
        if e.size >= 20:
            q75, q25 = np.percentile(e, [75, 25])
            spreads.append(q75 - q25)
    return bool(spreads) and float(np.median(spreads)) <= max_spread_deg


def _frustum(intrinsics: CameraIntrinsics, shape: tuple[int, ...]) -> tuple[float, float]:
    m = intrinsics.matrix
    h, w = shape[0], shape[1]
    half_u = max(m[0, 2] + 0.5, w - 0.5 - m[0, 2]) / m[0, 0] + 0.2
    half_v = max(m[1, 2] + 0.5, h - 0.5 - m[1, 2]) / m[1, 1] + 0.2
    return float(half_u), float(half_v)


def field_of_view(
    points_lidar: np.ndarray, camera_from_lidar: SE3, intrinsics: CameraIntrinsics, shape: tuple[int, ...]
) -> np.ndarray:
    """Which LiDAR points lie in front of the camera within its (pinhole) field of view plus ~10 deg.

    ``points_lidar``: ``(N, 3)`` metres (float32 or float64, e.g. a column view of the sweep); one pass of
    :func:`~fusioncheck.kernels.lidar_edges.fov_mask`. Returns ``(N,)`` bool.
    """
    half_u, half_v = _frustum(intrinsics, shape)
    return fov_mask(points_lidar, camera_from_lidar.rotation, camera_from_lidar.translation, half_u, half_v)


def field_of_view_reference(
    points_lidar: np.ndarray, camera_from_lidar: SE3, intrinsics: CameraIntrinsics, shape: tuple[int, ...]
) -> np.ndarray:
    """Plain-numpy reference of :func:`field_of_view`; for tests."""
    pc = camera_from_lidar.transform_points(np.asarray(points_lidar, dtype=np.float64))
    half_u, half_v = _frustum(intrinsics, shape)
    z = pc[:, 2]
    return np.asarray((z > 0.5) & (np.abs(pc[:, 0]) < half_u * z) & (np.abs(pc[:, 1]) < half_v * z))


def attraction_maps(pixels: np.ndarray, scale: float, decays_px: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """Edge attraction of one image for each decay length (original-resolution pixels), coarse to fine."""
    distance = edge_distance(edge_map(pixels))
    return tuple(edge_attraction(distance, EdgeParameters(decay_px=d * scale)) for d in decays_px)


@register
class CameraCalibrationCheck(Check):
    """Edge-alignment validation of every camera's extrinsic (see the module docstring)."""

    name: ClassVar[str] = "camera_calibration"
    finding_types: ClassVar[tuple[str, ...]] = ("calibration_suspect",)
    defaults: ClassVar[dict[str, Any]] = {
        "max_frames": 20,
        "max_image_width_px": 1280,
        "rotation_threshold_deg": 0.3,
        "roll_threshold_deg": 0.75,
        "translation_threshold_m": 0.25,
        "min_prominence": 2.0,
        "min_points": 600,
        "min_edge_fraction": 0.002,
        "reflectance_weight": 3.0,
        "decay_px": 5.0,
        "local_mean_px": 41,
    }

    def run(self, context: SequenceContext) -> CheckOutput:
        """Validate every camera of the sequence; one ``calibration`` row per camera."""
        out = CheckOutput()
        sequence = context.sequence
        lidar = context.reference_lidar
        cameras = sequence.channels(Modality.CAMERA)
        if not cameras:
            out.notes.append("camera_calibration: no camera in the sequence")
            return out
        if lidar is None:
            out.notes.append("camera_calibration: no LiDAR channel: no camera can be validated")
            for camera in cameras:
                out.sections.setdefault("calibration", []).append(
                    _row(camera, "not_estimable", None, "no LiDAR")
                )
            return out
        for camera in cameras:
            row, finding = self._camera(context, lidar, camera)
            out.sections.setdefault("calibration", []).append(row)
            if finding is not None:
                out.findings.append(finding)
        out.statistics = {
            "cameras": len(cameras),
            "suspect": sum(r["status"] == "suspect" for r in out.sections["calibration"]),
            "not_estimable": sum(r["status"] == "not_estimable" for r in out.sections["calibration"]),
        }
        return out

    # ------------------------------------------------------------------ one camera

    def collect_frames(
        self, context: SequenceContext, lidar: str, camera: str
    ) -> tuple[list[CalibrationFrame], CameraIntrinsics | None, list[str]]:
        """Gather the evidence of one camera: frames, the intrinsics at the decode scale, problems met."""
        p = self.parameters
        sequence = context.sequence
        sensor = sequence.sensors[camera]
        intrinsics = sensor.intrinsics
        problems: list[str] = []
        pairs = [
            (kf.samples[lidar], kf.samples[camera])
            for kf in sequence.keyframes
            if lidar in kf.samples and camera in kf.samples
        ]
        if not pairs or intrinsics is None:
            return [], None, ["no keyframe has both a LiDAR sweep and an image"]
        step = max(1, math.ceil(len(pairs) / int(p["max_frames"])))
        pairs = pairs[::step]
        width = intrinsics.width_px or pairs[0][1].width_px
        scale = decode_scale(width, int(p["max_image_width_px"]))
        camera_from_ego = sensor.ego_from_sensor.inverse()
        ego_from_lidar = sequence.sensors[lidar].ego_from_sensor
        frames: list[CalibrationFrame] = []
        scaled: CameraIntrinsics | None = None
        search = SearchParameters()
        for lidar_sample, camera_sample in pairs:
            try:
                camera_from_lidar = (
                    camera_from_ego @ _ego_motion(context, lidar_sample, camera_sample) @ ego_from_lidar
                )
            except TimeRangeError as exc:
                problems.append(f"no ego pose: {exc}")
                continue
            image = context.source.read_image(camera_sample, scale=scale, grey=True)
            if scaled is None:
                base = intrinsics
                if base.width_px == 0:
                    base = CameraIntrinsics(
                        base.matrix, base.distortion, camera_sample.width_px, camera_sample.height_px
                    )
                scaled = scaled_intrinsics(base, scale)
            maps = attraction_maps(image.pixels, scale, (float(p["decay_px"]),))
            if float(np.mean(maps[-1] >= 1.0)) < float(p["min_edge_fraction"]):
                problems.append(f"image {camera_sample.token} has almost no edges")
                continue
            sweep = context.read_lidar(lidar_sample)
            in_view = field_of_view(sweep.xyz, camera_from_lidar, scaled, image.pixels.shape[:2])
            try:
                points, weights = lidar_edge_points(sweep, float(p["reflectance_weight"]), in_view)
            except ScanLinesUnknown as exc:
                return [], None, [str(exc)]
            frame = calibration_frame(
                maps,
                camera_from_lidar.transform_points(points),
                weights,
                scaled,
                search.blocks,
                FrameParameters(local_mean_px=int(p["local_mean_px"])),
                scale,
            )
            if frame is not None:
                frames.append(frame)
        return frames, scaled, problems

    def evaluate(
        self, frames: list[CalibrationFrame], intrinsics: CameraIntrinsics, curves: bool = False
    ) -> SearchResult:
        """Run the search over pooled frames."""
        return search_correction(EdgeObjective(frames, intrinsics), SearchParameters(), curves=curves)

    def _camera(
        self, context: SequenceContext, lidar: str, camera: str
    ) -> tuple[dict[str, Any], Finding | None]:
        p = self.parameters
        frames, intrinsics, problems = self.collect_frames(context, lidar, camera)
        points = sum(f.weights.size for f in frames)
        if not frames or intrinsics is None or points < int(p["min_points"]):
            reason = "; ".join(problems[:3]) or f"only {points} LiDAR edge points project into the images"
            if frames and points < int(p["min_points"]):
                reason = f"only {points} LiDAR edge points project into the images (< {p['min_points']})"
            return _row(camera, "not_estimable", None, reason, frames=len(frames), points=points), None
        result = self.evaluate(frames, intrinsics)
        correction = correction_transform(result.rotation_deg, result.translation_m).inverse()
        rotation_deg = rpy_deg_from_rotation(correction.rotation)
        translation_m = _flu(correction)
        max_trans = float(np.max(np.abs(translation_m)))
        large = (
            abs(rotation_deg[0]) >= float(p["roll_threshold_deg"])
            or max(abs(rotation_deg[1]), abs(rotation_deg[2])) >= float(p["rotation_threshold_deg"])
            or max_trans >= float(p["translation_threshold_m"])
        )
        suspect = large and result.prominence >= float(p["min_prominence"])
        limit_reason = None
        if result.at_search_limit:
            limit_reason = "the correction reached the search limit: the error may be larger than reported"
        status = "suspect" if suspect else "ok"
        row = _row(
            camera, status, result.score_stated, limit_reason, frames=result.frames, points=result.points
        )
        row["correction"] = {
            "rotation_deg": [round(float(x), 4) for x in rotation_deg],
            "translation_m": [round(float(x), 4) for x in translation_m],
        }
        row.update(
            score_corrected=round(result.score_best, 6),
            gain_z=round(result.gain_z, 3),
            prominence=round(result.prominence, 3),
            fraction_worse=round(result.fraction_worse, 3),
        )
        if not suspect:
            return row, None
        score = float(min(1.0, 0.5 * result.prominence / float(p["min_prominence"])))
        finding = Finding(
            check="calibration_suspect",
            severity=Severity.WARNING,
            sequence=context.sequence.name,
            score=score,
            message=(
                f"{camera}: LiDAR edges align best with image edges after a correction of roll/pitch/yaw "
                f"{', '.join(f'{x:+.2f}' for x in rotation_deg)} deg and forward/left/up "
                f"{', '.join(f'{x:+.2f}' for x in translation_m)} m (prominence {result.prominence:.1f})"
            ),
            sensor=camera,
            values={
                "roll_deg": round(float(rotation_deg[0]), 4),
                "pitch_deg": round(float(rotation_deg[1]), 4),
                "yaw_deg": round(float(rotation_deg[2]), 4),
                "forward_m": round(float(translation_m[0]), 4),
                "left_m": round(float(translation_m[1]), 4),
                "up_m": round(float(translation_m[2]), 4),
                "gain_z": round(result.gain_z, 3),
                "prominence": round(result.prominence, 3),
                "frames": result.frames,
                "points": result.points,
            },
        )
        return row, finding

    def plot(self, context: SequenceContext, output: CheckOutput, out_dir: Path) -> list[Path]:
        """Per camera: the objective around the stated extrinsic along roll, pitch and yaw."""
        from fusioncheck.plots.camera import plot_calibration_curves

        lidar = context.reference_lidar
        paths: list[Path] = []
        if lidar is None:
            return paths
        for row in output.sections.get("calibration", []):
            if row["status"] == "not_estimable":
                continue
            frames, intrinsics, _ = self.collect_frames(context, lidar, row["sensor"])
            if not frames or intrinsics is None:
                continue
            result = self.evaluate(frames, intrinsics, curves=True)
            paths.append(plot_calibration_curves(result, row, out_dir / f"calibration_{row['sensor']}.png"))
        return paths


def _ego_motion(context: SequenceContext, lidar_sample: SensorSample, camera_sample: SensorSample) -> SE3:
    """``ego(t_camera)_from_ego(t_lidar)`` through the global frame (identity when the times agree)."""
    if lidar_sample.timestamp_us == camera_sample.timestamp_us:
        return SE3.identity()
    poses = context.sequence.ego_poses
    return poses.at(camera_sample.timestamp_us).inverse() @ poses.at(lidar_sample.timestamp_us)


def _flu(transform: SE3) -> FloatArray:
    """Forward/left/up components of a camera-frame translation."""
    t = transform.translation
    return np.array([t[2], -t[0], -t[1]])


def _row(
    sensor: str, status: str, score: float | None, reason: str | None, frames: int = 0, points: int = 0
) -> dict[str, Any]:
    return {
        "sensor": sensor,
        "status": status,
        "score": None if score is None else round(float(score), 6),
        "correction": None,
        "reason": reason,
        "frames": frames,
        "points": points,
    }

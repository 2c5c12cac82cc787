"""Check ``camera_projection``: every box in every camera — visibility, and agreement with human 2D boxes.

For each keyframe and camera, every 3D box is projected into the image at the camera's own timestamp:
the camera pose is the ego pose recorded for the image (``SensorSample.global_from_ego``, at the camera
time) composed with the extrinsic; each object is moved along its track to the camera time (centre and
orientation interpolated between its keyframes; a box at either end of its track keeps its keyframe pose).
No label time offset is estimated or applied here (a note says how boxes were placed). Projection clips
box edges at the near plane and follows lens distortion (:mod:`fusioncheck.checks.box_projection`).

Per box and camera (``sequences[].visibility[]``): the image box of the projection, the truncation
fraction, and an occlusion estimate from the LiDAR: of the reference sweep's points (moved to the camera
time through the ego poses) that project inside the box's image extent, the fraction nearer than the box's
nearest point by more than ``occluder_margin_m``; ``null`` with fewer than ``min_occlusion_points``.

Where the source has human 2D boxes for the image (KITTI ``label_2``; nuImages-style ``object_ann``),
3D and 2D boxes are paired — by the source's own link when it has one, otherwise per image by class and
IoU with the Hungarian method (``scipy.optimize.linear_sum_assignment``) — and a pair whose IoU is below
``min_iou``, or whose box centres lie ``max_center_offset_m`` or more apart (the pixel offset scaled to
metres at the box's depth: a small, far box can be badly placed at a high IoU, a near box well placed at
a lower one), is a ``projection_mismatch`` finding with the IoU and the centre offset (pixels, metres,
and its direction in the image: 0 deg = right, 90 deg = down). A 3D box that is clearly visible
(truncation and occlusion below ``max_unmatched_hidden``) but has no 2D box is one too. Boxes mostly
inside a ``DontCare`` region are not judged. Per class and per camera IoU distributions go to the
check's statistics.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from fusioncheck.checks.base import Check, CheckOutput, Finding, Severity, register
from fusioncheck.checks.box_projection import ProjectedBoxes, iou_matrix, project_boxes
from fusioncheck.geometry.boxes import transform_boxes
from fusioncheck.geometry.camera import project_points
from fusioncheck.geometry.se3 import SE3
from fusioncheck.scene.boxes import BoxAnnotation, boxes_to_arrays
from fusioncheck.scene.boxes_2d import ImageBox
from fusioncheck.scene.sensors import CameraIntrinsics, Modality
from fusioncheck.typing import FloatArray

if TYPE_CHECKING:
    from pathlib import Path

    from fusioncheck.context import SequenceContext
    from fusioncheck.scene.samples import SensorSample
    from fusioncheck.scene.sequence import Keyframe


def match_boxes(
    projected_px: FloatArray,
    classes_3d: list[str],
    tokens_3d: list[str],
    image_boxes: list[ImageBox],
    min_match_iou: float,
) -> list[tuple[int, int, float]]:
    """Pair projected 3D boxes with 2D boxes of one image: ``(index_3d, index_2d, iou)`` per pair.

    Linked pairs (``ImageBox.annotation`` names a 3D token) are taken as they are. The rest are assigned
    by maximum total IoU among boxes of the same class (Hungarian method); pairs below ``min_match_iou``
    are dropped.
    """
    from scipy.optimize import linear_sum_assignment

    pairs: list[tuple[int, int, float]] = []
    if not image_boxes or projected_px.shape[0] == 0:
        return pairs
    boxes_2d = np.array([b.bbox_px for b in image_boxes], dtype=np.float64)
    iou = iou_matrix(np.nan_to_num(projected_px, nan=-1e9), boxes_2d)
    index_of = {t: i for i, t in enumerate(tokens_3d)}
    used_3d: set[int] = set()
    used_2d: set[int] = set()
    for j, b in enumerate(image_boxes):
        i = index_of.get(b.annotation) if b.annotation is not None else None
        if i is not None and i not in used_3d:
            pairs.append((i, j, float(iou[i, j])))
            used_3d.add(i)
            used_2d.add(j)
    free_3d = [i for i in range(len(tokens_3d)) if i not in used_3d and np.isfinite(projected_px[i]).all()]
    free_2d = [j for j in range(len(image_boxes)) if j not in used_2d and image_boxes[j].annotation is None]
    if free_3d and free_2d:
        same = np.array([[classes_3d[i] == image_boxes[j].category for j in free_2d] for i in free_3d])
        score = np.where(same, iou[np.ix_(free_3d, free_2d)], 0.0)
        rows, cols = linear_sum_assignment(-score)
        for r, c in zip(rows, cols, strict=True):
            if score[r, c] >= min_match_iou:
                pairs.append((free_3d[r], free_2d[c], float(score[r, c])))
    return pairs


@register
class CameraProjectionCheck(Check):
    """Box visibility per camera and agreement with human 2D boxes (see the module docstring)."""

    name: ClassVar[str] = "camera_projection"
    finding_types: ClassVar[tuple[str, ...]] = ("projection_mismatch",)
    defaults: ClassVar[dict[str, Any]] = {
        "min_iou": 0.5,
        "max_center_offset_m": 0.15,
        "min_match_iou": 0.1,
        "max_unmatched_hidden": 0.3,
        "occluder_margin_m": 0.5,
        "min_occlusion_points": 5,
        "dont_care_overlap": 0.5,
        "visibility_table": True,
    }

    def run(self, context: SequenceContext) -> CheckOutput:
        """Project every box into every camera of every keyframe; compare with 2D boxes where present."""
        out = CheckOutput()
        sequence = context.sequence
        cameras = sequence.channels(Modality.CAMERA)
        if not cameras:
            out.notes.append("camera_projection: no camera in the sequence")
            return out
        lidar = context.reference_lidar
        if lidar is None:
            out.notes.append("camera_projection: no LiDAR: occlusion is not estimated")
        ious: dict[tuple[str, str], list[float]] = {}
        images_with_2d = 0
        off_time = 0
        for keyframe in sequence.keyframes:
            points_global = self._lidar_global(context, keyframe, lidar)
            for camera in cameras:
                sample = keyframe.samples.get(camera)
                if sample is None or not keyframe.annotations:
                    continue
                if sample.timestamp_us != keyframe.timestamp_us:
                    off_time += 1
                images_with_2d += self._image(context, keyframe, camera, sample, points_global, out, ious)
        if off_time:
            out.notes.append(
                f"camera_projection: {off_time} images are not stamped at their keyframe time; each box was "
                "moved along its track to the image time (interpolated between its keyframes; a box at the "
                "end of its track stays at its keyframe pose), no label time offset applied, with the ego "
                "pose of the image"
            )
        if images_with_2d == 0:
            out.notes.append(
                "camera_projection: no human 2D boxes in this sequence: 2D/3D agreement not checked"
            )
        out.statistics = {
            "images_with_2d_boxes": images_with_2d,
            "iou": _iou_summary(ious),
        }
        return out

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _lidar_global(context: SequenceContext, keyframe: Keyframe, lidar: str | None) -> FloatArray | None:
        if lidar is None or lidar not in keyframe.samples:
            return None
        sample = keyframe.samples[lidar]
        sweep = context.read_lidar(sample)
        global_from_lidar = sample.global_from_ego @ context.sequence.sensors[lidar].ego_from_sensor
        return global_from_lidar.transform_points(np.asarray(sweep.xyz, dtype=np.float64))

    def _image(
        self,
        context: SequenceContext,
        keyframe: Keyframe,
        camera: str,
        sample: SensorSample,
        points_global: FloatArray | None,
        out: CheckOutput,
        ious: dict[tuple[str, str], list[float]],
    ) -> int:
        """Project the keyframe's boxes into one image; returns 1 when the image has human 2D boxes."""
        p = self.parameters
        sensor = context.sequence.sensors[camera]
        intrinsics = sensor.intrinsics
        assert intrinsics is not None  # cameras always have intrinsics (Sensor.__post_init__)
        width = intrinsics.width_px or sample.width_px
        height = intrinsics.height_px or sample.height_px
        if width <= 0 or height <= 0:
            out.notes.append(f"camera_projection: {camera} has no image size: its boxes are not projected")
            return 0
        camera_from_global = sensor.ego_from_sensor.inverse() @ sample.global_from_ego.inverse()
        boxes = list(keyframe.annotations)
        placed = [_at_time(context, b, sample.timestamp_us) for b in boxes]
        centres_cam = camera_from_global.transform_points(np.stack([b.center_m for b in placed]))
        depths = centres_cam[:, 2]
        projected = project_boxes(
            transform_boxes(boxes_to_arrays(placed), camera_from_global), intrinsics, width, height
        )
        occlusion = self._occlusion(points_global, camera_from_global, intrinsics, width, height, projected)
        image_boxes = list(context.source.image_boxes(sample))
        dont_care = [b for b in image_boxes if b.is_dont_care]
        labelled = [b for b in image_boxes if not b.is_dont_care]
        ignored = _in_dont_care(projected.bbox_px, dont_care, float(p["dont_care_overlap"]))
        judged = [i for i in range(len(boxes)) if projected.in_image[i] and not ignored[i]]
        pairs = match_boxes(
            np.where(ignored[:, None], np.nan, projected.bbox_px),
            [b.category for b in boxes],
            [b.token for b in boxes],
            labelled,
            float(p["min_match_iou"]),
        )
        match_of = {i: (j, iou) for i, j, iou in pairs}
        for i in range(len(boxes)):
            if not projected.in_image[i]:
                continue
            j, iou = match_of.get(i, (None, None))
            if p["visibility_table"]:
                out.sections.setdefault("visibility", []).append(
                    _visibility_row(boxes[i], camera, sample, projected, occlusion, i, ignored[i],
                                    None if j is None else labelled[j], iou)
                )  # fmt: skip
        if not labelled:
            return 0
        for i in judged:
            box = boxes[i]
            if i in match_of:
                j, iou = match_of[i]
                ious.setdefault((box.category, camera), []).append(iou)
                offset_m = _center_offset_m(projected.bbox_px[i], labelled[j], depths[i], intrinsics)
                flagged = iou < float(p["min_iou"]) or offset_m >= float(p["max_center_offset_m"])
                out.tally(box.category, "projection_mismatch", 1, int(flagged))
                if flagged:
                    out.findings.append(
                        self._mismatch(
                            context, box, camera, sample, projected.bbox_px[i], labelled[j], iou, offset_m
                        )
                    )
            elif projected.truncation[i] < float(p["max_unmatched_hidden"]) and (
                np.isfinite(occlusion[i]) and occlusion[i] < float(p["max_unmatched_hidden"])
            ):
                out.tally(box.category, "projection_mismatch", 1, 1)
                out.findings.append(
                    self._mismatch(context, box, camera, sample, projected.bbox_px[i], None, 0.0)
                )
        return 1

    def _occlusion(
        self,
        points_global: FloatArray | None,
        camera_from_global: SE3,
        intrinsics: CameraIntrinsics,
        width: int,
        height: int,
        projected: ProjectedBoxes,
    ) -> FloatArray:
        """Fraction of LiDAR points inside each box's image extent that lie in front of it (NaN: too few)."""
        m = projected.bbox_px.shape[0]
        result = np.full(m, np.nan)
        if points_global is None or m == 0:
            return result
        pts = camera_from_global.transform_points(points_global)
        front = pts[:, 2] > 0.5
        uv, depth, valid = project_points(pts[front], intrinsics)
        uv, depth = uv[valid], depth[valid]
        inside_image = (
            (uv[:, 0] >= -0.5) & (uv[:, 0] < width - 0.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] < height - 0.5)
        )
        uv, depth = uv[inside_image], depth[inside_image]
        margin = float(self.parameters["occluder_margin_m"])
        for i in range(m):
            if not projected.in_image[i]:
                continue
            u0, v0, u1, v1 = projected.bbox_px[i]
            sel = (uv[:, 0] >= u0) & (uv[:, 0] <= u1) & (uv[:, 1] >= v0) & (uv[:, 1] <= v1)
            n = int(sel.sum())
            if n >= int(self.parameters["min_occlusion_points"]):
                result[i] = float(np.mean(depth[sel] < projected.min_depth_m[i] - margin))
        return result

    def _mismatch(
        self,
        context: SequenceContext,
        box: BoxAnnotation,
        camera: str,
        sample: SensorSample,
        projected_px: FloatArray,
        image_box: ImageBox | None,
        iou: float,
        offset_m: float = 0.0,
    ) -> Finding:
        values: dict[str, Any] = {
            "iou": round(iou, 4),
            "center_offset_m": round(offset_m, 3),
            "projected_bbox_px": [round(float(x), 1) for x in projected_px],
        }
        if image_box is None:
            message = f"{box.category} projects clearly into {camera} but no 2D box was drawn for it"
            score = 0.5
        else:
            pc = 0.5 * (projected_px[:2] + projected_px[2:])
            lc = 0.5 * (np.asarray(image_box.bbox_px[:2]) + np.asarray(image_box.bbox_px[2:]))
            du, dv = (pc - lc).tolist()
            values.update(
                image_box=image_box.token,
                image_bbox_px=[round(float(x), 1) for x in image_box.bbox_px],
                center_offset_px=round(math.hypot(du, dv), 1),
                center_offset_uv_px=[round(du, 1), round(dv, 1)],
                offset_direction_deg=round(math.degrees(math.atan2(dv, du)), 1),
            )
            message = (
                f"{box.category} projected into {camera} overlaps its 2D box with IoU {iou:.2f}; "
                "the projection "
                f"is {math.hypot(du, dv):.0f} px off ({du:+.0f}, {dv:+.0f} px)"
            )
            score = float(min(1.0, max(0.0, 1.0 - iou)))
        return Finding(
            check="projection_mismatch",
            severity=Severity.WARNING,
            sequence=context.sequence.name,
            score=score,
            message=message,
            annotation=box.token,
            instance=box.instance,
            sensor=camera,
            timestamp_us=sample.timestamp_us,
            category=box.category,
            position_m=(float(box.center_m[0]), float(box.center_m[1]), float(box.center_m[2])),
            values=values,
        )

    def plot(self, context: SequenceContext, output: CheckOutput, out_dir: Path) -> list[Path]:
        """Per camera, the keyframe with the most findings: projected boxes and LiDAR depth on the image."""
        from fusioncheck.plots.camera import plot_projection

        return plot_projection(context, output, out_dir)


def _at_time(context: SequenceContext, box: BoxAnnotation, timestamp_us: int) -> BoxAnnotation:
    """Return the box moved along its track to ``timestamp_us`` (centre, orientation), if covered."""
    if box.timestamp_us == timestamp_us:
        return box
    track = context.sequence.tracks.get(box.instance)
    if track is None or len(track) < 2 or not track.covers(timestamp_us):
        return box
    state = track.state_at(timestamp_us)
    return dataclasses.replace(box, center_m=state.center_m, quat_wxyz=state.quat_wxyz)


def _center_offset_m(
    projected_px: FloatArray, image_box: ImageBox, depth_m: float, intrinsics: CameraIntrinsics
) -> float:
    """Distance between the centres of the projected and the drawn 2D box, in metres at the box's depth."""
    pc = 0.5 * (projected_px[:2] + projected_px[2:])
    lc = 0.5 * (np.asarray(image_box.bbox_px[:2]) + np.asarray(image_box.bbox_px[2:]))
    du, dv = (pc - lc) / np.array([intrinsics.matrix[0, 0], intrinsics.matrix[1, 1]])
    return float(math.hypot(du, dv) * max(depth_m, 0.0))


def _in_dont_care(bbox_px: FloatArray, regions: list[ImageBox], min_overlap: float) -> np.ndarray:
    """Which boxes have at least ``min_overlap`` of their image area inside one ``DontCare`` region."""
    m = bbox_px.shape[0]
    out = np.zeros(m, dtype=bool)
    if not regions or m == 0:
        return out
    r = np.array([b.bbox_px for b in regions], dtype=np.float64)
    b = np.nan_to_num(bbox_px, nan=-1e9)
    iw = np.minimum(b[:, None, 2], r[None, :, 2]) - np.maximum(b[:, None, 0], r[None, :, 0])
    ih = np.minimum(b[:, None, 3], r[None, :, 3]) - np.maximum(b[:, None, 1], r[None, :, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    area = np.maximum((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), 1e-9)
    return np.asarray((inter / area[:, None]).max(axis=1) >= min_overlap)


def _visibility_row(
    box: BoxAnnotation,
    camera: str,
    sample: SensorSample,
    projected: ProjectedBoxes,
    occlusion: FloatArray,
    i: int,
    dont_care: bool,
    image_box: ImageBox | None,
    iou: float | None,
) -> dict[str, Any]:
    return {
        "sensor": camera,
        "annotation": box.token,
        "instance": box.instance,
        "class": box.category,
        "timestamp_us": sample.timestamp_us,
        "bbox_px": [round(float(x), 1) for x in projected.bbox_px[i]],
        "truncation": round(float(projected.truncation[i]), 3),
        "occlusion": None if not np.isfinite(occlusion[i]) else round(float(occlusion[i]), 3),
        "dont_care": bool(dont_care),
        "image_box": None if image_box is None else image_box.token,
        "iou": None if iou is None else round(iou, 4),
    }


def _iou_summary(ious: dict[tuple[str, str], list[float]]) -> dict[str, Any]:
    """Per class and per camera: count, median, 10th percentile and mean of the matched IoUs."""

    def describe(values: list[float]) -> dict[str, float | int]:
        v = np.asarray(values)
        return {
            "count": int(v.size),
            "median": round(float(np.median(v)), 4),
            "p10": round(float(np.percentile(v, 10)), 4),
            "mean": round(float(v.mean()), 4),
        }

    by_class: dict[str, list[float]] = {}
    by_camera: dict[str, list[float]] = {}
    for (category, camera), values in ious.items():
        by_class.setdefault(category, []).extend(values)
        by_camera.setdefault(camera, []).extend(values)
    return {
        "by_class": {k: describe(v) for k, v in sorted(by_class.items())},
        "by_camera": {k: describe(v) for k, v in sorted(by_camera.items())},
    }

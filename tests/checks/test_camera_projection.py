"""camera_projection: box projection geometry, matching, and agreement with KITTI's human 2D boxes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from fusioncheck.checks.box_projection import clipped_edge_samples, iou_matrix, project_boxes
from fusioncheck.checks.camera_projection import CameraProjectionCheck, match_boxes
from fusioncheck.context import SequenceContext
from fusioncheck.geometry.boxes import yaw_boxes
from fusioncheck.loaders import open_source
from fusioncheck.scene.boxes import BoxAnnotation
from fusioncheck.scene.boxes_2d import ImageBox
from fusioncheck.scene.sensors import CameraIntrinsics

CAMERA = CameraIntrinsics(
    np.array([[500.0, 0, 319.5], [0, 500.0, 179.5], [0, 0, 1]]), width_px=640, height_px=360
)


def _box_cam(center: list[float], size: list[float]) -> object:
    # Camera frame (x right, y down, z forward); yaw_boxes rotates about z, which is irrelevant at yaw 0.
    return yaw_boxes(np.array([center], float), np.array([size], float), np.zeros(1))


def test_box_in_front_projects_to_its_pinhole_extent() -> None:
    p = project_boxes(_box_cam([0.0, 0.0, 10.0], [2.0, 1.0, 2.0]), CAMERA, 640, 360)
    # Nearest face at z = 9: u = 319.5 +- 500 * 1 / 9, v = 179.5 +- 500 * 0.5 / 9.
    np.testing.assert_allclose(
        p.bbox_px[0], [319.5 - 500 / 9, 179.5 - 250 / 9, 319.5 + 500 / 9, 179.5 + 250 / 9]
    )
    assert p.in_image[0] and p.truncation[0] == 0.0 and p.min_depth_m[0] == pytest.approx(9.0)


def test_near_plane_clipping_keeps_the_part_in_front() -> None:
    # A box from z = -2 to z = 4 (the camera inside its footprint, off to the side): corners behind the
    # camera must not fold into the image; the clipped edges end at z = 0.1, far outside the image.
    boxes = _box_cam([3.0, 0.0, 1.0], [2.0, 1.0, 6.0])
    samples = clipped_edge_samples(
        __import__("fusioncheck.geometry.boxes", fromlist=["box_corners"]).box_corners(boxes)
    )
    finite = samples[0][np.isfinite(samples[0]).all(axis=1)]
    assert finite[:, 2].min() == pytest.approx(0.1) and finite[:, 2].max() == pytest.approx(4.0)
    p = project_boxes(boxes, CAMERA, 640, 360)
    assert p.in_image[0]
    assert p.extent_px[0, 2] > 5000.0  # the near end of the box lies far to the right
    assert p.bbox_px[0, 2] == pytest.approx(639.5) and p.truncation[0] > 0.9
    behind = project_boxes(_box_cam([0.0, 0.0, -5.0], [2.0, 1.0, 2.0]), CAMERA, 640, 360)
    assert not behind.in_image[0] and np.isnan(behind.extent_px[0]).all()


def test_iou_and_hungarian_matching_by_class() -> None:
    a = np.array([[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 10.0]])
    b = np.array([[5.0, 0.0, 15.0, 10.0]])
    np.testing.assert_allclose(iou_matrix(a, b)[:, 0], [1 / 3, 0.0])
    image = [
        ImageBox("t1", "s", "Car", (21.0, 0.0, 31.0, 10.0)),
        ImageBox("t2", "s", "Pedestrian", (0.0, 0.0, 10.0, 10.0)),
        ImageBox("t3", "s", "Car", (1.0, 0.0, 11.0, 10.0)),
    ]
    pairs = match_boxes(a, ["Car", "Car"], ["b0", "b1"], image, 0.1)
    assert sorted((i, j) for i, j, _ in pairs) == [(0, 2), (1, 0)]
    linked = [ImageBox("t1", "s", "Car", (21.0, 0.0, 31.0, 10.0), annotation="b0")]
    assert [(i, j) for i, j, _ in match_boxes(a, ["Car", "Car"], ["b0", "b1"], linked, 0.1)] == [(0, 0)]


@pytest.fixture(scope="module")
def kitti(realdata: Path) -> object:
    root = realdata / "kitti"
    if not (root / "training" / "velodyne").is_dir():
        pytest.skip("no KITTI excerpt in the real data")
    return open_source(root, format="kitti")


def test_kitti_projections_agree_with_the_human_2d_boxes(kitti: object) -> None:
    ious, findings = [], 0
    for name in kitti.sequence_names():  # type: ignore[attr-defined]
        output = CameraProjectionCheck().run(SequenceContext(kitti, kitti.load_sequence(name)))  # type: ignore[arg-type, attr-defined]
        findings += len(output.findings)
        ious += [r["iou"] for r in output.sections["visibility"] if r["iou"] is not None]
        assert output.statistics["images_with_2d_boxes"] == 1
    assert len(ious) == 10
    assert np.median(ious) >= 0.95 and min(ious) >= 0.75
    assert findings == 0


def test_kitti_box_shifted_sideways_is_a_mismatch(kitti: object) -> None:
    sequence = kitti.load_sequence("training/000002")  # type: ignore[attr-defined]
    keyframe = sequence.keyframes[0]
    car = next(b for b in keyframe.annotations if b.category == "Car")  # 34 m ahead
    moved = dataclasses.replace(car, center_m=car.center_m + np.array([0.0, 1.5, 0.0]))
    boxes = tuple(moved if b is car else b for b in keyframe.annotations)
    sequence = dataclasses.replace(sequence, keyframes=(dataclasses.replace(keyframe, annotations=boxes),))
    output = CameraProjectionCheck().run(SequenceContext(kitti, sequence))  # type: ignore[arg-type]
    (finding,) = output.findings
    assert finding.check == "projection_mismatch" and finding.annotation == car.token
    assert finding.values["iou"] < 0.5
    # Moved to the left (Velodyne +y): the projection lies left of the 2D box (direction ~180 deg).
    assert (
        finding.values["center_offset_uv_px"][0] < -20
        and abs(abs(finding.values["offset_direction_deg"]) - 180) < 20
    )


def _box_at_pixel(sequence: object, u: float, v: float, depth_m: float, token: str) -> BoxAnnotation:
    camera = sequence.sensors["CAM_2"]  # type: ignore[attr-defined]
    k = camera.intrinsics.matrix
    centre_cam = depth_m * np.array([(u - k[0, 2]) / k[0, 0], (v - k[1, 2]) / k[1, 1], 1.0])
    centre = camera.ego_from_sensor.transform_points(centre_cam[None])[0]
    return BoxAnnotation(
        token, token, "Car", "000001", 0, centre, np.array([1.0, 1.0, 1.0]), np.array([1.0, 0, 0, 0])
    )


def test_dont_care_regions_are_not_judged(kitti: object) -> None:
    sequence = kitti.load_sequence("training/000001")  # type: ignore[attr-defined]
    keyframe = sequence.keyframes[0]
    regions = [b for b in kitti.image_boxes(keyframe.samples["CAM_2"]) if b.is_dont_care]  # type: ignore[attr-defined]
    u0, v0, u1, v1 = max(regions, key=lambda b: b.area_px).bbox_px
    # A 1 m cube without 2D box at 40 m: inside the DontCare region it is not judged; on the open road
    # in the lower image (nothing in front of it) it is a projection_mismatch.
    hidden = _box_at_pixel(sequence, 0.5 * (u0 + u1), 0.5 * (v0 + v1), 40.0, "in-dont-care")
    open_road = _box_at_pixel(sequence, 620.0, 300.0, 8.0, "on-the-road")
    boxes = (*keyframe.annotations, hidden, open_road)
    sequence = dataclasses.replace(sequence, keyframes=(dataclasses.replace(keyframe, annotations=boxes),))
    output = CameraProjectionCheck().run(SequenceContext(kitti, sequence))  # type: ignore[arg-type]
    rows = {r["annotation"]: r for r in output.sections["visibility"]}
    assert rows["in-dont-care"]["dont_care"] and not rows["on-the-road"]["dont_care"]
    assert [f.annotation for f in output.findings] == ["on-the-road"]
    assert output.findings[0].values["iou"] == 0.0

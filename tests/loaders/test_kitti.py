"""KITTI loader: box conversion against OpenPCDet's point counts, 2D boxes, tracking layout, bad input."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from fusioncheck.errors import InputError
from fusioncheck.geometry.camera import project_points
from fusioncheck.kernels.points_in_boxes import points_in_boxes
from fusioncheck.loaders import detect_format, open_source
from fusioncheck.loaders.kitti import EARTH_RADIUS_M, KittiSource, read_calibration
from fusioncheck.scene.boxes import boxes_to_arrays


@pytest.fixture(scope="session")
def kitti_root(realdata: Path) -> Path:
    root = realdata / "kitti"
    if not (root / "training" / "velodyne").is_dir():
        pytest.skip("no KITTI excerpt in the real data")
    return root


def test_point_counts_agree_with_openpcdet(kitti_root: Path) -> None:
    source = open_source(kitti_root)
    assert isinstance(source, KittiSource)
    assert detect_format(kitti_root) == "kitti"
    reference = json.loads((kitti_root / "reference_num_points.json").read_text())["objects"]
    expected = {
        (r["frame"], r["label_line"]): r["num_points_in_gt"] for r in reference if r["class"] != "DontCare"
    }
    compared = 0
    for name in source.sequence_names():
        sequence = source.load_sequence(name)
        keyframe = sequence.keyframes[0]
        sweep = source.read_lidar(keyframe.samples["LIDAR_TOP"])
        counts = points_in_boxes(sweep.points, boxes_to_arrays(keyframe.annotations)).counts
        for box, count in zip(keyframe.annotations, counts, strict=True):
            frame, line = box.token.split(":")
            ref = expected.get((frame, int(line)))
            if ref is not None:
                compared += 1
                assert abs(int(count) - ref) <= max(3, 0.02 * ref), (box.token, count, ref)
    assert compared == len(expected) >= 10


def test_projected_box_centres_land_in_their_2d_boxes(kitti_root: Path) -> None:
    source = open_source(kitti_root, format="kitti")
    sequence = source.load_sequence("training/000001")
    camera = sequence.sensors["CAM_2"]
    assert camera.intrinsics is not None and camera.intrinsics.width_px == 1242
    sample = sequence.keyframes[0].samples["CAM_2"]
    image_boxes = source.image_boxes(sample)
    dont_care = [b for b in image_boxes if b.is_dont_care]
    labelled = {b.annotation: b for b in image_boxes if not b.is_dont_care}
    assert len(dont_care) >= 1 and all(b.annotation is None for b in dont_care)
    assert len(labelled) == len(sequence.keyframes[0].annotations)
    cam_from_ego = camera.ego_from_sensor.inverse()
    for box in sequence.keyframes[0].annotations:
        uv, _, valid = project_points(cam_from_ego.transform_points(box.center_m[None]), camera.intrinsics)
        u0, v0, u1, v1 = labelled[box.token].bbox_px
        assert valid[0] and u0 <= uv[0, 0] <= u1 and v0 <= uv[0, 1] <= v1, box.token
    # The label's rotation_y = -1.57 (facing camera -x... i.e. to the left) truck heads along Velodyne +y.
    truck = next(b for b in sequence.keyframes[0].annotations if b.category == "Truck")
    assert abs(math.remainder(truck.yaw_rad - (1.57 - math.pi / 2), 2 * math.pi)) < 0.02
    np.testing.assert_allclose(truck.size_m, [12.34, 2.63, 2.85])


def _write_tracking(tmp: Path, kitti_root: Path) -> Path:
    split = tmp / "training"
    for d in ("calib", "velodyne/0000", "image_02/0000", "label_02", "oxts"):
        (split / d).mkdir(parents=True)
    obj = kitti_root / "training"
    lines = {
        k.split(":")[0]: k.partition(":")[2]
        for k in (obj / "calib" / "000000.txt").read_text().splitlines()
        if k
    }
    (split / "calib" / "0000.txt").write_text(
        f"P2:{lines['P2']}\nR_rect{lines['R0_rect']}\nTr_velo_cam{lines['Tr_velo_to_cam']}\n"
        f"Tr_imu_velo{lines['Tr_imu_to_velo']}\n"
    )
    for f in (0, 1):
        (split / "velodyne" / "0000" / f"{f:06d}.bin").symlink_to(obj / "velodyne" / "000000.bin")
        (split / "image_02" / "0000" / f"{f:06d}.png").symlink_to(obj / "image_2" / "000000.png")
    label = (obj / "label_2" / "000000.txt").read_text().splitlines()
    (split / "label_02" / "0000.txt").write_text(
        "".join(
            f"{f} {0 if not line.startswith('DontCare') else -1} {line}\n" for f in (0, 1) for line in label
        )
    )
    lat, lon = 49.0, 8.4
    dlon = math.degrees(1.0 / (math.cos(math.radians(lat)) * EARTH_RADIUS_M))  # 1 m east
    zeros = " ".join(["0"] * 24)
    (split / "oxts" / "0000.txt").write_text(
        f"{lat} {lon} 110 0 0 0 {zeros}\n{lat} {lon + dlon} 110 0 0 0 {zeros}\n"
    )
    return tmp


def test_tracking_layout_with_oxts_poses(tmp_path: Path, kitti_root: Path) -> None:
    source = open_source(_write_tracking(tmp_path, kitti_root))
    assert source.sequence_names() == ["training/0000"]
    sequence = source.load_sequence("training/0000")
    assert [kf.timestamp_us for kf in sequence.keyframes] == [0, 100_000]
    (b0,), (b1,) = (kf.annotations for kf in sequence.keyframes)
    assert b0.instance == b1.instance == "0000:0"
    # The vehicle moved 1 m east (oxts x) without turning: the pedestrian is 1 m further east in global.
    np.testing.assert_allclose(b1.center_m - b0.center_m, [1.0, 0.0, 0.0], atol=1e-6)
    assert len(sequence.tracks["0000:0"]) == 2
    assert "oxts" in sequence.description


def test_calibration_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "000000.txt"
    bad.write_text("P2: 1 0 0 0 0 1 0 0 0 0 1 0\nR0_rect: 1 0 0 0 1 0 0 0 1\n")
    with pytest.raises(InputError, match="missing Tr_velo_to_cam or Tr_velo_cam"):
        read_calibration(bad)
    bad.write_text("P2: 1 0 0 x 0 1 0 0 0 0 1 0\n")
    with pytest.raises(InputError, match="line 1: non-numeric"):
        read_calibration(bad)


def test_bad_label_line_names_file_and_line(tmp_path: Path, kitti_root: Path) -> None:
    root = tmp_path / "kitti"
    for d in ("calib", "velodyne", "label_2"):
        (root / "training" / d).mkdir(parents=True)
    shutil.copy(kitti_root / "training" / "calib" / "000000.txt", root / "training" / "calib" / "000000.txt")
    (root / "training" / "velodyne" / "000000.bin").symlink_to(
        kitti_root / "training" / "velodyne" / "000000.bin"
    )
    (root / "training" / "label_2" / "000000.txt").write_text(
        "Car 0 0 0 1 2 3 4 1.5 1.6 -3.9 1 2 10 0\nCar 0 0\n"
    )
    source = open_source(root)
    with pytest.raises(InputError, match=r"000000.txt: line 1: Car box dimensions must be positive"):
        source.load_sequence("training/000000")

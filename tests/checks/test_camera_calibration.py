"""camera_calibration on real KITTI frames: the published extrinsic reads ok, a rotated one is caught."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from fusioncheck.checks.calibration_search import (
    correction_transform,
    rotation_from_rpy_deg,
    rpy_deg_from_rotation,
)
from fusioncheck.checks.camera_calibration import CameraCalibrationCheck, decode_scale
from fusioncheck.context import SequenceContext
from fusioncheck.loaders import open_source
from fusioncheck.scene.sequence import Sequence


def _rotated(sequence: Sequence, rpy_deg: list[float]) -> Sequence:
    sensor = sequence.sensors["CAM_2"]
    error = correction_transform(np.array(rpy_deg), np.zeros(3))
    sensors = {
        **sequence.sensors,
        "CAM_2": dataclasses.replace(sensor, ego_from_sensor=sensor.ego_from_sensor @ error),
    }
    return dataclasses.replace(sequence, sensors=sensors)


@pytest.fixture(scope="module")
def kitti_frame(realdata: Path) -> tuple[object, Sequence]:
    root = realdata / "kitti"
    if not (root / "training" / "velodyne").is_dir():
        pytest.skip("no KITTI excerpt in the real data")
    source = open_source(root, format="kitti")
    return source, source.load_sequence("training/000000")


def test_published_calibration_reads_ok(kitti_frame: tuple[object, Sequence]) -> None:
    source, sequence = kitti_frame
    output = CameraCalibrationCheck().run(SequenceContext(source, sequence))  # type: ignore[arg-type]
    (row,) = output.sections["calibration"]
    assert row["sensor"] == "CAM_2" and row["status"] == "ok", row
    assert row["points"] >= 1000 and row["frames"] == 1
    # Pitch and yaw are well observed; roll (about the optical axis) only moves pixels far from the
    # centre and is left to the status decision.
    roll, pitch, yaw = row["correction"]["rotation_deg"]
    assert abs(pitch) <= 0.2 and abs(yaw) <= 0.2 and abs(roll) <= 1.0
    assert not output.findings


@pytest.mark.parametrize(("rpy", "axis"), [([0.0, 0.0, 1.0], 2), ([0.0, -1.0, 0.0], 1)])
def test_rotated_extrinsic_is_suspect_with_its_correction(
    kitti_frame: tuple[object, Sequence], rpy: list[float], axis: int
) -> None:
    source, sequence = kitti_frame
    output = CameraCalibrationCheck().run(SequenceContext(source, _rotated(sequence, rpy)))  # type: ignore[arg-type]
    (row,) = output.sections["calibration"]
    assert row["status"] == "suspect", row
    # stated = true @ E: the correction is E^-1, about -E.
    assert row["correction"]["rotation_deg"][axis] == pytest.approx(-rpy[axis], abs=0.2)
    (finding,) = output.findings
    assert finding.check == "calibration_suspect" and finding.sensor == "CAM_2"


def test_rotation_conventions() -> None:
    r = rotation_from_rpy_deg(np.array([0.0, 0.0, 10.0]))
    # Yaw about the camera's up axis (-y): a positive yaw turns the optical axis (z) to the left (-x).
    forward = r @ np.array([0.0, 0.0, 1.0])
    assert forward[0] < -0.17 and abs(forward[1]) < 1e-12
    np.testing.assert_allclose(
        rpy_deg_from_rotation(rotation_from_rpy_deg(np.array([0.3, -0.2, 0.1]))), [0.3, -0.2, 0.1]
    )
    assert (
        decode_scale(1600, 1280) == 0.5
        and decode_scale(1242, 1280) == 1.0
        and decode_scale(6000, 1280) == 0.25
    )


def test_sweeps_without_scan_lines_are_not_estimable(kitti_frame: tuple[object, Sequence]) -> None:
    from fusioncheck.checks.camera_calibration import (
        ScanLinesUnknown,
        lidar_edge_points,
        scan_lines_plausible,
    )
    from fusioncheck.kernels.scan_lines import rings_from_scan_order
    from fusioncheck.scene.samples import LidarSweep

    source, sequence = kitti_frame
    sweep = source.read_lidar(sequence.keyframes[0].samples["LIDAR_TOP"])  # type: ignore[attr-defined]
    xyz = sweep.xyz.astype(np.float64)
    assert scan_lines_plausible(xyz, rings_from_scan_order(xyz))
    # The same points in random order (a merged or re-sorted cloud) have no recoverable scan lines.
    shuffled = sweep.points[np.random.default_rng(0).permutation(sweep.points.shape[0])]
    assert not scan_lines_plausible(
        shuffled[:, :3].astype(np.float64), rings_from_scan_order(shuffled[:, :3])
    )
    with pytest.raises(ScanLinesUnknown, match="no ring"):
        lidar_edge_points(LidarSweep(sweep.sample, shuffled, None, sweep.column_names), 3.0)


def test_batched_rotations_equal_cv2_rodrigues_bit_for_bit() -> None:
    from fusioncheck.checks.calibration_search import rotations_from_rpy_deg

    rpy = np.random.default_rng(2).uniform(-3.0, 3.0, (200, 3))
    rpy[0] = 0.0
    rpy[1] = [0.0, 0.0, 0.125]
    batched = rotations_from_rpy_deg(rpy)
    single = np.stack([rotation_from_rpy_deg(r) for r in rpy])
    np.testing.assert_array_equal(batched, single)

"""Camera calibration faults: parsed, recorded, and written as ``stated = true @ E``."""

from __future__ import annotations

import numpy as np
import pytest

from fusioncheck.checks.calibration_search import correction_transform
from fusioncheck.errors import PolicyError
from fusioncheck.geometry.se3 import SE3
from fusioncheck.simulate.faults import FaultSpec


def test_spec_round_trip_and_convention() -> None:
    spec = FaultSpec.from_dict({"camera_calibration": {"CAM_FRONT": {"rotation_deg": [0.5, -1.0, 2.0]}}})
    assert not spec.is_clean
    assert FaultSpec.from_dict(spec.to_dict()).to_dict() == spec.to_dict()
    fault = spec.camera_calibration["CAM_FRONT"]
    assert fault.translation_m == (0.0, 0.0, 0.0)
    # Same axes and sign as the calibration check's corrections.
    expected = correction_transform(np.array([0.5, -1.0, 2.0]), np.zeros(3))
    np.testing.assert_allclose(fault.error_transform().rotation, expected.rotation, atol=1e-12)
    true = SE3.from_quat(np.array([0.5, -0.5, 0.5, -0.5]), np.array([1.5, 0.0, 1.6]))
    stated = spec.stated_camera_extrinsic("CAM_FRONT", true)
    np.testing.assert_allclose(
        (stated @ fault.error_transform().inverse()).as_matrix(), true.as_matrix(), atol=1e-12
    )
    assert spec.stated_camera_extrinsic("CAM_BACK", true) is true
    assert "camera_calibration" not in FaultSpec().to_dict()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"CAM_NOSE": {}}, "unknown key 'CAM_NOSE'"),
        ({"CAM_FRONT": {"rotation": [0, 0, 1]}}, "unknown key 'rotation'"),
        ({"CAM_FRONT": {"rotation_deg": [0, 1]}}, "list of 3 numbers"),
        ({"CAM_FRONT": {"translation_m": [0, 0, 9]}}, "within"),
    ],
)
def test_bad_calibration_faults_are_rejected(raw: dict, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        FaultSpec.from_dict({"camera_calibration": raw}, source="faults.json")


def test_simulator_writes_the_faulted_extrinsic(tmp_path) -> None:
    from fusioncheck.loaders import open_source
    from fusioncheck.simulate import SimConfig, simulate

    spec = FaultSpec.from_dict({"camera_calibration": {"CAM_FRONT": {"rotation_deg": [0.0, 1.0, 0.0]}}})
    clean_dir, faulted_dir = tmp_path / "clean", tmp_path / "faulted"
    config = SimConfig.small()
    simulate(clean_dir, scenes=1, seed=3, config=config)
    result = simulate(faulted_dir, scenes=1, seed=3, faults=spec, config=config)
    assert result.faults["camera_calibration"][0]["sensor"] == "CAM_FRONT"
    clean = open_source(clean_dir).load_sequence("sim-3-0000").sensors
    faulted = open_source(faulted_dir).load_sequence("sim-3-0000").sensors
    error = spec.camera_calibration["CAM_FRONT"].error_transform()
    np.testing.assert_allclose(
        faulted["CAM_FRONT"].ego_from_sensor.as_matrix(),
        (clean["CAM_FRONT"].ego_from_sensor @ error).as_matrix(),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        faulted["CAM_BACK"].ego_from_sensor.as_matrix(), clean["CAM_BACK"].ego_from_sensor.as_matrix()
    )
    # The images are rendered with the true extrinsic: identical bytes.
    assert sorted(p.read_bytes() for p in (clean_dir / "samples" / "CAM_FRONT").iterdir()) == sorted(
        p.read_bytes() for p in (faulted_dir / "samples" / "CAM_FRONT").iterdir()
    )

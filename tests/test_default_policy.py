from fusioncheck.checks.box_fit import BoxFitCheck
from fusioncheck.policy import Policy
from tests.conftest import REPO_ROOT


def test_shipped_default_policy_matches_code_defaults():
    policy = Policy.load(REPO_ROOT / "calib" / "default_policy.toml")
    assert dict(policy.checks["box_fit"]) == BoxFitCheck.defaults


def test_shipped_default_policy_matches_camera_check_defaults():
    from fusioncheck.checks.camera_calibration import CameraCalibrationCheck
    from fusioncheck.checks.camera_projection import CameraProjectionCheck

    policy = Policy.load(REPO_ROOT / "calib" / "default_policy.toml")
    assert dict(policy.checks["camera_calibration"]) == CameraCalibrationCheck.defaults
    assert dict(policy.checks["camera_projection"]) == CameraProjectionCheck.defaults

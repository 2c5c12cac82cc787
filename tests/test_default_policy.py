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


def test_shipped_default_policy_matches_missing_boxes_defaults():
    from fusioncheck.checks.missing_boxes import MissingBoxCheck

    policy = Policy.load(REPO_ROOT / "calib" / "default_policy.toml")
    assert dict(policy.checks["missing_boxes"]) == MissingBoxCheck.defaults


def test_shipped_default_policy_matches_radar_agreement_defaults():
    from fusioncheck.checks.radar_agreement import RadarAgreementCheck

    policy = Policy.load(REPO_ROOT / "calib" / "default_policy.toml")
    assert dict(policy.checks["radar_agreement"]) == RadarAgreementCheck.defaults


def test_shipped_default_policy_matches_sync_defaults():
    from fusioncheck.checks.sync import SyncCheck

    policy = Policy.load(REPO_ROOT / "calib" / "default_policy.toml")
    assert dict(policy.checks["sync"]) == SyncCheck.defaults


def test_shipped_default_policy_lists_issue3_checks_at_their_defaults():
    from fusioncheck.checks.size_priors import SizePriorCheck
    from fusioncheck.checks.track_consistency import TrackConsistencyCheck

    policy = Policy.load(REPO_ROOT / "calib" / "default_policy.toml")
    assert dict(policy.checks["track_consistency"]) == TrackConsistencyCheck.defaults
    assert dict(policy.checks["size_priors"]) == SizePriorCheck.defaults

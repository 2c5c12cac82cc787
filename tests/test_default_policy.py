from fusioncheck.checks.box_fit import BoxFitCheck
from fusioncheck.policy import Policy
from tests.conftest import REPO_ROOT


def test_shipped_default_policy_matches_code_defaults():
    policy = Policy.load(REPO_ROOT / "calib" / "default_policy.toml")
    assert dict(policy.checks["box_fit"]) == BoxFitCheck.defaults


def test_shipped_default_policy_lists_issue3_checks_at_their_defaults():
    from fusioncheck.checks.size_priors import SizePriorCheck
    from fusioncheck.checks.track_consistency import TrackConsistencyCheck

    policy = Policy.load(REPO_ROOT / "calib" / "default_policy.toml")
    assert dict(policy.checks["track_consistency"]) == TrackConsistencyCheck.defaults
    assert dict(policy.checks["size_priors"]) == SizePriorCheck.defaults

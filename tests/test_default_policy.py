from fusioncheck.checks.box_fit import BoxFitCheck
from fusioncheck.policy import Policy
from tests.conftest import REPO_ROOT


def test_shipped_default_policy_matches_code_defaults():
    policy = Policy.load(REPO_ROOT / "calib" / "default_policy.toml")
    assert dict(policy.checks["box_fit"]) == BoxFitCheck.defaults


def test_shipped_default_policy_matches_sync_defaults():
    from fusioncheck.checks.sync import SyncCheck

    policy = Policy.load(REPO_ROOT / "calib" / "default_policy.toml")
    assert dict(policy.checks["sync"]) == SyncCheck.defaults

import pytest

from fusioncheck.errors import PolicyError
from fusioncheck.policy import Policy


def test_default_policy_enables_box_fit():
    policy = Policy.default()
    assert "box_fit" in policy.checks


def test_policy_overrides_and_disables(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("[checks.box_fit]\nnoise_m = 0.2\nmin_points = 20\n")
    policy = Policy.load(path)
    assert policy.checks["box_fit"] == {"noise_m": 0.2, "min_points": 20}
    path.write_text("[checks.box_fit]\nenabled = false\n")
    assert "box_fit" not in Policy.load(path).checks


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[gates]\nx = 1\n", "gates"),
        ("[checks.no_such_check]\n", "no_such_check"),
        ("[checks.box_fit]\nnoise = 0.1\n", "checks.box_fit.noise"),
        ("[checks.box_fit]\nnoise_m = 'a'\n", "checks.box_fit.noise_m"),
        ("[checks.box_fit\n", "invalid TOML"),
    ],
)
def test_bad_policy_names_the_key(tmp_path, text, needle):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        Policy.load(path)
    assert needle in str(info.value)
    assert str(path) in str(info.value)


def test_missing_policy_file(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        Policy.load(tmp_path / "absent.toml")

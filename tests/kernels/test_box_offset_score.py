import numpy as np
import pytest

from fusioncheck.kernels.box_offset_score import offset_curves
from fusioncheck.kernels.box_offset_score_reference import offset_curves_reference


def random_case(seed: int, n: int = 400, groups: int = 3):
    rng = np.random.default_rng(seed)
    half = rng.uniform(0.4, 2.5, (groups, 3))
    group = rng.integers(0, groups, n)
    local = rng.normal(0.0, 1.5, (n, 3))
    slope = rng.normal(0.0, 8.0, (n, 3))
    weight = rng.uniform(0.2, 1.0, n)
    offsets = np.linspace(-0.25, 0.25, 41)
    return local, slope, group, weight, half, offsets


@pytest.mark.parametrize("use_z", [True, False])
def test_kernel_matches_numpy_reference(use_z):
    args = random_case(3)
    got = offset_curves(*args, 0.3, use_z)
    want = offset_curves_reference(*args, 0.3, use_z)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_points_on_the_rear_face_of_a_moving_box_fix_the_offset():
    # A 4 x 2 x 1.5 m box moving at 10 m/s along its x axis; the points lie on its rear face when the box
    # is shifted by +0.5 m, i.e. at an offset of +50 ms (slope = +10 m/s along x).
    rng = np.random.default_rng(0)
    n = 200
    local = np.column_stack([np.full(n, -2.0 - 0.5), rng.uniform(-1, 1, n), rng.uniform(-0.5, 0.75, n)])
    slope = np.tile([10.0, 0.0, 0.0], (n, 1))
    offsets = np.arange(-0.25, 0.2501, 0.005)
    curve = offset_curves(
        local, slope, np.zeros(n, np.int64), np.ones(n), np.array([[2.0, 1.0, 0.75]]), offsets, 0.3
    )
    assert offsets[np.argmin(curve[0])] == pytest.approx(0.05, abs=1e-9)
    # A point far from every face costs the full truncated loss (1 per unit weight).
    assert curve[0].max() == pytest.approx(n)


def test_bad_truncation_is_rejected():
    with pytest.raises(ValueError, match="tau_m"):
        offset_curves(*random_case(1), 0.0)

import numpy as np

from fusioncheck.checks.ground import GroundModel
from fusioncheck.kernels.ground_scan import ray_ground_scan

ORIGIN = np.array([0.0, 0.0, 1.8])


def _ground(rng: np.random.Generator, n: int, slope: float = 0.0, radius: float = 60.0) -> np.ndarray:
    r = np.sqrt(rng.uniform(2**2, radius**2, n))
    a = rng.uniform(-np.pi, np.pi, n)
    xy = np.column_stack([r * np.cos(a), r * np.sin(a)])
    return np.column_stack([xy, slope * xy[:, 0] + rng.normal(0, 0.02, n)])


def test_flat_ground_with_wall_and_car():
    rng = np.random.default_rng(0)
    ground = _ground(rng, 30000)
    wall = np.column_stack([np.full(2000, 25.0), rng.uniform(-10, 10, 2000), rng.uniform(0.0, 4.0, 2000)])
    roof = np.column_stack([rng.uniform(10, 14, 800), rng.uniform(-1, 1, 800), np.full(800, 1.5)])
    pts = np.vstack([ground, wall, roof])
    model = GroundModel.fit(pts, np.ones(len(pts), bool), ORIGIN)
    q = np.array([[5.0, 0.0], [12.0, 0.0], [26.0, 0.0], [40.0, 30.0]])
    np.testing.assert_allclose(model.height_at(q), 0.0, atol=0.08)
    mask = model.ground_mask(pts, clearance_m=0.2)
    assert mask[: len(ground)].mean() > 0.99
    assert mask[len(ground) + len(wall) :].mean() == 0.0  # car roof is not ground
    assert mask[len(ground) : len(ground) + len(wall)].mean() < 0.1


def test_sloped_ground_followed():
    rng = np.random.default_rng(1)
    pts = _ground(rng, 60000, slope=0.08)
    model = GroundModel.fit(pts, np.ones(len(pts), bool), ORIGIN)
    q = np.array([[-30.0, 0.0], [30.0, 0.0], [50.0, 5.0]])
    np.testing.assert_allclose(model.height_at(q), 0.08 * q[:, 0], atol=0.12)
    assert model.observed_at(q).all()


def test_eligible_mask_and_range_limit():
    rng = np.random.default_rng(2)
    ground = _ground(rng, 20000)
    crown = np.column_stack(
        [rng.uniform(5, 8, 500), rng.uniform(-1, 1, 500), rng.uniform(0.0, 0.5, 500) + 3.0]
    )
    pts = np.vstack([ground, crown])
    eligible = np.ones(len(pts), bool)
    model = GroundModel.fit(pts, eligible, ORIGIN)
    assert abs(model.height_at(np.array([[6.0, 0.0]]))[0]) < 0.1
    assert np.isnan(model.height_at(np.array([[500.0, 0.0]]))[0])
    assert not model.observed_at(np.array([[500.0, 0.0]]))[0]


def test_scan_kernel_carries_ground_under_obstacles():
    low = np.array([[0.0, 0.05, 1.5, 1.6, 0.1, np.nan, 0.12]])
    ground, observed = ray_ground_scan(low, bin_m=1.0, max_slope=0.3, step_m=0.15, start_m=0.0)
    np.testing.assert_allclose(ground[0], [0.0, 0.05, 0.05, 0.05, 0.1, 0.1, 0.12])
    assert observed[0].tolist() == [True, True, False, False, True, False, True]

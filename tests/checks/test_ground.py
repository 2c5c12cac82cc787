import numpy as np

from fusioncheck.checks.ground import GroundGrid


def _plane_points(rng: np.random.Generator, n: int, slope: float = 0.0) -> np.ndarray:
    xy = rng.uniform(-20, 20, size=(n, 2))
    z = slope * xy[:, 0] + rng.normal(0, 0.02, n)
    return np.column_stack([xy, z])


def test_flat_ground_height_and_mask():
    rng = np.random.default_rng(0)
    ground = _plane_points(rng, 20000)
    wall = np.column_stack([np.full(500, 5.0), rng.uniform(-3, 3, 500), rng.uniform(0.0, 3.0, 500)])
    pts = np.vstack([ground, wall])
    grid = GroundGrid.fit(pts, np.ones(len(pts), bool), cell_m=2.0)
    h = grid.height_at(np.array([[0.0, 0.0], [5.0, 0.0], [-10.0, 10.0]]))
    assert np.all(np.abs(h) < 0.06)
    mask = grid.ground_mask(pts, clearance_m=0.2)
    assert mask[: len(ground)].mean() > 0.99
    assert mask[len(ground) :].mean() < 0.1  # wall points above 0.2 m stay non-ground


def test_sloped_ground_followed_per_cell():
    rng = np.random.default_rng(1)
    pts = _plane_points(rng, 40000, slope=0.05)
    grid = GroundGrid.fit(pts, np.ones(len(pts), bool), cell_m=2.0)
    q = np.array([[-15.0, 0.0], [15.0, 0.0]])
    h = grid.height_at(q)
    np.testing.assert_allclose(h, 0.05 * q[:, 0], atol=0.1)


def test_tree_crown_cell_replaced_by_neighbourhood():
    rng = np.random.default_rng(2)
    ground = _plane_points(rng, 20000)
    # A cell holding only a crown 3 m up (its ground hidden and excluded as eligible).
    crown = np.column_stack([rng.uniform(0.1, 1.9, 300), rng.uniform(0.1, 1.9, 300), rng.uniform(3, 4, 300)])
    in_cell = (ground[:, 0] > 0) & (ground[:, 0] < 2) & (ground[:, 1] > 0) & (ground[:, 1] < 2)
    pts = np.vstack([ground[~in_cell], crown])
    grid = GroundGrid.fit(pts, np.ones(len(pts), bool), cell_m=2.0)
    assert abs(grid.height_at(np.array([[1.0, 1.0]]))[0]) < 0.1


def test_outside_grid_is_nan_and_support():
    pts = np.array([[0.5, 0.5, 0.0], [0.6, 0.4, 0.1], [3.0, 3.0, 0.0]])
    grid = GroundGrid.fit(pts, np.ones(3, bool), cell_m=1.0)
    assert np.isnan(grid.height_at(np.array([[100.0, 100.0]]))[0])
    assert grid.support_near(np.array([[0.5, 0.5], [0.7, 0.7]])) == 2
    empty = GroundGrid.fit(pts, np.zeros(3, bool))
    assert np.isnan(empty.fallback_height())

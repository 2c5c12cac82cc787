from __future__ import annotations

import numpy as np
import pytest

from fusioncheck.kernels.grid_clusters import (
    FEATURE_COLUMNS,
    cluster_features,
    grid_clusters,
    grid_clusters_reference,
)


def test_matches_the_scipy_reference_on_random_scenes() -> None:
    rng = np.random.default_rng(3)
    for trial in range(5):
        centers = rng.uniform(-40, 40, (30, 2))
        pts = np.concatenate([c + rng.normal(0, 0.5, (rng.integers(1, 200), 2)) for c in centers])
        pts = np.concatenate([pts, rng.uniform(-50, 50, (300, 2))])
        keep = rng.random(pts.shape[0]) > 0.1
        labels, n = grid_clusters(pts, keep, 0.3 + 0.1 * trial)
        ref, n_ref = grid_clusters_reference(pts, keep, 0.3 + 0.1 * trial)
        assert n == n_ref
        np.testing.assert_array_equal(labels, ref)
        assert np.all(labels[~keep] == -1)


def test_two_separated_objects_and_a_diagonal_chain() -> None:
    a = np.array([[0.0, 0.0], [0.2, 0.1], [0.5, 0.0]])
    b = np.array([[3.0, 3.0], [3.1, 3.2]])
    # Corner-touching cells join (8-neighbourhood): (0.55, 0.55) is diagonal to (0.25, 0.25) at cell 0.3.
    chain = np.array([[10.0, 10.0], [10.31, 10.31], [10.62, 10.62]])
    pts = np.concatenate([a, b, chain])
    labels, n = grid_clusters(pts, np.ones(len(pts), dtype=bool), 0.3)
    assert n == 3
    assert len(set(labels[:3])) == 1 and len(set(labels[3:5])) == 1 and len(set(labels[5:])) == 1
    assert labels[0] != labels[3] != labels[5]


def test_nothing_kept_and_bad_cell() -> None:
    pts = np.zeros((4, 3))
    labels, n = grid_clusters(pts, np.zeros(4, dtype=bool), 0.3)
    assert n == 0 and np.all(labels == -1)
    labels, n = grid_clusters(np.zeros((0, 3)), np.zeros(0, dtype=bool), 0.3)
    assert n == 0 and labels.shape == (0,)
    with pytest.raises(ValueError, match="cell_m"):
        grid_clusters(pts, np.ones(4, dtype=bool), 0.0)


def test_features_of_a_rotated_box_of_points() -> None:
    rng = np.random.default_rng(0)
    local = rng.uniform([-2.0, -0.8, 0.3], [2.0, 0.8, 1.6], (2000, 3))
    yaw = 0.6
    rot = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    pts = local @ rot.T + [10.0, -5.0, 0.0]
    labels = np.zeros(len(pts), dtype=np.int32)
    labels[:10] = 1  # a second cluster of 10 points
    labels[10:12] = -1  # two unclustered points; cluster 2 has no point and gets a row of zeros
    f = cluster_features(pts, labels, 3)
    assert f.shape == (3, len(FEATURE_COLUMNS))
    assert f[0, 0] == 1988 and f[1, 0] == 10 and np.all(f[2] == 0.0)
    np.testing.assert_allclose(f[0, 1:3], pts[labels == 0, :2].mean(axis=0))
    assert f[0, 3] == pytest.approx(pts[labels == 0, 2].min())
    assert f[0, 4] == pytest.approx(pts[labels == 0, 2].max())
    assert f[0, 5] == pytest.approx(4.0, abs=0.05)
    assert f[0, 6] == pytest.approx(1.6, abs=0.05)
    heading = np.mod(f[0, 7] - yaw + np.pi / 2, np.pi) - np.pi / 2
    assert abs(heading) < 0.02

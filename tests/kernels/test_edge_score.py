"""The edge-score kernel against its numpy reference, bilinear exactness and skipped points."""

from __future__ import annotations

import numpy as np
import pytest

from fusioncheck.kernels.edge_score import score_projected, score_projected_reference


def test_kernel_matches_reference_on_random_points() -> None:
    rng = np.random.default_rng(3)
    image = rng.random((37, 53)).astype(np.float32)
    uv = rng.uniform(-5.0, 60.0, size=(500, 2))
    valid = rng.random(500) > 0.1
    uv[~valid] = np.nan
    weights = rng.uniform(0.0, 3.0, 500)
    score, per_point = score_projected(uv, valid, weights, image)
    ref_score, ref_per_point = score_projected_reference(uv, valid, weights, image)
    np.testing.assert_allclose(per_point, ref_per_point, rtol=1e-12, atol=1e-12)
    assert score == pytest.approx(ref_score, rel=1e-12)
    assert np.count_nonzero(per_point) > 150


def test_bilinear_sampling_is_exact_on_a_linear_ramp() -> None:
    v_grid, u_grid = np.mgrid[0:20, 0:30]
    image = (0.01 * u_grid + 0.02 * v_grid + 0.1).astype(np.float32)
    uv = np.array([[3.25, 7.5], [10.0, 2.0], [28.9, 18.1]])
    score, per_point = score_projected(uv, np.ones(3, bool), np.array([1.0, 2.0, 0.5]), image)
    expected = 0.01 * uv[:, 0] + 0.02 * uv[:, 1] + 0.1
    np.testing.assert_allclose(per_point, expected * [1.0, 2.0, 0.5], rtol=1e-6)
    assert score == pytest.approx(float(np.sum(expected * [1.0, 2.0, 0.5])), rel=1e-6)


def test_invalid_and_outside_points_score_nothing() -> None:
    image = np.ones((10, 10), dtype=np.float32)
    uv = np.array([[-0.6, 5.0], [9.5, 5.0], [5.0, -0.51], [5.0, 5.0], [5.0, 5.0], [-0.5, 9.49]])
    valid = np.array([True, True, True, False, True, True])
    score, per_point = score_projected(uv, valid, np.ones(6), image)
    assert per_point.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    assert score == 2.0


def test_shape_mismatch_is_rejected() -> None:
    with pytest.raises(ValueError, match="weights"):
        score_projected(np.zeros((3, 2)), np.ones(3, bool), np.ones(2), np.ones((4, 4), np.float32))


@pytest.mark.parametrize("distortion", [np.zeros(5), np.array([-0.3, 0.1, 1e-3, -2e-3, 0.02])])
def test_score_transforms_matches_the_numpy_path(distortion: np.ndarray) -> None:
    """Each candidate's fused score equals: move the points, project and sample (numpy references)."""
    from fusioncheck.checks.calibration_search import rotation_from_rpy_deg
    from fusioncheck.geometry.camera import (
        DEFAULT_MIN_DEPTH_M,
        distortion_coefficients,
        max_valid_radius,
        project_points_reference,
    )
    from fusioncheck.kernels.edge_score import score_transforms
    from fusioncheck.scene.sensors import CameraIntrinsics

    rng = np.random.default_rng(11)
    image = rng.random((90, 120)).astype(np.float32)
    m = np.array([[100.0, 0.0, 60.0], [0.0, 95.0, 44.0], [0.0, 0.0, 1.0]])
    intrinsics = CameraIntrinsics(matrix=m, distortion=distortion, width_px=120, height_px=90)
    points = np.column_stack([rng.uniform(-6, 6, 800), rng.uniform(-4, 4, 800), rng.uniform(-1.0, 12.0, 800)])
    weights = rng.uniform(0.1, 5.0, 800)
    rotations = np.stack([rotation_from_rpy_deg(r) for r in rng.uniform(-3, 3, (7, 3))])
    translations = rng.uniform(-0.3, 0.3, (7, 3))
    k8 = distortion_coefficients(distortion)
    r = max_valid_radius(k8)
    scores = score_transforms(
        points, weights, rotations, translations, (100.0, 95.0, 60.0, 44.0, 0.0), k8, r * r,
        DEFAULT_MIN_DEPTH_M, image,
    )  # fmt: skip
    for j in range(7):
        moved = points @ rotations[j].T + translations[j]
        uv, _, valid = project_points_reference(moved, intrinsics)
        expected, per_point = score_projected_reference(uv, valid, weights, image)
        assert np.count_nonzero(per_point) > 200
        assert scores[j] == pytest.approx(expected, rel=1e-9)

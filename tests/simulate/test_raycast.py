"""Ray caster: analytic hits on boxes and the ground, kernel against the numpy reference, culling."""

from __future__ import annotations

import numpy as np
import pytest

from fusioncheck.simulate.raycast import GROUND, MISS, azimuth_intervals, cast_rays, cast_rays_reference


def _one_box(center: tuple[float, float, float], size: tuple[float, float, float], yaw: float) -> tuple:
    return np.array([[center]], float), np.array([[yaw]]), np.array([size], float) / 2


@pytest.mark.parametrize(
    ("yaw", "expected"),
    [(0.0, 10.0 - 2.0), (np.pi / 2, 10.0 - 1.0), (np.pi / 4, 10.0 - np.sqrt(2.0)), (np.pi, 8.0)],
)
def test_ray_hits_box_face_at_analytic_range(yaw: float, expected: float) -> None:
    # Box 4 x 2 x 2 m centred 10 m ahead; a horizontal ray through its centre.
    centers, yaws, half = _one_box((10.0, 0.0, 1.0), (4.0, 2.0, 2.0), yaw)
    ranges, hits, cos = cast_rays(
        np.array([[0.0, 0.0, 1.0]]), np.array([[1.0, 0.0, 0.0]]), centers, yaws, half, 100.0
    )
    assert hits[0] == 0
    assert ranges[0] == pytest.approx(expected, abs=1e-12)
    assert 0.0 < cos[0] <= 1.0


def test_oblique_ray_hits_box_at_analytic_point() -> None:
    centers, yaws, half = _one_box((10.0, 0.0, 1.0), (4.0, 2.0, 2.0), 0.0)
    target = np.array([8.0, 0.5, 1.7])  # a point on the near face x = 8
    origin = np.array([0.0, -2.0, 1.84])
    d = (target - origin) / np.linalg.norm(target - origin)
    ranges, hits, _ = cast_rays(origin[None], d[None], centers, yaws, half, 100.0)
    assert hits[0] == 0
    np.testing.assert_allclose(origin + ranges[0] * d, target, atol=1e-12)


@pytest.mark.parametrize("elevation_deg", [-30.0, -10.0, -2.0])
def test_beam_hits_ground_at_analytic_range(elevation_deg: float) -> None:
    height = 1.84
    e = np.deg2rad(elevation_deg)
    d = np.array([[np.cos(e), 0.0, np.sin(e)]])
    ranges, hits, cos = cast_rays(
        np.array([[0.0, 0.0, height]]), d, np.zeros((1, 0, 3)), np.zeros((1, 0)), np.zeros((0, 3)), 100.0
    )
    assert hits[0] == GROUND
    assert ranges[0] == pytest.approx(height / np.sin(-e), rel=1e-12)
    assert cos[0] == pytest.approx(np.sin(-e))


def test_upward_or_too_far_rays_miss() -> None:
    d = np.array([[1.0, 0.0, 0.0], [np.cos(0.1), 0.0, np.sin(0.1)], [np.cos(-0.01), 0.0, np.sin(-0.01)]])
    o = np.tile([0.0, 0.0, 1.84], (3, 1))
    ranges, hits, _ = cast_rays(o, d, np.zeros((1, 0, 3)), np.zeros((1, 0)), np.zeros((0, 3)), 70.0)
    assert list(hits) == [MISS, MISS, MISS]  # the last would hit the ground at 184 m > 70 m
    assert np.all(np.isinf(ranges))


def test_nearest_box_wins_and_ground_behind_is_hidden() -> None:
    centers = np.array([[[20.0, 0.0, 1.0], [10.0, 0.0, 1.0]]])
    yaws = np.zeros((1, 2))
    half = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    d = np.array([[np.cos(-0.05), 0.0, np.sin(-0.05)]])  # would meet the ground at ~36.8 m
    ranges, hits, _ = cast_rays(np.array([[0.0, 0.0, 1.84]]), d, centers, yaws, half, 100.0)
    assert hits[0] == 1
    assert ranges[0] == pytest.approx(9.0 / np.cos(-0.05))


def test_ray_starting_inside_a_box_ignores_it() -> None:
    centers, yaws, half = _one_box((0.0, 0.0, 1.0), (4.0, 2.0, 2.0), 0.0)
    _, hits, _ = cast_rays(
        np.array([[0.0, 0.0, 1.0]]), np.array([[1.0, 0.0, 0.0]]), centers, yaws, half, 100.0
    )
    assert hits[0] == MISS


def _random_scene(rng: np.random.Generator, n_rays: int, n_parts: int, n_states: int) -> tuple:
    origins = np.column_stack(
        [rng.uniform(-1, 1, n_rays), rng.uniform(-1, 1, n_rays), rng.uniform(1.5, 2.0, n_rays)]
    )
    az = rng.uniform(-np.pi, np.pi, n_rays)
    el = rng.uniform(-0.5, 0.2, n_rays)
    dirs = np.column_stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    base = np.column_stack(
        [rng.uniform(-40, 40, n_parts), rng.uniform(-40, 40, n_parts), rng.uniform(0.3, 2.0, n_parts)]
    )
    centers = base[None] + rng.normal(0.0, 0.3, (n_states, n_parts, 3))
    yaws = rng.uniform(-np.pi, np.pi, (n_states, n_parts))
    half = rng.uniform(0.2, 3.0, (n_parts, 3))
    state = rng.integers(0, n_states, n_rays)
    return origins, dirs, centers, yaws, half, state


def test_kernel_matches_numpy_reference() -> None:
    origins, dirs, centers, yaws, half, state = _random_scene(np.random.default_rng(0), 4000, 40, 5)
    ranges, hits, _ = cast_rays(origins, dirs, centers, yaws, half, 70.0, state)
    ref_ranges, ref_hits = cast_rays_reference(origins, dirs, centers, yaws, half, 70.0, state)
    assert np.count_nonzero(hits >= 0) > 500
    np.testing.assert_array_equal(hits, ref_hits)
    np.testing.assert_allclose(ranges, ref_ranges, rtol=1e-12)


def test_azimuth_culling_does_not_change_hits() -> None:
    rng = np.random.default_rng(1)
    origins, dirs, centers, yaws, half, state = _random_scene(rng, 4000, 60, 5)
    origins[:] = origins[0]  # one viewpoint, as for a LiDAR sweep (motion covered by the pad)
    pad = np.max(np.linalg.norm(centers - centers[2][None], axis=2), axis=0) + 0.05
    az_c, az_hw = azimuth_intervals(origins[0], centers[2], half, pad, 71.0)
    assert np.any((az_hw >= 0) & (az_hw < np.pi))
    plain = cast_rays(origins, dirs, centers, yaws, half, 70.0, state)
    culled = cast_rays(origins, dirs, centers, yaws, half, 70.0, state, az_c, az_hw)
    np.testing.assert_array_equal(plain[1], culled[1])
    np.testing.assert_array_equal(plain[0], culled[0])

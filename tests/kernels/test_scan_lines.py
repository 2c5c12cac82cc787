"""Rings recovered from the storage order of a simulated spinning LiDAR (one laser scan after another)."""

from __future__ import annotations

import numpy as np

from fusioncheck.kernels.scan_lines import rings_from_scan_order


def _sweep(
    start_deg: float, direction: float, lasers: int = 5, steps: int = 720
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    points, rings = [], []
    for laser in range(lasers):
        az = np.radians(start_deg + direction * np.arange(steps) * 360.0 / steps)
        keep = rng.random(steps) > 0.2  # missing returns
        el = np.radians(-10.0 + 2.0 * laser)
        r = rng.uniform(5.0, 40.0, steps)
        xyz = np.stack([r * np.cos(el) * np.cos(az), r * np.cos(el) * np.sin(az), r * np.sin(el)], axis=1)
        points.append(xyz[keep])
        rings.append(np.full(int(keep.sum()), laser))
    return np.concatenate(points), np.concatenate(rings)


def test_rings_of_a_counter_clockwise_sweep() -> None:
    points, rings = _sweep(0.3, 1.0)
    assert np.array_equal(rings_from_scan_order(points), rings)


def test_rings_of_a_clockwise_sweep_starting_behind() -> None:
    points, rings = _sweep(170.0, -1.0)
    assert np.array_equal(rings_from_scan_order(points), rings)


def test_empty_and_single_point() -> None:
    assert rings_from_scan_order(np.zeros((0, 3))).size == 0
    assert rings_from_scan_order(np.array([[1.0, 0.0, 0.0]])).tolist() == [0]


def test_spin_direction_equals_the_median_rule() -> None:
    from fusioncheck.kernels.scan_lines import spin_direction, spin_direction_reference

    rng = np.random.default_rng(5)
    cases = [
        np.cumsum(rng.normal(0.01, 0.05, 1001)),  # mostly counter-clockwise, odd steps count
        np.cumsum(rng.normal(-0.01, 0.05, 1000)),  # mostly clockwise, even
        np.array([0.0, 0.1, 0.0]),  # even count, one each way, tie broken by the mean: +0.1 - 0.1 = 0
        np.array([0.0, 0.1, -0.05]),  # +0.1, -0.15: mean < 0
        np.array([0.0, 0.2, 0.15]),  # +0.2, -0.05: mean > 0
        np.array([0.0, np.nan, 0.2]),
        np.array([3.1, -3.1, 3.0]),  # wraps across +-pi
        np.array([0.0]),
    ]
    for _ in range(200):
        n = int(rng.integers(2, 9))
        cases.append(rng.uniform(-np.pi, np.pi, n))
    for azimuth in cases:
        assert spin_direction(azimuth) == spin_direction_reference(azimuth), azimuth
    assert spin_direction(cases[0]) == 1.0 and spin_direction(cases[1]) == -1.0

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

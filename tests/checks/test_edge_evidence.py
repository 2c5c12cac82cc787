"""Depth discontinuities along scan lines and their edge-alignment score in a camera."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fusioncheck.checks.edge_evidence import (
    DiscontinuityParameters,
    depth_discontinuities,
    edge_alignment_score,
    scaled_intrinsics,
)
from fusioncheck.kernels.edge_distance import EdgeParameters, edge_attraction_image
from fusioncheck.kernels.edge_score import score_projected_reference
from fusioncheck.scene.sensors import CameraIntrinsics


def _scan_line(elevation_deg: float, n: int = 360) -> np.ndarray:
    """One ring in front of the sensor: a wall at 20 m with an object at 10 m between azimuth -10..+10 deg."""
    azimuth = np.radians(np.linspace(-45.0, 45.0, n))
    rng = np.where(np.abs(np.degrees(azimuth)) <= 10.0, 10.0, 20.0)
    el = math.radians(elevation_deg)
    return np.stack(
        [
            rng * np.cos(el) * np.cos(azimuth),
            rng * np.cos(el) * np.sin(azimuth),
            rng * np.full(n, math.sin(el)),
        ],
        axis=1,
    )


def test_object_ends_are_the_discontinuities_in_storage_order() -> None:
    points = _scan_line(0.0)
    indices, weights = depth_discontinuities(points)
    inside = np.flatnonzero(np.abs(np.degrees(np.arctan2(points[:, 1], points[:, 0]))) <= 10.0)
    assert indices.tolist() == [inside[0], inside[-1]]
    np.testing.assert_allclose(weights, [10.0, 10.0])


def test_rings_are_ordered_by_azimuth_when_given() -> None:
    points = np.concatenate([_scan_line(-2.0), _scan_line(2.0)])
    ring = np.repeat([0, 1], 360)
    perm = np.random.default_rng(0).permutation(points.shape[0])
    indices, weights = depth_discontinuities(points[perm], ring[perm])
    assert indices.size == 4
    original = np.sort(perm[indices])
    az = np.degrees(np.arctan2(points[:, 1], points[:, 0]))
    ends = [i for k in (0, 1) for i in (np.flatnonzero((ring == k) & (np.abs(az) <= 10.0))[[0, -1]])]
    assert original.tolist() == ends
    np.testing.assert_allclose(weights, 10.0)


def test_weight_cap_threshold_and_gaps() -> None:
    points = _scan_line(0.0)
    _, weights = depth_discontinuities(points, parameters=DiscontinuityParameters(max_weight_m=4.0))
    np.testing.assert_allclose(weights, [4.0, 4.0])
    indices, _ = depth_discontinuities(points, parameters=DiscontinuityParameters(min_jump_m=12.0))
    assert indices.size == 0
    # Azimuth steps are 0.25 deg: with a 0.2 deg neighbour limit no two points are neighbours.
    indices, _ = depth_discontinuities(points, parameters=DiscontinuityParameters(max_gap_deg=0.2))
    assert indices.size == 0


def _camera() -> CameraIntrinsics:
    k = np.array([[400.0, 0.0, 199.5], [0.0, 400.0, 149.5], [0.0, 0.0, 1.0]])
    return CameraIntrinsics(
        matrix=k, distortion=np.array([-0.05, 0.01, 0.0, 0.0, 0.0]), width_px=400, height_px=300
    )


def test_alignment_score_peaks_at_the_true_pose() -> None:
    # A bright vertical bar in the image and LiDAR edge points on its outline (camera frame, depth 8 m).
    cam = _camera()
    image = np.full((300, 400), 30, dtype=np.uint8)
    image[:, 150:250] = 200
    attraction = edge_attraction_image(image, EdgeParameters(decay_px=10.0))
    v = np.linspace(-0.8, 0.8, 40)
    z = 8.0
    x_left = (149.5 - 199.5) / 400.0 * z
    x_right = (249.5 - 199.5) / 400.0 * z
    pts = np.concatenate([np.stack([np.full(40, x), v, np.full(40, z)], axis=1) for x in (x_left, x_right)])
    weights = np.full(pts.shape[0], 2.0)
    d = cam.distortion
    scores = [
        edge_alignment_score(pts + np.array([dx, 0.0, 0.0]), weights, cam.matrix, d, attraction)
        for dx in (-0.2, 0.0, 0.2)
    ]
    # Distortion moves the points off the straight edge a little; the true pose still scores best.
    assert scores[1] > scores[0] and scores[1] > scores[2]
    assert scores[1] > 0.7 * weights.sum()

    # The score is the kernel's weighted sum at the projected pixels (checked against the numpy reference).
    from fusioncheck.geometry.camera import project_points

    cam_sized = CameraIntrinsics(matrix=cam.matrix, distortion=d, width_px=400, height_px=300)
    uv, _, valid = project_points(pts, cam_sized)
    ref, _ = score_projected_reference(uv, valid, weights, attraction)
    assert scores[1] == pytest.approx(ref, rel=1e-9)


def test_points_behind_the_camera_score_nothing() -> None:
    cam = _camera()
    attraction = np.ones((300, 400), dtype=np.float32)
    pts = np.array([[0.0, 0.0, 5.0], [0.0, 0.0, -5.0], [100.0, 0.0, 1.0]])
    score = edge_alignment_score(pts, np.array([1.0, 5.0, 7.0]), cam.matrix, cam.distortion, attraction)
    assert score == 1.0


def test_scaled_intrinsics_maps_pixel_centres() -> None:
    cam = _camera()
    half = scaled_intrinsics(cam, 0.5)
    from fusioncheck.geometry.camera import project_points

    p = np.array([[0.3, -0.2, 4.0]])
    uv_full, _, _ = project_points(p, cam)
    uv_half, _, _ = project_points(p, half)
    np.testing.assert_allclose(uv_half, (uv_full + 0.5) * 0.5 - 0.5, atol=1e-9)
    assert (half.width_px, half.height_px) == (200, 150)


def test_vertical_neighbours_find_the_top_edge() -> None:
    # Two rings straight ahead: the lower one hits a wall at 10 m over -10..10 deg, the upper one passes
    # over it to a wall at 30 m. Only vertical neighbours see the top edge: every lower-ring point on the
    # wall becomes an edge point.
    az = np.radians(np.linspace(-10.0, 10.0, 81))
    lower = np.stack([10 * np.cos(az), 10 * np.sin(az), np.full(81, 0.0)], axis=1)
    el = np.radians(1.0)
    upper = np.stack(
        [30 * np.cos(el) * np.cos(az), 30 * np.cos(el) * np.sin(az), np.full(81, 30 * np.sin(el))], axis=1
    )
    points = np.concatenate([lower, upper])
    ring = np.repeat([0, 1], 81)
    idx, w = depth_discontinuities(points, ring, DiscontinuityParameters(vertical=False))
    assert idx.size == 0
    idx, w = depth_discontinuities(points, ring)
    assert idx.tolist() == list(range(81))
    np.testing.assert_allclose(w, 10.0)


def test_reflectance_edges_mark_the_bright_side() -> None:
    from fusioncheck.checks.edge_evidence import ReflectanceParameters, reflectance_discontinuities

    az = np.radians(np.linspace(-20.0, 20.0, 161))
    points = np.stack([15 * np.cos(az), 15 * np.sin(az), np.full(161, -1.7)], axis=1)
    intensity = np.where(np.abs(np.degrees(az)) <= 1.0, 200.0, 20.0)  # a painted stripe
    idx, w = reflectance_discontinuities(points, intensity, np.zeros(161), ReflectanceParameters(weight=2.5))
    bright = np.flatnonzero(intensity > 100)
    assert idx.tolist() == [bright[0], bright[-1]]
    np.testing.assert_allclose(w, 2.5)


def test_a_given_scan_order_changes_nothing() -> None:
    from fusioncheck.checks.edge_evidence import depth_edges, reflectance_discontinuities, scan_line_order

    rng = np.random.default_rng(9)
    az = np.tile(np.linspace(-np.pi, np.pi, 900, endpoint=False), 8)
    ring = np.repeat(np.arange(8), 900)
    el = np.radians(-10.0 + 1.5 * ring)
    r = np.where(rng.random(az.size) < 0.1, 30.0, 10.0) + rng.normal(0.0, 0.02, az.size)
    pts = np.column_stack([r * np.cos(el) * np.cos(az), r * np.cos(el) * np.sin(az), r * np.sin(el)])
    intensity = np.where(rng.random(az.size) < 0.05, 200.0, 20.0)
    order = scan_line_order(pts, ring)
    plain = depth_edges(pts, ring)
    given = depth_edges(pts, ring, scan_order=order)
    assert plain[0].size > 100
    for a, b in zip(plain, given, strict=True):
        np.testing.assert_array_equal(a, b)
    refl = reflectance_discontinuities(pts, intensity, ring)
    assert refl[0].size > 50
    np.testing.assert_array_equal(
        refl[0], reflectance_discontinuities(pts, intensity, ring, scan_order=order)[0]
    )
    with pytest.raises(ValueError, match="scan_order"):
        depth_edges(pts, ring, scan_order=order[:-1])

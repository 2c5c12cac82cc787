"""LiDAR edge kernels (field of view, vertical ring neighbours) against their numpy references."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from fusioncheck.checks.camera_calibration import field_of_view, field_of_view_reference
from fusioncheck.checks.edge_evidence import vertical_neighbours_reference
from fusioncheck.geometry.se3 import SE3
from fusioncheck.kernels.lidar_edges import vertical_neighbours
from fusioncheck.kernels.scan_lines import rings_from_scan_order
from fusioncheck.scene.sensors import CameraIntrinsics

_KITTI_VELODYNE = Path("kitti") / "training" / "velodyne" / "000000.bin"


def _camera() -> tuple[SE3, CameraIntrinsics]:
    # A KITTI-like camera looking along the LiDAR's x axis (camera z forward, x right, y down).
    rotation = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
    yaw = math.radians(7.0)
    turn = np.array([[math.cos(yaw), -math.sin(yaw), 0.0], [math.sin(yaw), math.cos(yaw), 0.0], [0, 0, 1]])
    matrix = np.array([[720.0, 0.0, 610.0], [0.0, 720.0, 180.0], [0.0, 0.0, 1.0]])
    intrinsics = CameraIntrinsics(matrix, np.zeros(5), 1242, 375)
    return SE3(rotation @ turn, np.array([0.03, -0.08, -0.27])), intrinsics


def _sweep(realdata: Path) -> np.ndarray:
    path = realdata / _KITTI_VELODYNE
    if path.is_file():
        return np.fromfile(path, dtype=np.float32).reshape(-1, 4)
    rng = np.random.default_rng(4)
    az = np.tile(np.linspace(-math.pi, math.pi, 2000, endpoint=False), 32)
    el = np.repeat(np.radians(np.linspace(-20.0, 5.0, 32)), 2000)
    r = rng.uniform(2.0, 60.0, az.size)
    xyz = np.column_stack([r * np.cos(el) * np.cos(az), r * np.cos(el) * np.sin(az), r * np.sin(el)])
    return np.column_stack([xyz, rng.random(az.size)]).astype(np.float32)


def test_field_of_view_kernel_matches_numpy(realdata: Path) -> None:
    points = _sweep(realdata)
    camera_from_lidar, intrinsics = _camera()
    fast = field_of_view(points[:, :3], camera_from_lidar, intrinsics, (375, 1242))
    reference = field_of_view_reference(points[:, :3], camera_from_lidar, intrinsics, (375, 1242))
    np.testing.assert_array_equal(fast, reference)
    assert 0.05 * points.shape[0] < fast.sum() < 0.5 * points.shape[0]
    # float64 input gives the same mask
    np.testing.assert_array_equal(
        field_of_view(points[:, :3].astype(np.float64), camera_from_lidar, intrinsics, (375, 1242)), fast
    )


def test_vertical_neighbours_kernel_matches_numpy(realdata: Path) -> None:
    xyz = _sweep(realdata)[:, :3].astype(np.float64)
    ring = rings_from_scan_order(xyz)
    azimuth = np.arctan2(xyz[:, 1], xyz[:, 0])
    order = np.lexsort((azimuth, ring))
    _, starts = np.unique(ring[order], return_index=True)
    ends = np.append(starts[1:], xyz.shape[0])
    elevation = np.arctan2(xyz[:, 2], np.hypot(xyz[:, 0], xyz[:, 1]))
    median_el = np.array([np.median(elevation[order[s:e]]) for s, e in zip(starts, ends, strict=True)])
    by_elevation = np.argsort(median_el)
    up, down = vertical_neighbours(azimuth, order, starts, ends, by_elevation)
    up_ref, down_ref = vertical_neighbours_reference(azimuth, order, starts, ends, by_elevation)
    np.testing.assert_array_equal(up, up_ref)
    np.testing.assert_array_equal(down, down_ref)
    assert (up >= 0).mean() > 0.9 and (down >= 0).mean() > 0.9
    # the lowest ring has nothing below, the highest nothing above
    assert np.all(down[order[starts[by_elevation[0]] : ends[by_elevation[0]]]] == -1)
    assert np.all(up[order[starts[by_elevation[-1]] : ends[by_elevation[-1]]]] == -1)


def test_vertical_neighbours_of_tiny_rings() -> None:
    azimuth = np.array([0.1, 0.3, 0.2, 0.5, 0.45])
    # ring 0: points 0, 1; ring 1: point 2; ring 2: none; ring 3: points 4, 3 (by azimuth)
    order = np.array([0, 1, 2, 4, 3])
    starts, ends = np.array([0, 2, 3, 3]), np.array([2, 3, 3, 5])
    by_elevation = np.array([0, 1, 2, 3])
    got = vertical_neighbours(azimuth, order, starts, ends, by_elevation)
    ref = vertical_neighbours_reference(azimuth, order, starts, ends, by_elevation)
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    assert got[0].tolist() == [2, 2, -1, -1, -1]
    assert got[1].tolist() == [-1, -1, 1, -1, -1]  # 0.3 - 0.2 < 0.2 - 0.1 in float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_field_of_view_rejects_points_behind(dtype: type) -> None:
    camera_from_lidar, intrinsics = _camera()
    pts = np.array([[10.0, 0.0, 0.0], [-10.0, 0.0, 0.0], [0.3, 0.0, 0.0], [10.0, 30.0, 0.0]], dtype=dtype)
    mask = field_of_view(pts, camera_from_lidar, intrinsics, (375, 1242))
    assert mask.tolist() == [True, False, False, False]


def test_segment_medians_equal_numpy() -> None:
    from fusioncheck.kernels.lidar_edges import segment_medians

    rng = np.random.default_rng(8)
    values = rng.normal(size=1000)
    values[500] = np.nan
    order = rng.permutation(1000)
    starts = np.array([0, 10, 11, 11, 400, 999])
    ends = np.array([10, 11, 11, 400, 999, 1000])
    got = segment_medians(values, order, starts, ends)
    nonempty = starts < ends
    expected = [np.median(values[order[s:e]]) for s, e in zip(starts[nonempty], ends[nonempty], strict=True)]
    np.testing.assert_array_equal(got[nonempty], expected)  # bit for bit, NaN where numpy gives NaN
    assert np.isnan(got[~nonempty]).all()
    assert np.isnan(got[nonempty]).sum() == int(np.isnan(expected).sum()) == 1


def test_rings_with_given_azimuth_equal_rings_without() -> None:
    a = np.linspace(0.0, 6.0 * np.pi, 3000)
    xyz = np.column_stack([10 * np.cos(a), 10 * np.sin(a), np.repeat([-1.0, 0.0, 1.0], 1000)])
    ring = rings_from_scan_order(xyz)
    np.testing.assert_array_equal(rings_from_scan_order(xyz, np.arctan2(xyz[:, 1], xyz[:, 0])), ring)
    assert ring.max() == 2
    with pytest.raises(ValueError, match="azimuth"):
        rings_from_scan_order(xyz, np.zeros(5))

"""Box corners (nuScenes order), edges, frame changes and box-local coordinates."""

from __future__ import annotations

import numpy as np
import pytest
from pyquaternion import Quaternion

from fusioncheck.errors import ShapeError
from fusioncheck.geometry import quaternion
from fusioncheck.geometry.boxes import (
    BOX_EDGES,
    box_corners,
    box_edges,
    points_to_box_frame,
    transform_boxes,
    yaw_boxes,
)
from fusioncheck.geometry.se3 import SE3
from fusioncheck.scene.boxes import BoxArrays


def nuscenes_box_corners(center: np.ndarray, size_lwh: np.ndarray, quat_wxyz: np.ndarray) -> np.ndarray:
    """nuScenes devkit ``Box.corners`` (which takes ``wlh``), re-typed here: ``(3, 8)``."""
    length, width, height = size_lwh
    x_corners = length / 2 * np.array([1, 1, 1, 1, -1, -1, -1, -1])
    y_corners = width / 2 * np.array([1, -1, -1, 1, 1, -1, -1, 1])
    z_corners = height / 2 * np.array([1, 1, -1, -1, 1, 1, -1, -1])
    corners = np.vstack((x_corners, y_corners, z_corners))
    corners = np.dot(Quaternion(quat_wxyz).rotation_matrix, corners)
    return corners + np.asarray(center)[:, None]


def test_corners_of_a_yawed_box_by_hand() -> None:
    # A 4 x 2 x 1.5 m box at (10, 5, 1), heading 90 degrees: its front (+x) points along global +y and its
    # left (+y) along global -x.
    boxes = yaw_boxes(np.array([[10.0, 5.0, 1.0]]), np.array([[4.0, 2.0, 1.5]]), np.array([np.pi / 2]))
    corners = box_corners(boxes)
    assert corners.shape == (1, 8, 3)
    expected = np.array(
        [
            [9.0, 7.0, 1.75],  # front, left, top
            [11.0, 7.0, 1.75],  # front, right, top
            [11.0, 7.0, 0.25],  # front, right, bottom
            [9.0, 7.0, 0.25],  # front, left, bottom
            [9.0, 3.0, 1.75],  # back, left, top
            [11.0, 3.0, 1.75],
            [11.0, 3.0, 0.25],
            [9.0, 3.0, 0.25],
        ]
    )
    np.testing.assert_allclose(corners[0], expected, atol=1e-14)


def test_corners_of_a_30_degree_box_by_hand() -> None:
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    boxes = yaw_boxes(np.zeros((1, 3)), np.array([[2.0, 1.0, 1.0]]), np.array([np.radians(30)]))
    # Corner 0 is (+1, +0.5, +0.5) in the box frame.
    np.testing.assert_allclose(box_corners(boxes)[0, 0], [c - 0.5 * s, s + 0.5 * c, 0.5], atol=1e-15)
    # Corner 6 is (-1, -0.5, -0.5).
    np.testing.assert_allclose(box_corners(boxes)[0, 6], [-c + 0.5 * s, -s - 0.5 * c, -0.5], atol=1e-15)


def test_corner_order_matches_nuscenes_devkit_for_general_rotations() -> None:
    rng = np.random.default_rng(0)
    m = 20
    quats = rng.normal(size=(m, 4))
    quats /= np.linalg.norm(quats, axis=1, keepdims=True)
    centers = rng.uniform(-50, 50, size=(m, 3))
    sizes = rng.uniform(0.5, 12, size=(m, 3))
    boxes = BoxArrays(centers, sizes, quaternion.to_matrix(quats))
    corners = box_corners(boxes)
    for i in range(m):
        np.testing.assert_allclose(
            corners[i], nuscenes_box_corners(centers[i], sizes[i], quats[i]).T, atol=1e-12
        )


def test_front_face_is_first() -> None:
    boxes = yaw_boxes(np.zeros((1, 3)), np.array([[4.0, 2.0, 1.0]]), np.array([0.0]))
    corners = box_corners(boxes)[0]
    assert np.all(corners[:4, 0] == 2.0)
    assert np.all(corners[4:, 0] == -2.0)
    # nuScenes' bottom_corners() picks [2, 3, 7, 6]: all at the bottom.
    assert np.all(corners[[2, 3, 7, 6], 2] == -0.5)


def test_edges() -> None:
    edges = box_edges()
    assert edges.shape == (12, 2)
    assert len({tuple(sorted(e)) for e in edges.tolist()}) == 12
    boxes = yaw_boxes(np.zeros((1, 3)), np.array([[4.0, 2.0, 1.5]]), np.array([0.7]))
    corners = box_corners(boxes)[0]
    lengths = np.linalg.norm(corners[edges[:, 0]] - corners[edges[:, 1]], axis=1)
    # Four edges of each of length, width, height.
    np.testing.assert_allclose(np.sort(lengths), [1.5] * 4 + [2.0] * 4 + [4.0] * 4, atol=1e-14)
    # Every corner meets three edges.
    np.testing.assert_array_equal(np.bincount(edges.ravel()), [3] * 8)
    edges[0] = [7, 7]
    assert BOX_EDGES[0].tolist() == [0, 1]  # a copy: the module constant is untouched


def test_transform_boxes_consistent_with_corners() -> None:
    rng = np.random.default_rng(1)
    m = 15
    boxes = yaw_boxes(rng.uniform(-30, 30, (m, 3)), rng.uniform(0.5, 10, (m, 3)), rng.uniform(-3, 3, m))
    q = rng.normal(size=4)
    target_from_source = SE3.from_quat(q / np.linalg.norm(q), rng.uniform(-100, 100, 3))
    moved = transform_boxes(boxes, target_from_source)
    expected = target_from_source.transform_points(box_corners(boxes).reshape(-1, 3)).reshape(m, 8, 3)
    np.testing.assert_allclose(box_corners(moved), expected, atol=1e-11)
    np.testing.assert_array_equal(moved.sizes_m, boxes.sizes_m)
    # Rotations stay orthonormal, and the round trip returns the original boxes.
    np.testing.assert_allclose(
        np.einsum("mji,mjk->mik", moved.rotations, moved.rotations), np.tile(np.eye(3), (m, 1, 1)), atol=1e-14
    )
    back = transform_boxes(moved, target_from_source.inverse())
    np.testing.assert_allclose(back.centers_m, boxes.centers_m, atol=1e-11)
    np.testing.assert_allclose(back.rotations, boxes.rotations, atol=1e-14)


def test_transform_boxes_yaw_shift() -> None:
    # Rotating the frame by +0.5 rad about z adds 0.5 rad to every heading.
    boxes = yaw_boxes(np.array([[1.0, 0, 0], [0, 2.0, 0]]), np.ones((2, 3)), np.array([0.1, -1.0]))
    moved = transform_boxes(boxes, SE3.from_quat(quaternion.from_yaw(0.5), np.zeros(3)))
    yaws = quaternion.yaw_of(np.stack([quaternion.from_matrix(r) for r in moved.rotations]))
    np.testing.assert_allclose(yaws, [0.6, -0.5], atol=1e-14)
    np.testing.assert_allclose(moved.centers_m[0], [np.cos(0.5), np.sin(0.5), 0], atol=1e-15)


def test_transform_empty() -> None:
    empty = BoxArrays(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3, 3)))
    assert len(transform_boxes(empty, SE3.identity())) == 0
    assert box_corners(empty).shape == (0, 8, 3)


def test_points_to_box_frame() -> None:
    boxes = yaw_boxes(np.array([[10.0, 5.0, 1.0]]), np.array([[4.0, 2.0, 1.5]]), np.array([np.pi / 2]))
    # 1 m ahead of the box centre (global +y) and 0.5 m to its left (global -x).
    local = points_to_box_frame(np.array([[9.5, 6.0, 1.2]]), boxes.centers_m[0], boxes.rotations[0])
    np.testing.assert_allclose(local, [[1.0, 0.5, 0.2]], atol=1e-14)
    # Every corner maps to +-half-size in the nuScenes sign pattern.
    corners = box_corners(boxes)[0]
    local_corners = points_to_box_frame(corners, boxes.centers_m[0], boxes.rotations[0])
    np.testing.assert_allclose(np.abs(local_corners), np.tile([2.0, 1.0, 0.75], (8, 1)), atol=1e-14)
    np.testing.assert_allclose(np.sign(local_corners[:4, 0]), 1.0)


def test_points_to_box_frame_inverts_the_box_pose() -> None:
    rng = np.random.default_rng(2)
    q = rng.normal(size=4)
    box_pose = SE3.from_quat(q / np.linalg.norm(q), rng.normal(size=3) * 10)
    local = rng.normal(size=(30, 3))
    world = box_pose.transform_points(local)
    np.testing.assert_allclose(
        points_to_box_frame(world, box_pose.translation, box_pose.rotation), local, atol=1e-12
    )


def test_yaw_boxes() -> None:
    boxes = yaw_boxes([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], [[4.0, 2.0, 1.5], [1.0, 1.0, 1.0]], [0.3, -2.0])
    assert len(boxes) == 2
    for yaw, rotation in zip([0.3, -2.0], boxes.rotations, strict=True):
        np.testing.assert_allclose(rotation, quaternion.to_matrix(quaternion.from_yaw(yaw)), atol=1e-15)


@pytest.mark.parametrize(
    ("centers", "sizes", "yaws", "name"),
    [
        (np.zeros((2, 2)), np.ones((2, 3)), np.zeros(2), "centers_m"),
        (np.zeros((2, 3)), np.ones((3, 3)), np.zeros(2), "sizes_m"),
        (np.zeros((2, 3)), np.ones((2, 3)), np.zeros(3), "yaw_rad"),
    ],
)
def test_yaw_boxes_shape_errors(centers: np.ndarray, sizes: np.ndarray, yaws: np.ndarray, name: str) -> None:
    with pytest.raises(ShapeError, match=name):
        yaw_boxes(centers, sizes, yaws)


def test_points_to_box_frame_shape_errors() -> None:
    with pytest.raises(ShapeError, match="points"):
        points_to_box_frame(np.zeros((3, 2)), np.zeros(3), np.eye(3))
    with pytest.raises(ShapeError, match="rotation"):
        points_to_box_frame(np.zeros((3, 3)), np.zeros(3), np.eye(4))

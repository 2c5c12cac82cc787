"""Rigid transforms: composition, inverse, interpolation and matrix round trips."""

from __future__ import annotations

import numpy as np
import pytest
from pyquaternion import Quaternion

from fusioncheck.errors import ShapeError
from fusioncheck.geometry import quaternion
from fusioncheck.geometry.se3 import SE3


def random_se3(seed: int) -> SE3:
    rng = np.random.default_rng(seed)
    q = rng.normal(size=4)
    return SE3.from_quat(q / np.linalg.norm(q), rng.uniform(-50, 50, size=3))


def test_identity() -> None:
    p = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(SE3.identity().transform_points(p), p)


def test_transform_points_known() -> None:
    # 90 degrees about z, then shift by (10, 0, 1): x -> y, so (1, 0, 0) lands at (10, 1, 1).
    t = SE3.from_quat(quaternion.from_yaw(np.pi / 2), [10.0, 0.0, 1.0])
    np.testing.assert_allclose(
        t.transform_points(np.array([[1.0, 0, 0], [0, 2.0, 0]])), [[10, 1, 1], [8, 0, 1]], atol=1e-14
    )
    np.testing.assert_allclose(t.rotate_vectors(np.array([[1.0, 0, 0]])), [[0, 1, 0]], atol=1e-15)


def test_matches_pyquaternion_nuscenes_style() -> None:
    # The devkit maps points with rotation_matrix @ p + translation.
    rng = np.random.default_rng(1)
    q = Quaternion(rng.normal(size=4)).normalised
    tr = rng.normal(size=3)
    p = rng.normal(size=(20, 3))
    expected = (q.rotation_matrix @ p.T).T + tr
    np.testing.assert_allclose(SE3.from_quat(q.elements, tr).transform_points(p), expected, atol=1e-13)


def test_compose_order() -> None:
    a_from_b, b_from_c = random_se3(2), random_se3(3)
    p = np.random.default_rng(4).normal(size=(10, 3))
    a_from_c = a_from_b @ b_from_c
    np.testing.assert_allclose(
        a_from_c.transform_points(p), a_from_b.transform_points(b_from_c.transform_points(p)), atol=1e-12
    )
    np.testing.assert_allclose(a_from_c.as_matrix(), a_from_b.as_matrix() @ b_from_c.as_matrix(), atol=1e-12)
    assert not np.allclose((b_from_c @ a_from_b).as_matrix(), a_from_c.as_matrix())


def test_inverse() -> None:
    t = random_se3(5)
    np.testing.assert_allclose((t @ t.inverse()).as_matrix(), np.eye(4), atol=1e-13)
    np.testing.assert_allclose((t.inverse() @ t).as_matrix(), np.eye(4), atol=1e-13)
    np.testing.assert_allclose(t.inverse().as_matrix(), np.linalg.inv(t.as_matrix()), atol=1e-12)


def test_matrix_round_trip() -> None:
    t = random_se3(6)
    m = t.as_matrix()
    assert m.shape == (4, 4)
    np.testing.assert_array_equal(m[3], [0, 0, 0, 1])
    back = SE3.from_matrix(m)
    np.testing.assert_array_equal(back.rotation, t.rotation)
    np.testing.assert_array_equal(back.translation, t.translation)


def test_quat_round_trip() -> None:
    q = np.array([0.3, -0.5, 0.1, 0.8])
    q /= np.linalg.norm(q)
    t = SE3.from_quat(q, [1, 2, 3])
    np.testing.assert_allclose(t.quat_wxyz, q, atol=1e-14)
    np.testing.assert_allclose(SE3.from_quat(-q, [1, 2, 3]).quat_wxyz, q, atol=1e-14)  # w >= 0


def test_interpolate() -> None:
    t0 = SE3.from_quat(quaternion.from_yaw(0.2), [0.0, 0.0, 0.0])
    t1 = SE3.from_quat(quaternion.from_yaw(0.8), [10.0, -4.0, 2.0])
    mid = t0.interpolate(t1, 0.25)
    np.testing.assert_allclose(mid.translation, [2.5, -1.0, 0.5], atol=1e-14)
    assert float(quaternion.yaw_of(mid.quat_wxyz)) == pytest.approx(0.35, abs=1e-12)
    np.testing.assert_allclose(t0.interpolate(t1, 0.0).as_matrix(), t0.as_matrix(), atol=1e-14)
    np.testing.assert_allclose(t0.interpolate(t1, 1.0).as_matrix(), t1.as_matrix(), atol=1e-14)


def test_interpolate_general_rotation_matches_pyquaternion() -> None:
    t0, t1 = random_se3(7), random_se3(8)
    mid = t0.interpolate(t1, 0.3)
    expected = Quaternion.slerp(Quaternion(t0.quat_wxyz), Quaternion(t1.quat_wxyz), 0.3).rotation_matrix
    np.testing.assert_allclose(mid.rotation, expected, atol=1e-12)


def test_shapes_validated() -> None:
    with pytest.raises(ShapeError, match="rotation"):
        SE3(np.eye(2), np.zeros(3))
    with pytest.raises(ShapeError, match="translation"):
        SE3(np.eye(3), np.zeros(2))
    with pytest.raises(ShapeError, match="matrix"):
        SE3.from_matrix(np.eye(3))
    with pytest.raises(ShapeError, match="points"):
        SE3.identity().transform_points(np.zeros((4, 2)))


def test_repr_is_short() -> None:
    assert repr(SE3.identity()) == "SE3(quat_wxyz=[1.0, 0.0, 0.0, 0.0], translation=[0.0, 0.0, 0.0])"

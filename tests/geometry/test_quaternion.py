"""Quaternions (scalar first) against pyquaternion, the nuScenes devkit's quaternion library."""

from __future__ import annotations

import numpy as np
import pytest
from pyquaternion import Quaternion

from fusioncheck.geometry import quaternion


def random_quats(n: int, seed: int = 0) -> np.ndarray:
    q = np.random.default_rng(seed).normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    a = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    return np.concatenate([[np.cos(angle / 2)], np.sin(angle / 2) * a])


def same_rotation(a: np.ndarray, b: np.ndarray, atol: float = 1e-12) -> bool:
    """q and -q are the same rotation."""
    return bool(np.allclose(a, b, atol=atol) or np.allclose(a, -b, atol=atol))


class TestToMatrix:
    def test_matches_pyquaternion(self) -> None:
        for q in random_quats(50):
            np.testing.assert_allclose(quaternion.to_matrix(q), Quaternion(q).rotation_matrix, atol=1e-14)

    def test_stack(self) -> None:
        qs = random_quats(7, seed=1)
        m = quaternion.to_matrix(qs)
        assert m.shape == (7, 3, 3)
        for q, mi in zip(qs, m, strict=True):
            np.testing.assert_allclose(mi, Quaternion(q).rotation_matrix, atol=1e-14)

    def test_known_rotation(self) -> None:
        # 90 degrees about z maps x to y and y to -x.
        m = quaternion.to_matrix(axis_angle([0, 0, 1], np.pi / 2))
        np.testing.assert_allclose(m @ [1, 0, 0], [0, 1, 0], atol=1e-15)
        np.testing.assert_allclose(m @ [0, 1, 0], [-1, 0, 0], atol=1e-15)

    def test_normalises_slightly_off_input(self) -> None:
        q = axis_angle([1, 2, 3], 0.7)
        np.testing.assert_allclose(quaternion.to_matrix(q * 1.0005), quaternion.to_matrix(q), atol=1e-14)
        m = quaternion.to_matrix(q * 1.0005)
        np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-14)


class TestFromMatrix:
    def test_round_trip_random(self) -> None:
        for q in random_quats(200, seed=2):
            back = quaternion.from_matrix(quaternion.to_matrix(q))
            assert back[0] >= 0
            assert same_rotation(back, q)

    def test_matches_pyquaternion(self) -> None:
        for q in random_quats(20, seed=3):
            ours = quaternion.from_matrix(Quaternion(q).rotation_matrix)
            assert same_rotation(ours, Quaternion(matrix=Quaternion(q).rotation_matrix).elements)

    @pytest.mark.parametrize("axis", [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [1, -2, 0.5], [0.3, 0, -1]])
    @pytest.mark.parametrize("angle", [np.pi, np.pi - 1e-6, np.pi - 1e-9, np.pi - 0.01, 1e-8, 0.0])
    def test_round_trip_near_180_and_near_identity(self, axis: list[float], angle: float) -> None:
        q = axis_angle(np.array(axis), angle)
        back = quaternion.from_matrix(quaternion.to_matrix(q))
        assert same_rotation(back, q, atol=1e-12)
        np.testing.assert_allclose(np.linalg.norm(back), 1.0, atol=1e-15)

    def test_each_shepperd_branch(self) -> None:
        # Rotations by pi about x, y and z each force one of the non-trace branches.
        for axis in np.eye(3):
            q = axis_angle(axis, np.pi)
            back = quaternion.from_matrix(quaternion.to_matrix(q))
            np.testing.assert_allclose(np.abs(back), np.abs(q), atol=1e-15)


class TestMultiply:
    def test_matches_pyquaternion(self) -> None:
        a, b = random_quats(30, seed=4), random_quats(30, seed=5)
        for qa, qb in zip(a, b, strict=True):
            np.testing.assert_allclose(
                quaternion.multiply(qa, qb), (Quaternion(qa) * Quaternion(qb)).elements, atol=1e-15
            )

    def test_stacked_and_composes_like_matrices(self) -> None:
        a, b = random_quats(10, seed=6), random_quats(10, seed=7)
        ab = quaternion.multiply(a, b)
        np.testing.assert_allclose(
            quaternion.to_matrix(ab), quaternion.to_matrix(a) @ quaternion.to_matrix(b), atol=1e-14
        )

    def test_not_commutative(self) -> None:
        a, b = axis_angle([1, 0, 0], 0.5), axis_angle([0, 1, 0], 0.5)
        assert not np.allclose(quaternion.multiply(a, b), quaternion.multiply(b, a))


class TestSlerp:
    @pytest.mark.parametrize("fraction", [0.0, 0.1, 0.25, 0.5, 0.9, 1.0])
    def test_matches_pyquaternion(self, fraction: float) -> None:
        q0s, q1s = random_quats(30, seed=8), random_quats(30, seed=9)
        for q0, q1 in zip(q0s, q1s, strict=True):
            ours = quaternion.slerp(q0, q1, fraction)
            theirs = Quaternion.slerp(Quaternion(q0), Quaternion(q1), fraction).elements
            assert same_rotation(ours, theirs, atol=1e-12)

    def test_takes_the_short_arc(self) -> None:
        # q1 and -q1 are the same rotation; the midpoint must be 10 degrees from both ends either way.
        q0 = axis_angle([0, 0, 1], 0.0)
        q1 = axis_angle([0, 0, 1], np.radians(20))
        for end in (q1, -q1):
            mid = quaternion.slerp(q0, end, 0.5)
            assert np.degrees(quaternion.angle_between(mid, q0)) == pytest.approx(10.0, abs=1e-9)
            assert float(quaternion.yaw_of(mid)) == pytest.approx(np.radians(10), abs=1e-12)

    def test_constant_angular_rate(self) -> None:
        q0, q1 = axis_angle([1, 2, 3], 0.2), axis_angle([-1, 0.5, 2], 1.9)
        total = float(quaternion.angle_between(q0, q1))
        for f in (0.2, 0.4, 0.7):
            q = quaternion.slerp(q0, q1, f)
            assert float(quaternion.angle_between(q0, q)) == pytest.approx(f * total, abs=1e-9)

    def test_nearly_identical_inputs(self) -> None:
        q0 = axis_angle([0, 0, 1], 0.3)
        q1 = axis_angle([0, 0, 1], 0.3 + 1e-12)
        q = quaternion.slerp(q0, q1, 0.5)
        assert np.all(np.isfinite(q))
        assert float(quaternion.yaw_of(q)) == pytest.approx(0.3, abs=1e-11)

    def test_vector_of_fractions(self) -> None:
        q0, q1 = axis_angle([0, 0, 1], 0.0), axis_angle([0, 0, 1], 1.0)
        out = quaternion.slerp(q0, q1, np.array([0.0, 0.5, 1.0]))
        assert out.shape == (3, 4)
        np.testing.assert_allclose(quaternion.yaw_of(out), [0.0, 0.5, 1.0], atol=1e-14)


class TestYaw:
    @pytest.mark.parametrize("yaw", [-3.1, -1.0, 0.0, 0.4, 1.5707963, 3.1])
    def test_from_yaw_round_trip(self, yaw: float) -> None:
        assert float(quaternion.yaw_of(quaternion.from_yaw(yaw))) == pytest.approx(yaw, abs=1e-14)

    def test_from_yaw_matches_pyquaternion(self) -> None:
        for yaw in np.linspace(-3, 3, 13):
            expected = Quaternion(axis=[0, 0, 1], angle=yaw).elements
            assert same_rotation(quaternion.from_yaw(yaw), expected, atol=1e-15)

    def test_yaw_of_matches_nuscenes_quaternion_yaw(self) -> None:
        # nuScenes' quaternion_yaw: heading of the rotated x axis projected onto the ground plane.
        for q in random_quats(30, seed=10):
            v = Quaternion(q).rotation_matrix @ [1.0, 0.0, 0.0]
            assert float(quaternion.yaw_of(q)) == pytest.approx(np.arctan2(v[1], v[0]), abs=1e-14)

    def test_yaw_ignores_pitch(self) -> None:
        q = quaternion.multiply(quaternion.from_yaw(0.8), axis_angle([0, 1, 0], 0.3))
        assert float(quaternion.yaw_of(q)) == pytest.approx(0.8, abs=1e-14)

    def test_stacked(self) -> None:
        yaws = np.array([0.1, -2.0, 3.0])
        q = quaternion.from_yaw(yaws)
        assert q.shape == (3, 4)
        np.testing.assert_allclose(quaternion.yaw_of(q), yaws, atol=1e-14)


class TestHelpers:
    def test_is_unit(self) -> None:
        assert quaternion.is_unit(random_quats(5))
        assert quaternion.is_unit(np.array([1.0005, 0, 0, 0]))
        assert not quaternion.is_unit(np.array([1.01, 0, 0, 0]))
        assert not quaternion.is_unit(np.array([np.nan, 0, 0, 1]))

    def test_angle_between(self) -> None:
        a = axis_angle([0, 1, 0], 0.1)
        b = axis_angle([0, 1, 0], 0.6)
        assert float(quaternion.angle_between(a, b)) == pytest.approx(0.5, abs=1e-12)
        assert float(quaternion.angle_between(a, -a)) == pytest.approx(0.0, abs=1e-7)
        assert float(quaternion.angle_between(a, axis_angle([0, 1, 0], 0.1 + np.pi))) == pytest.approx(np.pi)

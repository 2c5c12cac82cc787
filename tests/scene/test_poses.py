"""Ego pose tracks: exact hits, interpolation, time-range errors, unsorted input, velocity."""

from __future__ import annotations

import numpy as np
import pytest
from pyquaternion import Quaternion

from fusioncheck.errors import ShapeError, TimeRangeError
from fusioncheck.geometry import quaternion
from fusioncheck.scene.poses import PoseTrack


def track() -> PoseTrack:
    """Three poses at 1.0 s, 1.1 s, 1.3 s."""
    t = np.array([1_000_000, 1_100_000, 1_300_000])
    translations = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 0.5], [5.0, 2.0, 0.5]])
    quats = np.stack(
        [
            quaternion.from_yaw(0.0),
            Quaternion(axis=[1, 2, 3], angle=0.4).elements,
            Quaternion(axis=[0, 0, 1], angle=2.5).elements,
        ]
    )
    return PoseTrack(t, translations, quats)


def test_exact_hits_return_the_stored_pose() -> None:
    poses = track()
    for i, t in enumerate(poses.timestamps_us):
        pose = poses.at(int(t))
        np.testing.assert_array_equal(pose.translation, poses.translations_m[i])
        np.testing.assert_allclose(pose.rotation, quaternion.to_matrix(poses.quats_wxyz[i]), atol=0)


def test_midpoint_interpolation() -> None:
    poses = track()
    pose = poses.at(1_050_000)
    np.testing.assert_allclose(pose.translation, [0.5, 1.0, 0.25], atol=1e-15)
    expected = Quaternion.slerp(Quaternion(poses.quats_wxyz[0]), Quaternion(poses.quats_wxyz[1]), 0.5)
    np.testing.assert_allclose(pose.rotation, expected.rotation_matrix, atol=1e-14)


def test_quarter_interpolation_in_unequal_segment() -> None:
    poses = track()
    pose = poses.at(1_150_000)  # a quarter of the way from 1.1 s to 1.3 s
    np.testing.assert_allclose(pose.translation, [2.0, 2.0, 0.5], atol=1e-14)
    expected = Quaternion.slerp(Quaternion(poses.quats_wxyz[1]), Quaternion(poses.quats_wxyz[2]), 0.25)
    np.testing.assert_allclose(pose.rotation, expected.rotation_matrix, atol=1e-14)


def test_fractional_microseconds() -> None:
    poses = track()
    np.testing.assert_allclose(poses.at(1_000_000.5).translation, [5e-6, 1e-5, 2.5e-6], rtol=1e-9)


def test_time_range_error_is_clear() -> None:
    poses = track()
    with pytest.raises(TimeRangeError, match=r"999999 us, outside the covered range \[1000000, 1300000\] us"):
        poses.at(999_999)
    with pytest.raises(TimeRangeError, match="1300001"):
        poses.at(1_300_001)
    assert issubclass(TimeRangeError, ValueError)
    assert poses.covers(1_300_000)
    assert not poses.covers(1_300_001)
    assert (poses.start_us, poses.end_us) == (1_000_000, 1_300_000)


def test_from_unsorted_sorts_and_keeps_first_duplicate() -> None:
    t = np.array([300, 100, 200, 100, 300])
    translations = np.array([[3.0, 0, 0], [1.0, 0, 0], [2.0, 0, 0], [9.0, 0, 0], [8.0, 0, 0]])
    quats = np.tile([1.0, 0, 0, 0], (5, 1))
    poses = PoseTrack.from_unsorted(t, translations, quats)
    np.testing.assert_array_equal(poses.timestamps_us, [100, 200, 300])
    np.testing.assert_array_equal(poses.translations_m[:, 0], [1.0, 2.0, 3.0])


def test_validation() -> None:
    q = np.tile([1.0, 0, 0, 0], (2, 1))
    with pytest.raises(ValueError, match="strictly increasing"):
        PoseTrack(np.array([200, 100]), np.zeros((2, 3)), q)
    with pytest.raises(ValueError, match="strictly increasing"):
        PoseTrack(np.array([100, 100]), np.zeros((2, 3)), q)
    with pytest.raises(ValueError, match="at least one"):
        PoseTrack(np.zeros(0), np.zeros((0, 3)), np.zeros((0, 4)))
    with pytest.raises(ShapeError, match="translations_m"):
        PoseTrack(np.array([1, 2]), np.zeros((3, 3)), q)
    with pytest.raises(ShapeError, match="quats_wxyz"):
        PoseTrack(np.array([1, 2]), np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="unit norm"):
        PoseTrack(np.array([1, 2]), np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="finite"):
        PoseTrack(np.array([1, 2]), np.array([[0, 0, 0], [np.nan, 0, 0]]), q)


def test_quaternions_are_normalised() -> None:
    poses = PoseTrack(np.array([0]), np.zeros((1, 3)), np.array([[1.0004, 0, 0, 0]]))
    np.testing.assert_allclose(np.linalg.norm(poses.quats_wxyz, axis=1), 1.0, atol=1e-15)


def test_single_pose() -> None:
    poses = PoseTrack(np.array([5]), np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 0, 0, 0]]))
    np.testing.assert_array_equal(poses.at(5).translation, [1.0, 2.0, 3.0])
    with pytest.raises(TimeRangeError):
        poses.at(6)
    assert np.isnan(poses.velocity_at(5)).all()


class TestVelocity:
    def test_constant_velocity(self) -> None:
        t = np.arange(0, 1_000_001, 100_000)
        translations = np.column_stack([12.0 * t * 1e-6, -3.0 * t * 1e-6, np.zeros(t.size)])
        poses = PoseTrack(t, translations, np.tile([1.0, 0, 0, 0], (t.size, 1)))
        for ts in (0, 50_000, 500_000, 999_999, 1_000_000):
            np.testing.assert_allclose(poses.velocity_at(ts), [12.0, -3.0, 0.0], atol=1e-9)

    def test_segment_and_one_sided_ends(self) -> None:
        poses = track()
        np.testing.assert_allclose(poses.velocity_at(1_000_000), [10.0, 20.0, 5.0], atol=1e-9)
        np.testing.assert_allclose(poses.velocity_at(1_050_000), [10.0, 20.0, 5.0], atol=1e-9)
        np.testing.assert_allclose(poses.velocity_at(1_200_000), [20.0, 0.0, 0.0], atol=1e-9)
        # At the last pose: the last segment (one-sided).
        np.testing.assert_allclose(poses.velocity_at(1_300_000), [20.0, 0.0, 0.0], atol=1e-9)

    def test_out_of_range(self) -> None:
        with pytest.raises(TimeRangeError, match="velocity"):
            track().velocity_at(0)


def test_same_time_poses_sorts_pairs_and_names_the_first_conflict():
    from fusioncheck.scene.poses import same_time_poses

    t = np.array([30, 10, 30, 20], dtype=np.int64)
    xyz = np.zeros((4, 3))
    q = np.tile([1.0, 0.0, 0.0, 0.0], (4, 1))
    order, same, conflict = same_time_poses(t, xyz, q)
    assert order.tolist() == [1, 3, 0, 2] and same.tolist() == [2] and conflict is None
    xyz[2, 0] = 0.01  # 1 cm apart at one timestamp: beyond the 1 mm tolerance
    _, _, conflict = same_time_poses(t, xyz, q)
    assert conflict is not None and (conflict.first, conflict.second, conflict.timestamp_us) == (0, 2, 30)
    assert conflict.describe() == "differ by 0.0100 m and 0.0000 deg"

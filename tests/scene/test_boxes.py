"""Box annotations, their array form, and tracks: nuScenes velocity rule and state interpolation."""

from __future__ import annotations

import numpy as np
import pytest
from pyquaternion import Quaternion

from fusioncheck.errors import ShapeError, TimeRangeError
from fusioncheck.geometry import quaternion
from fusioncheck.scene.boxes import (
    MAX_VELOCITY_GAP_S,
    BoxAnnotation,
    BoxArrays,
    BoxTrack,
    boxes_to_arrays,
)


def box(
    t_us: int,
    center: list[float],
    yaw: float = 0.0,
    size: tuple[float, float, float] = (4.0, 2.0, 1.5),
    instance: str = "car-1",
) -> BoxAnnotation:
    return BoxAnnotation(
        token=f"ann-{t_us}",
        instance=instance,
        category="vehicle.car",
        keyframe_token=f"kf-{t_us}",
        timestamp_us=t_us,
        center_m=np.array(center, dtype=float),
        size_m=np.array(size),
        quat_wxyz=quaternion.from_yaw(yaw),
    )


def track_of(times_s: list[float], xs: list[float]) -> BoxTrack:
    boxes = tuple(box(round(t * 1e6), [x, 0.0, 0.0]) for t, x in zip(times_s, xs, strict=True))
    return BoxTrack("car-1", "vehicle.car", boxes)


def devkit_box_velocity(times_s: list[float], xs: list[float], i: int, max_time_diff: float = 1.5) -> float:
    """The nuScenes devkit's ``NuScenes.box_velocity`` (x component), re-typed from its published code."""
    has_prev, has_next = i > 0, i < len(times_s) - 1
    if not has_prev and not has_next:
        return float("nan")
    first = i - 1 if has_prev else i
    last = i + 1 if has_next else i
    time_diff = times_s[last] - times_s[first]
    if has_prev and has_next:
        max_time_diff *= 2
    if time_diff > max_time_diff:
        return float("nan")
    return (xs[last] - xs[first]) / time_diff


class TestBoxAnnotation:
    def test_fields_converted_and_checked(self) -> None:
        b = BoxAnnotation("a", "i", "vehicle.car", "k", 10, [1, 2, 3], [4, 2, 1.5], [1, 0, 0, 0])
        assert b.center_m.dtype == np.float64
        assert b.yaw_rad == 0.0
        with pytest.raises(ShapeError, match="size_m"):
            BoxAnnotation("a", "i", "c", "k", 10, [1, 2, 3], [4, 2], [1, 0, 0, 0])
        with pytest.raises(ShapeError, match="quat_wxyz"):
            BoxAnnotation("a", "i", "c", "k", 10, [1, 2, 3], [4, 2, 1], [1, 0, 0])

    def test_yaw(self) -> None:
        assert box(0, [0, 0, 0], yaw=-2.0).yaw_rad == pytest.approx(-2.0, abs=1e-14)
        q = Quaternion(axis=[0, 0, 1], angle=0.7) * Quaternion(axis=[0, 1, 0], angle=0.1)
        b = BoxAnnotation("a", "i", "c", "k", 0, [0, 0, 0], [1, 1, 1], q.elements)
        assert b.yaw_rad == pytest.approx(0.7, abs=1e-12)


class TestBoxArrays:
    def test_stacking(self) -> None:
        arrays = boxes_to_arrays([box(0, [1, 2, 3], yaw=0.5), box(0, [4, 5, 6], size=(1, 1, 2))])
        assert len(arrays) == 2
        np.testing.assert_array_equal(arrays.centers_m, [[1, 2, 3], [4, 5, 6]])
        np.testing.assert_array_equal(arrays.sizes_m, [[4, 2, 1.5], [1, 1, 2]])
        np.testing.assert_allclose(arrays.rotations[0] @ [1, 0, 0], [np.cos(0.5), np.sin(0.5), 0], atol=1e-15)

    def test_empty(self) -> None:
        arrays = boxes_to_arrays([])
        assert len(arrays) == 0
        assert arrays.rotations.shape == (0, 3, 3)

    def test_shape_checks(self) -> None:
        with pytest.raises(ShapeError, match="centers_m"):
            BoxArrays(np.zeros((2, 2)), np.zeros((2, 3)), np.zeros((2, 3, 3)))
        with pytest.raises(ShapeError, match="sizes_m"):
            BoxArrays(np.zeros((2, 3)), np.zeros((3, 3)), np.zeros((2, 3, 3)))
        with pytest.raises(ShapeError, match="rotations"):
            BoxArrays(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 3)))


class TestTrackVelocity:
    @pytest.mark.parametrize(
        ("times_s", "xs"),
        [
            ([0.0, 0.5, 1.0, 1.5], [0.0, 1.0, 3.0, 6.0]),  # central inside, one-sided at both ends
            ([0.0, 0.5, 2.5], [0.0, 1.0, 5.0]),  # a 2 s gap: central still allowed (<= 3 s), end one is NaN
            ([0.0, 0.5, 3.6], [0.0, 1.0, 5.0]),  # central over 3.6 s: NaN
            ([0.0, 1.5], [0.0, 3.0]),  # exactly at the bound: kept
            ([0.0, 1.6], [0.0, 3.0]),  # over it: NaN for both
            ([2.0], [7.0]),  # a single box: unknown
        ],
    )
    def test_matches_devkit_rule(self, times_s: list[float], xs: list[float]) -> None:
        tr = track_of(times_s, xs)
        expected = [devkit_box_velocity(times_s, xs, i) for i in range(len(xs))]
        np.testing.assert_allclose(tr.velocities_mps[:, 0], expected, atol=1e-12)
        finite = np.isfinite(expected)
        np.testing.assert_array_equal(tr.velocities_mps[finite, 1:], 0.0)
        assert np.isnan(tr.velocities_mps[~finite]).all()

    def test_hand_values(self) -> None:
        tr = track_of([0.0, 0.5, 1.0, 1.5], [0.0, 1.0, 3.0, 6.0])
        np.testing.assert_allclose(tr.velocities_mps[:, 0], [2.0, 3.0, 5.0, 6.0], atol=1e-12)
        gap = track_of([0.0, 0.5, 2.5], [0.0, 1.0, 5.0])
        np.testing.assert_allclose(gap.velocities_mps[:, 0], [2.0, 2.0, np.nan], atol=1e-12)

    def test_bound_constant(self) -> None:
        assert MAX_VELOCITY_GAP_S == 1.5


class TestTrackState:
    def make(self) -> BoxTrack:
        boxes = (
            box(1_000_000, [0.0, 0.0, 0.0], yaw=0.0, size=(4.0, 2.0, 1.5)),
            box(1_500_000, [5.0, 1.0, 0.0], yaw=1.0, size=(4.4, 2.0, 1.5)),
            box(2_000_000, [10.0, 1.0, 0.2], yaw=1.2, size=(4.4, 2.0, 1.5)),
        )
        return BoxTrack("car-1", "vehicle.car", boxes)

    def test_exact_hit(self) -> None:
        tr = self.make()
        state = tr.state_at(1_500_000)
        np.testing.assert_array_equal(state.center_m, [5.0, 1.0, 0.0])
        assert state.yaw_rad == pytest.approx(1.0, abs=1e-14)
        np.testing.assert_allclose(state.velocity_mps, [10.0, 1.0, 0.2], atol=1e-12)
        np.testing.assert_array_equal(tr.state_at(2_000_000).center_m, [10.0, 1.0, 0.2])

    def test_interpolation(self) -> None:
        tr = self.make()
        state = tr.state_at(1_125_000)  # a quarter into the first interval
        np.testing.assert_allclose(state.center_m, [1.25, 0.25, 0.0], atol=1e-14)
        np.testing.assert_allclose(state.size_m, [4.1, 2.0, 1.5], atol=1e-14)
        assert state.yaw_rad == pytest.approx(0.25, abs=1e-12)
        # Velocities at the boxes are (10, 2, 0) and (10, 1, 0.2); a quarter of the way between them.
        np.testing.assert_allclose(state.velocity_mps, [10.0, 1.75, 0.05], atol=1e-12)
        assert state.timestamp_us == 1_125_000

    def test_orientation_is_slerped(self) -> None:
        q0 = Quaternion(axis=[1, 0, 0], angle=0.3)
        q1 = Quaternion(axis=[0, 1, 1], angle=1.1)
        b0 = BoxAnnotation("a", "i", "c", "k", 0, [0, 0, 0], [1, 1, 1], q0.elements)
        b1 = BoxAnnotation("b", "i", "c", "k", 1000, [0, 0, 0], [1, 1, 1], q1.elements)
        state = BoxTrack("i", "c", (b0, b1)).state_at(300)
        expected = Quaternion.slerp(q0, q1, 0.3).rotation_matrix
        np.testing.assert_allclose(quaternion.to_matrix(state.quat_wxyz), expected, atol=1e-13)

    def test_time_range_error(self) -> None:
        tr = self.make()
        with pytest.raises(
            TimeRangeError, match=r"track car-1: .*999999 us, outside \[1000000, 2000000\] us"
        ):
            tr.state_at(999_999)
        with pytest.raises(TimeRangeError):
            tr.state_at(2_000_001)
        assert tr.covers(1_000_000)
        assert not tr.covers(2_000_001)

    def test_single_box_track(self) -> None:
        tr = BoxTrack("p", "human.pedestrian.adult", (box(5, [1, 2, 3], instance="p"),))
        assert len(tr) == 1
        state = tr.state_at(5)
        np.testing.assert_array_equal(state.center_m, [1, 2, 3])
        assert np.isnan(state.velocity_mps).all()

    def test_arrays(self) -> None:
        tr = self.make()
        np.testing.assert_array_equal(tr.timestamps_us, [1_000_000, 1_500_000, 2_000_000])
        assert tr.timestamps_us.dtype == np.int64
        assert tr.centers_m.shape == (3, 3)

    def test_validation(self) -> None:
        with pytest.raises(ValueError, match="no boxes"):
            BoxTrack("x", "c", ())
        with pytest.raises(ValueError, match="strictly increasing"):
            BoxTrack("x", "c", (box(10, [0, 0, 0]), box(10, [1, 0, 0])))
        with pytest.raises(ValueError, match="strictly increasing"):
            BoxTrack("x", "c", (box(20, [0, 0, 0]), box(10, [1, 0, 0])))

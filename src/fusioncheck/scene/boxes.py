"""3D box annotations, their array form for kernels, and tracks with state interpolation."""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field

import numpy as np

from fusioncheck.errors import TimeRangeError, check_shape
from fusioncheck.geometry import quaternion
from fusioncheck.typing import FloatArray, IntArray

#: Largest gap between two annotations of a track across which velocity is still differenced (seconds);
#: the nuScenes devkit uses the same bound in ``box_velocity``.
MAX_VELOCITY_GAP_S = 1.5


@dataclass(frozen=True, eq=False)
class BoxAnnotation:
    """One labelled 3D box at one keyframe.

    Attributes:
        token: the source's record id (nuScenes ``sample_annotation`` token).
        instance: the object's track id (nuScenes ``instance`` token).
        category: class name as in the source (e.g. ``vehicle.car``).
        keyframe_token: the keyframe (nuScenes ``sample``) the box belongs to.
        timestamp_us: the time the box refers to (its keyframe's timestamp), microseconds.
        center_m: ``(3,)`` float64 box centre, metres, global frame.
        size_m: ``(3,)`` float64 ``(length, width, height)`` along the box's own x, y, z, metres.
        quat_wxyz: ``(4,)`` float64 unit quaternion, box axes in the global frame.
        attributes: attribute names (e.g. ``vehicle.parked``).
        num_lidar_pts: LiDAR points in the box as counted by the source, if given.
        num_radar_pts: radar points in the box as counted by the source, if given.
        visibility: the source's visibility level, if given.
    """

    token: str
    instance: str
    category: str
    keyframe_token: str
    timestamp_us: int
    center_m: FloatArray
    size_m: FloatArray
    quat_wxyz: FloatArray
    attributes: tuple[str, ...] = ()
    num_lidar_pts: int | None = None
    num_radar_pts: int | None = None
    visibility: str | None = None

    def __post_init__(self) -> None:
        for name, n in (("center_m", 3), ("size_m", 3), ("quat_wxyz", 4)):
            value = np.asarray(getattr(self, name), dtype=np.float64).reshape(-1)
            check_shape(name, value, (n,))
            object.__setattr__(self, name, value)

    @property
    def yaw_rad(self) -> float:
        """Heading about the global z axis, radians."""
        return float(quaternion.yaw_of(self.quat_wxyz))


@dataclass(frozen=True, eq=False)
class BoxArrays:
    """Boxes as arrays for kernels (struct of arrays), all in one frame.

    Attributes:
        centers_m: ``(M, 3)`` float64 box centres, metres.
        sizes_m: ``(M, 3)`` float64 ``(length, width, height)``, metres.
        rotations: ``(M, 3, 3)`` float64, box axes in the frame (columns = box x, y, z).
    """

    centers_m: FloatArray
    sizes_m: FloatArray
    rotations: FloatArray

    def __post_init__(self) -> None:
        m = np.asarray(self.centers_m).shape[0] if np.ndim(self.centers_m) == 2 else -1
        check_shape("centers_m", self.centers_m, (-1, 3))
        check_shape("sizes_m", self.sizes_m, (m, 3))
        check_shape("rotations", self.rotations, (m, 3, 3))

    def __len__(self) -> int:
        return int(self.centers_m.shape[0])


def boxes_to_arrays(boxes: SequenceABC[BoxAnnotation]) -> BoxArrays:
    """Stack annotations (global frame) into :class:`BoxArrays`."""
    if not boxes:
        return BoxArrays(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3, 3)))
    centers = np.stack([b.center_m for b in boxes])
    sizes = np.stack([b.size_m for b in boxes])
    rotations = quaternion.to_matrix(np.stack([b.quat_wxyz for b in boxes]))
    return BoxArrays(centers, sizes, rotations)


@dataclass(frozen=True, eq=False)
class BoxState:
    """State of a tracked object at one time, global frame.

    Attributes:
        timestamp_us: the time, microseconds.
        center_m: ``(3,)`` float64 centre, metres.
        size_m: ``(3,)`` float64 ``(length, width, height)``, metres.
        quat_wxyz: ``(4,)`` float64 orientation.
        velocity_mps: ``(3,)`` float64 velocity, m/s; NaN when the track has a single box.
    """

    timestamp_us: float
    center_m: FloatArray
    size_m: FloatArray
    quat_wxyz: FloatArray
    velocity_mps: FloatArray

    @property
    def yaw_rad(self) -> float:
        """Heading about the global z axis, radians."""
        return float(quaternion.yaw_of(self.quat_wxyz))


@dataclass(frozen=True, eq=False)
class BoxTrack:
    """All boxes of one object instance, ordered by time, with interpolation between them.

    Attributes:
        instance: the track id.
        category: class name (of the first box).
        boxes: the annotations, strictly increasing in time.
        timestamps_us: ``(K,)`` int64 their timestamps.
        centers_m: ``(K, 3)`` float64 centres, global frame.
        velocities_mps: ``(K, 3)`` float64 velocity at each box, from the neighbouring boxes (central
            difference inside the track, one-sided at its ends, NaN across gaps > ``MAX_VELOCITY_GAP_S``
            and for single-box tracks) — the nuScenes devkit's ``box_velocity`` rule.
    """

    instance: str
    category: str
    boxes: tuple[BoxAnnotation, ...]
    timestamps_us: IntArray = field(init=False)
    centers_m: FloatArray = field(init=False)
    velocities_mps: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        if not self.boxes:
            raise ValueError(f"track {self.instance}: no boxes")
        t = np.array([b.timestamp_us for b in self.boxes], dtype=np.int64)
        if np.any(np.diff(t) <= 0):
            raise ValueError(f"track {self.instance}: boxes must be strictly increasing in time")
        centers = np.stack([b.center_m for b in self.boxes])
        object.__setattr__(self, "timestamps_us", t)
        object.__setattr__(self, "centers_m", centers)
        object.__setattr__(self, "velocities_mps", _track_velocities(t, centers))

    def __len__(self) -> int:
        return len(self.boxes)

    def covers(self, timestamp_us: float) -> bool:
        """Tell whether ``timestamp_us`` lies between the first and last box (inclusive)."""
        return bool(self.timestamps_us[0] <= timestamp_us <= self.timestamps_us[-1])

    def state_at(self, timestamp_us: float) -> BoxState:
        """Interpolated state: linear centre and size, slerped orientation, interpolated velocity.

        Raises:
            TimeRangeError: outside the track's time range.
        """
        if not self.covers(timestamp_us):
            raise TimeRangeError(
                f"track {self.instance}: state requested at {timestamp_us:.0f} us, outside "
                f"[{self.timestamps_us[0]}, {self.timestamps_us[-1]}] us"
            )
        k = self.timestamps_us.size
        i = int(np.searchsorted(self.timestamps_us, timestamp_us, side="right")) - 1
        if i >= k - 1 or self.timestamps_us[i] == timestamp_us:
            i = min(i, k - 1)
            b = self.boxes[i]
            return BoxState(timestamp_us, b.center_m, b.size_m, b.quat_wxyz, self.velocities_mps[i])
        b0, b1 = self.boxes[i], self.boxes[i + 1]
        t0, t1 = self.timestamps_us[i], self.timestamps_us[i + 1]
        f = float(timestamp_us - t0) / float(t1 - t0)
        center = (1 - f) * b0.center_m + f * b1.center_m
        size = (1 - f) * b0.size_m + f * b1.size_m
        quat = quaternion.slerp(b0.quat_wxyz, b1.quat_wxyz, f)
        velocity = (1 - f) * self.velocities_mps[i] + f * self.velocities_mps[i + 1]
        return BoxState(timestamp_us, center, size, quat, velocity)


def _track_velocities(timestamps_us: IntArray, centers_m: FloatArray) -> FloatArray:
    """Velocity ``(K, 3)`` at each box from its neighbours (see :class:`BoxTrack`)."""
    k = timestamps_us.size
    out = np.full((k, 3), np.nan)
    if k < 2:
        return out
    t_s = timestamps_us.astype(np.float64) * 1e-6
    for i in range(k):
        lo, hi = max(i - 1, 0), min(i + 1, k - 1)
        dt = t_s[hi] - t_s[lo]
        # Central difference spans two intervals; the devkit doubles its gap bound for that case.
        bound = MAX_VELOCITY_GAP_S * (2.0 if 0 < i < k - 1 else 1.0)
        if 0 < dt <= bound:
            out[i] = (centers_m[hi] - centers_m[lo]) / dt
    return out

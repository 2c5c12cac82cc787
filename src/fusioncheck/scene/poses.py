"""Ego poses over time, interpolated at any timestamp."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.errors import TimeRangeError, check_shape
from fusioncheck.geometry import quaternion
from fusioncheck.geometry.se3 import SE3
from fusioncheck.typing import FloatArray, IntArray


@dataclass(frozen=True, eq=False)
class PoseTrack:
    """Poses ``global_from_ego`` sampled at increasing timestamps.

    Attributes:
        timestamps_us: ``(N,)`` int64, microseconds, strictly increasing.
        translations_m: ``(N, 3)`` float64, ego origin in the global frame.
        quats_wxyz: ``(N, 4)`` float64 unit quaternions, ego axes in the global frame.
    """

    timestamps_us: IntArray
    translations_m: FloatArray
    quats_wxyz: FloatArray

    def __post_init__(self) -> None:
        t = np.asarray(self.timestamps_us, dtype=np.int64).reshape(-1)
        tr = np.asarray(self.translations_m, dtype=np.float64)
        q = np.asarray(self.quats_wxyz, dtype=np.float64)
        check_shape("translations_m", tr, (t.size, 3))
        check_shape("quats_wxyz", q, (t.size, 4))
        if t.size == 0:
            raise ValueError("a pose track needs at least one pose")
        if np.any(np.diff(t) <= 0):
            raise ValueError("pose timestamps must be strictly increasing")
        if not np.all(np.isfinite(tr)):
            raise ValueError("pose translations must be finite")
        if not quaternion.is_unit(q):
            raise ValueError("pose quaternions must be finite and of unit norm (w, x, y, z)")
        object.__setattr__(self, "timestamps_us", t)
        object.__setattr__(self, "translations_m", tr)
        object.__setattr__(self, "quats_wxyz", quaternion.normalize(q))

    @staticmethod
    def from_unsorted(
        timestamps_us: IntArray, translations_m: FloatArray, quats_wxyz: FloatArray
    ) -> PoseTrack:
        """Build a track from poses in any order; of poses sharing a timestamp the first is kept."""
        t = np.asarray(timestamps_us, dtype=np.int64).reshape(-1)
        order = np.argsort(t, kind="stable")
        t_sorted = t[order]
        keep = np.ones(t_sorted.size, dtype=bool)
        keep[1:] = np.diff(t_sorted) > 0
        idx = order[keep]
        return PoseTrack(t[idx], np.asarray(translations_m)[idx], np.asarray(quats_wxyz)[idx])

    @property
    def start_us(self) -> int:
        """First covered timestamp, microseconds."""
        return int(self.timestamps_us[0])

    @property
    def end_us(self) -> int:
        """Last covered timestamp, microseconds."""
        return int(self.timestamps_us[-1])

    def covers(self, timestamp_us: float) -> bool:
        """Tell whether ``timestamp_us`` lies within the covered time range (inclusive)."""
        return self.start_us <= timestamp_us <= self.end_us

    def at(self, timestamp_us: float) -> SE3:
        """``global_from_ego`` at ``timestamp_us``: slerp of rotation, linear translation.

        Raises:
            TimeRangeError: when ``timestamp_us`` lies outside ``[start_us, end_us]``.
        """
        if not self.covers(timestamp_us):
            raise TimeRangeError(
                f"ego pose requested at {timestamp_us:.0f} us, outside the covered range "
                f"[{self.start_us}, {self.end_us}] us"
            )
        i = int(np.searchsorted(self.timestamps_us, timestamp_us, side="right")) - 1
        if i >= self.timestamps_us.size - 1 or self.timestamps_us[i] == timestamp_us:
            i = min(i, self.timestamps_us.size - 1)
            return SE3.from_quat(self.quats_wxyz[i], self.translations_m[i])
        t0, t1 = self.timestamps_us[i], self.timestamps_us[i + 1]
        f = float(timestamp_us - t0) / float(t1 - t0)
        q = quaternion.slerp(self.quats_wxyz[i], self.quats_wxyz[i + 1], f)
        tr = (1.0 - f) * self.translations_m[i] + f * self.translations_m[i + 1]
        return SE3.from_quat(q, tr)

    def velocity_at(self, timestamp_us: float) -> FloatArray:
        """Ego velocity ``(3,)`` in m/s, global frame, from the bracketing poses (one-sided at the ends).

        NaN for a track of a single pose: its velocity is unknown, not zero.

        Raises:
            TimeRangeError: when ``timestamp_us`` lies outside ``[start_us, end_us]``.
        """
        if not self.covers(timestamp_us):
            raise TimeRangeError(
                f"ego velocity requested at {timestamp_us:.0f} us, "
                f"outside [{self.start_us}, {self.end_us}] us"
            )
        n = self.timestamps_us.size
        if n < 2:
            return np.full(3, np.nan)
        i = int(np.clip(np.searchsorted(self.timestamps_us, timestamp_us, side="right") - 1, 0, n - 2))
        dt_s = (self.timestamps_us[i + 1] - self.timestamps_us[i]) * 1e-6
        return np.asarray((self.translations_m[i + 1] - self.translations_m[i]) / dt_s)


#: Two ego poses stamped in the same microsecond may differ by at most this much (metres, radians):
#: several sensors stamped alike reference one pose, and a track keeps only one of them.
SAME_TIME_POSE_TOLERANCE_M = 1e-3
SAME_TIME_POSE_TOLERANCE_RAD = 1e-5


@dataclass(frozen=True)
class SameTimePoseConflict:
    """Two poses with one timestamp that disagree: indices into the input arrays and how much."""

    first: int
    second: int
    timestamp_us: int
    shift_m: float
    angle_rad: float

    def describe(self) -> str:
        """E.g. ``differ by 0.0120 m and 0.0003 deg``."""
        return f"differ by {self.shift_m:.4f} m and {np.degrees(self.angle_rad):.4f} deg"


def same_time_poses(
    timestamps_us: IntArray, translations: FloatArray, quats_wxyz: FloatArray
) -> tuple[IntArray, IntArray, SameTimePoseConflict | None]:
    """Sort poses by time and compare those that share a timestamp.

    Args:
        timestamps_us: ``(N,)`` microseconds.
        translations: ``(N, 3)`` metres.
        quats_wxyz: ``(N, 4)`` unit quaternions, scalar first.

    Returns:
        ``order`` (stable argsort of the timestamps), ``same`` (positions ``k`` in ``order`` where
        ``order[k]`` and ``order[k + 1]`` share a timestamp) and the first such pair that differs by more
        than :data:`SAME_TIME_POSE_TOLERANCE_M` / ``_RAD`` (``None`` when all agree).
    """
    timestamps = np.asarray(timestamps_us, dtype=np.int64)
    order = np.argsort(timestamps, kind="stable")
    same = np.flatnonzero(np.diff(timestamps[order]) == 0)
    if not same.size:
        return order, same, None
    a, b = order[same], order[same + 1]
    shift_m = np.linalg.norm(translations[a] - translations[b], axis=1)
    angle_rad = quaternion.angle_between(quats_wxyz[a], quats_wxyz[b])
    bad = np.flatnonzero((shift_m > SAME_TIME_POSE_TOLERANCE_M) | (angle_rad > SAME_TIME_POSE_TOLERANCE_RAD))
    if not bad.size:
        return order, same, None
    k = int(bad[0])
    conflict = SameTimePoseConflict(
        int(a[k]), int(b[k]), int(timestamps[a[k]]), float(shift_m[k]), float(angle_rad[k])
    )
    return order, same, conflict

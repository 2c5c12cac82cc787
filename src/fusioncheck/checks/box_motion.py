"""Where the labelled boxes are at any instant: track states interpolated (or briefly extrapolated) in time.

A radar scan or a LiDAR sweep is rarely taken at a keyframe's time. To compare it with the labels, every
track is moved to the capture's timestamp: between two of its boxes by linear interpolation of centre,
size, heading (the shorter way round) and velocity; beyond its first or last box by at most
``max_extrapolation_s`` along the track's end velocity. Velocities come from the track (central
differences of box centres, the nuScenes devkit's rule; see :class:`~fusioncheck.scene.boxes.BoxTrack`);
where the track cannot tell (single box, long gap) the box counts as static and ``velocity_known`` is
False. Orientation is reduced to the heading about the global z axis: association works on the ground
plane.

:class:`TrackTable` holds every track of a sequence as flat arrays, so moving all of them to a new
instant is a handful of vectorised operations (one ``searchsorted``), not a loop over tracks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.scene.boxes import BoxArrays, BoxTrack
from fusioncheck.typing import FloatArray

#: Track index stride of the composite (track, time) sort key, microseconds (about 12.7 days).
_KEY_STRIDE_US = 1 << 40


@dataclass(frozen=True)
class BoxesAt:
    """The labelled boxes at one instant, global frame.

    Attributes:
        timestamp_us: the instant, microseconds.
        instances: ``(M,)`` track id of each box.
        boxes: ``M`` boxes (centres and sizes in metres, rotations about z), global frame.
        velocities_mps: ``(M, 3)`` track velocity, m/s, global frame (0 where the track cannot tell).
        velocity_known: ``(M,)`` bool, False for single-box tracks and gaps too long to difference.
    """

    timestamp_us: int
    instances: tuple[str, ...]
    boxes: BoxArrays
    velocities_mps: FloatArray
    velocity_known: np.ndarray

    def __len__(self) -> int:
        return len(self.instances)


class TrackTable:
    """Every track of a sequence as flat arrays, for moving all boxes to any instant at once."""

    def __init__(self, tracks: dict[str, BoxTrack]) -> None:
        self.instances = tuple(tracks)
        items = list(tracks.values())
        lengths = np.array([len(t) for t in items], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        n = int(self.offsets[-1])
        self.timestamps_us = (
            np.concatenate([t.timestamps_us for t in items]) if items else np.zeros(0, np.int64)
        )
        self.centers_m = np.concatenate([t.centers_m for t in items]) if items else np.zeros((0, 3))
        self.sizes_m = np.stack([b.size_m for t in items for b in t.boxes]) if n else np.zeros((0, 3))
        self.yaws_rad = np.array([b.yaw_rad for t in items for b in t.boxes], dtype=np.float64)
        self.velocities_mps = np.concatenate([t.velocities_mps for t in items]) if items else np.zeros((0, 3))
        track_of_box = np.repeat(np.arange(len(items), dtype=np.int64), lengths)
        self._t0 = int(self.timestamps_us.min()) if n else 0
        self._keys = track_of_box * _KEY_STRIDE_US + (self.timestamps_us - self._t0)

    def at(self, timestamp_us: int, max_extrapolation_s: float = 0.3) -> BoxesAt:
        """Move every track existing at ``timestamp_us`` (or ``max_extrapolation_s`` from it) there."""
        n_tracks = len(self.instances)
        if n_tracks == 0:
            return _empty(timestamp_us)
        first, last = self.offsets[:-1], self.offsets[1:] - 1
        t = int(timestamp_us)
        limit_us = max_extrapolation_s * 1e6
        alive = (t >= self.timestamps_us[first] - limit_us) & (t <= self.timestamps_us[last] + limit_us)
        query = np.arange(n_tracks, dtype=np.int64) * _KEY_STRIDE_US + (t - self._t0)
        i0 = np.clip(np.searchsorted(self._keys, query, side="right") - 1, first, last)
        i1 = np.minimum(i0 + 1, last)
        t0, t1 = self.timestamps_us[i0], self.timestamps_us[i1]
        inside = (t >= t0) & (t <= t1) & (i1 > i0)
        f = np.where(inside, (t - t0) / np.maximum(t1 - t0, 1), 0.0)
        # Before the first box: extrapolate from it; after the last (or at it): from the last.
        before = t < self.timestamps_us[first]
        anchor = np.where(before, first, i0)
        v0, v1 = self.velocities_mps[i0], self.velocities_mps[i1]
        v_anchor = self.velocities_mps[anchor]
        velocity = np.where(inside[:, None], (1 - f)[:, None] * v0 + f[:, None] * v1, v_anchor)
        known = np.all(np.isfinite(velocity), axis=1)
        velocity = np.where(known[:, None], velocity, 0.0)
        dt_s = np.where(inside, 0.0, 1e-6 * (t - self.timestamps_us[anchor]))
        center = np.where(
            inside[:, None],
            (1 - f)[:, None] * self.centers_m[i0] + f[:, None] * self.centers_m[i1],
            self.centers_m[anchor] + velocity * dt_s[:, None],
        )
        size = np.where(
            inside[:, None],
            (1 - f)[:, None] * self.sizes_m[i0] + f[:, None] * self.sizes_m[i1],
            self.sizes_m[anchor],
        )
        turn = np.angle(np.exp(1j * (self.yaws_rad[i1] - self.yaws_rad[i0])))
        yaw = np.where(inside, self.yaws_rad[i0] + f * turn, self.yaws_rad[anchor])
        rows = np.flatnonzero(alive)
        c, s = np.cos(yaw[rows]), np.sin(yaw[rows])
        rot = np.zeros((rows.size, 3, 3))
        rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1], rot[:, 2, 2] = c, -s, s, c, 1.0
        return BoxesAt(
            t,
            tuple(self.instances[i] for i in rows.tolist()),
            BoxArrays(center[rows], size[rows], rot),
            velocity[rows],
            known[rows],
        )


def boxes_at(tracks: dict[str, BoxTrack], timestamp_us: int, max_extrapolation_s: float = 0.3) -> BoxesAt:
    """Every track existing at ``timestamp_us`` (or ``max_extrapolation_s`` from it), moved there.

    Builds a :class:`TrackTable` each call; build one table and call :meth:`TrackTable.at` for many instants.
    """
    return TrackTable(tracks).at(timestamp_us, max_extrapolation_s)


def _empty(timestamp_us: int) -> BoxesAt:
    empty = BoxArrays(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3, 3)))
    return BoxesAt(int(timestamp_us), (), empty, np.zeros((0, 3)), np.zeros(0, dtype=bool))

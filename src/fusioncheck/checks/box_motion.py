"""Where the labelled boxes are at any instant: track states interpolated (or briefly extrapolated) in time.

A radar scan or a LiDAR sweep is rarely taken at a keyframe's time. To compare it with the labels, every
track is moved to the capture's timestamp: between two of its boxes by linear interpolation of the centre
(slerp of the orientation), beyond its first or last box by at most ``max_extrapolation_s`` along the
track's end velocity. Velocities come from the track (central differences of box centres, the nuScenes
devkit's rule; see :class:`~fusioncheck.scene.boxes.BoxTrack`); a single-box track counts as static.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.geometry import quaternion
from fusioncheck.scene.boxes import BoxArrays, BoxTrack
from fusioncheck.typing import FloatArray


@dataclass(frozen=True)
class BoxesAt:
    """The labelled boxes at one instant, global frame.

    Attributes:
        timestamp_us: the instant, microseconds.
        instances: ``(M,)`` track id of each box.
        boxes: ``M`` boxes (centres and sizes in metres, rotations), global frame.
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


def boxes_at(tracks: dict[str, BoxTrack], timestamp_us: int, max_extrapolation_s: float = 0.3) -> BoxesAt:
    """Every track existing at ``timestamp_us`` (or ``max_extrapolation_s`` from it), moved there."""
    instances: list[str] = []
    centers, sizes, quats, velocities, known = [], [], [], [], []
    limit_us = max_extrapolation_s * 1e6
    for instance, track in tracks.items():
        t = track.timestamps_us
        if timestamp_us < t[0] - limit_us or timestamp_us > t[-1] + limit_us:
            continue
        if track.covers(timestamp_us):
            state = track.state_at(timestamp_us)
            center, size, quat, v = state.center_m, state.size_m, state.quat_wxyz, state.velocity_mps
        else:
            end = 0 if timestamp_us < t[0] else len(track) - 1
            box = track.boxes[end]
            v = track.velocities_mps[end]
            dt = 1e-6 * (timestamp_us - t[end])
            step = np.where(np.isfinite(v), v, 0.0) * dt
            center, size, quat = box.center_m + step, box.size_m, box.quat_wxyz
        ok = bool(np.all(np.isfinite(v)))
        instances.append(instance)
        centers.append(center)
        sizes.append(size)
        quats.append(quat)
        velocities.append(v if ok else np.zeros(3))
        known.append(ok)
    if not instances:
        empty = BoxArrays(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3, 3)))
        return BoxesAt(timestamp_us, (), empty, np.zeros((0, 3)), np.zeros(0, dtype=bool))
    arrays = BoxArrays(np.stack(centers), np.stack(sizes), quaternion.to_matrix(np.stack(quats)))
    return BoxesAt(timestamp_us, tuple(instances), arrays, np.stack(velocities), np.array(known, dtype=bool))

"""All object tracks of a sequence as padded arrays: states of every track at one time, vectorised.

The same interpolation as :meth:`fusioncheck.scene.boxes.BoxTrack.state_at` (linear centre, size and
velocity between the bracketing boxes), with the heading interpolated as an unwrapped yaw instead of a
slerp: the sync estimators only need the box's rotation about the vertical (radar is 2D; camera motion
of a box's points needs only its velocity), and per-call slerps over every track of every radar scan
dominated the run time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.geometry import quaternion
from fusioncheck.scene.boxes import BoxTrack
from fusioncheck.typing import BoolArray, FloatArray


@dataclass(frozen=True)
class TrackStates:
    """States of the live tracks at one time (``M`` = live tracks), global frame.

    Attributes:
        index: ``(M,)`` indices into :attr:`TrackTable.instances`.
        centers_m: ``(M, 3)``.
        sizes_m: ``(M, 3)`` (length, width, height).
        yaw_rad: ``(M,)`` heading about the global z axis.
        velocities_mps: ``(M, 3)`` (NaN when unknown).
    """

    index: np.ndarray
    centers_m: FloatArray
    sizes_m: FloatArray
    yaw_rad: FloatArray
    velocities_mps: FloatArray

    def rotations(self) -> FloatArray:
        """``(M, 3, 3)`` yaw rotations (box axes in the global frame)."""
        c, s = np.cos(self.yaw_rad), np.sin(self.yaw_rad)
        out = np.zeros((self.yaw_rad.size, 3, 3))
        out[:, 0, 0], out[:, 0, 1], out[:, 1, 0], out[:, 1, 1], out[:, 2, 2] = c, -s, s, c, 1.0
        return out


class TrackTable:
    """Tracks with at least two boxes, padded to arrays ``(T, K)`` (``K`` = most boxes in a track)."""

    def __init__(self, tracks: list[BoxTrack]) -> None:
        self.instances = [t.instance for t in tracks]
        k = max((len(t) for t in tracks), default=0)
        m = len(tracks)
        self._t = np.full((m, max(k, 1)), np.inf)
        self._c = np.zeros((m, max(k, 1), 3))
        self._s = np.zeros((m, max(k, 1), 3))
        self._y = np.zeros((m, max(k, 1)))
        self._v = np.full((m, max(k, 1), 3), np.nan)
        self._n = np.array([len(t) for t in tracks], dtype=np.int64)
        for i, t in enumerate(tracks):
            n = len(t)
            self._t[i, :n] = t.timestamps_us
            self._c[i, :n] = t.centers_m
            self._s[i, :n] = np.stack([b.size_m for b in t.boxes])
            self._y[i, :n] = np.unwrap(quaternion.yaw_of(np.stack([b.quat_wxyz for b in t.boxes])))
            self._v[i, :n] = t.velocities_mps
        self._first = self._t[:, 0] if m else np.zeros(0)
        self._last = self._t[np.arange(m), np.maximum(self._n - 1, 0)] if m else np.zeros(0)

    def __len__(self) -> int:
        return len(self.instances)

    def live(self, t_us: float) -> BoolArray:
        """``(T,)`` tracks whose time range covers ``t_us``."""
        return np.asarray((self._n >= 2) & (self._first <= t_us) & (t_us <= self._last))

    def states_at(self, t_us: float) -> TrackStates:
        """Interpolated states of the tracks covering ``t_us``."""
        index = np.flatnonzero(self.live(t_us))
        if index.size == 0:
            z = np.zeros((0, 3))
            return TrackStates(index, z, z, np.zeros(0), z)
        ts = self._t[index]
        i0 = np.minimum(np.sum(ts <= t_us, axis=1) - 1, self._n[index] - 2)
        i0 = np.maximum(i0, 0)
        rows = np.arange(index.size)
        t0, t1 = ts[rows, i0], ts[rows, i0 + 1]
        f = np.clip((t_us - t0) / (t1 - t0), 0.0, 1.0)

        def lerp(a: FloatArray) -> FloatArray:
            a = a[index]
            lo, hi = a[rows, i0], a[rows, i0 + 1]
            w = f.reshape(-1, *([1] * (lo.ndim - 1)))
            return np.asarray((1.0 - w) * lo + w * hi)

        return TrackStates(index, lerp(self._c), lerp(self._s), lerp(self._y), lerp(self._v))

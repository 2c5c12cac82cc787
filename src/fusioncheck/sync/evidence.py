"""Points in moving boxes' frames, gathered per observation, summed per object track for resampling.

An *observation* is one box at one capture (a labelled box against one LiDAR sweep, or an interpolated
track state against one radar scan); it has its own box size and frame. Its points are stored in that
frame at offset 0 with their rate of motion through it per second of offset (see
:mod:`fusioncheck.kernels.box_offset_score`). The curves of an object's observations are summed, since
the object track is the unit the bootstrap resamples (its boxes share the annotator's habits).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fusioncheck.kernels.box_offset_score import offset_curves
from fusioncheck.typing import FloatArray


@dataclass
class BoxEvidence:
    """Points of many observations, to be scored against candidate offsets.

    Attributes:
        tau_m: truncation distance of the point loss, metres.
        use_z: whether the top face counts (False for radar).
        max_points: an observation's points are weighted so that it counts as at most this many points.
    """

    tau_m: float
    use_z: bool = True
    max_points: int = 150
    _local: list[FloatArray] = field(default_factory=list, repr=False)
    _slope: list[FloatArray] = field(default_factory=list, repr=False)
    _half: list[FloatArray] = field(default_factory=list, repr=False)
    _track: list[str] = field(default_factory=list, repr=False)
    _time_us: list[float] = field(default_factory=list, repr=False)
    #: Evidence that could not be read (one message per unreadable file, naming it).
    problems: list[str] = field(default_factory=list)
    #: Speed of the object of each observation, m/s (for the estimators' systematic terms).
    speeds_mps: list[float] = field(default_factory=list)

    def add(
        self, track: str, local_m: FloatArray, slope_mps: FloatArray, half_m: FloatArray, time_us: float
    ) -> None:
        """Add an observation at ``time_us``: points ``(n, 3)`` in its box frame and their slopes."""
        self._time_us.append(float(time_us))
        n = local_m.shape[0]
        self._local.append(np.asarray(local_m, dtype=np.float64))
        self._slope.append(np.broadcast_to(np.asarray(slope_mps, dtype=np.float64), (n, 3)))
        self._half.append(np.asarray(half_m, dtype=np.float64))
        self._track.append(track)

    @property
    def tracks(self) -> list[str]:
        """Distinct tracks, in order of first observation."""
        return list(dict.fromkeys(self._track))

    @property
    def observations(self) -> int:
        """Number of observations."""
        return len(self._track)

    @property
    def times_us(self) -> FloatArray:
        """``(observations,)`` times of the observations, microseconds."""
        return np.asarray(self._time_us, dtype=np.float64)

    def subset(self, keep: np.ndarray) -> BoxEvidence:
        """Return the observations where ``keep`` ``(observations,)`` is True."""
        out = BoxEvidence(self.tau_m, self.use_z, self.max_points)
        for i in np.flatnonzero(keep):
            out._local.append(self._local[i])
            out._slope.append(self._slope[i])
            out._half.append(self._half[i])
            out._track.append(self._track[i])
            out._time_us.append(self._time_us[i])
        return out

    def compile(self) -> _Compiled:
        """Stack everything into arrays for the kernel."""
        tracks = self.tracks
        index = {t: i for i, t in enumerate(tracks)}
        sizes = np.array([a.shape[0] for a in self._local], dtype=np.int64)
        if not self._local:
            empty = np.zeros((0, 3))
            return _Compiled(
                empty, empty, np.zeros(0, np.int64), np.zeros(0), empty, np.zeros(0, np.int64), 0
            )
        group = np.repeat(np.arange(sizes.size, dtype=np.int64), sizes)
        weight = np.repeat(np.minimum(1.0, self.max_points / np.maximum(sizes, 1)), sizes)
        return _Compiled(
            np.concatenate(self._local),
            np.concatenate(self._slope),
            group,
            weight,
            np.stack(self._half),
            np.array([index[t] for t in self._track], dtype=np.int64),
            len(tracks),
        )


@dataclass(frozen=True)
class _Compiled:
    local: FloatArray
    slope: FloatArray
    group: np.ndarray
    weight: FloatArray
    half: FloatArray
    track_of_group: np.ndarray
    n_tracks: int

    def curves(self, offsets_ms: FloatArray, tau_m: float, use_z: bool, depth_m: float = 0.0) -> FloatArray:
        """Per-track curves ``(T, K)`` at candidate offsets ``(K,)`` in ms."""
        per_obs = offset_curves(
            self.local, self.slope, self.group, self.weight, self.half, np.asarray(offsets_ms) * 1e-3,
            tau_m, use_z, depth_m,
        )  # fmt: skip
        out = np.zeros((self.n_tracks, per_obs.shape[1]))
        np.add.at(out, self.track_of_group, per_obs)
        return out

"""Sensor samples (one file each) and their loaded contents."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fusioncheck.errors import check_shape
from fusioncheck.geometry.se3 import SE3
from fusioncheck.scene.sensors import Modality
from fusioncheck.typing import Float32Array, FloatArray


@dataclass(frozen=True, eq=False)
class SensorSample:
    """One capture of one sensor: a LiDAR sweep, a camera image or a radar scan, not yet read.

    Attributes:
        token: the source's record id (nuScenes ``sample_data`` token).
        channel: sensor channel, e.g. ``LIDAR_TOP``.
        modality: lidar, camera or radar.
        timestamp_us: capture time, microseconds (the time the data refers to, per the source).
        path: absolute path of the data file.
        global_from_ego: ego pose recorded for this capture (at ``timestamp_us``).
        is_keyframe: whether the capture belongs to an annotated keyframe.
        keyframe_token: token of the keyframe (nuScenes ``sample``) it belongs to or is attached to.
        width_px: image width for cameras (0 otherwise or when unknown).
        height_px: image height for cameras (0 otherwise or when unknown).
    """

    token: str
    channel: str
    modality: Modality
    timestamp_us: int
    path: Path
    global_from_ego: SE3
    is_keyframe: bool
    keyframe_token: str = ""
    width_px: int = 0
    height_px: int = 0


@dataclass(frozen=True, eq=False)
class LidarSweep:
    """Points of one LiDAR sweep in the sensor frame at the sample's timestamp.

    Attributes:
        sample: the sample it was read from.
        points: ``(N, C)`` float32, row per point; columns ``x, y, z`` (metres, sensor frame) then the
            source's extra fields (nuScenes: intensity, ring index).
        point_times_s: ``(N,)`` float32 seconds relative to ``sample.timestamp_us`` when the source gives
            per-point times, else ``None``.
        column_names: names of the ``C`` columns.
    """

    sample: SensorSample
    points: Float32Array
    point_times_s: Float32Array | None = None
    column_names: tuple[str, ...] = ("x", "y", "z", "intensity", "ring")

    def __post_init__(self) -> None:
        check_shape("points", self.points, (-1, len(self.column_names)))
        if self.point_times_s is not None:
            check_shape("point_times_s", self.point_times_s, (self.points.shape[0],))

    @property
    def xyz(self) -> Float32Array:
        """``(N, 3)`` float32 point coordinates, metres, sensor frame."""
        return self.points[:, :3]


#: nuScenes radar point fields (binary PCD v0.7, 18 fields), in file order.
RADAR_FIELDS: tuple[str, ...] = (
    "x", "y", "z", "dyn_prop", "id", "rcs", "vx", "vy", "vx_comp", "vy_comp",
    "is_quality_valid", "ambig_state", "x_rms", "y_rms", "invalid_state", "pdh0", "vx_rms", "vy_rms",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class RadarScan:
    """Returns of one radar scan in the sensor frame.

    Attributes:
        sample: the sample it was read from.
        records: ``(N,)`` numpy structured array with the nuScenes radar fields (``RADAR_FIELDS``):
            ``x, y, z`` metres in the sensor frame, ``vx, vy`` raw and ``vx_comp, vy_comp`` ego-motion
            compensated velocities in m/s (sensor frame), radar cross-section ``rcs`` in dBsm and the
            Continental ARS 408 state fields.
    """

    sample: SensorSample
    records: np.ndarray

    @property
    def xyz(self) -> FloatArray:
        """``(N, 3)`` float64 return positions, metres, sensor frame."""
        r = self.records
        return np.stack([r["x"], r["y"], r["z"]], axis=1).astype(np.float64)

    @property
    def velocity_comp_mps(self) -> FloatArray:
        """``(N, 2)`` float64 compensated velocities ``vx_comp, vy_comp``, m/s, sensor frame."""
        r = self.records
        return np.stack([r["vx_comp"], r["vy_comp"]], axis=1).astype(np.float64)


@dataclass(frozen=True, eq=False)
class CameraImage:
    """A decoded camera image.

    Attributes:
        sample: the sample it was read from.
        pixels: ``(H, W, 3)`` uint8 BGR (OpenCV order) or ``(H, W)`` grey.
        scale: pixels per original pixel (``0.5`` for a half-size decode); intrinsics scale by it.
    """

    sample: SensorSample
    pixels: np.ndarray
    scale: float = 1.0

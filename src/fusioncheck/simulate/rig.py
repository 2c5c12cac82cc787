"""The simulated vehicle's sensor rig: nuScenes-like channels, mounting positions and intrinsics.

Extrinsics are ``ego_from_sensor`` (nuScenes ``calibrated_sensor``: sensor frame -> ego frame, ego origin
on the ground below the rear axle, x forward, y left, z up). Values are round numbers close to the
nuScenes vehicles' (not copied from any log):

- LIDAR_TOP at (0.94, 0, 1.84) m, yawed -90 deg as in nuScenes (sensor x to the right, y forward).
- Cameras at ~1.5 m height, looking horizontally, yaws 0, +-55, +-110 and 180 deg; camera frame x
  right, y down, z forward. Focal length 1260 px (CAM_BACK 800 px) at 1600x900, principal point at the
  image centre; intrinsics scale with ``image_width / 1600``. Images are undistorted.
- Radars at ~0.5-0.8 m height: front, front corners looking sideways (+-90 deg), rear corners looking
  backwards (+-170 deg).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.geometry import quaternion
from fusioncheck.geometry.se3 import SE3
from fusioncheck.simulate.config import SimConfig
from fusioncheck.typing import FloatArray

LIDAR_CHANNEL = "LIDAR_TOP"
CAMERA_CHANNELS: tuple[str, ...] = (
    "CAM_FRONT", "CAM_FRONT_RIGHT", "CAM_FRONT_LEFT", "CAM_BACK", "CAM_BACK_LEFT", "CAM_BACK_RIGHT",
)  # fmt: skip
RADAR_CHANNELS: tuple[str, ...] = (
    "RADAR_FRONT", "RADAR_FRONT_LEFT", "RADAR_FRONT_RIGHT", "RADAR_BACK_LEFT", "RADAR_BACK_RIGHT",
)  # fmt: skip
ALL_CHANNELS: tuple[str, ...] = (LIDAR_CHANNEL, *CAMERA_CHANNELS, *RADAR_CHANNELS)

#: Reference image width the focal lengths refer to, pixels.
REFERENCE_WIDTH_PX = 1600

_LIDAR_MOUNT = ((0.94, 0.0, 1.84), -90.0)
#: channel -> (position (m, ego frame), yaw (deg), focal length at 1600 px width)
_CAMERA_MOUNTS: dict[str, tuple[tuple[float, float, float], float, float]] = {
    "CAM_FRONT": ((1.70, 0.00, 1.51), 0.0, 1260.0),
    "CAM_FRONT_RIGHT": ((1.55, -0.49, 1.50), -55.0, 1260.0),
    "CAM_FRONT_LEFT": ((1.52, 0.49, 1.51), 55.0, 1260.0),
    "CAM_BACK": ((0.03, 0.00, 1.58), 180.0, 800.0),
    "CAM_BACK_LEFT": ((1.04, 0.48, 1.59), 110.0, 1260.0),
    "CAM_BACK_RIGHT": ((1.01, -0.48, 1.56), -110.0, 1260.0),
}
#: channel -> (position (m, ego frame), yaw (deg))
_RADAR_MOUNTS: dict[str, tuple[tuple[float, float, float], float]] = {
    "RADAR_FRONT": ((3.41, 0.00, 0.50), 0.0),
    "RADAR_FRONT_LEFT": ((2.42, 0.80, 0.78), 90.0),
    "RADAR_FRONT_RIGHT": ((2.42, -0.80, 0.77), -90.0),
    "RADAR_BACK_LEFT": ((-0.56, 0.63, 0.53), 170.0),
    "RADAR_BACK_RIGHT": ((-0.56, -0.63, 0.53), -170.0),
}


def _yaw_pose(position: tuple[float, float, float], yaw_deg: float) -> SE3:
    return SE3.from_quat(quaternion.from_yaw(np.deg2rad(yaw_deg)), np.array(position))


def ego_from_lidar() -> SE3:
    """LIDAR_TOP mounting."""
    return _yaw_pose(*_LIDAR_MOUNT)


@dataclass(frozen=True, eq=False)
class CameraModel:
    """A pinhole camera (no distortion).

    Attributes:
        channel: nuScenes channel name.
        ego_from_camera: mounting; camera frame x right, y down, z forward (optical axis).
        matrix: ``(3, 3)`` intrinsic matrix, pixels.
        width_px: image width.
        height_px: image height.
        yaw_rad: optical-axis yaw in the ego frame (the LiDAR beam crossing it triggers the camera).
    """

    channel: str
    ego_from_camera: SE3
    matrix: FloatArray
    width_px: int
    height_px: int
    yaw_rad: float


def cameras(config: SimConfig) -> list[CameraModel]:
    """Make the six cameras at ``config``'s image size, in ``CAMERA_CHANNELS`` order."""
    scale = config.image_width / REFERENCE_WIDTH_PX
    out = []
    for channel in CAMERA_CHANNELS:
        position, yaw_deg, focal = _CAMERA_MOUNTS[channel]
        yaw = np.deg2rad(yaw_deg)
        forward = np.array([np.cos(yaw), np.sin(yaw), 0.0])
        right = np.array([np.sin(yaw), -np.cos(yaw), 0.0])
        down = np.array([0.0, 0.0, -1.0])
        rotation = np.stack([right, down, forward], axis=1)
        f = focal * scale
        matrix = np.array(
            [[f, 0.0, config.image_width / 2.0], [0.0, f, config.image_height / 2.0], [0.0, 0.0, 1.0]]
        )
        out.append(
            CameraModel(
                channel,
                SE3(rotation, np.array(position)),
                matrix,
                config.image_width,
                config.image_height,
                yaw,
            )
        )
    return out


@dataclass(frozen=True, eq=False)
class RadarModel:
    """A Continental ARS 408-like radar (2D: no elevation; returns lie in the sensor's x-y plane).

    Attributes:
        channel: nuScenes channel name.
        ego_from_radar: mounting; radar frame x forward (boresight), y left, z up.
        near_half_angle_rad: near-range field of view half angle.
        near_range_m: near-range maximum range.
        far_half_angle_rad: far-range field of view half angle.
        far_range_m: far-range maximum range.
    """

    channel: str
    ego_from_radar: SE3
    near_half_angle_rad: float = float(np.deg2rad(60.0))
    near_range_m: float = 70.0
    far_half_angle_rad: float = float(np.deg2rad(9.0))
    far_range_m: float = 200.0

    def in_view(self, azimuth_rad: FloatArray, range_m: FloatArray) -> np.ndarray:
        """Bool mask of sensor-frame azimuths/ranges inside the field of view."""
        a = np.abs(np.asarray(azimuth_rad))
        r = np.asarray(range_m)
        return ((a <= self.near_half_angle_rad) & (r <= self.near_range_m)) | (
            (a <= self.far_half_angle_rad) & (r <= self.far_range_m)
        )


def radars() -> list[RadarModel]:
    """Make the five radars, in ``RADAR_CHANNELS`` order."""
    return [RadarModel(ch, _yaw_pose(*_RADAR_MOUNTS[ch])) for ch in RADAR_CHANNELS]

"""Sensors and their calibration."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from fusioncheck.errors import check_shape
from fusioncheck.geometry.se3 import SE3
from fusioncheck.typing import FloatArray


class Modality(StrEnum):
    """Kind of sensor (compares equal to, and formats as, its value: ``"lidar"``, ...)."""

    LIDAR = "lidar"
    CAMERA = "camera"
    RADAR = "radar"


@dataclass(frozen=True, eq=False)
class CameraIntrinsics:
    """Pinhole intrinsics with the OpenCV distortion model.

    Attributes:
        matrix: ``(3, 3)`` float64 camera matrix ``K = [[fx, s, cx], [0, fy, cy], [0, 0, 1]]`` in pixels,
            ``fx, fy > 0``; the skew ``s`` is almost always 0.
        distortion: ``(K,)`` float64 OpenCV coefficients ``k1, k2, p1, p2[, k3[, k4, k5, k6]]``; empty
            for an undistorted (rectified) image.
        width_px: image width in pixels (0 when unknown).
        height_px: image height in pixels (0 when unknown).
    """

    matrix: FloatArray
    distortion: FloatArray = field(default_factory=lambda: np.zeros(0))
    width_px: int = 0
    height_px: int = 0

    def __post_init__(self) -> None:
        matrix = np.asarray(self.matrix, dtype=np.float64)
        check_shape("matrix", matrix, (3, 3))
        distortion = np.asarray(self.distortion, dtype=np.float64).reshape(-1)
        if distortion.size not in (0, 4, 5, 8):
            raise ValueError(
                f"distortion: expected 0, 4, 5 or 8 OpenCV coefficients (k1,k2,p1,p2[,k3[,k4,k5,k6]]), "
                f"got {distortion.size}"
            )
        if not np.all(np.isfinite(matrix)) or not (matrix[0, 0] > 0.0 and matrix[1, 1] > 0.0):
            raise ValueError(
                f"matrix: focal lengths must be positive and all entries finite, got {matrix.tolist()}"
            )
        if not np.allclose([matrix[1, 0], *matrix[2]], [0.0, 0.0, 0.0, 1.0]):
            raise ValueError(f"matrix: expected [[fx, s, cx], [0, fy, cy], [0, 0, 1]], got {matrix.tolist()}")
        if not np.all(np.isfinite(distortion)):
            raise ValueError(f"distortion: coefficients must be finite, got {distortion.tolist()}")
        if self.width_px < 0 or self.height_px < 0:
            raise ValueError(f"image size must not be negative, got {self.width_px} x {self.height_px} px")
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "distortion", distortion)

    @property
    def has_distortion(self) -> bool:
        """True when any distortion coefficient is non-zero."""
        return bool(np.any(self.distortion != 0.0))


@dataclass(frozen=True, eq=False)
class Sensor:
    """One sensor of a vehicle with its extrinsic (and, for cameras, intrinsic) calibration.

    Attributes:
        channel: the sensor's channel name, e.g. ``LIDAR_TOP``, ``CAM_FRONT``, ``RADAR_FRONT``.
        modality: lidar, camera or radar.
        ego_from_sensor: extrinsic calibration, sensor frame -> ego (vehicle body) frame.
        intrinsics: camera intrinsics; ``None`` for LiDAR and radar.
        calibration_token: the source's calibration record (e.g. nuScenes ``calibrated_sensor`` token).
    """

    channel: str
    modality: Modality
    ego_from_sensor: SE3
    intrinsics: CameraIntrinsics | None = None
    calibration_token: str = ""

    def __post_init__(self) -> None:
        if self.modality is Modality.CAMERA and self.intrinsics is None:
            raise ValueError(f"camera {self.channel}: intrinsics are required")

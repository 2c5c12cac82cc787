"""Sensors and camera intrinsics: validation of calibration records."""

from __future__ import annotations

import numpy as np
import pytest

from fusioncheck.errors import ShapeError
from fusioncheck.geometry.se3 import SE3
from fusioncheck.scene.sensors import CameraIntrinsics, Modality, Sensor

K = np.array([[1266.4, 0.0, 816.27], [0.0, 1266.4, 491.51], [0.0, 0.0, 1.0]])


class TestCameraIntrinsics:
    @pytest.mark.parametrize("n", [0, 4, 5, 8])
    def test_accepted_distortion_lengths(self, n: int) -> None:
        intrinsics = CameraIntrinsics(K, np.full(n, 0.01), 1600, 900)
        assert intrinsics.distortion.shape == (n,)
        assert intrinsics.distortion.dtype == np.float64
        assert intrinsics.has_distortion == (n > 0)

    @pytest.mark.parametrize("n", [1, 3, 6, 12, 14])
    def test_rejected_distortion_lengths(self, n: int) -> None:
        with pytest.raises(ValueError, match=f"0, 4, 5 or 8 .*got {n}"):
            CameraIntrinsics(K, np.zeros(n))

    def test_defaults_and_conversion(self) -> None:
        intrinsics = CameraIntrinsics(K.tolist())
        assert intrinsics.matrix.dtype == np.float64
        assert intrinsics.distortion.shape == (0,)
        assert not intrinsics.has_distortion
        assert not CameraIntrinsics(K, np.zeros(5)).has_distortion
        assert (intrinsics.width_px, intrinsics.height_px) == (0, 0)
        # A column vector of coefficients is flattened.
        assert CameraIntrinsics(K, np.zeros((5, 1))).distortion.shape == (5,)

    def test_matrix_shape(self) -> None:
        with pytest.raises(ShapeError, match="matrix"):
            CameraIntrinsics(np.eye(4))

    @pytest.mark.parametrize(
        ("row", "col", "value", "message"),
        [
            (0, 0, 0.0, "focal"),
            (1, 1, -5.0, "focal"),
            (0, 2, np.nan, "finite"),
            (2, 0, 0.1, r"\[0, 0, 1\]"),
            (2, 2, 2.0, r"\[0, 0, 1\]"),
            (1, 0, 3.0, r"\[0, 0, 1\]"),
        ],
    )
    def test_bad_matrix(self, row: int, col: int, value: float, message: str) -> None:
        k = K.copy()
        k[row, col] = value
        with pytest.raises(ValueError, match=message):
            CameraIntrinsics(k)

    def test_skew_allowed(self) -> None:
        k = K.copy()
        k[0, 1] = 0.5
        assert CameraIntrinsics(k).matrix[0, 1] == 0.5

    def test_bad_distortion_and_size(self) -> None:
        with pytest.raises(ValueError, match="finite"):
            CameraIntrinsics(K, np.array([0.1, np.inf, 0, 0]))
        with pytest.raises(ValueError, match="image size"):
            CameraIntrinsics(K, width_px=-1, height_px=900)


class TestSensor:
    def test_camera_needs_intrinsics(self) -> None:
        with pytest.raises(ValueError, match="camera CAM_FRONT: intrinsics are required"):
            Sensor("CAM_FRONT", Modality.CAMERA, SE3.identity())
        cam = Sensor("CAM_FRONT", Modality.CAMERA, SE3.identity(), CameraIntrinsics(K))
        assert cam.intrinsics is not None

    def test_lidar_and_radar_without_intrinsics(self) -> None:
        lidar = Sensor("LIDAR_TOP", Modality.LIDAR, SE3(np.eye(3), [0.9, 0.0, 1.8]), calibration_token="c1")
        assert lidar.intrinsics is None
        np.testing.assert_array_equal(lidar.ego_from_sensor.translation, [0.9, 0.0, 1.8])
        assert Sensor("RADAR_FRONT", Modality.RADAR, SE3.identity()).modality is Modality.RADAR

    def test_modality_values(self) -> None:
        # The nuScenes sensor table's modality strings.
        assert [m.value for m in Modality] == ["lidar", "camera", "radar"]
        assert Modality("camera") is Modality.CAMERA
        assert Modality.LIDAR == "lidar"
        assert f"{Modality.RADAR}" == "radar"

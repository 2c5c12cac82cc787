"""Frame chains: sensor <-> ego <-> global, across time through interpolated ego poses."""

from __future__ import annotations

import numpy as np
import pytest

from fusioncheck.errors import TimeRangeError
from fusioncheck.geometry import quaternion
from fusioncheck.geometry.frames import (
    global_from_sensor,
    global_from_sensor_at,
    sensor_from_global,
    sensor_from_global_at,
    target_ego_from_source_ego,
    target_sensor_from_source_sensor,
)
from fusioncheck.geometry.se3 import SE3
from fusioncheck.scene.poses import PoseTrack
from fusioncheck.scene.sensors import CameraIntrinsics, Modality, Sensor

# LiDAR 1.8 m up, camera 1.5 m ahead looking forward: camera z = ego x, camera x = -ego y, camera y = -ego z.
CAMERA_AXES_IN_EGO = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
LIDAR = Sensor("LIDAR_TOP", Modality.LIDAR, SE3(np.eye(3), [0.0, 0.0, 1.8]))
CAMERA = Sensor(
    "CAM_FRONT",
    Modality.CAMERA,
    SE3(CAMERA_AXES_IN_EGO, [1.5, 0.0, 1.5]),
    CameraIntrinsics(np.array([[1000.0, 0, 800], [0, 1000.0, 450], [0, 0, 1]])),
)


def driving_track() -> PoseTrack:
    """Ego drives +x at 10 m/s from x = 100 while turning left at 0.2 rad/s; poses every 50 ms."""
    t_us = np.arange(0, 2_000_001, 50_000)
    t_s = t_us * 1e-6
    yaw = 0.2 * t_s
    translations = np.column_stack([100.0 + 10.0 * t_s, np.zeros_like(t_s), np.zeros_like(t_s)])
    return PoseTrack(t_us, translations, quaternion.from_yaw(yaw))


def test_global_from_sensor_chain() -> None:
    global_from_ego = SE3.from_quat(quaternion.from_yaw(np.pi / 2), [100.0, 50.0, 0.0])
    # A point 10 m ahead of the camera is 11.5 m ahead of the ego: heading +y in global.
    p = global_from_sensor(CAMERA, global_from_ego).transform_points(np.array([[0.0, 0.0, 10.0]]))
    np.testing.assert_allclose(p, [[100.0, 61.5, 1.5]], atol=1e-12)
    back = sensor_from_global(CAMERA, global_from_ego).transform_points(p)
    np.testing.assert_allclose(back, [[0.0, 0.0, 10.0]], atol=1e-12)


def test_at_uses_the_interpolated_pose() -> None:
    poses = driving_track()
    t = 1_234_567
    expected = poses.at(t) @ LIDAR.ego_from_sensor
    np.testing.assert_allclose(global_from_sensor_at(LIDAR, t, poses).as_matrix(), expected.as_matrix())
    np.testing.assert_allclose(
        sensor_from_global_at(LIDAR, t, poses).as_matrix(), expected.inverse().as_matrix(), atol=1e-12
    )


def test_same_time_is_the_static_extrinsic_chain() -> None:
    poses = driving_track()
    t = 500_000
    camera_from_lidar = target_sensor_from_source_sensor(LIDAR, t, CAMERA, t, poses)
    expected = CAMERA.ego_from_sensor.inverse() @ LIDAR.ego_from_sensor
    np.testing.assert_allclose(camera_from_lidar.as_matrix(), expected.as_matrix(), atol=1e-12)
    # A point 20 m ahead of the LiDAR at its height: 18.5 m ahead of the camera, 0.3 m above its axis.
    p = camera_from_lidar.transform_points(np.array([[20.0, 0.0, 0.0]]))
    np.testing.assert_allclose(p, [[0.0, -0.3, 18.5]], atol=1e-12)


def test_static_world_point_across_time() -> None:
    poses = driving_track()
    t_lidar, t_cam = 400_000, 430_000
    world_point = np.array([[130.0, 4.0, 0.5]])
    in_lidar = sensor_from_global_at(LIDAR, t_lidar, poses).transform_points(world_point)
    in_cam = target_sensor_from_source_sensor(LIDAR, t_lidar, CAMERA, t_cam, poses).transform_points(in_lidar)
    np.testing.assert_allclose(
        in_cam, sensor_from_global_at(CAMERA, t_cam, poses).transform_points(world_point), atol=1e-10
    )
    # The 30 ms between the captures matter: the ego moved 0.3 m, so ignoring them would be wrong.
    static = (CAMERA.ego_from_sensor.inverse() @ LIDAR.ego_from_sensor).transform_points(in_lidar)
    assert np.linalg.norm(static - in_cam) > 0.25


def test_target_ego_from_source_ego() -> None:
    poses = driving_track()
    # Between two exact poses 1 s apart the ego moved 10 m along x (global) and turned 0.2 rad.
    ego1_from_ego0 = target_ego_from_source_ego(0, 1_000_000, poses)
    p = ego1_from_ego0.transform_points(np.zeros((1, 3)))  # old ego origin seen from the new ego
    c, s = np.cos(0.2), np.sin(0.2)
    np.testing.assert_allclose(p, [[-10.0 * c, 10.0 * s, 0.0]], atol=1e-12)
    assert float(quaternion.yaw_of(ego1_from_ego0.quat_wxyz)) == pytest.approx(-0.2, abs=1e-12)


def test_round_trip_between_sensors() -> None:
    poses = driving_track()
    a = target_sensor_from_source_sensor(LIDAR, 100_000, CAMERA, 1_900_000, poses)
    b = target_sensor_from_source_sensor(CAMERA, 1_900_000, LIDAR, 100_000, poses)
    np.testing.assert_allclose((a @ b).as_matrix(), np.eye(4), atol=1e-12)


def test_out_of_range_time_raises() -> None:
    poses = driving_track()
    with pytest.raises(TimeRangeError, match="outside"):
        target_sensor_from_source_sensor(LIDAR, 0, CAMERA, 2_000_001, poses)
    with pytest.raises(TimeRangeError):
        global_from_sensor_at(CAMERA, -1, poses)

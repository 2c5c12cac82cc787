"""Transforms between sensor, ego and global frames at any timestamp.

Frames: each sensor's own frame (``ego_from_sensor`` is its extrinsic calibration), the ego (vehicle body)
frame at a given time, and the global (world) frame. The ego moves: ``global_from_ego`` depends on the
time, and comes from :meth:`fusioncheck.scene.PoseTrack.at`. A transform between two sensors that
captured at different times goes through the global frame, so ego motion between the two captures is
accounted for.
"""

from __future__ import annotations

from fusioncheck.geometry.se3 import SE3
from fusioncheck.scene.poses import PoseTrack
from fusioncheck.scene.sensors import Sensor


def global_from_sensor(sensor: Sensor, global_from_ego: SE3) -> SE3:
    """``global_from_sensor`` given the ego pose at the sensor's capture time."""
    return global_from_ego @ sensor.ego_from_sensor


def sensor_from_global(sensor: Sensor, global_from_ego: SE3) -> SE3:
    """``sensor_from_global`` (e.g. ``camera_from_global``) given the ego pose at the capture time."""
    return global_from_sensor(sensor, global_from_ego).inverse()


def global_from_sensor_at(sensor: Sensor, timestamp_us: float, ego_poses: PoseTrack) -> SE3:
    """``global_from_sensor`` at ``timestamp_us`` (microseconds), ego pose interpolated from ``ego_poses``.

    Raises:
        TimeRangeError: when ``ego_poses`` does not cover ``timestamp_us``.
    """
    return global_from_sensor(sensor, ego_poses.at(timestamp_us))


def sensor_from_global_at(sensor: Sensor, timestamp_us: float, ego_poses: PoseTrack) -> SE3:
    """``sensor_from_global`` at ``timestamp_us`` (microseconds), ego pose interpolated from ``ego_poses``.

    Raises:
        TimeRangeError: when ``ego_poses`` does not cover ``timestamp_us``.
    """
    return global_from_sensor_at(sensor, timestamp_us, ego_poses).inverse()


def target_ego_from_source_ego(t_source_us: float, t_target_us: float, ego_poses: PoseTrack) -> SE3:
    """Ego frame at ``t_source_us`` -> ego frame at ``t_target_us`` (ego-motion compensation).

    Raises:
        TimeRangeError: when ``ego_poses`` does not cover both times.
    """
    return ego_poses.at(t_target_us).inverse() @ ego_poses.at(t_source_us)


def target_sensor_from_source_sensor(
    source: Sensor, t_source_us: float, target: Sensor, t_target_us: float, ego_poses: PoseTrack
) -> SE3:
    """Source sensor frame at ``t_source_us`` -> global -> target sensor frame at ``t_target_us``.

    For example, LiDAR points captured at ``t_source_us`` into the frame of a camera exposed at
    ``t_target_us``: ``target_sensor_from_source_sensor(lidar, t_lidar, camera, t_cam, poses)``. Static
    world points map to where the target sensor sees them; moving objects need their own motion.

    Raises:
        TimeRangeError: when ``ego_poses`` does not cover both times.
    """
    global_from_source = global_from_sensor_at(source, t_source_us, ego_poses)
    return sensor_from_global_at(target, t_target_us, ego_poses) @ global_from_source

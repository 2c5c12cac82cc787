"""LiDAR: per-point times, ego-motion compensation, ground geometry, object motion during the sweep."""

from __future__ import annotations

import numpy as np
import pytest

from fusioncheck.simulate import SimConfig
from fusioncheck.simulate.lidar import LidarModel, simulate_sweep
from fusioncheck.simulate.rig import CAMERA_CHANNELS, cameras, ego_from_lidar
from fusioncheck.simulate.world import LaneMotion, SpeedProfile

from .helpers import make_object, make_world


def _in_box(
    points: np.ndarray, center: np.ndarray, yaw: float, size: np.ndarray, margin: float
) -> np.ndarray:
    rel = points - center
    c, s = np.cos(yaw), np.sin(yaw)
    local = np.stack([c * rel[:, 0] + s * rel[:, 1], -s * rel[:, 0] + c * rel[:, 1], rel[:, 2]], 1)
    return np.all(np.abs(local) <= size / 2 + margin, axis=1)


@pytest.fixture(scope="module")
def model() -> LidarModel:
    return LidarModel.from_config(SimConfig(), ego_from_lidar())


def test_point_times_lie_within_the_sweep_period(model: LidarModel) -> None:
    car = make_object("car", "vehicle.car", (4.6, 1.9, 1.7), LaneMotion(15.0, -1.75))
    world = make_world([car], ego_speed_mps=10.0)
    sweep = simulate_sweep(world, model, 0.3, np.random.default_rng(0))
    assert sweep.points.dtype == np.float32 and sweep.points.shape[1] == 5
    assert sweep.times_s.shape == (sweep.points.shape[0],)
    assert sweep.times_s.min() >= -0.05 and sweep.times_s.max() < 0.0
    assert np.all(np.diff(sweep.times_s) >= 0)  # written in firing order
    assert sweep.points.shape[0] > 20_000  # 32 x 1080 rays: the 23 lowest beams reach the ground
    rings = sweep.points[:, 4]
    assert rings.min() == 0 and rings.max() <= 31
    assert np.all((sweep.points[:, 3] >= 0) & (sweep.points[:, 3] <= 255))


def test_static_geometry_is_sharp_despite_ego_motion(model: LidarModel) -> None:
    # The ego drives at 15 m/s: 0.75 m per sweep. Compensated points of a parked car must stay on it.
    car = make_object("car", "vehicle.car", (4.6, 1.9, 1.7), LaneMotion(12.0, -5.25))
    world = make_world([car], ego_speed_mps=15.0)
    sweep = simulate_sweep(world, model, 1.0, np.random.default_rng(1))
    pts = sweep.points_global()
    on_car = sweep.owners == 0
    assert np.count_nonzero(on_car) > 100
    centers, yaws = world.object_poses(np.array([1.0]))
    assert np.all(_in_box(pts[on_car], centers[0, 0], yaws[0, 0], car.size_lwh_m, margin=0.1))
    ground = sweep.parts == -1
    assert np.abs(pts[ground, 2]).max() < 0.1  # flat ground stays flat at z = 0


def test_ground_rings_have_the_analytic_radius(model: LidarModel) -> None:
    world = make_world([])
    sweep = simulate_sweep(world, model, 0.0, np.random.default_rng(2))
    height = ego_from_lidar().translation[2]
    for ring in (0, 5, 12, 20):
        e = model.elevations_rad[ring]
        radius = np.hypot(
            sweep.points[sweep.points[:, 4] == ring, 0], sweep.points[sweep.points[:, 4] == ring, 1]
        )
        assert np.median(radius) == pytest.approx(height / np.tan(-e), abs=0.01)
    # Beams above the horizon see nothing on an empty plane; beyond 70 m is dropped.
    assert np.hypot(sweep.points[:, 0], sweep.points[:, 1]).max() <= 70.0


def test_moving_object_is_smeared_not_compensated(model: LidarModel) -> None:
    # An oncoming car at 15 m/s: each point lies on the car as it was at that point's own capture time.
    car = make_object("car", "vehicle.car", (4.6, 1.9, 1.7), LaneMotion(10.0, 1.75, -1, SpeedProfile(15.0)))
    world = make_world([car], ego_speed_mps=8.0)
    stamp = 0.5
    sweep = simulate_sweep(world, model, stamp, np.random.default_rng(3))
    on_car = np.flatnonzero(sweep.owners == 0)
    pts = sweep.points_global()[on_car]
    t = stamp + sweep.times_s[on_car].astype(np.float64)
    centers, yaws = world.object_poses(t)
    inside = [
        _in_box(pts[i : i + 1], centers[i, 0], yaws[i, 0], car.size_lwh_m, 0.1)[0] for i in range(on_car.size)
    ]
    assert all(inside)
    c_stamp, y_stamp = world.object_poses(np.array([stamp]))
    assert not np.all(_in_box(pts, c_stamp[0, 0], y_stamp[0, 0], car.size_lwh_m, 0.02))


def test_cameras_fire_when_the_beam_crosses_their_axis(model: LidarModel) -> None:
    offsets = {cam.channel: model.crossing_offset_s(cam.yaw_rad) for cam in cameras(SimConfig())}
    assert set(offsets) == set(CAMERA_CHANNELS)
    assert all(-0.05 <= v < 0.0 for v in offsets.values())
    order = sorted(offsets, key=offsets.__getitem__)
    assert order == [
        "CAM_FRONT_LEFT",
        "CAM_FRONT",
        "CAM_FRONT_RIGHT",
        "CAM_BACK_RIGHT",
        "CAM_BACK",
        "CAM_BACK_LEFT",
    ]
    # The firing whose time is the camera's offset points (in the ego frame) along the camera's axis.
    cam = cameras(SimConfig())[0]
    j = (
        round((offsets[cam.channel] + model.period_s) / model.period_s * model.azimuth_steps)
        % model.azimuth_steps
    )
    az_ego = model.firing_azimuths_rad()[j] + np.deg2rad(-90.0)
    assert np.angle(np.exp(1j * (az_ego - cam.yaw_rad))) == pytest.approx(
        0.0, abs=2 * np.pi / model.azimuth_steps
    )

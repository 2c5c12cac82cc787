"""The rotating LiDAR (LIDAR_TOP): ray casting with per-firing time, ego motion and object motion.

Rotation and timing (documented for the loader and the sync checks):

- The head spins **clockwise seen from above** (as Velodyne sensors do): the sensor-frame azimuth of
  firing ``j`` of a sweep is ``seam - 2 pi j / steps``.
- A sweep is one revolution of ``1 / lidar_hz`` seconds. Its ``sample_data.timestamp`` is the **end**
  of the revolution: firing ``j`` happens at ``timestamp - period + j * period / steps``, so per-point
  times relative to the timestamp lie in ``[-period, 0)``. All beams of a firing share its time.
- The seam (first and last firing) points to ego yaw +100 deg (rear left), so the beam passes the
  cameras' axes in the order CAM_FRONT_LEFT, CAM_FRONT, CAM_FRONT_RIGHT, CAM_BACK_RIGHT, CAM_BACK,
  CAM_BACK_LEFT, as on nuScenes' vehicles (cameras are triggered when the beam crosses their axis, so
  camera keyframe stamps precede the LiDAR stamp by 1..45 ms at 20 Hz).

Every firing sees the world at its own time: the ego pose and every object are evaluated at the firing
time. Points are then written in the LIDAR_TOP frame at the sweep timestamp, **ego-motion compensated**
(each point is mapped through the true ego pose at its firing time into the global frame and back
through the pose at the timestamp). Object motion is **not** compensated, as in real data: a car
passing at 10 m/s smears by up to 0.5 m over a 50 ms sweep.

Per-point times are written to ``<dataroot>/fusioncheck_point_times/<sample_data token>.npy``
((N,) float32 seconds relative to the sample_data timestamp, the rows of the ``.pcd.bin`` file).

Range noise is Gaussian along the ray; returns beyond ``lidar_max_range_m`` (after noise) or closer
than 1 m are dropped. Intensity (0..255) follows the surface reflectivity and incidence angle with
multiplicative noise; ``ring`` is the beam index (0 = lowest elevation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.geometry.se3 import SE3
from fusioncheck.simulate.config import SimConfig
from fusioncheck.simulate.raycast import MISS, azimuth_intervals, cast_rays
from fusioncheck.simulate.world import World
from fusioncheck.typing import Float32Array, FloatArray, IntArray

#: Ego yaw (radians) of the seam where a revolution starts and ends (rear left).
SEAM_EGO_YAW_RAD = float(np.deg2rad(100.0))
MIN_RANGE_M = 1.0
GROUND_REFLECTIVITY = 0.12


@dataclass(frozen=True, eq=False)
class LidarModel:
    """A spinning LiDAR.

    Attributes:
        ego_from_lidar: mounting (LIDAR_TOP frame -> ego frame).
        elevations_rad: ``(B,)`` beam elevations in the sensor frame, ascending (ring = index).
        azimuth_steps: firings per revolution.
        period_s: revolution period, seconds.
        seam_azimuth_rad: sensor-frame azimuth of the first firing.
        range_noise_m: range noise standard deviation, metres.
        max_range_m: maximum range, metres.
    """

    ego_from_lidar: SE3
    elevations_rad: FloatArray
    azimuth_steps: int
    period_s: float
    seam_azimuth_rad: float
    range_noise_m: float
    max_range_m: float

    @staticmethod
    def from_config(config: SimConfig, ego_from_lidar: SE3) -> LidarModel:
        """Make the LiDAR of ``config`` mounted at ``ego_from_lidar`` (level mount assumed for the seam)."""
        lo, hi = config.lidar_elevation_deg
        elevations = np.deg2rad(np.linspace(lo, hi, config.lidar_beams))
        mount_yaw = float(np.arctan2(ego_from_lidar.rotation[1, 0], ego_from_lidar.rotation[0, 0]))
        return LidarModel(
            ego_from_lidar,
            elevations,
            config.lidar_azimuth_steps,
            1.0 / config.lidar_hz,
            SEAM_EGO_YAW_RAD - mount_yaw,
            config.lidar_range_noise_m,
            config.lidar_max_range_m,
        )

    def firing_offsets_s(self) -> FloatArray:
        """Return the ``(steps,)`` firing times relative to the sweep timestamp, s, in ``[-period, 0)``."""
        return (
            np.arange(self.azimuth_steps, dtype=np.float64) * (self.period_s / self.azimuth_steps)
            - self.period_s
        )

    def firing_azimuths_rad(self) -> FloatArray:
        """Return the ``(steps,)`` sensor-frame azimuths of the firings (clockwise from the seam)."""
        return self.seam_azimuth_rad - 2 * np.pi * np.arange(self.azimuth_steps) / self.azimuth_steps

    def crossing_offset_s(self, ego_yaw_rad: float) -> float:
        """Return when the beam points to ``ego_yaw_rad``: seconds from the timestamp, in ``[-period, 0)``.

        Cameras are triggered at this time for their optical axis' yaw.
        """
        mount_yaw = float(np.arctan2(self.ego_from_lidar.rotation[1, 0], self.ego_from_lidar.rotation[0, 0]))
        seam_ego = self.seam_azimuth_rad + mount_yaw
        fraction = ((seam_ego - ego_yaw_rad) % (2 * np.pi)) / (2 * np.pi)
        return -self.period_s + fraction * self.period_s

    def beam_directions(self) -> FloatArray:
        """Return the ``(steps, B, 3)`` unit ray directions in the sensor frame."""
        az = self.firing_azimuths_rad()[:, None]
        el = self.elevations_rad[None, :]
        return np.stack(
            [
                np.cos(el) * np.cos(az),
                np.cos(el) * np.sin(az),
                np.broadcast_to(np.sin(el), (az.size, el.size)),
            ],
            -1,
        )


@dataclass(frozen=True, eq=False)
class SimulatedSweep:
    """One simulated LiDAR sweep.

    Attributes:
        points: ``(N, 5)`` float32 ``x, y, z`` (metres, LIDAR_TOP frame at the timestamp, ego-motion
            compensated), ``intensity`` (0..255), ``ring`` (beam index), in firing order.
        times_s: ``(N,)`` float32 capture time relative to the timestamp, seconds, in ``[-period, 0)``.
        parts: ``(N,)`` int64 the world part hit (``-1`` ground).
        owners: ``(N,)`` int64 the object hit (``-1`` ground or clutter).
        global_from_lidar: the sensor pose at the timestamp.
    """

    points: Float32Array
    times_s: Float32Array
    parts: IntArray
    owners: IntArray
    global_from_lidar: SE3

    def points_global(self) -> FloatArray:
        """``(N, 3)`` float64 points in the global frame (through the pose at the timestamp)."""
        return self.global_from_lidar.transform_points(self.points[:, :3].astype(np.float64))


def simulate_sweep(
    world: World, model: LidarModel, stamp_s: float, rng: np.random.Generator
) -> SimulatedSweep:
    """Simulate the sweep whose timestamp (end of revolution) is ``stamp_s`` (world seconds)."""
    n_cols = model.azimuth_steps
    n_beams = model.elevations_rad.size
    col_t = stamp_s + model.firing_offsets_s()
    ego_r, ego_t = world.global_from_ego_many(col_t)
    cal = model.ego_from_lidar
    sensor_r = ego_r @ cal.rotation  # (C, 3, 3)
    sensor_o = ego_t + ego_r @ cal.translation  # (C, 3)
    directions = np.einsum("cij,cbj->cbi", sensor_r, model.beam_directions()).reshape(-1, 3)
    origins = np.repeat(sensor_o, n_beams, axis=0)
    state = np.repeat(np.arange(n_cols), n_beams)

    parts = world.parts
    centers, yaws = world.part_poses(col_t)
    mid = n_cols // 2
    motion_pad = np.max(np.linalg.norm(centers - centers[mid][None], axis=2), axis=0)
    motion_pad += float(np.max(np.linalg.norm(sensor_o - sensor_o[mid], axis=1))) + 0.05
    az_c, az_hw = azimuth_intervals(
        sensor_o[mid], centers[mid], parts.sizes_m / 2, motion_pad, model.max_range_m + 1.0
    )
    ranges, hits, cos_inc = cast_rays(
        origins, directions, centers, yaws, parts.sizes_m / 2, model.max_range_m + 1.0, state, az_c, az_hw
    )

    noise = rng.standard_normal(ranges.size) * model.range_noise_m
    gain = np.exp(rng.standard_normal(ranges.size) * 0.15)
    measured = ranges + noise
    keep = (hits != MISS) & (measured <= model.max_range_m) & (measured >= MIN_RANGE_M)
    idx = np.flatnonzero(keep)
    p_global = origins[idx] + measured[idx, None] * directions[idx]

    pose = world.global_from_ego(stamp_s).compose(cal)
    p_sensor = (p_global - pose.translation) @ pose.rotation
    hit = hits[idx]
    reflectivity = np.full(hit.size, GROUND_REFLECTIVITY)
    reflectivity[hit >= 0] = parts.reflectivity[hit[hit >= 0]]
    intensity = np.clip(np.round(255.0 * reflectivity * (0.35 + 0.65 * cos_inc[idx]) * gain[idx]), 0.0, 255.0)
    ring = (idx % n_beams).astype(np.float64)
    points = np.column_stack([p_sensor, intensity, ring]).astype(np.float32)
    times = model.firing_offsets_s()[idx // n_beams].astype(np.float32)
    owners = parts.owner_of(hit, -1)
    return SimulatedSweep(points, times, hit.astype(np.int64), owners.astype(np.int64), pose)

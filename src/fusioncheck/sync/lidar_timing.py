"""When each LiDAR point was captured: from the format, or modelled from its azimuth.

A sweep that carries per-point times (``LidarSweep.point_times_s``: the fusioncheck simulator, formats
with a time channel) is used as is. Otherwise the point's time follows from the azimuth of a rotating
LiDAR (:class:`SpinModel`): the head turns at a constant rate through one revolution per period, starting
at the seam; the sample timestamp marks a known phase of the revolution.

Per dataset (nuScenes layout):

- **nuScenes** LIDAR_TOP (Velodyne HDL-32E): 20 Hz, clockwise seen from above, the timestamp is the
  *end* of the revolution ("the timestamp of the LiDAR scan is the time when the full rotation of the
  current LiDAR frame is achieved", nuScenes data-collection notes); cameras are triggered as the beam
  crosses their optical axis. The seam is recovered from those trigger times (:func:`spin_model_for`): on
  the mmdet3d excerpt CAM_FRONT fires 35.5 ms and CAM_BACK_LEFT 0.5 ms before the LiDAR stamp, which puts
  the seam at ego yaw about +105 deg (rear left).
- **fusioncheck simulator**: writes per-point times (same rotation, seam at ego yaw +100 deg, end stamp).
- **PandaSet** (merged Pandar64 + PandarGT): 10 Hz, the Pandar64's points span ``[-101, +1.5]`` ms around
  the stamp (end stamp); cameras fire as the beam crosses them, so the same recovery applies. The
  forward PandarGT is not rotating; its points get the spin model's times (an approximation).
- **aiMotive**: 10 Hz revolution stamped at its last point; the source has no camera stamps, so no seam
  can be recovered and the model assumes every point at the middle of the revolution (documented in the
  result's reason by the callers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.scene.samples import LidarSweep
from fusioncheck.scene.sensors import Modality
from fusioncheck.scene.sequence import Sequence
from fusioncheck.typing import FloatArray


@dataclass(frozen=True)
class SpinModel:
    """A rotating LiDAR's capture time as a function of azimuth.

    Attributes:
        period_s: one revolution, seconds.
        seam_azimuth_rad: sensor-frame azimuth where a revolution starts; None when unknown (then every
            point is placed at the middle of the revolution).
        clockwise: rotation seen from above.
        stamp_phase: where the timestamp lies in the revolution (1.0 = end, 0.0 = start).
    """

    period_s: float
    seam_azimuth_rad: float | None
    clockwise: bool = True
    stamp_phase: float = 1.0

    def point_times_s(self, xyz_sensor: FloatArray) -> FloatArray:
        """Return times ``(N,)`` float64 s relative to the stamp of points ``(N, 3)`` (sensor frame)."""
        n = xyz_sensor.shape[0]
        if self.seam_azimuth_rad is None:
            return np.full(n, (0.5 - self.stamp_phase) * self.period_s)
        azimuth = np.arctan2(xyz_sensor[:, 1], xyz_sensor[:, 0])
        swept = (self.seam_azimuth_rad - azimuth) if self.clockwise else (azimuth - self.seam_azimuth_rad)
        fraction = np.mod(swept, 2.0 * np.pi) / (2.0 * np.pi)
        return (fraction - self.stamp_phase) * self.period_s


def spin_model_for(sequence: Sequence, lidar: str) -> SpinModel:
    """Model ``lidar`` of ``sequence``: period from its sample spacing, seam from camera triggers.

    The period is the median spacing of the channel's samples (sweeps included); a spacing above 0.11 s
    (keyframes only, sub-sampled) is taken as 0.1 s (a 10 Hz head); a single sample: 0.05 s (nuScenes).
    The seam: each camera keyframe image stamped within one period before its LiDAR keyframe stamp fixes
    the beam's azimuth (the camera's optical axis in the LiDAR frame) at that time; the circular mean over
    cameras gives the seam. When cameras are stamped with the LiDAR time itself (spread below 2 ms) the
    seam is unknown.
    """
    samples = sequence.samples.get(lidar, ())
    stamps = np.array([s.timestamp_us for s in samples], dtype=np.int64)
    period = 0.05
    if stamps.size >= 2:
        spacing = float(np.median(np.diff(stamps))) * 1e-6
        period = spacing if spacing <= 0.11 else 0.1
    sensor = sequence.sensors[lidar]
    lidar_from_ego = sensor.ego_from_sensor.inverse()
    angles: list[float] = []
    deltas: list[float] = []
    for kf in sequence.keyframes:
        ref = kf.samples.get(lidar)
        if ref is None:
            continue
        for channel, sample in kf.samples.items():
            cam = sequence.sensors.get(channel)
            if cam is None or cam.modality is not Modality.CAMERA:
                continue
            dt = (sample.timestamp_us - ref.timestamp_us) * 1e-6
            if not -period <= dt <= 0.0:
                continue
            axis = lidar_from_ego.rotate_vectors(
                cam.ego_from_sensor.rotate_vectors(np.array([[0.0, 0.0, 1.0]]))
            )
            azimuth = float(np.arctan2(axis[0, 1], axis[0, 0]))
            # Clockwise: the beam is at ``seam - 2 pi (dt + period) / period`` at time dt.
            angles.append(azimuth + 2.0 * np.pi * (dt + period) / period)
            deltas.append(dt)
    if len(deltas) < 2 or np.ptp(deltas) < 0.002:
        return SpinModel(period, None)
    seam = float(np.angle(np.mean(np.exp(1j * np.array(angles)))))
    return SpinModel(period, seam)


def sweep_point_times_s(sweep: LidarSweep, model: SpinModel) -> FloatArray:
    """Per-point times ``(N,)`` float64 relative to the sample stamp: the sweep's own, else the model's."""
    if sweep.point_times_s is not None:
        return sweep.point_times_s.astype(np.float64)
    return model.point_times_s(sweep.xyz.astype(np.float64))

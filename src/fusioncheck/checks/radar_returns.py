"""Radar returns of one scan in the global frame, filtered, with their radial velocities.

Filters (nuScenes radar ``.pcd``, Continental ARS 408 cluster states), as nuscenes-devkit's defaults:

- ``invalid_state == 0`` only: every other code marks a cluster the sensor itself flags (low RCS,
  near-field artefact, mirror, harmonics, outside the field of view, ...), or a "valid with caveat" state
  the devkit also drops by default.
- ``ambig_state == 3`` only (Doppler unambiguous): for the other states the velocity may be folded, and a
  folded velocity would fake a Doppler disagreement.
- ``dyn_prop``: all kept. Motion is judged from the velocity itself (below), not from the sensor's
  classification (which real excerpts leave at "unknown").
- Rows whose floats are all NaN (nuScenes' empty-scan marker) are already dropped by the loader.

Each return is taken from the sensor frame to the global frame with the ego pose at the scan's own
timestamp. The ARS 408 measures no elevation: ``z`` is the sensor's mounting plane, so association
ignores height. The radial velocity is ``v_r = v_comp . u`` with ``u`` the unit line of sight from the
sensor to the return (x-y, global frame): ``vx_comp, vy_comp`` is the radial velocity as a vector,
ego-motion compensated, so ``v_r`` is the return's velocity along ``u`` in the global frame.

**Apparent background velocity.** Where the "global" frame is not fixed to the ground (poses missing, or
compensation not applied), stationary targets show ``v_r = b . u`` for one 2D vector ``b`` (minus the ego
velocity). ``b`` is estimated per scan by RANSAC over all returns (stationary targets are the majority
in road scenes); ``b ≈ 0`` for a well-compensated log. A return is *moving* when ``|v_r - b . u|``
exceeds the moving threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.scene.samples import RadarScan
from fusioncheck.scene.sensors import Sensor
from fusioncheck.typing import FloatArray

#: A stationary return's radial velocity fits the background model within this (m/s).
_BACKGROUND_INLIER_MPS = 0.5
_RANSAC_TRIES = 64


@dataclass(frozen=True)
class GlobalReturns:
    """Filtered returns of one radar scan, global frame.

    Attributes:
        channel: radar channel.
        timestamp_us: scan time, microseconds.
        origin_m: ``(3,)`` sensor position, global frame, metres.
        positions_m: ``(N, 3)`` return positions, global frame, metres.
        los: ``(N, 2)`` unit line of sight from the sensor to each return (x-y, global frame).
        radial_mps: ``(N,)`` radial velocity along ``los``, m/s (positive: moving away).
        range_m: ``(N,)`` x-y distance from the sensor, metres.
        background_mps: ``(2,)`` apparent velocity ``b`` of stationary targets (see the module doc).
        moving: ``(N,)`` bool, ``|radial - b . los|`` above the moving threshold.
        read: returns in the file; ``len(self)`` of them passed the filters.
    """

    channel: str
    timestamp_us: int
    origin_m: FloatArray
    positions_m: FloatArray
    los: FloatArray
    radial_mps: FloatArray
    range_m: FloatArray
    background_mps: FloatArray
    moving: np.ndarray
    read: int

    def __len__(self) -> int:
        return int(self.radial_mps.shape[0])

    @property
    def stationary_residual_mps(self) -> FloatArray:
        """``(N,)`` radial velocity minus what a stationary target would show, m/s."""
        return np.asarray(self.radial_mps - self.los @ self.background_mps)


def keep_mask(records: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: the returns that pass the filters of the module docstring."""
    return np.asarray((records["invalid_state"] == 0) & (records["ambig_state"] == 3))


def to_global(scan: RadarScan, sensor: Sensor, moving_mps: float = 1.0) -> GlobalReturns:
    """Filter ``scan`` and express it in the global frame (see the module docstring)."""
    records = scan.records
    keep = keep_mask(records)
    global_from_sensor = scan.sample.global_from_ego.compose(sensor.ego_from_sensor)
    xyz = scan.xyz[keep]
    positions = global_from_sensor.transform_points(xyz)
    origin = global_from_sensor.translation
    v_sensor = np.zeros((xyz.shape[0], 3))
    v_sensor[:, :2] = scan.velocity_comp_mps[keep]
    v_global = global_from_sensor.rotate_vectors(v_sensor)[:, :2]
    d = positions[:, :2] - origin[:2]
    rng = np.hypot(d[:, 0], d[:, 1])
    los = d / np.maximum(rng, 1e-6)[:, None]
    radial = np.sum(v_global * los, axis=1)
    background = estimate_background(los, radial, seed=scan.sample.timestamp_us)
    moving = np.abs(radial - los @ background) > moving_mps
    return GlobalReturns(
        scan.sample.channel, scan.sample.timestamp_us, origin, positions, los, radial, rng, background,
        moving, int(records.shape[0]),
    )  # fmt: skip


def estimate_background(los: FloatArray, radial_mps: FloatArray, seed: int = 0) -> FloatArray:
    """``(2,)`` velocity ``b`` with ``radial ≈ b . los`` for the largest set of returns (RANSAC, then LSQ).

    ``b = 0`` is always a candidate, so a compensated scan keeps ``b = 0`` unless most of its returns
    agree on another value. Fewer than 3 returns give ``b = 0``.
    """
    n = radial_mps.shape[0]
    best: FloatArray = np.zeros(2)
    if n < 3:
        return best
    best_inliers = np.abs(radial_mps) <= _BACKGROUND_INLIER_MPS
    rng = np.random.default_rng(seed % (2**32))
    pairs = rng.integers(0, n, size=(_RANSAC_TRIES, 2))
    a = los[pairs]  # (T, 2, 2): rows are the two lines of sight
    solvable = np.abs(np.linalg.det(a)) >= 0.05
    if solvable.any():
        b = np.linalg.solve(a[solvable], radial_mps[pairs[solvable]][..., None])[..., 0]  # (T', 2)
        inliers = np.abs(radial_mps[None, :] - b @ los.T) <= _BACKGROUND_INLIER_MPS  # (T', N)
        counts = inliers.sum(axis=1)
        k = int(np.argmax(counts))
        if counts[k] > best_inliers.sum() + 1:
            best, best_inliers = np.asarray(b[k], dtype=np.float64), inliers[k]
    if best_inliers.sum() >= 3 and np.any(best != 0.0):
        sol, *_ = np.linalg.lstsq(los[best_inliers], radial_mps[best_inliers], rcond=None)
        best = np.asarray(sol, dtype=np.float64)
    return np.asarray(best, dtype=np.float64)

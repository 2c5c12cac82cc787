"""Radar vs LiDAR: the along-track residual of radar returns on moving boxes.

Model. A radar whose data show the world at ``t + o`` (``t`` its stamp) saw a moving object where the
object's track puts it at ``t + o``, and saw it from where the ego was at ``t + o``. With ``c, v, R`` the
interpolated box centre, velocity and rotation of the track at ``t``, a return ``p_s`` (radar frame)
sits in the box frame at ``R^T (G(t + o) p_s - c - v o)``; linearised in ``o`` its slope is
``R^T (dG/dt p_s - v)``, ``dG/dt p_s`` being the motion of the radar-frame point with the ego (from the
pose track, rotation included). The objective is the truncated squared distance of the returns to the
box outline in x-y (radar has no elevation), summed per track; the interval resamples tracks.

The boxes are the labels, which may have an offset of their own against the LiDAR
(:mod:`fusioncheck.sync.labels`): the track is read at ``t - o_labels`` so that the box shows the world at
``t`` on the LiDAR's clock. (Adding the two offsets instead would be wrong: a label offset displaces a box
by ``v_object * o`` while a radar offset displaces the returns by ``(v_object - v_ego) * o``.) The two
intervals' half-widths add in quadrature. When the labels' offset is not estimable it is taken as 0 and
the reason says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fusioncheck.context import SequenceContext
from fusioncheck.errors import InputError
from fusioncheck.geometry.se3 import SE3
from fusioncheck.scene.poses import PoseTrack
from fusioncheck.scene.samples import SensorSample
from fusioncheck.sync.estimate import (
    STATUS_NOT_ESTIMABLE,
    SearchSettings,
    SyncEstimate,
    estimate_drift,
    estimate_from_curves,
    not_estimable,
)
from fusioncheck.sync.evidence import BoxEvidence
from fusioncheck.sync.tracks import TrackStates, TrackTable
from fusioncheck.typing import FloatArray

#: Half-width of the pose difference that gives the ego's point velocities, seconds.
_POSE_DT_S = 0.05


@dataclass(frozen=True)
class RadarSyncSettings:
    """Parameters of the radar estimator.

    Attributes:
        min_speed_mps: tracks slower than this carry no timing evidence.
        margin_m: returns within the box grown by this plus its motion over the search range count.
        tau_m: truncation distance of the return loss (radar positions are coarser than LiDAR's).
        depth_m: expected depth of returns inside the box outline (energy returns from inside the body).
    """

    min_speed_mps: float = 1.0
    margin_m: float = 1.0
    tau_m: float = 0.6
    depth_m: float = 0.1


def _ego_point_velocities(poses: PoseTrack, t_us: float, ego_pts: FloatArray) -> FloatArray:
    """Global velocity ``(N, 3)`` m/s of ego-frame points ``(N, 3)`` at ``t_us``, from the pose track."""
    lo = max(poses.start_us, t_us - _POSE_DT_S * 1e6)
    hi = min(poses.end_us, t_us + _POSE_DT_S * 1e6)
    if hi <= lo:
        return np.zeros_like(ego_pts)
    a = poses.at(lo).transform_points(ego_pts)
    b = poses.at(hi).transform_points(ego_pts)
    return np.asarray((b - a) / ((hi - lo) * 1e-6))


def gather_radar_evidence(
    context: SequenceContext,
    channel: str,
    settings: RadarSyncSettings,
    search: SearchSettings,
    label_offset_ms: float = 0.0,
) -> BoxEvidence:
    """Collect the returns of every scan of ``channel`` on every moving track (see the module docstring).

    ``label_offset_ms``: the labels' offset against the LiDAR, compensated when reading the tracks.
    """
    sequence = context.sequence
    sensor = sequence.sensors[channel]
    table = TrackTable(
        [
            t for t in sequence.tracks.values()
            if len(t) >= 2
            # NaN speeds (gaps, single boxes) compare False: a track moves if any known speed is enough.
            and bool(np.any(np.linalg.norm(t.velocities_mps[:, :2], axis=1) >= settings.min_speed_mps))
        ]
    )  # fmt: skip
    evidence = BoxEvidence(settings.tau_m, use_z=False)
    if not len(table):
        return evidence
    reach_s = search.range_ms * 1e-3
    for sample in sequence.samples.get(channel, ()):
        box_time_us = sample.timestamp_us - label_offset_ms * 1e3
        if not np.any(table.live(box_time_us)):
            continue
        try:
            _add_scan(context, sample, table.states_at(box_time_us), table, sensor.ego_from_sensor, settings,
                      reach_s, evidence)  # fmt: skip
        except InputError as exc:
            evidence.problems.append(str(exc))
    return evidence


def _add_scan(
    context: SequenceContext,
    sample: SensorSample,
    states: TrackStates,
    table: TrackTable,
    ego_from_radar: SE3,
    settings: RadarSyncSettings,
    reach_s: float,
    evidence: BoxEvidence,
) -> None:
    scan = context.source.read_radar(sample)
    if scan.records.size == 0:
        return
    ego_pts = ego_from_radar.transform_points(scan.xyz)
    points = sample.global_from_ego.transform_points(ego_pts)
    ego_velocity = _ego_point_velocities(context.sequence.ego_poses, sample.timestamp_us, ego_pts)
    speed = np.linalg.norm(states.velocities_mps[:, :2], axis=1)
    moving = np.isfinite(speed) & (speed >= settings.min_speed_mps)
    if not np.any(moving):
        return
    rotations = states.rotations()[moving]  # (M, 3, 3)
    centers, halves = states.centers_m[moving], 0.5 * states.sizes_m[moving]
    velocities = states.velocities_mps[moving]
    # (M, N, 3): every return in every moving box's frame, and its slope per second of offset.
    local = np.einsum("mji,mnj->mni", rotations, points[None] - centers[:, None])
    slopes = np.einsum("mji,mnj->mni", rotations, ego_velocity[None] - velocities[:, None])
    reach = halves[:, None, :2] + settings.margin_m + np.abs(slopes[..., :2]) * reach_s
    inside = np.all(np.abs(local[..., :2]) <= reach, axis=2)  # (M, N)
    tracks = states.index[moving]
    for m in np.flatnonzero(inside.any(axis=1)):
        hit = inside[m]
        evidence.add(
            table.instances[tracks[m]], local[m, hit], slopes[m, hit], halves[m], sample.timestamp_us
        )
        evidence.speeds_mps.append(float(np.linalg.norm(velocities[m, :2])))


def _half_curves(
    evidence: BoxEvidence, keep: np.ndarray, settings: RadarSyncSettings
) -> tuple[Callable[[FloatArray], FloatArray], int]:
    compiled = evidence.subset(keep).compile()
    return (
        lambda offsets_ms: compiled.curves(offsets_ms, settings.tau_m, False, settings.depth_m)
    ), compiled.n_tracks


def estimate_radar_offset(
    context: SequenceContext,
    channel: str,
    labels: SyncEstimate,
    settings: RadarSyncSettings,
    search: SearchSettings,
) -> SyncEstimate:
    """Offset of radar ``channel`` against the reference LiDAR, through the labels (module docstring)."""
    lidar = context.reference_lidar or ""
    labels_known = labels.status != STATUS_NOT_ESTIMABLE and labels.offset_ms is not None
    label_offset_ms = float(labels.offset_ms) if labels_known and labels.offset_ms is not None else 0.0
    evidence = gather_radar_evidence(context, channel, settings, search, label_offset_ms)
    if evidence.observations == 0:
        return not_estimable(
            channel, lidar, f"no radar return on a track moving at >= {settings.min_speed_mps:g} m/s"
        )
    compiled = evidence.compile()
    result = estimate_from_curves(
        channel,
        lidar,
        lambda offsets_ms: compiled.curves(offsets_ms, settings.tau_m, False, settings.depth_m),
        compiled.n_tracks,
        search,
    )
    if evidence.problems:
        note = f"{len(evidence.problems)} unreadable scan(s) skipped, first: {evidence.problems[0]}"
        result.reason = note if result.reason is None else f"{result.reason}; {note}"
    result = estimate_drift(
        result, evidence.times_us, lambda keep: _half_curves(evidence, keep, settings), search
    )
    if result.offset_ms is None or result.ci95_ms is None:
        return result
    if not labels_known:
        note = f"measured against the labels, whose own offset is not estimable ({labels.reason}); taken as 0"
        result.reason = note if result.reason is None else f"{result.reason}; {note}"
    if labels.ci95_ms is None:
        return result
    # The labels' uncertainty (also when their offset was not estimable and taken as 0) carries over.
    label_offset = labels.offset_ms if labels_known and labels.offset_ms is not None else 0.0
    offset = result.offset_ms
    lo, hi = result.ci95_ms
    l_lo, l_hi = labels.ci95_ms
    below = float(np.hypot(offset - lo, max(label_offset - l_lo, 0.0)))
    above = float(np.hypot(hi - offset, max(l_hi - label_offset, 0.0)))
    result.ci95_ms = (offset - below, offset + above)
    if result.status != STATUS_NOT_ESTIMABLE and below + above > search.max_ci_width_ms:
        result.status = STATUS_NOT_ESTIMABLE
        note = (
            f"with the labels' uncertainty the 95 % interval is {below + above:.0f} ms wide (more than "
            f"{search.max_ci_width_ms:g} ms)"
        )
        result.reason = note if result.reason is None else f"{note}; {result.reason}"
    return result

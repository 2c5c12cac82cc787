"""Labels vs LiDAR: the offset that best aligns moving boxes with their points.

Model. A box stamped ``T`` with offset ``o`` shows its object where it was at ``T + o``. A LiDAR point
captured at ``t_p`` (sample stamp + per-point time, :mod:`fusioncheck.sync.lidar_timing`) on that object
lies where the object was at ``t_p``, i.e. at the box moved by ``v (t_p - T - o)``, ``v`` the track's
velocity at the box (central difference of the labelled centres, global frame). In the box frame
(rotation ``R``) the point sits at ``R^T (p - c - v (t_p - T)) + o R^T v``: linear in ``o``.

Evidence per box of a track moving at ``>= min_speed_mps``: the reference sweep's points (global frame
through the sample's ego pose: sweeps are ego-motion compensated to their stamp) inside the region the
box sweeps over the search range, minus ground (within ``ground_clearance_m`` of the box floor) and
points inside other boxes. The objective is the truncated squared distance of the points to the box
faces (:mod:`fusioncheck.kernels.box_offset_score`); the interval resamples tracks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fusioncheck.context import SequenceContext
from fusioncheck.geometry import quaternion
from fusioncheck.kernels.points_in_boxes import points_in_boxes
from fusioncheck.scene.boxes import BoxArrays, boxes_to_arrays
from fusioncheck.sync.estimate import (
    SearchSettings,
    SyncEstimate,
    estimate_drift,
    estimate_from_curves,
    not_estimable,
)
from fusioncheck.sync.evidence import BoxEvidence
from fusioncheck.sync.lidar_timing import spin_model_for, sweep_point_times_s
from fusioncheck.typing import FloatArray

STREAM = "labels"


@dataclass(frozen=True)
class LabelSyncSettings:
    """Parameters of the labels-vs-LiDAR estimator.

    Attributes:
        min_speed_mps: tracks slower than this at a box carry no timing evidence there.
        min_points: a box needs this many candidate points.
        margin_m: the candidate region is the box grown by this plus its motion over the search range.
        ground_clearance_m: points this close above the box floor are ground.
        other_box_margin_m: points inside another box grown by this belong to it.
        tau_m: truncation distance of the point loss.
        placement_bias_m: a placement bias shared by all boxes (how objects fill their boxes, an
            annotation habit) cannot be told from a time offset and is not resampled away; the interval is
            widened by its time equivalent at the evidence's median speed.
    """

    min_speed_mps: float = 1.0
    min_points: int = 10
    margin_m: float = 0.4
    ground_clearance_m: float = 0.25
    other_box_margin_m: float = 0.1
    tau_m: float = 0.3
    placement_bias_m: float = 0.02


def _box_velocities(context: SequenceContext) -> dict[str, FloatArray]:
    """Annotation token -> track velocity ``(3,)`` m/s (global; NaN when unknown)."""
    out: dict[str, FloatArray] = {}
    for track in context.sequence.tracks.values():
        for box, velocity in zip(track.boxes, track.velocities_mps, strict=True):
            out[box.token] = velocity
    return out


def gather_label_evidence(
    context: SequenceContext, lidar: str, settings: LabelSyncSettings, search: SearchSettings
) -> BoxEvidence:
    """Collect the points of every moving box of every keyframe (see the module docstring)."""
    sequence = context.sequence
    sensor = sequence.sensors[lidar]
    model = spin_model_for(sequence, lidar)
    velocities = _box_velocities(context)
    evidence = BoxEvidence(settings.tau_m, use_z=True)
    reach_s = search.range_ms * 1e-3 + model.period_s
    for keyframe in sequence.keyframes:
        sample = keyframe.samples.get(lidar)
        moving = [
            b for b in keyframe.annotations
            if np.all(np.isfinite(velocities[b.token]))
            and np.linalg.norm(velocities[b.token][:2]) >= settings.min_speed_mps
        ]  # fmt: skip
        if sample is None or not moving:
            continue
        sweep = context.read_lidar(sample)
        points = sample.global_from_ego.compose(sensor.ego_from_sensor).transform_points(
            sweep.xyz.astype(np.float64)
        )
        times_s = sweep_point_times_s(sweep, model)
        boxes = boxes_to_arrays(keyframe.annotations)
        grown = BoxArrays(boxes.centers_m, boxes.sizes_m + 2 * settings.other_box_margin_m, boxes.rotations)
        owner = points_in_boxes(points, grown).point_box
        index = {b.token: j for j, b in enumerate(keyframe.annotations)}
        for box in moving:
            j = index[box.token]
            velocity = velocities[box.token]
            rotation = quaternion.to_matrix(box.quat_wxyz[None])[0]
            half = 0.5 * box.size_m
            slope = rotation.T @ velocity
            reach = half + settings.margin_m + np.abs(slope) * reach_s
            near = np.flatnonzero(
                np.linalg.norm(points[:, :2] - box.center_m[:2], axis=1) <= np.linalg.norm(reach[:2])
            )
            near = near[(owner[near] < 0) | (owner[near] == j)]
            dt_s = (sample.timestamp_us - box.timestamp_us) * 1e-6 + times_s[near]
            local = (points[near] - box.center_m - np.outer(dt_s, velocity)) @ rotation
            inside = np.all(np.abs(local) <= reach, axis=1) & (
                local[:, 2] >= -half[2] + settings.ground_clearance_m
            )
            if np.count_nonzero(inside) < settings.min_points:
                continue
            evidence.add(box.instance, local[inside], slope, half, box.timestamp_us)
            evidence.speeds_mps.append(float(np.linalg.norm(velocity[:2])))
    return evidence


def estimate_label_offset(
    context: SequenceContext, settings: LabelSyncSettings, search: SearchSettings
) -> SyncEstimate:
    """Offset of the labels against the reference LiDAR (DESIGN.md sign), with interval and support."""
    lidar = context.reference_lidar
    if lidar is None:
        return not_estimable(STREAM, "", "the sequence has no LiDAR channel")
    if not context.sequence.annotations:
        return not_estimable(STREAM, lidar, "the sequence has no boxes")
    evidence = gather_label_evidence(context, lidar, settings, search)
    if evidence.observations == 0:
        return not_estimable(
            STREAM, lidar,
            f"no box moves at >= {settings.min_speed_mps:g} m/s with known velocity and "
            f">= {settings.min_points} LiDAR points (single-keyframe tracks have no velocity)",
        )  # fmt: skip
    compiled = evidence.compile()
    result = estimate_from_curves(
        STREAM,
        lidar,
        lambda offsets_ms: compiled.curves(offsets_ms, settings.tau_m, True),
        compiled.n_tracks,
        search,
    )
    if result.ci95_ms is not None and evidence.speeds_mps:
        systematic_ms = 1e3 * settings.placement_bias_m / float(np.median(evidence.speeds_mps))
        result.ci95_ms = (result.ci95_ms[0] - systematic_ms, result.ci95_ms[1] + systematic_ms)
    return estimate_drift(
        result, evidence.times_us, lambda keep: _half_curves(evidence, keep, settings), search
    )


def _half_curves(
    evidence: BoxEvidence, keep: np.ndarray, settings: LabelSyncSettings
) -> tuple[Callable[[FloatArray], FloatArray], int]:
    compiled = evidence.subset(keep).compile()
    return (lambda offsets_ms: compiled.curves(offsets_ms, settings.tau_m, True)), compiled.n_tracks
